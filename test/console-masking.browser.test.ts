import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import pino from 'pino';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken, readAdminTokenFile } from '../src/api/auth.ts';
import { loadConfig } from '../src/config.ts';
import { startServer, type RunningServer } from '../src/server.ts';
import { cliEnv, type CliEnv } from './cli-helpers.ts';

// The console as an analyst sees it, in a real browser (Debian's Chromium driven by playwright-core) against a real
// server: the Customer 360 and the customer list show the API's masks, and an admin sees the same pages in clear.
// No live world: one customer whose personal values are canaries is enough.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console masking browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const EMAIL = 'wilhelmina.canary@example.com';
const CANARIES = ['Vandersloot', 'wilhelmina', '0412 777 901', '412777901', '4111 1111 1111 1111', 'EXT-WV-55'];

describe.skipIf(!HAVE_CHROMIUM)('the console masks personal data for an analyst, in Chromium', () => {
  let server: RunningServer;
  let cli: CliEnv;
  let consoleDir: string;
  let browser: Browser;
  let adminToken = '';
  let analystToken = '';
  let accountId = '';

  const send = async (path: string, body: unknown) => {
    const res = await fetch(server.url + '/api/v1' + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return res.json() as Promise<{ id: string }>;
  };

  /** The text of the customer's 360 page, signed in with `token`, once its contacts have loaded. */
  const customerPage = async (token: string): Promise<{ text: string; page: Page }> => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await page.goto(server.url + '/');
    await page.getByLabel('API token').fill(token);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.goto(`${server.url}/#/customers/${accountId}`);
    await page.getByText('CAN-WV').first().waitFor();
    await page.getByText('Charged twice', { exact: false }).first().waitFor();
    return { text: await page.locator('body').innerText(), page };
  };

  beforeAll(async () => {
    consoleDir = mkdtempSync(join(tmpdir(), 'acs-console-build-'));
    const nodeEnv = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({
        configFile: join(ROOT, 'console/vite.config.ts'),
        mode: 'production',
        logLevel: 'warn',
        build: { outDir: consoleDir },
      });
    } finally {
      process.env.NODE_ENV = nodeEnv;
    }
    cli = await cliEnv();
    const config = loadConfig({
      ACS_DATA_DIR: cli.dataDir,
      ACS_CONSOLE_DIR: consoleDir,
      ACS_PORT: '0',
      ACS_LOG_LEVEL: 'silent',
      DATABASE_URL: cli.env.DATABASE_URL,
    });
    server = await startServer(config, pino({ level: 'silent' }));
    adminToken = readAdminTokenFile(cli.dataDir)!;
    analystToken = (await createToken(server.db, { role: 'analyst', name: 'masking analyst' }, 'test')).token;
    accountId = (await send('/accounts', { name: 'Wilhelmina Vandersloot', customerId: 'CAN-WV', kind: 'person', externalId: 'EXT-WV-55' }))
      .id;
    await send('/contacts', { accountId, firstName: 'Wilhelmina', lastName: 'Vandersloot', email: EMAIL, phone: '0412 777 901' });
    await send('/cases', {
      accountId,
      subject: 'Charged twice on card 4111 1111 1111 1111',
      description: `Wilhelmina Vandersloot: card 4111 1111 1111 1111, write to ${EMAIL}`,
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await cli?.cleanup();
    for (const dir of [cli?.dataDir, consoleDir]) if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('an analyst sees placeholders on the Customer 360, an admin the values', async () => {
    const analyst = await customerPage(analystToken);
    expect(CANARIES.filter((c) => analyst.text.toLowerCase().includes(c.toLowerCase()))).toEqual([]);
    for (const p of ['[NAME]', '[EMAIL]', '[PHONE]', '[CARD_1]']) expect(analyst.text).toContain(p);
    await analyst.page.goto(`${server.url}/#/customers`);
    await analyst.page.getByRole('link', { name: 'CAN-WV' }).waitFor();
    expect((await analyst.page.locator('body').innerText()).includes('Vandersloot')).toBe(false);

    const admin = await customerPage(adminToken);
    for (const c of ['Vandersloot', EMAIL, '4111 1111 1111 1111']) expect(admin.text).toContain(c);
  }, 120_000);
});
