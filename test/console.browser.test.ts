import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftMessageBody, recordJudged } from '../src/act/index.ts';
import { createToken } from '../src/api/auth.ts';
import { PolicyGate } from '../src/assure/index.ts';
import { loadDemoKnowledge } from '../src/cli/demo-knowledge.ts';
import { createRecord } from '../src/records/index.ts';
import type { RunningServer } from '../src/server.ts';
import { importFirstCustomers, liveWorld } from '../src/world/index.ts';
import { accessibilityProblems as axeProblems, expectAccessible, focusObscured, startConsoleServer } from './console-server.ts';

// The web console in a real browser: Debian's Chromium driven by playwright-core, against a real server on a free
// port, with the demo world running live and a human (this test) working the review queue.
const CHROMIUM = process.env.ACS_CHROMIUM ?? '/usr/bin/chromium';
const HAVE_CHROMIUM = existsSync(CHROMIUM);
if (!HAVE_CHROMIUM)
  console.warn(`console browser tests skipped: no Chromium at ${CHROMIUM} (apt-get install chromium, or set ACS_CHROMIUM)`);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TELCO = join(ROOT, 'data/telco_churn.csv');
/** Screenshots of each main view, for people to look at; the folder is git-ignored. */
const SHOTS = join(ROOT, 'test-results/console');

