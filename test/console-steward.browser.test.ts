import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../src/act/index.ts';
import { createToken } from '../src/api/auth.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import type { RunningServer } from '../src/server.ts';
import { signIn, startConsoleServer, accessibilityProblems } from './console-server.ts';

// The data steward's and the ledger reader's views in a real browser against a real server: an automatic merge in the
// merge history, undone from the console after a confirmation; the history does not widen the page at desktop or phone
// width; quarantined input says its type, source and first issue in the list; the ledger names its actors and says
// what an approval was about.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results/console');

const KATE = { givenName: 'Kathy', surname: 'Whitfield', dateOfBirth: '1984-03-12', postcode: '2600', streetNumber: '14' };

if (existsSync(CHROMIUM)) {
  describe('the steward and ledger views in Chromium', () => {
    let server: RunningServer;
    let close: () => Promise<void>;
    let browser: Browser;
    let adminToken = '';
    let reviewerToken = '';
    let agentToken = '';
    let mergedId = '';
    const errors: string[] = [];

    const api = async (token: string, method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null, text };
    };

    const pageAt = async (width: number, height: number, token: string) => {
      const p = await (await browser.newContext({ viewport: { width, height } })).newPage();
      p.on('console', (m) => {
        if (m.type() === 'error') errors.push(`${p.url()}: ${m.text()}`);
      });
      p.on('pageerror', (err) => errors.push(`${p.url()}: ${err.message}`));
      await signIn(p, server.url, token);
      return p;
    };

    /** How far the page scrolls sideways (0 when nothing is wider than the window). */
    const sidewaysOverflow = (p: Page) => p.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    /** The elements that reach past the window's right edge, for the failure message. */
    const widest = (p: Page) =>
      p.evaluate(
        () =>
          [...document.querySelectorAll('body *')]
            .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
            .filter((el) => {
              for (let a = el.parentElement; a && a !== document.body; a = a.parentElement)
                if (getComputedStyle(a).overflowX !== 'visible') return false;
              return true;
            })
            .slice(0, 8)
            .map((el) => `${el.tagName.toLowerCase()}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)
            .join('; ') + ` at ${location.hash}`,
      );

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      ({ server, adminToken, close } = await startConsoleServer());
      reviewerToken = (await createToken(server.db, { role: 'reviewer', name: 'Dana Steward' }, 'test')).token;
      agentToken = (await createToken(server.db, { role: 'agent', name: 'crm sync' }, 'test')).token;
      // A known customer; a signal from an address never seen, describing her, is merged into her profile on its own.
      const kate = await api(adminToken, 'POST', '/api/v1/accounts', {
        name: 'Katherine Whitfield',
        customerId: 'STEW-KATE-0001',
        kind: 'person',
      });
      expect(kate.status, kate.text).toBe(201);
      await api(adminToken, 'POST', '/api/v1/contacts', {
        accountId: kate.body.id,
        firstName: 'Katherine',
        lastName: 'Whitfield',
        email: 'kate@home.example',
        attributes: { dateOfBirth: '1984-03-12', postcode: '2600', streetNumber: '14' },
      });
      const other = await api(adminToken, 'POST', '/api/v1/accounts', { name: 'Omar Haddad', customerId: 'STEW-OMAR', kind: 'person' });
      await api(adminToken, 'POST', '/api/v1/contacts', {
        accountId: other.body.id,
        firstName: 'Omar',
        lastName: 'Haddad',
        email: 'omar@example.com',
      });
      const sig = await api(agentToken, 'POST', '/api/v1/signals', {
        id: 'stew-work-1',
        type: 'usage',
        subject: { email: 'k.whitfield@work.example', person: KATE },
        data: { quantity: 3 },
      });
      expect(sig.body.accepted[0].identity, sig.text).toMatchObject({ outcome: 'merged', survivorId: kate.body.id });
      mergedId = sig.body.accepted[0].identity
        ? (await api(adminToken, 'GET', '/api/v1/identity/merges')).body.data[0].merged.accountId
        : '';
      // Refused input: an NPS score out of range.
      const bad = await api(agentToken, 'POST', '/api/v1/signals', {
        type: 'nps',
        subject: { customerId: 'STEW-OMAR' },
        data: { score: 99 },
      });
      expect(bad.text).toContain('quarantine');
      // A credit that waited for a person, approved by the steward.
      const request: PolicyRequestInput = {
        agent: { id: 'retention', role: 'agent', autonomy: 4 },
        action: 'offer_credit',
        customer: { id: 'STEW-OMAR', segment: 'consumer', region: 'US', inHoldout: false },
        context: { risk: 'low', amountCents: 9000, hasConsent: false },
      };
      const decision = server.gate.decide(request);
      expect(decision.outcome).toBe('approval');
      const { approvalId } = await server.db.transaction(async (tx) => {
        const proposalId = await recordProposal(tx, {
          agentId: 'retention',
          accountId: other.body.id,
          leadId: null,
          action: 'offer_credit',
          params: { amountCents: 9000, reason: 'goodwill' },
          risk: 'low',
          ev: { value: 10 },
          reason: 'browser test',
        });
        return recordDecision(tx, proposalId, request, decision);
      });
      const approved = await api(reviewerToken, 'POST', `/api/v1/approvals/${approvalId}/approve`, {});
      expect(approved.status, approved.text).toBe(200);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await close?.();
    });

    it('shows the merge history as a table that fits 1440 and 390 px, in Identity and the Customer 360', async () => {
      for (const [width, height] of [
        [1440, 900],
        [390, 844],
      ] as const) {
        const p = await pageAt(width, height, reviewerToken);
        await p.goto(`${server.url}/#/identity`);
        const table = p.getByRole('region', { name: 'Merge history' });
        const row = table.getByRole('row').filter({ hasText: 'STEW-KATE-0001' });
        await row.waitFor();
        await expect(row.textContent()).resolves.toMatch(/into\s*STEW-KATE-0001.*automatic.*probabilistic.*surname.*crm sync/);
        expect(await sidewaysOverflow(p), await widest(p)).toBe(0);
        expect(await accessibilityProblems(p)).toEqual([]);
        await p.screenshot({ path: join(SHOTS, `identity-merges-${width}.png`), fullPage: true });
        await p.goto(`${server.url}/#/customers/STEW-KATE-0001`);
        await p
          .getByRole('region', { name: /^Merges of / })
          .getByRole('row')
          .filter({ hasText: 'automatic' })
          .waitFor();
        expect(await sidewaysOverflow(p)).toBe(0);
        await p.close();
      }
    });

    it('undoes an automatic merge from the console after a confirmation; the profiles split back', async () => {
      const p = await pageAt(1440, 900, reviewerToken);
      await p.goto(`${server.url}/#/identity`);
      const table = p.getByRole('region', { name: 'Merge history' });
      const undo = table.getByRole('button', { name: /^Undo merge of .* into STEW-KATE-0001$/ });
      await undo.click();
      // Nothing happens before the confirmation; Escape keeps the merge and gives focus back.
      await p.getByRole('button', { name: 'Confirm undo' }).waitFor();
      await p.keyboard.press('Escape');
      await expect(p.getByRole('button', { name: 'Confirm undo' }).count()).resolves.toBe(0);
      await expect(undo.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      await undo.click();
      await p.getByRole('button', { name: 'Confirm undo' }).click();
      await p
        .getByRole('status')
        .filter({ hasText: /Undid the merge of .* into STEW-KATE-0001/ })
        .waitFor();
      await table.getByRole('row').filter({ hasText: 'undone' }).filter({ hasText: 'Dana Steward' }).waitFor();
      await expect(table.getByRole('button', { name: /^Undo merge/ }).count()).resolves.toBe(0);
      expect(await accessibilityProblems(p)).toEqual([]);
      await p.close();
      const [signal] = await server.db.query<{ account_id: string }>('SELECT account_id FROM signals WHERE id = $1', ['stew-work-1']);
      expect(signal!.account_id).toBe(mergedId);
      const ledger = await api(adminToken, 'GET', '/api/v1/ledger?type=identity.unmerged');
      expect(ledger.body.data[0]).toMatchObject({ actorName: 'Dana Steward', actorRole: 'reviewer' });
    });

    it('lists quarantined input with its type, source and first issue', async () => {
      const p = await pageAt(1440, 900, reviewerToken);
      await p.goto(`${server.url}/#/quarantine`);
      const list = p.getByRole('list', { name: 'open quarantine items' });
      const item = list.getByRole('button').filter({ hasText: 'nps' });
      await item.waitFor();
      await expect(item.textContent()).resolves.toMatch(/data\.score.*nps.*source/);
      expect(await accessibilityProblems(p)).toEqual([]);
      await p.close();
    });

    it('names the ledger\u2019s actors and says what an approval was about, with its clock labelled', async () => {
      const p = await pageAt(1440, 900, adminToken);
      await p.goto(`${server.url}/#/ledger`);
      await p.getByLabel('Type').fill('approval.approved');
      await p.getByRole('button', { name: 'Filter' }).click();
      const entry = p.getByRole('list', { name: 'Ledger entries, newest first' }).getByRole('listitem').first();
      await entry.filter({ hasText: 'Dana Steward' }).waitFor();
      await expect(entry.textContent()).resolves.toMatch(/Dana Steward \(reviewer\).*approved: offer credit of \$90\.00 for STEW-OMAR/);
      await expect(entry.locator('summary').textContent()).resolves.not.toMatch(/token:/);
      await expect(p.locator('#ledger-clock').textContent()).resolves.toMatch(/on the server.s clock \(UTC\)/);
      expect(await sidewaysOverflow(p)).toBe(0);
      expect(await accessibilityProblems(p)).toEqual([]);
      await p.screenshot({ path: join(SHOTS, 'ledger-names.png'), fullPage: true });
      await p.close();
      expect(errors).toEqual([]);
    });
  });
}
