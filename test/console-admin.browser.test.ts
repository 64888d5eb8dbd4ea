import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startConsoleServer, accessibilityProblems } from './console-server.ts';
import type { RunningServer } from '../src/server.ts';

// The console's admin controls in a real browser (Debian's Chromium driven by playwright-core) against a real
// server: the autonomy in force after policy beside the configured level, an autonomy change that previews its
// effect, asks for a reason and a confirmation and is ledgered; and the policy editor's line numbers, with the line of
// a validation error marked and reachable from the error.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console admin browser tests not registered: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results/console');

if (HAVE_CHROMIUM) {
  describe('the console’s admin controls in Chromium', () => {
    let server: RunningServer;
    let close: () => Promise<void>;
    let browser: Browser;
    let page: Page;
    let adminToken = '';
    const consoleErrors: string[] = [];

    const api = async (path: string) =>
      (await fetch(`${server.url}/api/v1${path}`, { headers: { authorization: `Bearer ${adminToken}` } })).json();

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      ({ server, adminToken, close } = await startConsoleServer());
      browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
      page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
      await signIn(page, server.url, adminToken);
    }, 240_000);

    afterAll(async () => {
      await browser?.close();
      await close?.();
    });

    it('shows the autonomy in force after policy, and a change goes preview → reason → confirm, ledgered', async () => {
      await page.goto(`${server.url}/#/agents`);
      await page.getByRole('heading', { level: 1, name: 'Agents' }).waitFor();
      const card = page.locator('article.card', { has: page.getByRole('heading', { name: 'retention', exact: true }) });
      const creditRow = card.getByRole('row').filter({ has: page.getByRole('rowheader', { name: 'offer_credit' }) });
      // Configured L3, but every credit waits for a human, and the policy that makes it so is named.
      await expect(creditRow.textContent()).resolves.toMatch(/in force: every one needs approval.*credit-l3-needs-approval/);

      await card.getByLabel('Autonomy of retention for offer_credit').selectOption('4');
      await card.getByRole('button', { name: 'Review autonomy change' }).click();
      const confirm = page.getByRole('region', { name: 'Confirm the autonomy change of retention' });
      await confirm.waitFor();
      // Focus goes to the preview, which says what changes.
      await expect(
        confirm.getByRole('heading', { name: 'Confirm the autonomy change of retention' }).evaluate((el) => el === document.activeElement),
      ).resolves.toBe(true);
      await expect(confirm.textContent()).resolves.toMatch(
        /L3 execute low risk → L4.*now in force: every one needs approval.*after in force: depends on the request/,
      );
      await expect(confirm.textContent()).resolves.toMatch(/Over the last 30 days, 0 of 0 recorded decisions/);
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'agents-autonomy-confirm.png'), fullPage: true });

      // No reason: refused in the page, nothing saved.
      await confirm.getByRole('button', { name: 'Confirm autonomy change' }).click();
      await confirm.getByRole('alert').filter({ hasText: 'Say why you change the autonomy' }).waitFor();
      expect((await api('/agents')).data.find((a: { id: string }) => a.id === 'retention').actions.offer_credit.autonomy).toBe(3);

      await confirm.getByLabel('Reason for the change').fill('credits within the limit were all approved');
      await confirm.getByRole('button', { name: 'Confirm autonomy change' }).click();
      await page.getByText('Saved autonomy of retention: offer_credit → L4.').waitFor();
      // The registry reloads after the status is shown.
      await creditRow.filter({ hasText: 'in force: depends on the request' }).waitFor();
      const changes = await api('/agents/retention/autonomy-changes');
      expect(changes.data[0]).toMatchObject({
        levels: { offer_credit: 4 },
        previous: { offer_credit: 3 },
        reason: 'credits within the limit were all approved',
      });
      const ledger = await api('/ledger?type=agent.updated&subjectId=retention');
      expect(ledger.data[0].data).toEqual({
        autonomy: { offer_credit: 4 },
        previous: { offer_credit: 3 },
        autonomyChangeId: changes.data[0].id,
        reasonGiven: true,
      });
    });

    it('cancelling the preview saves nothing', async () => {
      const card = page.locator('article.card', { has: page.getByRole('heading', { name: 'service-recovery', exact: true }) });
      await card.getByLabel('Autonomy of service-recovery for create_case').selectOption('2');
      await card.getByRole('button', { name: 'Review autonomy change' }).click();
      const confirm = page.getByRole('region', { name: 'Confirm the autonomy change of service-recovery' });
      await expect(confirm.textContent()).resolves.toMatch(/now in force: runs without a human.*after in force: every one needs approval/);
      await confirm.getByRole('button', { name: 'Cancel' }).click();
      await expect(confirm.count()).resolves.toBe(0);
      expect((await api('/agents')).data.find((a: { id: string }) => a.id === 'service-recovery').actions.create_case.autonomy).toBe(3);
    });

    it('numbers the policy editor’s lines, marks the line of an error and moves the cursor there', async () => {
      await page.goto(`${server.url}/#/policies`);
      await page.getByRole('heading', { level: 1, name: 'Policies' }).waitFor();
      const text = await page.getByLabel('Policy text of default.cedar').inputValue();
      const lines = text.split('\n').length;
      const gutter = page.locator('[data-gutter="policy-text"]');
      await expect(gutter.locator('[data-line]').count()).resolves.toBe(lines);
      await expect(gutter.locator('[data-line="1"]').textContent()).resolves.toBe('1');

      // Break line 12 (a forbid's condition), validate: the error cites line:column and the gutter marks line 12.
      const broken = text.split('\n');
      broken[11] = 'when { principal.autonomy <= };';
      await page.getByLabel('Policy text of default.cedar').fill(broken.join('\n'));
      await page.getByRole('button', { name: 'Validate' }).click();
      const problem = page.getByRole('alert').filter({ hasText: 'The change does not validate' });
      await problem.waitFor();
      const link = problem.getByRole('button', { name: /^default\.cedar:12:\d+$/ });
      await link.waitFor();
      await expect(
        gutter.locator('[data-error="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-line'))),
      ).resolves.toEqual(['12']);
      await link.click();
      await expect
        .poll(() => page.getByLabel('Policy text of default.cedar').evaluate((el) => el === document.activeElement), { timeout: 15_000 })
        .toBe(true);
      await page.getByText(/^Line 12, column \d+ of \d+ lines · problems on line 12$/).waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'policies-line-numbers.png'), fullPage: true });
    });

    it('adopts a validated change from the console, in force at once, and rolls it back', async () => {
      await page.getByRole('button', { name: 'Discard changes' }).click();
      const editor = page.getByLabel('Policy text of default.cedar');
      const shipped = await editor.inputValue();
      const candidate = shipped.replace(
        '@id("low-risk-service-l3")\n@outcome("execute")',
        '@id("low-risk-service-l3")\n@outcome("approval")',
      );
      expect(candidate).not.toBe(shipped);
      await editor.fill(candidate);
      await page.getByRole('button', { name: 'Validate' }).click();
      await page.getByRole('status').filter({ hasText: 'Valid:' }).waitFor();
      const adopt = page.getByRole('region', { name: 'Adopt this change' });
      await adopt.getByRole('button', { name: 'Adopt…' }).click();
      await adopt.getByRole('button', { name: 'Confirm: adopt and put in force' }).click();
      await adopt.getByRole('alert').filter({ hasText: 'Say why you adopt this change' }).waitFor();
      expect((await api('/policies')).version).toBe(0);
      await adopt.getByLabel('Reason').fill('cases wait for a human this week');
      await adopt.getByRole('button', { name: 'Confirm: adopt and put in force' }).click();
      await page.getByText('Version 2 adopted: it is in force now.').waitFor();
      const set = await api('/policies');
      expect(set.version).toBe(2);
      expect(set.files[0].text).toBe(candidate);
      // The agents' view follows the set in force, without a restart.
      const agents = await api('/agents');
      expect(agents.data.find((a: { id: string }) => a.id === 'service-recovery').actions.create_case.effective.inForce).toBe('approval');

      const versions = page.getByRole('region', { name: 'Policy versions, newest first' });
      await versions.getByRole('row').filter({ hasText: 'cases wait for a human this week' }).filter({ hasText: 'in force' }).waitFor();
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'policies-versions.png'), fullPage: true });
      await versions.getByRole('button', { name: 'Restore version 1' }).click();
      const restore = page.getByRole('region', { name: 'Restore version 1' });
      await restore.getByLabel('Reason').fill('the queue grew too long');
      await restore.getByRole('button', { name: 'Confirm: restore version 1' }).click();
      await page.getByText('Version 1 restored as version 3: it is in force now.').waitFor();
      const back = await api('/policies');
      expect(back.version).toBe(3);
      expect(back.files[0].text).toBe(shipped);
      // The editor takes the restored set once the view has reloaded it.
      await page.waitForFunction((text) => (document.getElementById('policy-text') as HTMLTextAreaElement | null)?.value === text, shipped);
      const ledger = await api('/ledger?type=policy.adopted');
      expect(ledger.data.map((e: { data: { version: number; restores?: number } }) => [e.data.version, e.data.restores ?? null])).toEqual([
        [3, 1],
        [2, null],
        [1, null],
      ]);
      expect(consoleErrors).toEqual([]);
    });
  });
}
