import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { AppError } from '../src/errors.ts';
import { verifyLedger } from '../src/ledger/index.ts';
import { importCsv, loadDemoCustomers, progressBar } from '../src/sense/import/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));

let db: Db;
let dir: string;

beforeAll(async () => {
  db = await openTestDb();
  dir = await mkdtemp(join(tmpdir(), 'acs-import-'));
});

afterAll(async () => {
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

async function csvFile(name: string, lines: string[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

async function count(sql: string, params: unknown[] = []): Promise<number> {
  const [row] = await db.query<{ n: number | string }>(sql, params);
  return Number(row!.n);
}

const readCsv = async (path: string) => parse(await readFile(path), { columns: true }) as Record<string, string>[];
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

async function telcoRows(): Promise<Record<string, string>[]> {
  return readCsv(TELCO);
}

/** The Telco header and rows as CSV lines, with a customerID column in front. */
function withCustomerIds(
  rows: Record<string, string>[],
  id: (i: number) => string,
  edit: (r: Record<string, string>) => Record<string, string> = (r) => r,
): string[] {
  const header = Object.keys(rows[0]!);
  const quote = (v: string) => (/[",]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return [['customerID', ...header].join(','), ...rows.map((r, i) => [id(i), ...header.map((h) => quote(edit(r)[h]!))].join(','))];
}

describe('telco customers import', () => {
  it('imports all 7,043 customers as accounts with subscriptions, identities and one ledger event per record', async () => {
    const progress: [number, number][] = [];
    const load = await loadDemoCustomers(db, TELCO, { onProgress: (done, total) => progress.push([done, total]) });
    if (load.status !== 'loaded') throw new Error(`expected a load, got ${load.status}`);
    expect(load.resumedAt).toBeNull();
    const s = load.summary;
    console.log(`telco import on ${db.kind}: ${s.total} rows in ${s.ms} ms, ${Math.round((s.total / s.ms) * 1000)} rows/s`);
    expect(s).toMatchObject({
      entity: 'customers',
      total: 7043,
      imported: 7043,
      updated: 0,
      rejected: 0,
      rejectedFile: null,
      ignoredColumns: [],
    });
    expect(s.mapping).toMatchObject({
      tenure: 'tenureMonths',
      monthly_charges: 'monthlyAmount',
      total_charges: 'totalBilled',
      senior_citizen: 'seniorCitizen',
    });
    expect(progress.at(-1)).toEqual([7043, 7043]);

    expect(await count('SELECT count(*) AS n FROM accounts')).toBe(7043);
    expect(await count('SELECT count(*) AS n FROM subscriptions')).toBe(7043);
    expect(await count(`SELECT count(*) AS n FROM identities WHERE kind = 'customer_id'`)).toBe(7043);
    expect(await count(`SELECT count(*) AS n FROM accounts a JOIN identities i ON i.account_id = a.id AND i.value = a.customer_id`)).toBe(
      7043,
    );
    expect(await count(`SELECT count(*) AS n FROM ledger WHERE type = 'record.created' AND subject_type = 'accounts'`)).toBe(7043);
    expect(await count(`SELECT count(*) AS n FROM ledger WHERE type = 'record.created' AND subject_type = 'subscriptions'`)).toBe(7043);
    expect(await count(`SELECT count(DISTINCT subject_id) AS n FROM ledger`)).toBe(14086);
    expect((await verifyLedger(db)).ok).toBe(true);

    const rows = await telcoRows();
    const churned = rows.filter((r) => r.churn === 'Yes').length;
    expect(await count(`SELECT count(*) AS n FROM accounts WHERE attributes->>'churned' = 'true'`)).toBe(churned);
    expect(await count(`SELECT count(*) AS n FROM subscriptions WHERE status = 'cancelled'`)).toBe(churned);
    expect(await count(`SELECT count(*) AS n FROM subscriptions WHERE total_billed IS NULL`)).toBe(
      rows.filter((r) => r.total_charges === 'NA').length,
    );
  });

  it('maps the first row into an account and its subscription', async () => {
    const [first] = await db.query<Record<string, unknown>>(
      `SELECT a.customer_id, a.name, a.kind, a.attributes, s.status, s.contract, s.payment_method, s.paperless_billing, s.tenure_months, s.monthly_amount, s.total_billed, s.services
       FROM accounts a JOIN subscriptions s ON s.account_id = a.id ORDER BY a.id LIMIT 1`,
    );
    // "No",1,0,1,0,1,0,"No phone service","DSL","No","Yes","No","No","No","No","Month-to-month",1,"Electronic check",29.85,29.85
    expect(first!.name).toBe(`Customer ${first!.customer_id as string}`);
    expect(first!.customer_id).toMatch(/^CUST-\d{6}$/);
    expect(first).toMatchObject({
      kind: 'person',
      status: 'active',
      contract: 'month-to-month',
      payment_method: 'Electronic check',
      paperless_billing: true,
      tenure_months: 1,
    });
    expect(first!.attributes).toEqual({ gender: 'female', seniorCitizen: false, partner: true, dependents: false, churned: false });
    expect(first!.monthly_amount).toBe(29.85);
    expect(first!.total_billed).toBe(29.85);
    expect(first!.services).toEqual({
      phoneService: false,
      multipleLines: false,
      internetService: 'DSL',
      onlineSecurity: false,
      onlineBackup: true,
      deviceProtection: false,
      techSupport: false,
      streamingTv: false,
      streamingMovies: false,
    });
  });

  it('skips the demo load once it completed', async () => {
    expect(await loadDemoCustomers(db, TELCO)).toEqual({ status: 'already-loaded' });
    expect(await count('SELECT count(*) AS n FROM accounts')).toBe(7043);
  });

  it('numbers the demo customers by row, and the next generated customer id follows them', async () => {
    // The demo gives its ids itself (so a resumed load numbers alike); the sequence skips the ids taken.
    const [first] = await db.query<{ monthly_amount: string }>(
      `SELECT s.monthly_amount::text FROM accounts a JOIN subscriptions s ON s.account_id = a.id WHERE a.customer_id = 'CUST-000001'`,
    );
    expect(Number(first!.monthly_amount)).toBe(Number((await telcoRows())[0]!.monthly_charges));
    const started = performance.now();
    const [next] = await db.query<{ id: string }>('SELECT next_customer_id() AS id');
    console.log(`first generated customer id after the demo on ${db.kind}: ${Math.round(performance.now() - started)} ms`);
    expect(next!.id).toBe('CUST-007044');
  });

  it('resumes an unfinished demo load with the missing rows only, leaving a customer deleted meanwhile deleted', async () => {
    const other = await openTestDb();
    try {
      const rows = (await telcoRows()).slice(0, 4);
      const lines = (n: number) => [Object.keys(rows[0]!).join(','), ...rows.slice(0, n).map((r) => Object.values(r).join(','))];
      // A load that got through the first two rows and no further: what a kill between batches leaves.
      const firstTwo = await loadDemoCustomers(other, await csvFile('demo2.csv', lines(2)));
      expect(firstTwo).toMatchObject({ status: 'loaded', resumedAt: null, summary: { imported: 2 } });
      await other.query('UPDATE demo_loads SET completed_at = NULL');
      await other.query(`UPDATE accounts SET deleted_at = now() WHERE customer_id = 'CUST-000002'`);
      const resumed: [number, number][] = [];
      const load = await loadDemoCustomers(other, await csvFile('demo4.csv', lines(4)), { onResume: (p, t) => resumed.push([p, t]) });
      expect(resumed).toEqual([[2, 4]]);
      expect(load).toMatchObject({ status: 'loaded', resumedAt: 2, summary: { total: 4, imported: 2, updated: 0, rejected: 0 } });
      const accounts = await other.query<{ customer_id: string; deleted: boolean }>(
        'SELECT customer_id, deleted_at IS NOT NULL AS deleted FROM accounts ORDER BY customer_id',
      );
      expect(accounts).toEqual(
        ['CUST-000001', 'CUST-000002', 'CUST-000003', 'CUST-000004'].map((id) => ({ customer_id: id, deleted: id === 'CUST-000002' })),
      );
      const [created] = await other.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ledger WHERE type = 'record.created' AND subject_type = 'accounts'`,
      );
      expect(created!.n).toBe(4);
      expect(await loadDemoCustomers(other, TELCO)).toEqual({ status: 'already-loaded' });
    } finally {
      await other.close();
    }
  });

  it('does not load the demo into a database holding accounts no demo load wrote', async () => {
    const other = await openTestDb();
    try {
      const path = await csvFile('one.csv', [
        Object.keys((await telcoRows())[0]!).join(','),
        Object.values((await telcoRows())[0]!).join(','),
      ]);
      expect(await importCsv(other, 'customers', path, { actor: 'tester' })).toMatchObject({ imported: 1 });
      expect(await loadDemoCustomers(other, TELCO)).toEqual({ status: 'not-empty' });
      const [row] = await other.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts');
      expect(row!.n).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('updates instead of duplicating when the file carries a customer id column', async () => {
    const rows = (await telcoRows()).slice(0, 40);
    const id = (i: number) => `T-${String(i).padStart(4, '0')}`;
    const first = await importCsv(db, 'customers', await csvFile('ids.csv', withCustomerIds(rows, id)), { actor: 'tester' });
    expect(first).toMatchObject({ total: 40, imported: 40, updated: 0, rejected: 0 });
    expect(first.mapping.customerID).toBe('customerId');

    const raised = (r: Record<string, string>) => ({ ...r, monthly_charges: String(Number(r.monthly_charges) + 10), churn: 'Yes' });
    const again = await importCsv(db, 'customers', await csvFile('ids.csv', withCustomerIds(rows, id, raised)), { actor: 'tester' });
    expect(again).toMatchObject({ total: 40, imported: 0, updated: 40, rejected: 0 });

    expect(await count(`SELECT count(*) AS n FROM accounts WHERE customer_id LIKE 'T-%'`)).toBe(40);
    expect(
      await count(`SELECT count(*) AS n FROM subscriptions s JOIN accounts a ON a.id = s.account_id WHERE a.customer_id LIKE 'T-%'`),
    ).toBe(40);
    expect(await count(`SELECT count(*) AS n FROM identities WHERE value LIKE 'T-%'`)).toBe(40);
    const [t0] = await db.query<Record<string, unknown>>(
      `SELECT a.name, a.version, a.attributes->>'churned' AS churned, s.monthly_amount, s.status, s.version AS sub_version
       FROM accounts a JOIN subscriptions s ON s.account_id = a.id WHERE a.customer_id = 'T-0000'`,
    );
    expect(t0).toMatchObject({ name: 'Customer T-0000', version: 2, churned: 'true', status: 'cancelled', sub_version: 2 });
    expect(t0!.monthly_amount).toBe(Number(rows[0]!.monthly_charges) + 10);
    expect(await count(`SELECT count(*) AS n FROM ledger WHERE type = 'record.updated' AND actor = 'tester'`)).toBe(80);
  });

  it('lets a later row in the same file update an earlier one', async () => {
    const rows = (await telcoRows()).slice(0, 3);
    const file = await csvFile(
      'dupes.csv',
      withCustomerIds(rows, (i) => (i === 2 ? 'D-1' : `D-${i}`)),
    );
    const summary = await importCsv(db, 'customers', file, { actor: 'tester' });
    expect(summary).toMatchObject({ total: 3, imported: 2, updated: 1, rejected: 0 });
    expect(await count(`SELECT count(*) AS n FROM accounts WHERE customer_id LIKE 'D-%'`)).toBe(2);
    const [d1] = await db.query<{ tenure_months: number }>(
      `SELECT s.tenure_months FROM subscriptions s JOIN accounts a ON a.id = s.account_id WHERE a.customer_id = 'D-1'`,
    );
    expect(d1!.tenure_months).toBe(Number(rows[2]!.tenure));
  });

  it('rejects a row whose required money column is not a number', async () => {
    const rows = (await telcoRows()).slice(0, 2);
    const file = await csvFile(
      'bad-telco.csv',
      withCustomerIds(
        rows,
        (i) => `B-${i}`,
        (r) => (r === rows[1] ? { ...r, monthly_charges: 'lots' } : r),
      ),
    );
    const summary = await importCsv(db, 'customers', file, { actor: 'tester' });
    expect(summary).toMatchObject({ imported: 1, rejected: 1 });
    const [rejected] = await readCsv(summary.rejectedFile!);
    expect(rejected!.customerID).toBe('B-1');
    expect(rejected!._reason).toMatch(/^monthly_charges: .*number/);
  });
});

describe('record imports', () => {
  it('recognises header spellings and keeps unknown columns in attributes', async () => {
    const file = await csvFile('contacts.csv', [
      'First Name,last_name,E-mail,Phone Number,Zip',
      'Ada,Lovelace,ada@example.com,+44 20 7946 0000,N1 9GU',
      'Alan,Turing,alan@example.com,,',
    ]);
    const summary = await importCsv(db, 'contacts', file, { actor: 'tester' });
    expect(summary).toMatchObject({ total: 2, imported: 2, rejected: 0, ignoredColumns: [] });
    expect(summary.mapping).toEqual({
      'First Name': 'firstName',
      last_name: 'lastName',
      'E-mail': 'email',
      'Phone Number': 'phone',
      Zip: 'attributes.Zip',
    });
    const rows = await db.query<Record<string, unknown>>(
      `SELECT first_name, last_name, email, phone, attributes FROM contacts WHERE email LIKE '%@example.com' ORDER BY email`,
    );
    expect(rows).toEqual([
      { first_name: 'Ada', last_name: 'Lovelace', email: 'ada@example.com', phone: '+442079460000', attributes: { Zip: 'N1 9GU' } },
      { first_name: 'Alan', last_name: 'Turing', email: 'alan@example.com', phone: null, attributes: {} },
    ]);
    // The ledger names records and fields, never the values.
    expect(await count(`SELECT count(*) AS n FROM ledger WHERE body LIKE '%example.com%' OR body LIKE '%Lovelace%'`)).toBe(0);
    const [event] = await db.query<{ body: string }>(`SELECT body FROM ledger WHERE subject_type = 'contacts' ORDER BY seq, id LIMIT 1`);
    expect(JSON.parse(event!.body).data).toEqual({
      fields: ['attributes', 'email', 'firstName', 'lastName', 'phone'],
      version: 1,
      via: 'import',
    });

    const again = await csvFile('contacts-again.csv', ['email_address,given_name,title', 'ADA@example.com,Augusta,Countess']);
    const update = await importCsv(db, 'contacts', again, { actor: 'tester' });
    expect(update).toMatchObject({ imported: 0, updated: 1 });
    expect(await db.query(`SELECT first_name, last_name, title, version FROM contacts WHERE lower(email) = 'ada@example.com'`)).toEqual([
      { first_name: 'Augusta', last_name: 'Lovelace', title: 'Countess', version: 2 },
    ]);
  });

  it('recognises lead and account aliases', async () => {
    const leads = await csvFile('leads.csv', [
      'fname,Surname,Email Address,Organization,Mobile,Status',
      'Grace,Hopper,grace@navy.example,US Navy,555-0100,Qualified',
    ]);
    const summary = await importCsv(db, 'leads', leads, { actor: 'tester' });
    expect(summary).toMatchObject({ imported: 1, rejected: 0 });
    expect(await db.query(`SELECT first_name, last_name, company, phone, status FROM leads WHERE email = 'grace@navy.example'`)).toEqual([
      { first_name: 'Grace', last_name: 'Hopper', company: 'US Navy', phone: '555-0100', status: 'qualified' },
    ]);
    expect(
      await count(`SELECT count(*) AS n FROM identities i JOIN leads l ON l.id = i.lead_id WHERE l.email = 'grace@navy.example'`),
    ).toBe(2);

    const accounts = await csvFile('accounts.csv', ['Account Name,Customer Number,Industry', 'Acme Corp,ACME-1,Manufacturing']);
    expect(await importCsv(db, 'accounts', accounts, { actor: 'tester' })).toMatchObject({ imported: 1, rejected: 0 });
    expect(await db.query(`SELECT name, industry FROM accounts WHERE customer_id = 'ACME-1'`)).toEqual([
      { name: 'Acme Corp', industry: 'Manufacturing' },
    ]);
    expect(await count(`SELECT count(*) AS n FROM identities WHERE kind = 'customer_id' AND value = 'ACME-1'`)).toBe(1);
  });

  it('applies --map overrides, and names an unknown target field in the error', async () => {
    const file = await csvFile('mapped.csv', ['Vorname,Kontakt,Phone', 'Emmy,emmy@example.org,X-77']);
    const summary = await importCsv(db, 'contacts', file, {
      actor: 'tester',
      map: { Vorname: 'firstName', Kontakt: 'email', Phone: 'externalId' },
    });
    expect(summary).toMatchObject({ imported: 1, rejected: 0 });
    expect(summary.mapping).toEqual({ Vorname: 'firstName', Kontakt: 'email', Phone: 'externalId' });
    expect(await db.query(`SELECT first_name, phone, external_id FROM contacts WHERE email = 'emmy@example.org'`)).toEqual([
      { first_name: 'Emmy', phone: null, external_id: 'X-77' },
    ]);

    const failure = await importCsv(db, 'contacts', file, { actor: 'tester', map: { Vorname: 'nickname' } }).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(AppError);
    expect(failure).toMatchObject({ code: 'bad_request' });
    expect((failure as AppError).message).toContain('"nickname"');
    const noColumn = await importCsv(db, 'contacts', file, { actor: 'tester', map: { Surname: 'lastName' } }).catch((e: unknown) => e);
    expect(noColumn).toMatchObject({ code: 'bad_request', message: expect.stringContaining('no column "Surname"') });
    expect(await count(`SELECT count(*) AS n FROM contacts WHERE email = 'emmy@example.org'`)).toBe(1);
  });

  it('rejects bad rows with reasons into the rejected file while good rows land', async () => {
    const [account] = await db.query<{ id: string }>(`SELECT id FROM accounts WHERE customer_id = 'ACME-1'`);
    const file = await csvFile('opps.csv', [
      'Account ID,Opportunity Name,Stage,Amount,Notes',
      `${account!.id},Good deal,Closed Won,1200.50,fine`,
      `${account!.id},Odd stage,won-ish,10,`,
      `${account!.id},"Costly, ""very""",prospecting,lots,`,
      'acc_missing,Orphan,prospecting,5,',
      `${account!.id},Another good one,,99,`,
    ]);
    const summary = await importCsv(db, 'opportunities', file, { actor: 'tester' });
    expect(summary).toMatchObject({
      total: 5,
      imported: 2,
      updated: 0,
      rejected: 3,
      // Opportunities keep columns they have no field for in attributes (migration 038).
      ignoredColumns: [],
      rejectedFile: join(dir, 'opps.rejected.csv'),
    });
    expect(await db.query(`SELECT name, stage, amount::text AS amount FROM opportunities ORDER BY id`)).toEqual([
      { name: 'Good deal', stage: 'closed_won', amount: '1200.50' },
      { name: 'Another good one', stage: 'prospecting', amount: '99.00' },
    ]);

    const rejected = await readCsv(summary.rejectedFile!);
    expect(Object.keys(rejected[0]!)).toEqual(['Account ID', 'Opportunity Name', 'Stage', 'Amount', 'Notes', '_reason']);
    expect(rejected.map((r) => r['Opportunity Name'])).toEqual(['Odd stage', 'Costly, "very"', 'Orphan']);
    expect(rejected[0]!._reason).toMatch(/^Stage: /);
    expect(rejected[1]!._reason).toMatch(/^Amount: .*number/);
    expect(rejected[2]!._reason).toBe('Account ID: no such record');
  });

  it('rejects invalid emails and missing accounts for contacts, and clears a stale rejected file', async () => {
    const [account] = await db.query<{ id: string }>(`SELECT id FROM accounts WHERE customer_id = 'ACME-1'`);
    const lines = [
      'account_id,first_name,email',
      `${account!.id},Good,good@acme.example`,
      `${account!.id},Bad,not-an-email`,
      'acc_nowhere,Lost,lost@acme.example',
    ];
    const path = await csvFile('acme.csv', lines);
    const summary = await importCsv(db, 'contacts', path, { actor: 'tester', batchSize: 10 });
    expect(summary).toMatchObject({ imported: 1, rejected: 2 });
    const rejected = await readCsv(summary.rejectedFile!);
    expect(rejected.map((r) => [r.first_name, r._reason?.split(':')[0]])).toEqual([
      ['Bad', 'email'],
      ['Lost', 'account_id'],
    ]);
    expect(await count(`SELECT count(*) AS n FROM contacts WHERE email LIKE '%@acme.example'`)).toBe(1);
    expect(await count(`SELECT count(*) AS n FROM identities WHERE value = 'good@acme.example' AND account_id = $1`, [account!.id])).toBe(
      1,
    );

    await csvFile('acme.csv', lines.slice(0, 2));
    const clean = await importCsv(db, 'contacts', path, { actor: 'tester' });
    expect(clean).toMatchObject({ imported: 0, updated: 1, rejected: 0, rejectedFile: null });
    expect(await exists(summary.rejectedFile!)).toBe(false);
  });

  it('reports progress after each batch with increasing counts', async () => {
    const rows = Array.from({ length: 7 }, (_, i) => `Prod ${i},SKU-${i},${i * 10}`);
    const file = await csvFile('products.csv', ['Product Name,Product Code,Unit Price', ...rows]);
    const calls: [number, number][] = [];
    const summary = await importCsv(db, 'products', file, {
      actor: 'tester',
      batchSize: 3,
      onProgress: (done, total) => calls.push([done, total]),
    });
    expect(summary).toMatchObject({ total: 7, imported: 7 });
    expect(calls).toEqual([
      [3, 7],
      [6, 7],
      [7, 7],
    ]);
    expect(await count(`SELECT count(*) AS n FROM products WHERE sku LIKE 'SKU-%'`)).toBe(7);
  });
});

describe('progressBar', () => {
  const fakeStream = (isTTY: boolean, out: string[]) =>
    ({ isTTY, columns: 120, write: (s: string) => out.push(s) > 0 }) as unknown as NodeJS.WriteStream;

  it('draws percent, rate and ETA on a terminal and ends the line when done', () => {
    const out: string[] = [];
    const onProgress = progressBar(fakeStream(true, out), 'customers');
    onProgress(50, 200);
    onProgress(200, 200);
    expect(out[0]).toMatch(/^\rcustomers \[#{6}-{18}\] 25% 50\/200 \d+ rows\/s ETA \d+s/);
    expect(out.join('')).toContain('100% 200/200');
    expect(out.at(-1)).toBe('\n');
  });

  it('prints nothing when the stream is not a terminal', () => {
    const out: string[] = [];
    progressBar(fakeStream(false, out), 'customers')(10, 20);
    expect(out).toEqual([]);
  });
});
