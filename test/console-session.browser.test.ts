import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startConsoleServer, type ConsoleServer } from './console-server.ts';

// A link opened in a new tab (Ctrl+click on a customer, say) keeps the console session: signing in sets an HttpOnly
// session cookie, which the new tab's first request carries. Debian's Chromium, driven by playwright-core.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console session browser tests not run: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

if (HAVE_CHROMIUM)
  describe('the console session in Chromium', () => {
    let cs: ConsoleServer;
    let browser: Browser;
    let context: BrowserContext;
    let url = '';

    beforeAll(async () => {
      cs = await startConsoleServer();
      url = cs.server.url;
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
      context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    }, 180_000);
    afterAll(async () => {
      await browser?.close();
      await cs?.close();
    });

    it('a new tab opened after signing in is signed in, and can change things; signing out ends it for new tabs', async () => {
      const first = await context.newPage();
      await signIn(first, url, cs.adminToken);
      // The cookie is there, and page scripts cannot read it.
      const [cookie] = (await context.cookies(`${url}/api/v1/me`)).filter((c) => c.name === 'acs_session');
      expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/api' });
      expect(await first.evaluate(() => document.cookie)).not.toContain('acs_session');

      // A new tab straight to a view: no sign-in form, the view itself.
      const second = await context.newPage();
      await second.goto(`${url}/#/customers`);
      await second.getByRole('heading', { level: 1, name: 'Customers' }).waitFor();
      expect(await second.getByLabel('API token').count()).toBe(0);
      expect(await second.evaluate(() => sessionStorage.getItem('acs.token'))).toBeNull();
      // It writes through the cookie too: the console sends its header, which a cross-site form could not.
      const created = await second.evaluate(async () => {
        const res = await fetch('/api/v1/accounts', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-acs-console': '1' },
          body: JSON.stringify({ name: 'Opened In A New Tab' }),
        });
        return res.status;
      });
      expect(created).toBe(201);

      await second.getByRole('button', { name: 'Sign out' }).click();
      await second.getByLabel('API token').waitFor();
      await expect.poll(async () => (await context.cookies(`${url}/api/v1/me`)).filter((c) => c.name === 'acs_session').length).toBe(0);
      const third = await context.newPage();
      await third.goto(`${url}/#/customers`);
      await third.getByLabel('API token').waitFor();
      // A tab that never signed in shows the form without an error notice.
      expect(await third.getByRole('alert').count()).toBe(0);
    }, 120_000);
  });
