import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/api/auth.ts';
import { loadDemoKnowledge } from '../src/cli/demo-knowledge.ts';
import type { RunningServer } from '../src/server.ts';
import { startConsoleServer, accessibilityProblems } from './console-server.ts';

// The console's Knowledge view in a real browser (Debian's Chromium driven by playwright-core) against a real server
// holding the demo knowledge base, a draft source and one whose review date has passed. No live world: this view
// does not need one, and the main console test (console.browser.test.ts) covers the rest of the console with it.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console knowledge browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results/console');

describe.skipIf(!HAVE_CHROMIUM)('the console’s Knowledge view in Chromium', () => {
  let server: RunningServer;
  let close: () => Promise<void>;
  let browser: Browser;
  let page: Page;
  let adminToken = '';
  let analystToken = '';
  const consoleErrors: string[] = [];

  const send = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(server.url + '/api/v1' + path, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    expect(res.status, `${method} ${path}`).toBeLessThan(300);
    return res.json() as Promise<any>;
  };

  const signIn = async (p: Page, token: string) => {
    await p.goto(server.url + '/');
    await p.getByLabel('API token').fill(token);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
  };

  const openKnowledge = async (p: Page) => {
    await p.goto(`${server.url}/#/knowledge`);
    await p.getByRole('heading', { level: 1, name: 'Knowledge' }).waitFor();
    await p.getByRole('list', { name: 'Knowledge sources' }).waitFor();
  };

  const card = (p: Page, name: string | RegExp) =>
    p
      .getByRole('list', { name: 'Knowledge sources' })
      .getByRole('listitem')
      .filter({ has: p.getByRole('heading', { name }) });

  const search = async (p: Page, q: string, use: 'customer-facing' | 'internal', k = '5') => {
    await p.getByLabel('Question or words').fill(q);
    await p.getByLabel('Results', { exact: true }).fill(k);
    await p.getByLabel('Intended use').selectOption({ label: use });
    await p.getByRole('search').getByRole('button', { name: 'Search' }).click();
    // The summary of this search's answer (not the "Searching…" line, nor the previous answer's).
    const quoted = q.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    await p
      .getByRole('status')
      .filter({ hasText: new RegExp(`passages? for “${quoted}”`) })
      .waitFor();
  };

  /** axe-core's WCAG A/AA rules on the page as it is; serious and critical findings fail. */

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    ({ server, adminToken, close } = await startConsoleServer());
    analystToken = (await createToken(server.db, { role: 'analyst', name: 'knowledge analyst' }, 'test')).token;
    await loadDemoKnowledge(server.db, new Date());
    // A draft, customer-facing source nobody has approved yet: customer-facing search must not see it.
    await send('POST', '/knowledge/documents', {
      path: 'roaming/charges.md',
      content: '# Roaming\n\n## Charges abroad\n\nThe travel pass ZX-ROAM-7 covers calls and data in 40 countries for $7 a day.\n',
      source: { name: 'e2e-roaming', owner: 'Product team', audience: 'customer', reviewDate: '2031-06-30', approve: false },
    });
    // An approved source whose review date has passed.
    await send('POST', '/knowledge/documents', {
      path: 'old-offers.md',
      content: '# Old offers\n\nThe 2019 loyalty bundle is no longer sold.\n',
      source: { name: 'e2e-stale-offers', owner: 'Marketing', audience: 'customer', reviewDate: '2020-01-31', approve: true },
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it('lists every source with its owner, audience, state, version and review date, and flags a passed review date', async () => {
    await signIn(page, adminToken);
    const nav = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents();
    expect(nav).toContain('Knowledge');
    await openKnowledge(page);
    const names = await page.getByRole('list', { name: 'Knowledge sources' }).getByRole('heading', { level: 3 }).allTextContents();
    expect(names.map((n) => n.split(' ')[0])).toEqual(['e2e-roaming', 'e2e-stale-offers', 'telco-agent-playbook', 'telco-help-centre']);
    const help = card(page, /^telco-help-centre/);
    await expect(help.getByRole('heading').textContent()).resolves.toMatch(/approved/);
    await expect(help.textContent()).resolves.toMatch(
      /ownerCustomer care.*audiencecustomer-facing.*version1.*review date\d{4}-\d{2}-\d{2}.*documents5 \(\d+ passages\)/,
    );
    await expect(card(page, /^telco-agent-playbook/).textContent()).resolves.toMatch(/internal only/);
    const draft = card(page, /^e2e-roaming/);
    await expect(draft.getByRole('heading').textContent()).resolves.toMatch(/draft/);
    await expect(draft.getByRole('heading').textContent()).resolves.not.toMatch(/review date passed/);
    const stale = card(page, /^e2e-stale-offers/);
    await expect(stale.getByRole('heading').textContent()).resolves.toMatch(/approved.*review date passed/);
    await expect(stale.textContent()).resolves.toMatch(/2020-01-31 \(passed\).*grounds customer textno/);
    // An admin may approve the draft and renew the stale one; an approved, current source only retires.
    await expect(draft.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(1);
    await expect(stale.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(1);
    await expect(help.getByRole('button', { name: 'Approve' }).count()).resolves.toBe(0);
    await expect(help.getByRole('button', { name: 'Retire' }).count()).resolves.toBe(1);
    await page.screenshot({ path: join(SHOTS, 'knowledge.png'), fullPage: true });
  });

  it('searches: ranked passages with document path › heading path, the query words marked, score and rankings', async () => {
    await openKnowledge(page);
    await search(page, 'late payment fee', 'customer-facing');
    const results = page.getByRole('list', { name: /^Passages for “late payment fee”/ }).getByRole('listitem');
    await expect(results.count()).resolves.toBeGreaterThan(0);
    await expect(results.count()).resolves.toBeLessThanOrEqual(5);
    const first = results.first();
    await expect(first.getByRole('heading', { level: 3 }).textContent()).resolves.toBe('billing.md › Billing and payments › Late payments');
    await expect(first.textContent()).resolves.toMatch(/score 0\.0\d{3}.*ranked by BM25 #\d.*telco-help-centre v1/);
    // Every chunk carries the injection detector's finding; only a flagged one gets the badge (none of the demo's is).
    await expect(results.getByText('flagged: possible injection').count()).resolves.toBe(0);
    const marked = await first.locator('mark').allTextContents();
    expect(marked.map((m) => m.toLowerCase())).toEqual(expect.arrayContaining(['late', 'payment']));
    // What the API said, in the same order.
    const api = await send('GET', '/knowledge/search?q=late%20payment%20fee&k=5&use=customer');
    const paths = await results.getByRole('heading', { level: 3 }).allTextContents();
    expect(paths.map((p) => p.split(' › ')[0])).toEqual(api.results.map((r: { path: string }) => r.path));

    // A draft never grounds customer-facing text: its travel pass is not found until it is approved.
    await search(page, 'ZX-ROAM-7 travel pass', 'customer-facing');
    const found = await page
      .getByRole('list', { name: /^Passages for/ })
      .getByRole('heading', { level: 3 })
      .allTextContents();
    expect(found.some((f) => f.startsWith('roaming/charges.md'))).toBe(false);
    // Internal use with drafts (admins only) finds it.
    await page.getByLabel('Intended use').selectOption({ label: 'internal' });
    await page.getByLabel('Include drafts (internal use only)').check();
    await page.getByRole('search').getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { level: 3, name: /^roaming\/charges\.md/ }).waitFor();
    await page.getByLabel('Include drafts (internal use only)').uncheck();

    // Nothing to find: the empty state says so.
    await search(page, 'xylophone quasar', 'internal');
    await page.getByText('Nothing matches “xylophone quasar” for internal use.').waitFor();
    // An empty query is refused before any call, naming what is missing.
    await page.getByLabel('Question or words').fill('  ');
    await page.getByRole('search').getByRole('button', { name: 'Search' }).click();
    await page.getByRole('alert').filter({ hasText: 'Type what to search for.' }).waitFor();
  });

  it('lets an admin approve a draft after confirming (customer-facing search then finds it) and retire a source', async () => {
    await openKnowledge(page);
    const draft = card(page, /^e2e-roaming/);
    // Cancel first: nothing changes and focus returns to the button.
    await draft.getByRole('button', { name: 'Approve' }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('type'))).toBe('date');
    await draft.getByRole('button', { name: 'Cancel' }).click();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Approve');
    expect((await send('GET', '/knowledge/sources/e2e-roaming')).state).toBe('draft');

    await draft.getByRole('button', { name: 'Approve' }).click();
    await draft.getByText(/^Approve e2e-roaming at version 1\?/).waitFor();
    await draft.getByRole('button', { name: 'Confirm approval' }).click();
    await page.getByRole('status').filter({ hasText: 'Approved e2e-roaming at version 1, review by 2031-06-30.' }).waitFor();
    await card(page, /^e2e-roaming approved/).waitFor();
    const source = await send('GET', '/knowledge/sources/e2e-roaming');
    expect(source).toMatchObject({ state: 'approved', approvedVersion: 1, current: true });
    const approvals = await send('GET', `/ledger?type=knowledge.source_approved&subjectId=${source.id}`);
    expect(approvals.data).toHaveLength(1);

    await search(page, 'ZX-ROAM-7 travel pass', 'customer-facing');
    await page.getByRole('heading', { level: 3, name: /^roaming\/charges\.md/ }).waitFor();

    // Retiring asks too, and takes a reason for the ledger; a retired source offers no more buttons.
    const stale = card(page, /^e2e-stale-offers/);
    await stale.getByRole('button', { name: 'Retire' }).click();
    await stale.getByLabel('Reason (optional, kept in the ledger)').fill('the 2019 bundle is gone');
    await stale.getByRole('button', { name: 'Confirm retirement' }).click();
    await page.getByRole('status').filter({ hasText: 'Retired e2e-stale-offers: no search finds it any more.' }).waitFor();
    const retired = card(page, /^e2e-stale-offers retired/);
    await retired.waitFor();
    await expect(retired.getByRole('button').count()).resolves.toBe(0);
    expect((await send('GET', '/knowledge/sources/e2e-stale-offers')).state).toBe('retired');
  });

  it('offers an analyst the view read-only: no approve or retire, but search works', async () => {
    const analyst = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await analyst.newPage();
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`analyst ${p.url()}: ${m.text()}`);
    });
    await signIn(p, analystToken);
    await expect(p.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Knowledge' }).count()).resolves.toBe(1);
    await openKnowledge(p);
    await p.getByText('Your role (analyst) can read the sources but not approve or retire them.').waitFor();
    await expect(p.getByRole('button', { name: /^(Approve|Retire)$/ }).count()).resolves.toBe(0);
    await expect(p.getByLabel('Include drafts (internal use only)').count()).resolves.toBe(0);
    await search(p, 'outage', 'customer-facing');
    await expect(
      p
        .getByRole('list', { name: /^Passages for “outage”/ })
        .getByRole('listitem')
        .count(),
    ).resolves.toBeGreaterThan(0);
    await analyst.close();
  });

  it('fits a phone (390 px) without sideways scrolling, and has no accessibility failures at either size', async () => {
    const problems: string[] = [];
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: width === 390 ? 844 : 800 });
      await openKnowledge(page);
      await search(page, 'cancellation early termination fee', 'customer-facing', '10');
      await page.getByRole('list', { name: /^Passages for/ }).waitFor();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      if (overflow > 1) problems.push(`${width} px wide scrolls sideways by ${overflow} px`);
      for (const v of await accessibilityProblems(page)) problems.push(`${width} px: ${v}`);
      await page.screenshot({ path: join(SHOTS, width === 390 ? 'phone-knowledge-search.png' : 'knowledge-search.png'), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    expect(problems).toEqual([]);
  }, 120_000);

  it('logged no errors in the browser console', () => {
    expect(consoleErrors).toEqual([]);
  });
});
