import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createWriteStream } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { normalizePhone } from '../src/contracts/index.ts';
import { AppError } from '../src/errors.ts';
import { createRecord, lookupIdentities } from '../src/records/index.ts';
import { exportCsv, importCsv, type ExportEntity, type ImportEntity } from '../src/sense/import/index.ts';
import type { Db } from '../src/store/index.ts';
import { openTestDb } from './helpers.ts';

// Phones written without a country code are Australian here (a national mobile number in the Salesforce file).
process.env.ACS_DEFAULT_PHONE_REGION = 'AU';

const FIXTURES = fileURLToPath(new URL('./fixtures/coexistence/', import.meta.url));

const SALESFORCE: [ImportEntity, string, number][] = [
  ['accounts', 'salesforce/Account.csv', 3],
  ['contacts', 'salesforce/Contact.csv', 4],
  ['leads', 'salesforce/Lead.csv', 4],
  ['opportunities', 'salesforce/Opportunity.csv', 7],
  ['cases', 'salesforce/Case.csv', 4],
];
const HUBSPOT: [ImportEntity, string, number][] = [
  ['accounts', 'hubspot/companies.csv', 3],
  ['contacts', 'hubspot/contacts.csv', 4],
  ['leads', 'hubspot/leads.csv', 5],
  ['opportunities', 'hubspot/deals.csv', 7],
  ['cases', 'hubspot/tickets.csv', 4],
];

let dir: string;
const dbs: Db[] = [];

async function freshDb(): Promise<Db> {
  const db = await openTestDb();
  dbs.push(db);
  return db;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'acs-coex-'));
});

afterAll(async () => {
  for (const db of dbs) await db.close();
  await rm(dir, { recursive: true, force: true });
});

/** Imports the files in order from a copy (the rejected-row file goes beside it), expecting no row rejected. */
async function importAll(db: Db, files: [ImportEntity, string, number][], prefix: string) {
  for (const [entity, file, rows] of files) {
    const copy = join(dir, `${prefix}-${file.replace('/', '-')}`);
    await copyFile(join(FIXTURES, file), copy);
    const summary = await importCsv(db, entity, copy, { actor: 'test' });
    const rejected = summary.rejectedFile ? await readFile(summary.rejectedFile, 'utf8') : '';
    expect({ file, rejected, total: summary.total }).toEqual({ file, rejected: '', total: rows });
    expect(summary.imported).toBe(rows);
  }
}

const rows = (db: Db, sql: string, params: unknown[] = []) => db.query<Record<string, unknown>>(sql, params);

describe('a Salesforce export', () => {
  let db: Db;
  beforeAll(async () => {
    db = await freshDb();
    await importAll(db, SALESFORCE, 'sf');
  });

  it('keeps record ids as external ids and resolves AccountId and ContactId by them', async () => {
    const [acc] = await rows(db, "SELECT id, name, attributes FROM accounts WHERE external_id = '0015g00000Xa1AAAAZ'");
    expect(acc!.name).toBe('Burlington Textiles Corp of America');
    expect((acc!.attributes as Record<string, unknown>).BillingCity).toBe('Burlington');
    expect(JSON.stringify(acc!.attributes)).not.toContain('0015g00000Xa1AAAAZ');
    const [contact] = await rows(db, "SELECT account_id FROM contacts WHERE external_id = '0035g00000Yb1AAAAZ'");
    expect(contact!.account_id).toBe(acc!.id);
    const [kase] = await rows(
      db,
      "SELECT c.account_id, c.contact_id, c.status, c.priority, c.channel, c.closed_at, k.external_id AS contact_ext FROM cases c JOIN contacts k ON k.id = c.contact_id WHERE c.external_id = '5005g00000Ve1AAAAZ'",
    );
    expect(kase).toMatchObject({
      account_id: acc!.id,
      contact_ext: '0035g00000Yb1AAAAZ',
      status: 'closed',
      priority: 'high',
      channel: 'phone',
    });
    expect(new Date(kase!.closed_at as string).toISOString()).toBe('2024-03-18T17:30:00.000Z');
  });

  it('reads stages into the Salesforce pipeline and Probability as a percent', async () => {
    const opps = await rows(db, 'SELECT external_id, pipeline, stage, probability FROM opportunities ORDER BY external_id');
    expect(opps.map((o) => [o.pipeline, o.stage, Number(o.probability)])).toEqual([
      ['salesforce', 'closed_won', 1],
      ['salesforce', 'needs_analysis', 0.2],
      ['salesforce', 'id_decision_makers', 0.6],
      ['salesforce', 'proposal_price_quote', 0.75],
      ['salesforce', 'negotiation_review', 0.9],
      ['salesforce', 'closed_lost', 0],
      ['salesforce', 'prospecting', 0.1],
    ]);
  });

  it('maps the default lead and case picklists to ACS statuses', async () => {
    const leads = await rows(db, 'SELECT status FROM leads ORDER BY external_id');
    expect(leads.map((l) => l.status)).toEqual(['working', 'new', 'converted', 'disqualified']);
    const cases = await rows(db, 'SELECT status FROM cases ORDER BY external_id');
    expect(cases.map((c) => c.status)).toEqual(['closed', 'pending', 'open', 'open']);
  });

  it('stores phones in E.164 and matches a national and an international spelling as one identity', async () => {
    const [linh] = await rows(db, "SELECT account_id, phone FROM contacts WHERE external_id = '0035g00000Yb1ABAAZ'");
    expect(linh!.phone).toBe('+61412345678');
    expect(normalizePhone('0412 345 678')).toBe(normalizePhone('+61 412 345 678'));
    const key = normalizePhone('+61 412 345 678');
    const found = await lookupIdentities(db, [{ kind: 'phone', value: key }]);
    expect(found.get(`phone:${key}`)?.account_id).toBe(linh!.account_id);
  });
});

