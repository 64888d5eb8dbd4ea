import { existsSync } from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../src/act/index.ts';
import { createToken } from '../src/api/auth.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createRecord } from '../src/records/index.ts';
import type { RunningServer } from '../src/server.ts';
import { accessibilityProblems, signIn, startConsoleServer } from './console-server.ts';

// Issue 16, the approval card: a message's recipient is chosen from the customer's contact points, those without
// consent for the message shown but not choosable, with why. In a real browser (Debian's Chromium driven by
// playwright-core) against a real server.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console recipient browser tests not run: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

const DAY = 86_400_000;
const MESSAGE = { channel: 'email', purpose: 'service', template: 'check-in' };

if (HAVE_CHROMIUM) {
  describe('the approval card’s recipient in Chromium', () => {
    let server: RunningServer;
    let close: () => Promise<void>;
    let browser: Browser;
    let page: Page;
    let accountId = '';
    let approvalId = '';
    const consoleErrors: string[] = [];

    const contact = async (email: string, status?: 'granted' | 'withdrawn') => {
      const id = (await createRecord(server.db, 'contacts', { accountId, email }, 'test')).id;
      if (!status) return;
      const capturedAt = new Date(Date.now() - 30 * DAY).toISOString();
      await createRecord(
        server.db,
        'consents',
        { contactId: id, channel: 'email', purpose: 'service', status, source: 'signup', capturedAt, effectiveFrom: capturedAt },
        'test',
      );
    };

    beforeAll(async () => {
      let adminToken = '';
      ({ server, adminToken, close } = await startConsoleServer());
      void adminToken;
      const reviewerToken = (await createToken(server.db, { role: 'reviewer', name: 'recipient reviewer' }, 'test')).token;
      accountId = (await createRecord(server.db, 'accounts', { name: 'Recipient UI Co', customerId: 'RUI-1' }, 'test')).id;
      await contact('first@example.com', 'granted');
      await contact('second@example.com', 'granted');
      await contact('gone@example.com', 'withdrawn');
      const request: PolicyRequestInput = {
        agent: { id: 'service-recovery', role: 'agent', autonomy: 2 },
        action: 'send_message',
        customer: { id: 'RUI-1', segment: 'consumer', region: 'US', inHoldout: false },
        context: { risk: 'low', amountCents: 0, hasConsent: true, channel: 'email', purpose: 'service' },
      };
      const decision = server.gate.decide(request);
      expect(decision.outcome).toBe('approval');
      approvalId = (await server.db.transaction(async (tx) => {
        const proposalId = await recordProposal(tx, {
          agentId: 'service-recovery',
          accountId,
          leadId: null,
          action: 'send_message',
          params: MESSAGE,
          channel: 'email',
          purpose: 'service',
          risk: 'low',
          ev: {
            value: 5,
            pSuccess: { value: 0.5, source: 'rules', detail: 'test' },
            impact: { value: 10, source: 'rules', detail: 'test' },
            cost: { value: 0, source: 'rules', detail: 'test' },
            riskPenalty: { value: 0, source: 'rules', detail: 'test' },
          },
          reason: 'check in after the outage',
        });
        return recordDecision(tx, proposalId, request, decision);
      }))!.approvalId!;
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

    it('offers the customer’s contact points, the one without consent disabled with why, and sends to the one chosen', async () => {
      await page.goto(`${server.url}/#/queue`);
      await page.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
      await page.locator(`#item-${approvalId}`).click();
      await page.locator('article.detail').getByRole('button', { name: 'Edit parameters' }).click();
      const select = page.getByLabel('recipient');
      const options = () =>
        select
          .locator('option')
          .evaluateAll((els) => els.map((o) => ({ text: o.textContent, disabled: (o as HTMLOptionElement).disabled })));
      await expect.poll(options, { timeout: 15_000 }).toEqual([
        { text: 'first@example.com (consent in effect)', disabled: false },
        { text: 'second@example.com (consent in effect)', disabled: false },
        { text: expect.stringMatching(/^gone@example\.com \(not allowed: consent for email for service was withdrawn/), disabled: true },
      ]);
      // In the customer's order. It is a choice, not free text; the first consented point is chosen to start with.
      await expect.poll(() => select.evaluate((el) => el.tagName)).toBe('SELECT');
      await expect.poll(() => select.inputValue()).toBe('first@example.com');
      await select.selectOption('second@example.com');
      await page.getByText(/^Within the limits/).waitFor();
      await expect.poll(() => accessibilityProblems(page)).toEqual([]);
      await page.getByRole('button', { name: 'Approve with these parameters' }).click();
      const sentTo = async () =>
        (await server.db.query<{ contact_point: string }>('SELECT contact_point FROM messages WHERE account_id = $1', [accountId]))[0]
          ?.contact_point;
      await expect.poll(sentTo, { timeout: 15_000 }).toBe('second@example.com');
      expect(consoleErrors).toEqual([]);
    });
  });
}