describe.skipIf(!HAVE_CHROMIUM)('the web console in Chromium', () => {
  let server: RunningServer;
  let close: () => Promise<void>;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let adminToken = '';
  let analystToken = '';
  const consoleErrors: string[] = [];

  const api = async (path: string) => {
    const res = await fetch(server.url + '/api/v1' + path, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status, path).toBe(200);
    return res.json() as Promise<any>;
  };

  const view = async (hash: string, heading: string | RegExp) => {
    await page.goto(`${server.url}/#/${hash}`);
    await page.getByRole('heading', { level: 1, name: heading }).waitFor();
  };

  /** Drops the browser's own log lines for a request a test meant to be refused; anything else stays an error. */
  const forgetBrowserErrors = (pattern: RegExp) => {
    const kept = consoleErrors.filter((e) => !pattern.test(e));
    consoleErrors.splice(0, consoleErrors.length, ...kept);
  };

  const shoot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  /** axe's WCAG 2.2 A/AA rules on the page as it is: every violation, of any impact, fails. */
  const accessibilityProblems = () => axeProblems(page);

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    // A fresh data dir, or a fresh schema when the suite runs on PostgreSQL. Three real seconds a simulated day;
    // approvals wait a year, so none expires under the test.
    ({ server, adminToken, close } = await startConsoleServer({
      env: { ACS_WORLD_DAY_SECONDS: '3', ACS_WORLD_REVIEWER: 'human', ACS_APPROVAL_TTL_HOURS: String(24 * 365) },
      parts: (config) => ({ world: liveWorld(config.world) }),
    }));
    await importFirstCustomers(server.db, TELCO, 600, 'test');
    await server.trainChurnModel();
    await server.startWorld();
    analystToken = (await createToken(server.db, { role: 'analyst', name: 'console analyst' }, 'test')).token;
    // Bounded wait for the world to give the queue work for every test below: at most 120 s.
    for (let i = 0; i < 240; i++) {
      const [row] = await server.db.query<{ n: number }>("SELECT count(*)::int AS n FROM approvals WHERE status = 'pending'");
      if (row!.n >= 7) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-dev-shm-usage'] });
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`${page.url()}: ${m.text()}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await close?.();
  });

  it('refuses a wrong token with the reason, then signs in and offers the admin every view', async () => {
    await page.goto(server.url + '/');
    await expect(page.title()).resolves.toBe('ACS console');
    await page.getByLabel('API token').fill('acs_not-a-real-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'invalid or revoked token' }).waitFor();
    forgetBrowserErrors(/status of 401/); // the browser logs the refused request itself; that refusal was the point
    await page.getByLabel('API token').fill(adminToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    // The count of approvals left to expire unreviewed, as the API gives it (none here: approvals wait a year).
    const expired = page.locator('#expired-unreviewed');
    await expired.waitFor();
    const { approvalsExpired } = await api('/kpis?days=1');
    await expect(expired.textContent()).resolves.toBe(
      `expired without review${approvalsExpired.total} approvals${approvalsExpired.inRange} of them today`,
    );
    const nav = await page.getByRole('navigation', { name: 'Views' }).getByRole('link').allTextContents();
    expect(nav).toEqual([
      'Overview',
      'Review queue',
      'Work',
      'Customers',
      'Agents',
      'Policies',
      'Ledger',
      'KPIs',
      'Quarantine',
      'Identity',
      'Knowledge',
    ]);
    // The agents are visibly at work: the live feed lists their proposals.
    await page.locator('.feed li').first().waitFor();
    await shoot('overview');
    const logins = await api('/ledger?type=auth.login');
    expect(logins.data.length).toBeGreaterThanOrEqual(1);
  });

  it('approves one item and rejects another with a reason, and both show in the ledger view', async () => {
    await view('queue', 'Review queue');
    const items = page.locator('.queue-item');
    await items.nth(1).waitFor();
    // The header counts what loaded (and says nothing while loading).
    await expect(page.locator('#queue-count').textContent()).resolves.toMatch(new RegExp(`^${await items.count()}\\+? pending · `));
    // Keyboard: j moves to the next item, k back.
    const firstId = (await items.nth(0).getAttribute('id'))!.slice('item-'.length);
    const secondId = (await items.nth(1).getAttribute('id'))!.slice('item-'.length);
    await page.locator('body').press('j');
    await expect(page.locator('.queue-list li.selected .queue-item').getAttribute('id')).resolves.toBe(`item-${secondId}`);
    await page.locator('body').press('k');
    await expect(page.locator('.queue-list li.selected .queue-item').getAttribute('id')).resolves.toBe(`item-${firstId}`);
    // The explanation is there: EV terms, matched policies, the customer.
    const detail = page.locator('article.detail');
    await expect(detail.getByRole('table').first().textContent()).resolves.toMatch(/p\(success\).*impact.*cost.*risk penalty/s);
    await expect(detail.locator('.policies li').count()).resolves.toBeGreaterThan(0);
    await shoot('review-queue');

    await detail.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText(/^Approved /).waitFor();
    await expect(page.locator('.queue-list li.selected .queue-item').getAttribute('id')).resolves.toBe(`item-${secondId}`);
    await page.getByLabel(/Reason for rejecting/).fill('the customer asked not to be offered credits');
    await page.getByLabel('What was wrong').selectOption('wrong_offer');
    await page.locator('article.detail').getByRole('button', { name: 'Reject' }).click();
    await page.getByText(/^Rejected /).waitFor();

    const [approved] = await server.db.query<{ status: string; decided_by: string }>(
      'SELECT status, decided_by FROM approvals WHERE id = $1',
      [firstId],
    );
    const [rejected] = await server.db.query<{ status: string; reason: string; reason_category: string }>(
      'SELECT status, reason, reason_category FROM approvals WHERE id = $1',
      [secondId],
    );
    expect(approved).toMatchObject({ status: 'approved' });
    expect(rejected).toMatchObject({
      status: 'rejected',
      reason: 'the customer asked not to be offered credits',
      reason_category: 'wrong_offer',
    });
    const ran = await server.db.query('SELECT 1 FROM executions WHERE idempotency_key = $1', [`approval:${firstId}`]);
    expect(ran.length).toBe(1);

    await view('ledger', 'Ledger');
    for (const [id, type] of [
      [firstId, 'approval.approved'],
      [secondId, 'approval.rejected'],
    ] as const) {
      await page.getByLabel('Subject id').fill(id);
      await page.getByRole('button', { name: 'Filter' }).click();
      // Wait for this filter's page (the one before may still show): one entry, about this approval.
      const onlyEntry = async () => {
        const rows = await page.locator('.ledger li').allTextContents();
        return rows.length === 1 && rows[0]!.includes(id) ? rows[0]! : `${rows.length} entries`;
      };
      await expect.poll(onlyEntry, { timeout: 15_000 }).toContain(type);
    }
    await shoot('ledger');
  });

  it('approves with a key, approves with edited parameters, and bulk-approves low-risk items of one kind', async () => {
    await view('queue', 'Review queue');
    const selected = page.locator('.queue-list li.selected .queue-item');
    await selected.waitFor();
    // `a` approves the selected item after an undo window, and `u` takes it back within it.
    const keyed = (await selected.getAttribute('id'))!.slice('item-'.length);
    await page.locator('body').press('a');
    await page.getByRole('region', { name: 'Approval about to be sent' }).waitFor();
    // The selection has moved on to the next item already.
    expect(await selected.getAttribute('id')).not.toBe(`item-${keyed}`);
    await page.keyboard.press('u');
    await page.getByText(/^Undone: /).waitFor();
    expect(await selected.getAttribute('id')).toBe(`item-${keyed}`);
    await new Promise((r) => setTimeout(r, 5500));
    await expect(server.db.query('SELECT 1 FROM approvals WHERE id = $1 AND status = $2', [keyed, 'pending'])).resolves.toHaveLength(1);
    await page.keyboard.press('a');
    await page.getByText(/^Approved /).waitFor();
    await expect(server.db.query('SELECT 1 FROM approvals WHERE id = $1 AND status = $2', [keyed, 'approved'])).resolves.toHaveLength(1);

    // Edit a credit down before approving: the edit is what runs.
    const [credit] = await server.db.query<{ id: string; params: { amountCents: number } }>(
      `SELECT a.id, p.params FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
       WHERE a.status = 'pending' AND p.action = 'offer_credit' ORDER BY p.ev_value DESC LIMIT 1`,
    );
    await page.locator(`#item-${credit!.id}`).click();
    await page.locator('article.detail').getByRole('button', { name: 'Edit parameters' }).click();
    // The editor takes the focus, and the amount is in dollars and cents.
    const amount = page.getByLabel('amount (USD)');
    await expect.poll(() => amount.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await amount.inputValue()).toBe((credit!.params.amountCents / 100).toFixed(2));
    // An amount over the limits is refused as you type, before approving, naming the limit.
    await amount.fill('9999.99');
    // In dollars, as the editor is: the API's message counts cents.
    await page.getByText(/^Approving this would be refused: the edited credit of \$9999\.99 is above the credit approval limit/).waitFor();
    expect(await page.getByRole('button', { name: 'Approve with these parameters' }).isDisabled()).toBe(true);
    const smaller = Math.max(100, Math.floor(credit!.params.amountCents / 2));
    await amount.fill((smaller / 100).toFixed(2));
    await page.getByText(/^Within the limits/).waitFor();
    await page.getByRole('button', { name: 'Approve with these parameters' }).click();
    // The status line may still tell of the keyed approval: wait for this one in the database.
    const statusOf = async (id: string) =>
      (await server.db.query<{ status: string }>('SELECT status FROM approvals WHERE id = $1', [id]))[0]!.status;
    await expect.poll(() => statusOf(credit!.id), { timeout: 15_000 }).toBe('approved');
    const [edited] = await server.db.query<{ edited_params: { amountCents: number }; status: string }>(
      'SELECT edited_params, status FROM approvals WHERE id = $1',
      [credit!.id],
    );
    expect(edited).toMatchObject({ status: 'approved', edited_params: { amountCents: smaller } });
    // Approving commits first, then the action runs: wait for it, then check it ran with the edit.
    const ranWith = async () =>
      (
        await server.db.query<{ params: { amountCents: number } }>('SELECT params FROM executions WHERE idempotency_key = $1', [
          `approval:${credit!.id}`,
        ])
      )[0]?.params.amountCents;
    await expect.poll(ranWith, { timeout: 15_000 }).toBe(smaller);

    // Bulk: two low-risk items of the same agent and action.
    await page.getByRole('button', { name: 'Keyboard shortcuts' }).click(); // also checks the list opens
    await page.getByRole('heading', { name: 'Keyboard shortcuts' }).waitFor();
    const kinds = await server.db.query<{ kind: string; ids: string[] }>(
      `SELECT p.agent_id || '/' || p.action AS kind, array_agg(a.id ORDER BY a.id) AS ids
       FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
       WHERE a.status = 'pending' AND p.risk = 'low' GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`,
    );
    const pair = kinds[0]!.ids.slice(0, 2);
    expect(pair).toHaveLength(2);
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Review queue' }).waitFor();
    for (const id of pair)
      await page
        .locator('.queue-list li', { has: page.locator(`#item-${id}`) })
        .getByRole('checkbox')
        .check();
    await page.getByRole('button', { name: 'Approve 2 selected' }).click();
    await page.getByText('Bulk approved 2 of 2.').waitFor();
    const bulk = await server.db.query<{ status: string }>('SELECT status FROM approvals WHERE id = ANY($1::text[])', [pair]);
    expect(bulk.map((b) => b.status)).toEqual(['approved', 'approved']);
    await expect(
      server.db.query('SELECT 1 FROM executions WHERE idempotency_key = ANY($1::text[])', [pair.map((id) => `approval:${id}`)]),
    ).resolves.toHaveLength(2);
  });

  it('changes an agent’s autonomy level', async () => {
    await view('agents', 'Agents');
    const card = page.locator('article.card', { has: page.getByRole('heading', { name: 'retention', exact: true }) });
    await card.getByLabel('Autonomy of retention for send_message').selectOption('1');
    await card.getByRole('button', { name: 'Review autonomy change' }).click();
    await page.getByLabel('Reason for the change').fill('messages are kept as suggestions for now');
    await page.getByRole('button', { name: 'Confirm autonomy change' }).click();
    await page.getByText('Saved autonomy of retention: send_message → L1.').waitFor();
    const agents = await api('/agents');
    expect(agents.data.find((a: { id: string }) => a.id === 'retention').actions.send_message.autonomy).toBe(1);
    const changes = await api('/ledger?type=agent.updated&subjectId=retention');
    expect(changes.data[0].data).toMatchObject({ autonomy: { send_message: 1 }, previous: { send_message: 2 }, reasonGiven: true });
    await shoot('agents');
  });

  it('stops every agent with the kill switch: approving is refused until it is released', async () => {
    await view('agents', 'Agents');
    await page.getByLabel('Reason', { exact: true }).fill('incident drill');
    await page.getByRole('button', { name: 'Stop all agents' }).click();
    await page.getByText('Kill switch engaged: no agent proposes, approves or acts until it is released.').waitFor();
    // The cards follow the banner on the agents list's next answer: poll, the machine may be slow.
    await expect
      .poll(() => page.locator('article.card .badge', { hasText: 'stopped by kill switch' }).count(), { timeout: 15_000 })
      .toBe(4);
    expect((await api('/agents')).killSwitch).toMatchObject({ engaged: true, reason: 'incident drill' });

    await view('queue', 'Review queue');
    const selected = page.locator('.queue-list li.selected .queue-item');
    const id = (await selected.getAttribute('id'))!.slice('item-'.length);
    await page.locator('article.detail').getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByText(/^Could not approve: the kill switch is engaged/).waitFor();
    forgetBrowserErrors(/status of 409/); // the browser logs the refused request itself; that refusal was the point
    await expect(server.db.query('SELECT 1 FROM approvals WHERE id = $1 AND status = $2', [id, 'pending'])).resolves.toHaveLength(1);

    await view('agents', 'Agents');
    await page.getByRole('button', { name: 'Release the kill switch' }).click();
    await page.getByText('Kill switch released: agents that are not paused run again.').waitFor();
    expect((await api('/agents')).killSwitch.engaged).toBe(false);
  });

  it('validates a policy change, reports a broken one by line, and dry-runs a valid one over recorded decisions', async () => {
    await view('policies', 'Policies');
    const editor = page.getByLabel('Policy text of default.cedar');
    const original = await editor.inputValue();
    await editor.fill(original + '\nforbid (principal, action, resource) when { oops };\n');
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.getByRole('alert').filter({ hasText: 'does not validate' }).waitFor();
    await expect(page.getByRole('alert').filter({ hasText: 'does not validate' }).textContent()).resolves.toMatch(/default\.cedar:\d+/);
    await expect(page.getByRole('button', { name: 'Dry-run' }).isDisabled()).resolves.toBe(true);

    await editor.fill(
      original +
        '\n@id("e2e-no-credit-offers")\n@reason("no credit offers this week")\nforbid (principal, action == Action::"offer_credit", resource);\n',
    );
    await page.getByRole('button', { name: 'Validate' }).click();
    await page.getByText(/^Valid: \d+ policies \(changed: default\.cedar\)/).waitFor();
    const [credits] = await server.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE p.action = 'offer_credit' AND d.outcome <> 'deny'",
    );
    expect(credits!.n).toBeGreaterThan(0);
    await page.getByLabel('Days of decisions to replay').fill('30');
    await page.getByRole('button', { name: 'Dry-run' }).click();
    const heading = page.getByRole('heading', { name: /^Dry-run: \d+ of \d+ decisions would change$/ });
    await heading.waitFor();
    const [, changed] = (await heading.textContent())!.match(/^Dry-run: (\d+) of/)!;
    // Every credit offer that was allowed becomes a deny (the world may have added some since the count above).
    expect(Number(changed)).toBeGreaterThanOrEqual(credits!.n);
    // What it means in money: the credit offers allowed now are removed, with their dollars.
    await expect(page.getByRole('region', { name: 'Money and contact impact' }).textContent()).resolves.toMatch(
      /credits\u2212\d+ \(\$[\d,.]+\)/,
    );
    const rows = page.getByRole('region', { name: 'Decisions that would change' }).locator('tbody tr');
    await expect(rows.count()).resolves.toBe(Math.min(Number(changed), 500));
    await expect(rows.first().textContent()).resolves.toMatch(/offer_credit.*deny/s);
    // Shadow mode: the running policy set did not change.
    const running = await api('/policies');
    expect(running.policies.map((p: { id: string }) => p.id)).not.toContain('e2e-no-credit-offers');
    await shoot('policies-dry-run');
  });

  it('verifies the ledger, and after tampering shows the entry where the chain breaks', async () => {
    await view('ledger', 'Ledger');
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page
      .getByText(/intact/)
      .first()
      .waitFor();
    // Tamper as a superuser would, around the append-only trigger, then verify again.
    const [victim] = await server.db.query<{ seq: number }>('SELECT seq FROM ledger ORDER BY seq LIMIT 1 OFFSET 5');
    await server.db.transaction(async (tx) => {
      await tx.query('SET LOCAL session_replication_role = replica');
      await tx.query(`UPDATE ledger SET body = jsonb_set(body::jsonb, '{data,tampered}', 'true')::text WHERE seq = $1`, [victim!.seq]);
    });
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByText(`The chain breaks at entry ${victim!.seq} of`, { exact: false }).waitFor();
    await page.getByText(`entry ${victim!.seq} does not match its hash`).waitFor();
    await page.getByRole('heading', { name: `Entry ${victim!.seq}, where the chain breaks` }).waitFor();
    await expect(page.locator('.bad-entry pre').textContent()).resolves.toContain('"tampered": true');
    await shoot('ledger-broken');
  });

  it('finds a customer from the header by part of an email or a lower-case partial id, and opens their 360', async () => {
    const [person] = await server.db.query<{ account_id: string; customer_id: string; email: string }>(
      `SELECT a.id AS account_id, a.customer_id, c.email FROM contacts c JOIN accounts a ON a.id = c.account_id
       WHERE c.email IS NOT NULL AND c.deleted_at IS NULL AND a.deleted_at IS NULL AND a.merged_into IS NULL ORDER BY a.id LIMIT 1`,
    );
    expect(person).toBeDefined();
    await view('ledger', 'Ledger');
    // `/` from anywhere outside a field puts the keyboard in the header's search.
    await page.locator('main').focus();
    await page.keyboard.press('/');
    const box = page.getByRole('combobox', { name: 'Find a customer', exact: true });
    await expect(box.evaluate((el) => el === document.activeElement)).resolves.toBe(true);
    // Part of the email, in upper case: results come as you type.
    const part = person!.email.split('@')[0]!.slice(0, 8).toUpperCase();
    await box.pressSequentially(part, { delay: 30 });
    const options = page.getByRole('listbox', { name: 'Find a customer: results', exact: true }).getByRole('option');
    await options.first().waitFor();
    await expect(options.allTextContents()).resolves.toEqual(expect.arrayContaining([expect.stringContaining(person!.customer_id)]));
    expect(await accessibilityProblems()).toEqual([]);
    await shoot('search-email-part');
    const target = options.filter({ hasText: person!.customer_id }).first();
    await target.click();
    await page.waitForURL(new RegExp(`#/customers/${person!.account_id}$`));
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();

    // The Customers view's field is the same search: part of the customer id in lower case, then Enter, opens the best match's 360.
    await view('customers', 'Customers');
    const finder = page.getByRole('combobox', { name: 'Find a customer by name, email, phone or id' });
    const partial = person!.customer_id.toLowerCase().slice(1);
    await finder.fill(partial);
    const first = page
      .getByRole('listbox', { name: 'Find a customer by name, email, phone or id: results', exact: true })
      .getByRole('option')
      .first();
    await first.waitFor();
    await expect(first.textContent()).resolves.toContain(person!.customer_id);
    await finder.press('Enter');
    await page.waitForURL(new RegExp(`#/customers/${person!.account_id}$`));
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();

    // Nothing found says so, and typing `/` into a field is only typing.
    await view('customers', 'Customers');
    await finder.fill('no such customer / anywhere');
    await page.locator('.search-note', { hasText: 'No customer matches “no such customer / anywhere”' }).waitFor();
    await expect(finder.inputValue()).resolves.toBe('no such customer / anywhere');
  });

  it('finds a customer from the header by part of a contact’s name, and by part of their email, whatever the case', async () => {
    const suffix = Date.now().toString(36).toUpperCase();
    const customerId = `NAME-${suffix}`;
    const accountId = (await createRecord(server.db, 'accounts', { name: 'Fjordpost Trading', customerId }, 'test')).id;
    await createRecord(
      server.db,
      'contacts',
      { accountId, firstName: 'Ingrid', lastName: 'Halvorsen-Mbeki', email: `ingrid.hm.${suffix.toLowerCase()}@tidewater.example` },
      'test',
    );
    const box = page.getByRole('combobox', { name: 'Find a customer', exact: true });
    const options = page.getByRole('listbox', { name: 'Find a customer: results', exact: true }).getByRole('option');
    const target = options.filter({ hasText: customerId });
    // Part of the last name, in lower case (it is stored capitalised), from a view other than Customers.
    await view('work/tasks', 'Work');
    await box.fill('halvorsen-mb');
    await expect.poll(() => target.count(), { message: 'the partial name finds the customer', timeout: 15_000 }).toBe(1);
    await expect.poll(() => target.first().textContent(), { timeout: 15_000 }).toContain('contact Ingrid Halvorsen-Mbeki');
    await shoot('search');
    await target.first().click();
    await page.waitForURL(new RegExp(`#/customers/${accountId}$`));
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    // Part of the email's local part and domain, in upper case, from the Customer 360 itself.
    await box.fill(`HM.${suffix}@TIDEWATER`);
    await expect.poll(() => target.count(), { message: 'the partial email finds the customer', timeout: 15_000 }).toBe(1);
    await expect
      .poll(() => target.first().textContent(), { timeout: 15_000 })
      .toContain(`email ingrid.hm.${suffix.toLowerCase()}@tidewater.example`);
    await expectAccessible(page, 'the header search’s results');
    // Enter opens the best match; the API agrees with the box.
    await box.press('Enter');
    await page.waitForURL(new RegExp(`#/customers/${accountId}$`));
    const found = await api('/search?q=' + encodeURIComponent('HALVORSEN-mb'));
    expect(found.data.map((h: { customerId: string }) => h.customerId)).toContain(customerId);
  });

  it('shows KPIs, Customer 360 and the quarantine, each usable at phone width and without accessibility failures', async () => {
    await view('kpis', 'KPIs');
    for (const title of ['Decisions by outcome', 'Signal volume', 'Approval latency (hours, server clock)', 'Policy denials by reason']) {
      await page.locator('figcaption', { hasText: title }).first().waitFor();
    }
    await shoot('kpis');

    const [worked] = await server.db.query<{ account_id: string }>(
      'SELECT account_id FROM proposals WHERE account_id IS NOT NULL ORDER BY id LIMIT 1',
    );
    await view(`customers/${worked!.account_id}`, /.+/);
    await page.getByRole('heading', { name: 'Timeline' }).waitFor();
    await page.locator('.timeline .tl-proposal').first().waitFor();
    await page.getByRole('heading', { name: 'Consents and their history' }).waitFor();
    await shoot('customer-360');

    const bad = await fetch(server.url + '/api/v1/signals', {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'nps', subject: { customerId: '7590-VHVEG' }, data: { score: 11 } }),
    });
    expect(bad.status).toBe(400);
    const { quarantineId } = (await bad.json()) as { quarantineId: string };
    await view('quarantine', 'Quarantine');
    await page.locator(`#qitem-${quarantineId}`).click();
    const raw = page.locator(`#raw-${quarantineId}`);
    await raw.waitFor();
    await shoot('quarantine');
    await raw.fill(JSON.stringify({ type: 'nps', subject: { customerId: '7590-VHVEG' }, data: { score: 9 } }));
    await page.getByRole('button', { name: 'Resubmit' }).click();
    await page.getByText(`Resubmitted ${quarantineId}: accepted.`).waitFor();
    const item = await api(`/quarantine/${quarantineId}`);
    expect(item.status).toBe('resubmitted');

    // Every view of the router (and each tab within the queue and Work, the customers' finder and the header's search
    // results), at a laptop's 1440×900 and a phone's 390×844: axe's WCAG 2.2 A/AA rules find nothing, of any impact.
    const openTab = (name: string) => async () => {
      await page.getByRole('tab', { name, exact: true }).click();
      await page.locator('#queue-panel').waitFor();
    };
    const views: { hash: string; heading: string | RegExp; then?: () => Promise<void>; name?: string }[] = [
      { hash: '', heading: 'Overview' },
      { hash: 'queue', heading: 'Review queue' },
      { hash: 'queue', heading: 'Review queue', then: openTab('Decided'), name: 'queue-decided' },
      { hash: 'queue', heading: 'Review queue', then: openTab('Expired'), name: 'queue-expired' },
      { hash: 'queue', heading: 'Review queue', then: openTab('Pending'), name: 'queue' },
      {
        hash: 'queue',
        heading: 'Review queue',
        name: 'queue-editing',
        then: async () => {
          await openTab('Pending')();
          await page
            .locator('article.detail')
            .getByRole('button', { name: /^Edit parameters/ })
            .click();
          await page.locator('form.param-editor').waitFor();
        },
      },
      { hash: 'work/tasks', heading: 'Work' },
      { hash: 'work/messages', heading: 'Work' },
      { hash: 'work/credits', heading: 'Work' },
      { hash: 'work/plays', heading: 'Work' },
      { hash: 'customers', heading: 'Customers' },
      { hash: `customers/${worked!.account_id}`, heading: /.+/ },
      {
        hash: 'overview',
        heading: /.+/,
        name: 'search-results',
        then: async () => {
          await page.goto(`${server.url}/#/`);
          await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
          await page.getByRole('combobox', { name: 'Find a customer', exact: true }).fill('example');
          await page.getByRole('listbox', { name: 'Find a customer: results', exact: true }).getByRole('option').first().waitFor();
        },
      },
      { hash: 'agents', heading: 'Agents' },
      { hash: 'policies', heading: 'Policies' },
      { hash: 'ledger', heading: 'Ledger' },
      { hash: 'kpis', heading: 'KPIs' },
      { hash: 'quarantine', heading: 'Quarantine' },
      { hash: 'identity', heading: 'Identity reviews' },
      { hash: 'knowledge', heading: 'Knowledge' },
    ];
    // Text nobody wrote for a phone: one long unbroken word (a link pasted as the kill switch's reason, a token id) must
    // wrap, not push the page sideways.
    for (const body of [{ engaged: true, reason: `see https://status.example.com/incidents/${'x'.repeat(90)}` }, { engaged: false }]) {
      const res = await fetch(server.url + '/api/v1/agents/kill-switch', {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(200);
    }
    for (const [width, height] of [
      [1440, 900],
      [390, 844],
    ] as const) {
      await page.setViewportSize({ width, height });
      for (const v of views) {
        const name = v.name ?? (v.hash.split('/').join('-') || 'overview');
        if (v.name === 'search-results') await v.then!();
        else {
          await view(v.hash, v.heading);
          await v.then?.();
        }
        if (width === 390) {
          await expect
            .poll(() => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth), {
              message: `${name} at 390 px scrolls sideways`,
              timeout: 15_000,
            })
            .toBeLessThanOrEqual(1);
        }
        await expectAccessible(page, `${name} at ${width}×${height}`);
        // Focus not hidden (2.4.11), which axe cannot see: Tab through the queue and the 360, past their sticky bars.
        if (name === 'queue' || v.hash.startsWith('customers/'))
          await expect
            .poll(() => focusObscured(page, 120), { message: `${name} at ${width}×${height}: focus hidden`, timeout: 90_000 })
            .toEqual([]);
        if (width === 390) await shoot(`phone-${name}`);
      }
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  }, 480_000);

  it('lets a data steward compare an uncertain match field by field, keep one apart and merge another', async () => {
    const send = async (method: string, path: string, body: unknown) => {
      const res = await fetch(server.url + '/api/v1' + path, {
        method,
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status, `${method} ${path}`).toBeLessThan(300);
      return res.json() as Promise<any>;
    };
    const acc = await send('POST', '/accounts', { name: 'Beatrix Okonkwo', customerId: 'IDV-1', kind: 'person' });
    await send('POST', '/contacts', {
      accountId: acc.id,
      firstName: 'Beatrix',
      lastName: 'Okonkwo',
      email: 'bea@home.example',
      attributes: { dateOfBirth: '1979-05-17', postcode: '4101' },
    });
    // Thresholds that send any candidate to the steward rather than merging it outright.
    await send('PUT', '/identity/settings', { matchThreshold: 0.999999, reviewThreshold: 0.000001 });
    for (const [n, postcode] of [
      [1, '4102'],
      [2, '4110'],
    ] as const) {
      const res = await send('POST', '/signals', {
        type: 'usage',
        subject: { email: `idv${n}@elsewhere.example`, person: { givenName: 'Beatrix', surname: 'Okonkwo', postcode } },
        data: { quantity: 1 },
      });
      expect(res.accepted[0].identity.outcome).toBe('review');
    }
    await send('PUT', '/identity/settings', {});
    await view('identity', 'Identity reviews');
    const items = page.getByRole('list', { name: 'open identity reviews' }).getByRole('button');
    // The heading shows before the list has loaded: wait for the second review to appear.
    await items.nth(1).waitFor();
    await expect(items.count()).resolves.toBeGreaterThanOrEqual(2);
    await page
      .getByRole('table')
      .getByRole('row', { name: /surname/ })
      .getByText('exact')
      .waitFor();
    await page
      .getByRole('table')
      .getByRole('row', { name: /postcode/ })
      .getByText('one edit')
      .waitFor();
    await shoot('identity-review');
    const before = (await api('/identity/reviews')).data as { id: string; profile: { customerId: string } }[];
    await page.getByRole('button', { name: 'Keep apart' }).click();
    await page.getByText(`Kept ${before[0]!.profile.customerId} and IDV-1 apart.`).waitFor();
    await page.getByRole('button', { name: 'Merge into IDV-1' }).click();
    await page.getByText(`Merged ${before[1]!.profile.customerId} into IDV-1.`).waitFor();
    const decided = await Promise.all(before.slice(0, 2).map((r) => api(`/identity/reviews/${r.id}`)));
    expect(decided.map((r) => r.status)).toEqual(['kept_apart', 'merged']);
  });

  it('offers an analyst no decisions: the queue reads only, agents cannot be edited, and the API refuses anyway', async () => {
    const analyst = await context.browser()!.newContext({ viewport: { width: 1280, height: 800 } });
    const p = await analyst.newPage();
    p.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(`analyst ${p.url()}: ${m.text()}`);
    });
    await p.goto(server.url + '/');
    await p.getByLabel('API token').fill(analystToken);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await p.goto(server.url + '/#/queue');
    await p.getByText('Your role can read the queue but not decide it.').waitFor();
    await expect(p.getByRole('button', { name: 'Approve', exact: true }).count()).resolves.toBe(0);
    await expect(p.getByLabel(/Reason for rejecting/).count()).resolves.toBe(0);
    await p.goto(server.url + '/#/agents');
    await p.getByRole('heading', { level: 2, name: 'retention' }).waitFor();
    await expect(p.getByRole('button', { name: 'Review autonomy change' }).count()).resolves.toBe(0);
    await expect(p.getByRole('button', { name: 'Stop all agents' }).count()).resolves.toBe(0);
    const [pending] = await server.db.query<{ id: string }>("SELECT id FROM approvals WHERE status = 'pending' LIMIT 1");
    const refused = await fetch(`${server.url}/api/v1/approvals/${pending!.id}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${analystToken}` },
    });
    expect(refused.status).toBe(403);
    await analyst.close();
  });

  it("shows a message's generated body and the passages it cites on the review card", async () => {
    // The demo knowledge base, as `npm start` loads it; a check-in email drafted for one of the world's customers and
    // held for review at L2, with the expected value of a pending item raised so it tops the queue.
    const now = server.clock.now();
    await loadDemoKnowledge(server.db, now);
    const [row] = await server.db.query<{ account_id: string; customer_id: string; ev: { value: number } }>(
      `SELECT p.account_id, acc.customer_id, p.ev FROM approvals a JOIN decisions d ON d.id = a.decision_id
       JOIN proposals p ON p.id = d.proposal_id JOIN accounts acc ON acc.id = p.account_id
       WHERE a.status = 'pending' ORDER BY a.id LIMIT 1`,
    );
    const { approvalId, body } = await server.db.transaction(async (tx) => {
      const drafted = (await draftMessageBody(tx, { accountId: row!.account_id, template: 'check-in', consentPurpose: 'service', now }))!;
      const request = {
        agent: { id: 'retention', role: 'agent', autonomy: 2 },
        action: 'send_message',
        customer: { id: row!.customer_id, segment: 'consumer', region: 'US', inHoldout: false },
        context: { channel: 'email', purpose: 'service', hasConsent: true, risk: 'low' },
      } as const;
      const decision = PolicyGate.load().decide(request);
      expect(decision.outcome).toBe('approval');
      const { decisions } = await recordJudged(
        tx,
        [
          {
            agentId: 'retention',
            accountId: row!.account_id,
            leadId: null,
            action: 'send_message',
            params: { channel: 'email', purpose: 'service', template: 'check-in', ...drafted.params },
            channel: 'email',
            purpose: 'service',
            risk: 'low',
            ev: { ...row!.ev, value: 1_000_000 },
            reason: 'check in with the customer',
          },
        ],
        [{ proposal: 0, request, decision }],
        { now, approvalTtlMs: 365 * 24 * 3600_000 },
      );
      return { approvalId: decisions[0]!.approvalId!, body: drafted.params.body! };
    });
    await view('queue', 'Review queue');
    await page.locator(`#item-${approvalId}`).click();
    const shown = page.getByLabel('Message body');
    await shown.waitFor();
    await expect(shown.textContent()).resolves.toBe(body);
    // The body is what the customer gets, with no markers; each citing sentence shows its markers beside it.
    expect(body).not.toMatch(/\[(\d+|C)\]/);
    const evidence = await page.getByLabel('Evidence per sentence').locator('li').allTextContents();
    expect(evidence.length).toBeGreaterThan(0);
    for (const e of evidence) {
      expect(e).toMatch(/ (\[(\d+|C)\])+$/);
      expect(body).toContain(e.replace(/ (\[(\d+|C)\])+$/, ''));
    }
    const cited = await page.locator('.citations:not(.evidence) li').allTextContents();
    expect(cited.length).toBeGreaterThan(0);
    for (const c of cited) expect(c).toMatch(/^\[\d+\] \S+\.md › .+/);
    await shoot('review-card-message');
  });

  it('logged no errors in the browser console', () => {
    expect(consoleErrors).toEqual([]);
  });
});
