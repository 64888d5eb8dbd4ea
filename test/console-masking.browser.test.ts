import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/api/auth.ts';
import { signIn, startConsoleServer, type ConsoleServer } from './console-server.ts';

// The console as an analyst sees it, in a real browser (Debian's Chromium driven by playwright-core) against a real
// server: the Customer 360 and the customer list show the API's masks, and an admin sees the same pages in clear.
// No live world: one customer whose personal values are canaries is enough.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console masking browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

const EMAIL = 'wilhelmina.canary@example.com';
const CANARIES = ['Vandersloot', 'wilhelmina', '0412 777 901', '412777901', '4111 1111 1111 1111', 'EXT-WV-55'];

describe.skipIf(!HAVE_CHROMIUM)('the console masks personal data for an analyst, in Chromium', () => {
  let app: ConsoleServer;
  let browser: Browser;
  let analystToken = '';
  let accountId = '';

  const send = async (path: string, body: unknown) => {
    const res = await fetch(app.server.url + '/api/v1' + path, {
      method: 'POST',
      headers: { authorization: `Bearer ${app.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status, path).toBeLessThan(300);
    return res.json() as Promise<{ id: string }>;
  };

  /** The text of the customer's 360 page, signed in with `token`, once its contacts have loaded. */
  const customerPage = async (token: string): Promise<{ text: string; page: Page }> => {
    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signIn(page, app.server.url, token);
    await page.goto(`${app.server.url}/#/customers/${accountId}`);
    await page.getByText('CAN-WV').first().waitFor();
    await page.getByText('Charged twice', { exact: false }).first().waitFor();
    return { text: await page.locator('body').innerText(), page };
  };

  beforeAll(async () => {
    app = await startConsoleServer();
    analystToken = (await createToken(app.server.db, { role: 'analyst', name: 'masking analyst' }, 'test')).token;
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
    await app?.close();
  });

  it('an analyst sees placeholders on the Customer 360, an admin the values', async () => {
    const analyst = await customerPage(analystToken);
    expect(CANARIES.filter((c) => analyst.text.toLowerCase().includes(c.toLowerCase()))).toEqual([]);
    for (const p of ['[NAME]', '[EMAIL]', '[PHONE]', '[CARD_1]']) expect(analyst.text).toContain(p);
    await analyst.page.goto(`${app.server.url}/#/customers`);
    await analyst.page.getByRole('link', { name: 'CAN-WV' }).waitFor();
    expect((await analyst.page.locator('body').innerText()).includes('Vandersloot')).toBe(false);

    const admin = await customerPage(app.adminToken);
    for (const c of ['Vandersloot', EMAIL, '4111 1111 1111 1111']) expect(admin.text).toContain(c);
  }, 120_000);
});
