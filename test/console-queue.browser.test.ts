import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../src/act/index.ts';
import { createToken } from '../src/api/auth.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createRecord } from '../src/records/index.ts';
import type { RunningServer } from '../src/server.ts';
import { accessibilityProblems as axeViolations, signIn, startConsoleServer } from './console-server.ts';

// The review queue triaged in a real browser (Debian's Chromium driven by playwright-core) against a real server:
// tabs for pending, decided and expired items, filters and sort, the card's customer context, the reviewer's place
// kept across a visit to the Customer 360, a phone's tap and its reachable Approve, and axe's WCAG 2.2 AA rules.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console queue browser tests not run: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results/console');
const HOUR = 3_600_000;

if (HAVE_CHROMIUM) {
  describe('the console’s review queue in Chromium', () => {
    let server: RunningServer;
    let close: () => Promise<void>;
    let browser: Browser;
    let page: Page;
    let reviewerToken = '';
    let accountId = '';
    const ids: Record<string, string> = {};
    const consoleErrors: string[] = [];

    /** A proposal and the gate's real decision on it at autonomy 2: it waits for a person. */
    const pending = async (name: string, o: { agent: string; action: string; risk: 'low' | 'medium'; ev: number; ttlMs: number }) => {
      const request: PolicyRequestInput = {
        agent: { id: o.agent, role: 'agent', autonomy: 2 },
        action: o.action as PolicyRequestInput['action'],
        customer: { id: 'QUI-1', segment: 'consumer', region: 'US', inHoldout: false },
        context: { risk: o.risk, amountCents: o.action === 'offer_credit' ? 500 : 0, hasConsent: false },
      };
      const decision = server.gate.decide(request);
      expect(decision.outcome, name).toBe('approval');
      const r = await server.db.transaction(async (tx) => {
        const proposalId = await recordProposal(tx, {
          agentId: o.agent,
          accountId,
          leadId: null,
          action: o.action,
          params: o.action === 'offer_credit' ? { amountCents: 500, reason: name } : { subject: name },
          risk: o.risk,
          ev: {
            value: o.ev,
            pSuccess: { value: 0.5, source: 'rules', detail: 'test' },
            impact: { value: o.ev * 2, source: 'rules', detail: 'test' },
            cost: { value: 0, source: 'rules', detail: 'test' },
            riskPenalty: { value: 0, source: 'rules', detail: 'test' },
          },
          reason: name,
        });
        return recordDecision(tx, proposalId, request, decision, { approvalTtlMs: o.ttlMs });
      });
      ids[name] = r.approvalId!;
    };

    const selectedId = (p: Page) => p.locator('.queue-list li.selected .queue-item').getAttribute('id');
    const itemNames = (p: Page) => p.locator('.queue-item .item-main').allTextContents();

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      let adminToken = '';
      ({ server, adminToken, close } = await startConsoleServer());
      reviewerToken = (await createToken(server.db, { role: 'reviewer', name: 'queue reviewer' }, 'test')).token;
      accountId = (await createRecord(server.db, 'accounts', { name: 'Queue UI Co', customerId: 'QUI-1' }, 'test')).id;
      const productId = (await createRecord(server.db, 'products', { sku: 'FIBER-500', name: 'Fiber 500' }, 'test')).id;
      await createRecord(
        server.db,
        'subscriptions',
        { accountId, productId, contract: 'one-year', monthlyAmount: 65, tenureMonths: 14, status: 'active' },
        'test',
      );
      await server.db.query(
        "INSERT INTO credits (id, account_id, amount_cents, reason, created_at) VALUES ('cred_qui', $1, 2500, 'goodwill', $2)",
        [accountId, new Date(Date.now() - 20 * 86_400_000).toISOString()],
      );
      await pending('call back', { agent: 'retention', action: 'create_task', risk: 'medium', ev: 50, ttlMs: 2 * HOUR });
      await pending('goodwill credit', { agent: 'retention', action: 'offer_credit', risk: 'low', ev: 40, ttlMs: 48 * HOUR });
      await pending('outage case', { agent: 'service-recovery', action: 'create_case', risk: 'low', ev: 30, ttlMs: 24 * HOUR });
      await pending('billing case', { agent: 'service-recovery', action: 'create_case', risk: 'low', ev: 20, ttlMs: 72 * HOUR });
      await pending('old case', { agent: 'service-recovery', action: 'create_case', risk: 'low', ev: 10, ttlMs: 72 * HOUR });
      await pending('lapsed case', { agent: 'service-recovery', action: 'create_case', risk: 'low', ev: 5, ttlMs: 72 * HOUR });
      const approved = await fetch(`${server.url}/api/v1/approvals/${ids['old case']}/approve`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: '{}',
      });
      expect(approved.status).toBe(200);
      await server.db.query("UPDATE approvals SET status = 'expired', decided_at = now() WHERE id = $1", [ids['lapsed case']]);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
      page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
      await signIn(page, server.url, reviewerToken);
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await close?.();
    });

    it('filters by agent, risk and expiry, sorts, and shows decided and expired items in their tabs', async () => {
      await page.goto(`${server.url}/#/queue`);
      await page.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
      await page.getByText(/^4 pending · highest expected value first/).waitFor();
      expect(await itemNames(page)).toEqual([
        'create task for QUI-1',
        'offer credit for QUI-1',
        'create case for QUI-1',
        'create case for QUI-1',
      ]);
      await page.getByLabel('Agent', { exact: true }).selectOption('retention');
      await page.getByText(/^2 pending \(filtered\) · /).waitFor();
      // The action list follows the agent: retention's actions only.
      const actions = await page.getByLabel('Action', { exact: true }).locator('option').allTextContents();
      expect(actions).toContain('offer credit');
      expect(actions).not.toContain('create case');
      await page.getByLabel('Risk', { exact: true }).selectOption('low');
      await page.getByText(/^1 pending \(filtered\) · /).waitFor();
      await expect(page.locator('article.detail h2').textContent()).resolves.toBe('offer credit for QUI-1');
      await page.getByRole('button', { name: 'Clear filters' }).click();
      await page.getByLabel('Expires', { exact: true }).selectOption('4');
      await page.getByText(/^1 pending \(filtered\) · /).waitFor();
      expect(await itemNames(page)).toEqual(['create task for QUI-1']);
      await page.getByLabel('Expires', { exact: true }).selectOption('');
      await page.getByLabel('Sort', { exact: true }).selectOption('expiry');
      await page.getByText(/^4 pending · soonest to expire first/).waitFor();
      await expect(page.locator('.queue-item .item-main').first().textContent()).resolves.toBe('create task for QUI-1');
      await expect(page.locator('.queue-item').nth(1).textContent()).resolves.toMatch(/create case.*24 h left|create case.*23 h left/);
      await page.getByLabel('Sort', { exact: true }).selectOption('ev');

      await page.getByRole('tab', { name: 'Decided' }).click();
      await page.getByText(/^1 decided · /).waitFor();
      await expect(page.locator('.queue-list li').first().textContent()).resolves.toMatch(/create case.*approved/);
      await expect(page.locator('article.detail').getByRole('status').textContent()).resolves.toMatch(/^Approved by .* at /);
      await expect(page.getByRole('button', { name: 'Approve', exact: true }).count()).resolves.toBe(0);
      // Arrow keys move between the tabs.
      await page.getByRole('tab', { name: 'Decided' }).press('ArrowRight');
      await page.getByText(/^1 expired without review · /).waitFor();
      await expect(page.getByRole('tab', { name: 'Expired' }).getAttribute('aria-selected')).resolves.toBe('true');
      await expect(page.locator('article.detail').getByRole('status').textContent()).resolves.toMatch(/^Expired without review/);
      expect(await axeViolations(page)).toEqual([]);
      await page.getByRole('tab', { name: 'Expired' }).press('ArrowRight');
      await page.getByText(/^4 pending · /).waitFor();
    });

    it('shows what decides the item: subscription, plan, tenure, and the credits of the last 90 days', async () => {
      const facts = page.locator('article.detail dl.facts').filter({ hasText: 'subscription' });
      await expect(facts.textContent()).resolves.toMatch(/active · Fiber 500 · one-year/);
      await expect(facts.textContent()).resolves.toMatch(/\$65\.00/);
      await expect(facts.textContent()).resolves.toMatch(/14 months/);
      await expect(facts.textContent()).resolves.toMatch(/1 credit, \$25\.00 in all/);
      await expect(facts.textContent()).resolves.toMatch(/messages, last 90 days\s*none/);
    });

    it('keeps the selected item, tab and filters across a visit to the Customer 360 and back', async () => {
      await page.getByLabel('Agent', { exact: true }).selectOption('service-recovery');
      await page.getByText(/^2 pending \(filtered\) · /).waitFor();
      await page.locator('.queue-item').nth(1).click();
      const kept = await selectedId(page);
      expect(kept).toBe(`item-${ids['billing case']}`);
      await page
        .locator('article.detail')
        .getByRole('link', { name: /Customer 360/ })
        .click();
      await page.locator('#c360-title').waitFor();
      await page.goBack();
      await page.getByText(/^2 pending \(filtered\) · /).waitFor();
      await expect(page.getByLabel('Agent', { exact: true }).inputValue()).resolves.toBe('service-recovery');
      await expect(selectedId(page)).resolves.toBe(kept);
      // And through the navigation, not only the back button.
      await page
        .locator('article.detail')
        .getByRole('link', { name: /Customer 360/ })
        .click();
      await page.locator('#c360-title').waitFor();
      await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Review queue' }).click();
      await page.getByText(/^2 pending \(filtered\) · /).waitFor();
      await expect(selectedId(page)).resolves.toBe(kept);
      await expect(page.locator('article.detail h2').textContent()).resolves.toBe('create case for QUI-1');
      await page.getByRole('button', { name: 'Clear filters' }).click();
    });

    it('has checkboxes of at least 24 by 24 pixels and no WCAG 2.2 AA violation on the queue', async () => {
      await page.getByText(/^4 pending · /).waitFor();
      const boxes = page.locator('.queue-list input[type=checkbox]');
      expect(await boxes.count()).toBe(3);
      for (const box of await boxes.all()) {
        const b = (await box.boundingBox())!;
        expect(b.width).toBeGreaterThanOrEqual(24);
        expect(b.height).toBeGreaterThanOrEqual(24);
      }
      expect(await axeViolations(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'queue-triage.png'), fullPage: true });
    });

    it('on a phone, tapping an item brings its card into view with Approve on screen', async () => {
      const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true })).newPage();
      phone.on('pageerror', (err) => consoleErrors.push(`phone: ${err.message}`));
      await signIn(phone, server.url, reviewerToken);
      await phone.goto(`${server.url}/#/queue`);
      await phone.getByText(/^4 pending · /).waitFor();
      const target = phone.locator('.queue-item').nth(2);
      await target.tap();
      const heading = phone.locator('article.detail h2');
      await expect(heading.textContent()).resolves.toBe('create case for QUI-1');
      await phone.waitForFunction(() => {
        const h = document.querySelector('article.detail h2')!.getBoundingClientRect();
        return h.top > -1 && h.top < window.innerHeight / 2;
      });
      await expect(heading.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      const approve = phone.locator('article.detail').getByRole('button', { name: 'Approve', exact: true });
      const inView = await approve.evaluate((el) => {
        const r = el.getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight;
      });
      expect(inView).toBe(true);
      expect(await phone.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1)).toBe(false);
      expect(await axeViolations(phone)).toEqual([]);
      await phone.screenshot({ path: join(SHOTS, 'queue-phone.png') });
      await approve.tap();
      await phone.getByText(/^Approved create_case for QUI-1: succeeded/).waitFor();
      await phone.close();
      expect(consoleErrors).toEqual([]);
    });
  });
}