describe('a HubSpot export', () => {
  let db: Db;
  beforeAll(async () => {
    db = await freshDb();
    await importAll(db, HUBSPOT, 'hs');
  });

  it('resolves Associated Company IDs (the first of several) and reads deal stages into the HubSpot pipeline', async () => {
    const [koala] = await rows(db, "SELECT id FROM accounts WHERE external_id = '9001002'");
    const [sam] = await rows(db, "SELECT account_id, phone FROM contacts WHERE external_id = '52'");
    expect(sam).toEqual({ account_id: koala!.id, phone: '+61412999000' });
    const deals = await rows(
      db,
      'SELECT pipeline, stage, probability, close_date::text AS close, attributes FROM opportunities ORDER BY external_id',
    );
    expect(deals.map((d) => d.stage)).toEqual([
      'appointmentscheduled',
      'qualifiedtobuy',
      'presentationscheduled',
      'decisionmakerboughtin',
      'contractsent',
      'closedwon',
      'closedlost',
    ]);
    expect(new Set(deals.map((d) => d.pipeline))).toEqual(new Set(['hubspot']));
    expect(deals.map((d) => Number(d.probability))).toEqual([0.2, 0.4, 0.6, 0.8, 0.9, 1, 0]);
    expect(deals[0]!.close).toBe('2024-06-30');
    expect((deals[0]!.attributes as Record<string, unknown>).pipeline).toBe('Sales Pipeline');
  });

  it('maps lead statuses and ticket statuses, priorities and sources', async () => {
    const leads = await rows(db, 'SELECT status, phone FROM leads ORDER BY external_id');
    expect(leads.map((l) => l.status)).toEqual(['new', 'working', 'qualified', 'disqualified', 'disqualified']);
    expect(leads[0]!.phone).toBe('+61412345679');
    const tickets = await rows(
      db,
      'SELECT status, priority, channel, opened_at, contact_id IS NOT NULL AS has_contact FROM cases ORDER BY external_id',
    );
    expect(tickets.map((t) => [t.status, t.priority, t.channel, t.has_contact])).toEqual([
      ['open', 'high', 'email', true],
      ['pending', 'normal', 'chat', true],
      ['open', 'low', 'web', false],
      ['closed', 'urgent', 'phone', true],
    ]);
    expect(new Date(tickets[0]!.opened_at as string).toISOString()).toBe('2024-03-02T08:00:00.000Z');
  });
});

const ROUND_TRIP: ExportEntity[] = ['accounts', 'contacts', 'leads', 'opportunities', 'cases', 'pipeline-stages'];

async function exportTo(db: Db, entity: ExportEntity, path: string): Promise<string> {
  const out = createWriteStream(path);
  await exportCsv(db, entity, out);
  await new Promise<void>((resolve, reject) => out.on('error', reject).end(resolve));
  return readFile(path, 'utf8');
}

