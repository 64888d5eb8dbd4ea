import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import pino from 'pino';
import { build } from 'vite';
import { expect } from 'vitest';
import { readAdminTokenFile } from '../src/api/auth.ts';
import { loadConfig, type Config } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { cliEnv, type CliEnv } from './cli-helpers.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** A real server serving the console built for production, with its bootstrap admin token, for a browser test. */
export interface ConsoleServer {
  server: RunningServer;
  adminToken: string;
  close(): Promise<void>;
}

/**
 * Builds the console into a folder of its own (as `npm run build:console` does: React's production build, not the
 * one vitest's NODE_ENV=test would pick), so `npm start`'s test can build console/dist at the same time, and starts
 * a server on a fresh data dir (or schema, on PostgreSQL) serving it.
 */
export async function startConsoleServer(
  opts: {
    /** More configuration, on top of a fresh data dir, an ephemeral port and a silent log. */
    env?: Record<string, string>;
    /** The server's extra parts (a live world), from its configuration. */
    parts?: (config: Config) => Parameters<typeof startServer>[2];
  } = {},
): Promise<ConsoleServer> {
  const consoleDir = mkdtempSync(join(tmpdir(), 'acs-console-build-'));
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({ configFile: join(ROOT, 'console/vite.config.ts'), mode: 'production', logLevel: 'warn', build: { outDir: consoleDir } });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
  const cli: CliEnv = await cliEnv();
  const config = loadConfig({
    ACS_DATA_DIR: cli.dataDir,
    ACS_CONSOLE_DIR: consoleDir,
    ACS_PORT: '0',
    ACS_LOG_LEVEL: 'silent',
    DATABASE_URL: cli.env.DATABASE_URL,
    ...opts.env,
  });
  const server = await startServer(config, pino({ level: 'silent' }), opts.parts?.(config));
  return {
    server,
    adminToken: readAdminTokenFile(cli.dataDir)!,
    async close() {
      await server.close();
      await cli.cleanup();
      for (const dir of [cli.dataDir, consoleDir]) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Signs in to the console with `token` and waits for the overview. */
export async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url + '/');
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** The WCAG levels the console is held to: A and AA of 2.0, 2.1 and 2.2. */
export const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];

/**
 * axe's violations of the WCAG tags on the page as it is, of every impact (minor and moderate count as much as serious
 * and critical: the console is held to 0), each with its impact and up to three of its elements.
 */
export async function accessibilityProblems(page: Page): Promise<string[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async (values) => {
    const axe = (
      window as unknown as {
        axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values } });
    return r.violations.map(
      (v) =>
        `${v.id} (${v.impact}): ${v.nodes
          .map((n) => n.target.join(' '))
          .slice(0, 3)
          .join(', ')}`,
    );
  }, WCAG_TAGS);
}

/**
 * Waits (bounded) until axe finds no violation of the WCAG tags on the page, of any impact; `where` names the page in
 * the failure. It polls, so a view still settling under load is looked at again rather than judged from one reading.
 */
export async function expectAccessible(page: Page, where: string): Promise<void> {
  await expect
    .poll(() => accessibilityProblems(page), { message: `axe WCAG 2.2 AA on ${where}`, timeout: 20_000, interval: 500 })
    .toEqual([]);
}

/**
 * WCAG 2.4.11 (focus not obscured), which axe cannot check: presses Tab up to `maxTabs` times from the page's start and
 * lists each focused element that nothing of could be seen (every point sampled on it, within the viewport, lies under
 * another element, such as a sticky bar), or that ended up off screen.
 */
export async function focusObscured(page: Page, maxTabs: number): Promise<string[]> {
  await page.evaluate(() => {
    (document.activeElement as HTMLElement | null)?.blur();
    window.scrollTo(0, 0);
  });
  const hidden: string[] = [];
  for (let i = 0; i < maxTabs; i++) {
    await page.keyboard.press('Tab');
    const r = await page.evaluate(() => {
      const el = document.activeElement as HTMLElement | null;
      if (!el || el === document.body) return null;
      // Back at an element already visited: the tab order has wrapped around.
      if (el.dataset.focusChecked) return 'wrapped';
      el.dataset.focusChecked = '1';
      const b = el.getBoundingClientRect();
      const [w, h] = [window.innerWidth, window.innerHeight];
      const xs = [b.left + 2, (b.left + b.right) / 2, b.right - 2].filter((x) => x >= 0 && x < w);
      const ys = [b.top + 2, (b.top + b.bottom) / 2, b.bottom - 2].filter((y) => y >= 0 && y < h);
      const mine = (at: Element | null) =>
        at !== null && (el === at || el.contains(at) || [...((el as HTMLInputElement).labels ?? [])].some((l) => l.contains(at)));
      if (xs.some((x) => ys.some((y) => mine(document.elementFromPoint(x, y))))) return null;
      const text = (el.getAttribute('aria-label') ?? el.textContent ?? '').trim().slice(0, 40);
      return `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''} “${text}”`;
    });
    if (r === 'wrapped') break;
    if (r) hidden.push(r);
  }
  await page.evaluate(() => document.querySelectorAll('[data-focus-checked]').forEach((e) => e.removeAttribute('data-focus-checked')));
  return hidden;
}
