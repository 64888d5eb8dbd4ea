import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import pino from 'pino';
import { build } from 'vite';
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

/** axe's serious and critical violations on the page under the WCAG tags, each with up to three of its elements. */
export async function accessibilityProblems(page: Page, tags: string[] = WCAG_TAGS): Promise<string[]> {
  await page.evaluate(axeSource);
  return page.evaluate(async (values) => {
    const axe = (
      window as unknown as {
        axe: { run(ctx: Document, opts: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> };
      }
    ).axe;
    const r = await axe.run(document, { runOnly: { type: 'tag', values } });
    return r.violations
      .filter((v) => v.impact === 'serious' || v.impact === 'critical')
      .map(
        (v) =>
          `${v.id}: ${v.nodes
            .map((n) => n.target.join(' '))
            .slice(0, 3)
            .join(', ')}`,
      );
  }, tags);
}