/** The header, then the data lines sorted: ids differ between databases, so creation order may too. */
function canonical(csv: string): string[][] {
  const [header, ...data] = parse(csv, { relax_column_count: false }) as string[][];
  return [header!, ...data.map((r) => r.map((c) => c)).sort((a, b) => a.join('\u0001').localeCompare(b.join('\u0001')))];
}

describe('acs export', () => {
  for (const [name, files] of [
    ['Salesforce', SALESFORCE],
    ['HubSpot', HUBSPOT],
  ] as const) {
    it(`round-trips with acs import: the ${name} records exported, imported into a fresh database and exported again are the same`, async () => {
      const first = await freshDb();
      await importAll(first, files, `rt-${name}`);
      const second = await freshDb();
      const exported = new Map<ExportEntity, string>();
      for (const entity of ROUND_TRIP) {
        const path = join(dir, `${name}-${entity}.csv`);
        exported.set(entity, await exportTo(first, entity, path));
        if (entity === 'pipeline-stages') continue;
        const summary = await importCsv(second, entity, path, { actor: 'test' });
        expect({ entity, rejected: summary.rejected, imported: summary.imported }).toEqual({
          entity,
          rejected: 0,
          imported: files.find(([e]) => e === entity)![2],
        });
      }
      for (const entity of ROUND_TRIP) {
        const again = await exportTo(second, entity, join(dir, `${name}-${entity}-again.csv`));
        expect(canonical(again)).toEqual(canonical(exported.get(entity)!));
      }
      // The account named "=Sum Analytics…" / "@Home…" was written escaped and read back as it was.
      const accounts = exported.get('accounts')!;
      expect(accounts).toMatch(name === 'Salesforce' ? /"'=Sum Analytics, ""the"" data people"/ : /"'@Home Furnishings, Ltd"/);
      const names = await rows(second, 'SELECT name FROM accounts ORDER BY name');
      expect(names.map((n) => n.name)).toContain(name === 'Salesforce' ? '=Sum Analytics, "the" data people' : '@Home Furnishings, Ltd');
      // References are written as natural keys, so they resolve in another database.
      expect(exported.get('contacts')).toMatch(/CUST-\d{6}/);
      // Two fresh databases and ten imports: more than the default test timeout on a loaded machine.
    }, 300_000);
  }

  it('writes references to leads by external id or email and to products by sku, so they resolve in another database', async () => {
    /** The account, leads and product the exported rows reference; each database gives them its own ids. */
    const holdings = async (db: Db, emails: { ext: string; plain: string }) => ({
      account: await createRecord(db, 'accounts', { name: 'Wattle Energy', customerId: 'WATTLE-1' }, 'test'),
      byExt: await createRecord(db, 'leads', { email: emails.ext, externalId: '00Q5g00000Lx1AAAAZ' }, 'test'),
      byEmail: await createRecord(db, 'leads', { email: emails.plain }, 'test'),
      product: await createRecord(db, 'products', { sku: 'SOLAR-6KW', name: 'Solar 6 kW' }, 'test'),
    });
    const first = await freshDb();
    const one = await holdings(first, { ext: 'ext@lead.example', plain: 'Plain@Lead.example' });
    await createRecord(first, 'interactions', { type: 'call', leadId: one.byExt.id, subject: 'Intro call' }, 'test');
    await createRecord(first, 'interactions', { type: 'email', leadId: one.byEmail.id, subject: 'Brochure' }, 'test');
    const at = '2024-05-01T00:00:00Z';
    const consent = { channel: 'email', status: 'granted', source: 'web form', capturedAt: at, effectiveFrom: at };
    await createRecord(first, 'consents', { ...consent, purpose: 'marketing', leadId: one.byEmail.id }, 'test');
    await createRecord(first, 'consents', { ...consent, purpose: 'sales', leadId: one.byExt.id }, 'test');
    await createRecord(first, 'subscriptions', { accountId: one.account.id, productId: one.product.id }, 'test');

    // The second database knows the lead with the external id under a newer email, and the other lead's email in
    // lower case; a decoy lead holds the first one's old email and a decoy product comes first.
    const second = await freshDb();
    await createRecord(second, 'leads', { email: 'ext@lead.example' }, 'test');
    await createRecord(second, 'products', { sku: 'DECOY', name: 'Decoy' }, 'test');
    const two = await holdings(second, { ext: 'ext.new@lead.example', plain: 'plain@lead.example' });
    for (const [entity, count] of [
      ['interactions', 2],
      ['consents', 2],
      ['subscriptions', 1],
    ] as const) {
      const path = join(dir, `refs-${entity}.csv`);
      const csv = await exportTo(first, entity, path);
      for (const id of [one.byExt.id, one.byEmail.id, one.product.id, one.account.id]) expect(csv).not.toContain(id);
      const summary = await importCsv(second, entity, path, { actor: 'test' });
      expect({ entity, rejected: summary.rejected, imported: summary.imported }).toEqual({ entity, rejected: 0, imported: count });
    }
    const interactions = await rows(second, 'SELECT subject, lead_id FROM interactions ORDER BY subject');
    expect(interactions).toEqual([
      { subject: 'Brochure', lead_id: two.byEmail.id },
      { subject: 'Intro call', lead_id: two.byExt.id },
    ]);
    const consents = await rows(second, 'SELECT purpose, lead_id FROM consents ORDER BY purpose');
    expect(consents).toEqual([
      { purpose: 'marketing', lead_id: two.byEmail.id },
      { purpose: 'sales', lead_id: two.byExt.id },
    ]);
    const subs = await rows(second, 'SELECT account_id, product_id FROM subscriptions');
    expect(subs).toEqual([{ account_id: two.account.id, product_id: two.product.id }]);
  });

  it('escapes formula cells in rejected-row files', async () => {
    const db = await freshDb();
    const file = join(dir, 'bad-contacts.csv');
    await writeFile(file, 'email,firstName,title\nnot-an-email,"=HYPERLINK(""http://evil.example"",""click"")",+1 dial\n');
    const summary = await importCsv(db, 'contacts', file, { actor: 'test' });
    expect(summary.rejected).toBe(1);
    const text = await readFile(summary.rejectedFile!, 'utf8');
    expect(text).toContain(`"'=HYPERLINK(""http://evil.example"",""click"")"`);
    expect(text).toContain(`'+1 dial`);
    expect(text).not.toMatch(/(^|,)"?=HYPERLINK/m);
  });
});

describe('pipelines and stages', () => {
  it('ships the Salesforce and HubSpot stages, each with an outcome', async () => {
    const db = await freshDb();
    const stages = await rows(db, 'SELECT pipeline, stage, outcome FROM pipeline_stages ORDER BY pipeline, position');
    const of = (p: string) => stages.filter((s) => s.pipeline === p).map((s) => `${s.stage}:${s.outcome}`);
    expect(of('salesforce')).toEqual([
      'prospecting:open',
      'qualification:open',
      'needs_analysis:open',
      'value_proposition:open',
      'id_decision_makers:open',
      'perception_analysis:open',
      'proposal_price_quote:open',
      'negotiation_review:open',
      'closed_won:won',
      'closed_lost:lost',
    ]);
    expect(of('hubspot')).toEqual([
      'appointmentscheduled:open',
      'qualifiedtobuy:open',
      'presentationscheduled:open',
      'decisionmakerboughtin:open',
      'contractsent:open',
      'closedwon:won',
      'closedlost:lost',
    ]);
  });

  it('are configured with acs import pipeline-stages, and an opportunity takes a stage by key or label or is refused naming the field', async () => {
    const db = await freshDb();
    const file = join(dir, 'stages.csv');
    await writeFile(
      file,
      'pipeline,stage,label,position,outcome,probability\nrenewals,due,Renewal due,1,open,0.5\nrenewals,renewed,Renewed,2,won,1\nrenewals,churned,Churned,3,lost,0\nrenewals,bad,Bad,4,maybe,\n',
    );
    const summary = await importCsv(db, 'pipeline-stages', file, { actor: 'test' });
    expect(summary).toMatchObject({ imported: 3, rejected: 1 });
    const acc = await createRecord(db, 'accounts', { name: 'Renewing Co' }, 'test');
    const opp = await createRecord(
      db,
      'opportunities',
      { accountId: acc.id, name: 'Renewal 2025', pipeline: 'renewals', stage: 'Renewal due' },
      'test',
    );
    expect(opp).toMatchObject({ pipeline: 'renewals', stage: 'due' });
    const plain = await createRecord(db, 'opportunities', { accountId: acc.id, name: 'Default pipeline' }, 'test');
    expect(plain).toMatchObject({ pipeline: 'acs', stage: 'prospecting' });
    const refused = await createRecord(
      db,
      'opportunities',
      { accountId: acc.id, name: 'x', pipeline: 'renewals', stage: 'Needs Analysis' },
      'test',
    ).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).issues[0]!.path).toBe('stage');
  });
});
