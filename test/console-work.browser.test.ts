import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeDecision, recordDecision, startPlay, type RetentionPlayState } from '../src/act/index.ts';
import { createToken } from '../src/api/auth.ts';
import { recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createRecord } from '../src/records/index.ts';
import type { RunningServer } from '../src/server.ts';
import { signIn, startConsoleServer, accessibilityProblems } from './console-server.ts';

// The console's Work view in a real browser (Debian's Chromium driven by playwright-core) against a real server: a
// task and a credit made by an executed decision, listed with their customer and origin; a reviewer completes the
// task with a note, which the ledger records; an analyst reads without buttons. No live world: the view needs none.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console work browser tests not run: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SHOTS = join(ROOT, 'test-results/console');

if (HAVE_CHROMIUM)
  describe('the console’s Work view in Chromium', () => {
    let server: RunningServer;
    let close: () => Promise<void>;
    let browser: Browser;
    let page: Page;
    let adminToken = '';
    let reviewerToken = '';
    let analystToken = '';
    let taskId = '';
    let playId = '';
    const consoleErrors: string[] = [];

    /** A proposal, the gate's real decision on it (autonomy 4: it executes) and its one execution. */
    const executed = async (accountId: string, action: string, params: Record<string, unknown>, key: string) => {
      const request: PolicyRequestInput = {
        agent: { id: 'retention', role: 'agent', autonomy: 4 },
        action: action as PolicyRequestInput['action'],
        customer: { id: 'WORKUI-1', segment: 'consumer', region: 'US', inHoldout: false },
        context: { risk: 'low', amountCents: Number(params.amountCents ?? 0), hasConsent: false },
      };
      const decision = server.gate.decide(request);
      expect(decision.outcome).toBe('execute');
      const { decisionId } = await server.db.transaction(async (tx) => {
        const proposalId = await recordProposal(tx, {
          agentId: 'retention',
          accountId,
          leadId: null,
          action,
          params,
          risk: 'low',
          ev: { value: 10 },
          reason: 'browser test',
        });
        return recordDecision(tx, proposalId, request, decision);
      });
      return executeDecision(server.db, { decisionId, idempotencyKey: key, actor: 'test' });
    };

    const tasksTable = (p: Page) => p.getByRole('region', { name: 'Tasks, newest first' });

    beforeAll(async () => {
      mkdirSync(SHOTS, { recursive: true });
      ({ server, adminToken, close } = await startConsoleServer());
      reviewerToken = (await createToken(server.db, { role: 'reviewer', name: 'work reviewer' }, 'test')).token;
      analystToken = (await createToken(server.db, { role: 'analyst', name: 'work analyst' }, 'test')).token;
      const accountId = (await createRecord(server.db, 'accounts', { name: 'Work UI Co', customerId: 'WORKUI-1' }, 'test')).id;
      const task = await executed(accountId, 'create_task', { title: 'save call', details: 'usage halved' }, 'workui-task');
      taskId = String(task.result.taskId);
      await executed(accountId, 'offer_credit', { amountCents: 1250, reason: 'goodwill' }, 'workui-credit');
      // A real retention play, under way (the server's maintenance may take it on to wait for its offer's approval).
      const state: RetentionPlayState = {
        agent: { id: 'retention', offerAutonomy: 2, notifyAutonomy: 2 },
        customer: { id: 'WORKUI-1', segment: 'consumer', region: 'US', inHoldout: false },
        amountCents: 900,
        ev: { value: 12 },
        reason: 'usage halved',
      };
      playId = await startPlay(server.db, server.plays.get('retention')!, { accountId, state, actor: 'test' });
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

    it('lists the task with its customer and origin, and a reviewer completes it with a note, ledgered', async () => {
      await signIn(page, server.url, reviewerToken);
      const nav = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents();
      expect(nav).toContain('Work');
      await page.goto(`${server.url}/#/work/tasks`);
      await page.getByRole('heading', { level: 1, name: 'Work' }).waitFor();
      const row = tasksTable(page).getByRole('row').filter({ hasText: 'save call' });
      await row.waitFor();
      await expect(row.textContent()).resolves.toMatch(/save call.*usage halved.*WORKUI-1.*open.*retention · create_task.*workui-task/);
      expect(await accessibilityProblems(page)).toEqual([]);
      await page.screenshot({ path: join(SHOTS, 'work-tasks.png'), fullPage: true });

      await row.getByRole('button', { name: 'Complete save call' }).click();
      const note = page.getByLabel('Note (optional, kept in the ledger)');
      await expect(note.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      await note.fill('called; the customer stays');
      await page.getByRole('button', { name: 'Mark done' }).click();
      await page.getByRole('status').filter({ hasText: 'Completed “save call”.' }).waitFor();
      await tasksTable(page).getByRole('row').filter({ hasText: 'save call' }).filter({ hasText: 'done' }).waitFor();
      await expect(row.getByRole('button', { name: 'Complete save call' }).count()).resolves.toBe(0);

      const res = await fetch(`${server.url}/api/v1/ledger?subjectId=${taskId}&type=task.completed`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      const entries = (await res.json()).data as { data: { note: string } }[];
      expect(entries.map((e) => e.data.note)).toEqual(['called; the customer stays']);
    });

    it('lets an admin cancel a play under way after confirming, with a reason for the ledger', async () => {
      const admin = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
      admin.on('pageerror', (err) => consoleErrors.push(`admin: ${err.message}`));
      await signIn(admin, server.url, adminToken);
      await admin.goto(`${server.url}/#/work/plays/WORKUI-1`);
      const plays = admin.getByRole('region', { name: 'Plays, newest first' });
      const row = plays.getByRole('row').filter({ hasText: playId });
      await row.waitFor();
      await expect(row.textContent()).resolves.toMatch(/retention.*WORKUI-1/);
      await row.getByRole('button', { name: `Cancel play ${playId}` }).click();
      // Nothing happens before the confirmation; Escape closes it and keeps the play.
      await admin.getByRole('button', { name: 'Confirm cancellation' }).waitFor();
      await admin.keyboard.press('Escape');
      await expect(admin.getByRole('button', { name: 'Confirm cancellation' }).count()).resolves.toBe(0);
      const cancelButton = row.getByRole('button', { name: `Cancel play ${playId}` });
      await expect(cancelButton.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
      await row.getByRole('button', { name: `Cancel play ${playId}` }).click();
      await admin.getByLabel('Reason (optional, kept in the ledger)').fill('customer called in');
      await admin.getByRole('button', { name: 'Confirm cancellation' }).click();
      await admin
        .getByRole('status')
        .filter({ hasText: `Play ${playId} is cancelled.` })
        .waitFor();
      await plays.getByRole('row').filter({ hasText: playId }).filter({ hasText: 'refused' }).waitFor();
      await expect(row.textContent()).resolves.toMatch(/cancelled by token:/);
      expect(await accessibilityProblems(admin)).toEqual([]);
      await admin.close();
      const res = await fetch(`${server.url}/api/v1/ledger?subjectId=${playId}&type=play.cancelled`, {
        headers: { authorization: `Bearer ${adminToken}` },
      });
      expect(((await res.json()).data as { data: { reason: string } }[]).map((e) => e.data.reason)).toEqual(['customer called in']);
    });

    it('filters by customer from the Customer 360, shows credits, and gives an analyst no buttons', async () => {
      await page.goto(`${server.url}/#/work/credits/WORKUI-1`);
      const credits = page.getByRole('region', { name: 'Credits, newest first' });
      await credits.getByRole('row').filter({ hasText: '$12.50' }).waitFor();
      await expect(credits.textContent()).resolves.toMatch(/\$12\.50.*WORKUI-1.*goodwill.*applied/);
      await page.goto(`${server.url}/#/work/tasks/NOBODY-9`);
      await page.getByText('No tasks match.').waitFor();

      const analyst = await (await browser.newContext({ viewport: { width: 390, height: 844 } })).newPage();
      analyst.on('pageerror', (err) => consoleErrors.push(`analyst: ${err.message}`));
      await signIn(analyst, server.url, analystToken);
      await analyst.goto(`${server.url}/#/work/tasks`);
      await tasksTable(analyst).getByRole('row').filter({ hasText: 'save call' }).waitFor();
      await expect(analyst.getByRole('button', { name: /Complete|Assign/ }).count()).resolves.toBe(0);
      await analyst.goto(`${server.url}/#/work/plays`);
      await analyst.getByRole('region', { name: 'Plays, newest first' }).getByRole('row').filter({ hasText: playId }).waitFor();
      await expect(analyst.getByRole('button', { name: /Retry|Cancel/ }).count()).resolves.toBe(0);
      await analyst.goto(`${server.url}/#/work/tasks`);
      await tasksTable(analyst).getByRole('row').filter({ hasText: 'save call' }).waitFor();
      // Phone width: the page itself does not scroll sideways (the table scrolls in its own region).
      const wide = await analyst.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
      expect(wide).toBe(false);
      expect(await accessibilityProblems(analyst)).toEqual([]);
      await analyst.close();
      expect(consoleErrors).toEqual([]);
    });
  });
