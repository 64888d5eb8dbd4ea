import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.ts';

// GET /api/v1/search through the real HTTP app on a fresh database (PGlite, or PostgreSQL with DATABASE_URL).
let t: TestApp;
const ids = {} as Record<'telco' | 'zelda' | 'zed' | 'acme' | 'gone' | 'merged' | 'survivor' | 'percent', string>;

const search = (q: string, opts: { role?: 'admin' | 'reviewer' | 'analyst' | 'agent'; limit?: number } = {}) =>
  t.call('GET', `/api/v1/search?q=${encodeURIComponent(q)}${opts.limit ? `&limit=${opts.limit}` : ''}`, { role: opts.role });
const found = async (q: string, role?: 'admin' | 'reviewer' | 'analyst') => {
  const res = await search(q, { role });
  expect(res.status, res.text).toBe(200);
  return res.body.data as { accountId: string; customerId: string; matchedOn: string; match: string; contact: unknown }[];
};
const account = async (body: Record<string, unknown>) => {
  const res = await t.call('POST', '/api/v1/accounts', { body });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
};
const contact = async (body: Record<string, unknown>) => {
  const res = await t.call('POST', '/api/v1/contacts', { body });
  expect(res.status, res.text).toBe(201);
  return res.body.id as string;
};

beforeAll(async () => {
  t = await createTestApp();
  ids.telco = await account({ name: 'Customer 7590-VHVEG', customerId: '7590-VHVEG', kind: 'person' });
  ids.zelda = await account({ name: 'Zelda Quuxington', customerId: 'ZQ-1', kind: 'person' });
  await contact({
    accountId: ids.zelda,
    firstName: 'Zelda',
    lastName: 'Quuxington',
    email: 'Zelda.Canary@Example.com',
    phone: '+61 412 345 678',
  });
  ids.zed = await account({ name: 'Zed Quux', customerId: 'ZQ-2', kind: 'person' });
  await contact({ accountId: ids.zed, firstName: 'Zed', lastName: 'Quux', email: 'zed@quux.example', phone: '(02) 9876-5432' });
  ids.acme = await account({ name: 'Acme Holdings', customerId: 'ACME-100', kind: 'business' });
  await contact({ accountId: ids.acme, firstName: 'Ann', lastName: 'Acme', email: 'zelda.canary@example.com.au' });
  ids.percent = await account({ name: '100% Discount Co', customerId: 'PCT_1', kind: 'business' });
  ids.gone = await account({ name: 'Gone Away', customerId: 'GONE-1', kind: 'person' });
  expect((await t.call('DELETE', `/api/v1/accounts/${ids.gone}`)).status).toBeLessThan(300);
  ids.survivor = await account({ name: 'Merge Survivor', customerId: 'MRG-1', kind: 'person' });
  ids.merged = await account({ name: 'Merge Folded', customerId: 'MRG-2', kind: 'person' });
  const merge = await t.call('POST', '/api/v1/identity/merges', { body: { survivorId: ids.survivor, mergedId: ids.merged } });
  expect(merge.status, merge.text).toBeLessThan(300);
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('GET /api/v1/search', () => {
  it('finds a Telco-style customer id whole, in lower case, and by either part', async () => {
    for (const q of ['7590-VHVEG', '7590-vhveg', '7590', 'vhveg', 'VhVe']) {
      const hits = await found(q);
      expect(hits[0]?.accountId, q).toBe(ids.telco);
      expect(hits[0]?.matchedOn, q).toBe('customerId');
    }
    expect((await found('7590-vhveg'))[0]!.match).toBe('exact');
    expect((await found('7590'))[0]!.match).toBe('prefix');
    expect((await found('vhveg'))[0]!.match).toBe('contains');
  });

  it('finds by account id, by email in part and any case, and by name in part', async () => {
    expect((await found(ids.zed))[0]).toMatchObject({ accountId: ids.zed, matchedOn: 'accountId', match: 'exact' });
    const byEmail = await found('ZED@QUUX.EXAMPLE');
    expect(byEmail[0]).toMatchObject({ accountId: ids.zed, matchedOn: 'email', match: 'exact' });
    expect(byEmail[0]!.contact).toMatchObject({ email: 'zed@quux.example', firstName: 'Zed' });
    expect((await found('quux.exa')).map((h) => h.accountId)).toEqual([ids.zed]);
    const byName = await found('quuxing');
    expect(byName.map((h) => h.accountId)).toEqual([ids.zelda]);
    expect(byName[0]!.matchedOn).toBe('name');
    // A name written a little wrong still finds its customer by trigram similarity, ranked after real matches.
    const similar = await found('Quuxingtom');
    expect(similar[0]).toMatchObject({ accountId: ids.zelda, match: 'similar' });
    // A query with a digit or an @ is an id, email or phone: no name is found by mere similarity to it.
    expect(await found('Quuxingtom1')).toEqual([]);
  });

  it('finds a phone by its digits, however either side writes them', async () => {
    for (const q of ['412345678', '412 345 678', '+61-412-345-678', '345 678']) {
      const hits = await found(q);
      expect(
        hits.map((h) => h.accountId),
        q,
      ).toEqual([ids.zelda]);
      expect(hits[0]!.matchedOn).toBe('phone');
    }
    expect((await found('9876 5432')).map((h) => h.accountId)).toEqual([ids.zed]);
    expect((await found('61412345678'))[0]!.match).toBe('exact');
  });

  it('ranks an exact email before a longer one that contains it, and similar names last', async () => {
    const hits = await found('zelda.canary@example.com');
    expect(hits.map((h) => h.accountId)).toEqual([ids.zelda, ids.acme]);
    expect(hits.map((h) => h.match)).toEqual(['exact', 'prefix']);
    // "zelda" is the start of one customer's name and the start of another's contact email.
    const zelda = await found('zelda');
    expect(zelda[0]!.accountId).toBe(ids.zelda);
    expect(zelda.map((h) => h.accountId)).toContain(ids.acme);
  });

  it('takes LIKE wildcards literally and leaves out deleted and merged-away customers', async () => {
    expect((await found('100%')).map((h) => h.accountId)).toEqual([ids.percent]);
    expect((await found('pct_1')).map((h) => h.accountId)).toEqual([ids.percent]);
    expect(await found('%')).toHaveLength(1);
    expect(await found('_')).toHaveLength(1);
    expect(await found('GONE-1')).toEqual([]);
    expect((await found('MRG-')).map((h) => h.accountId)).toEqual([ids.survivor]);
  });

  it('answers at most `limit` customers, 20 unless asked', async () => {
    const all = await search('q', { limit: 100 });
    expect(all.status).toBe(200);
    expect(all.body.limit).toBe(100);
    const one = await search('zq-', { limit: 1 });
    expect(one.body.data).toHaveLength(1);
    expect((await search('zq-')).body.limit).toBe(20);
  });

  it('refuses a missing, empty, blank or too long q, and a bad limit, naming the parameter', async () => {
    for (const path of ['/api/v1/search', '/api/v1/search?q=', '/api/v1/search?q=%20%20%20', `/api/v1/search?q=${'x'.repeat(201)}`]) {
      const res = await t.call('GET', path);
      expect(res.status, path).toBe(400);
      expect(
        res.body.issues.map((e: { path: string }) => e.path),
        path,
      ).toContain('query.q');
    }
    for (const limit of ['0', '101', 'ten', '1.5']) {
      const res = await t.call('GET', `/api/v1/search?q=zed&limit=${limit}`);
      expect(res.status, limit).toBe(400);
      expect(res.body.issues.map((e: { path: string }) => e.path)).toContain('query.limit');
    }
    const stray = await t.call('GET', '/api/v1/search?q=zed&sort=name');
    expect(stray.status).toBe(400);
  });

  it('never fails on hostile input: NUL, control characters, quotes, backslashes, odd Unicode, a long URL', async () => {
    expect((await t.call('GET', '/api/v1/search?q=%00')).status).toBe(400);
    expect((await t.call('GET', '/api/v1/search?q=zed%00zed')).status).toBe(400);
    for (const q of [
      "'; DROP TABLE accounts; --",
      '\\',
      '\\%',
      '\u0001\u0007\u001b[31m',
      '\u202e\u200bzed',
      '😀',
      '\uFFFD',
      'ß'.repeat(200),
    ]) {
      const res = await search(q);
      expect(res.status, JSON.stringify(q)).toBe(200);
    }
    expect((await t.call('GET', `/api/v1/search?q=${'%E2%82%AC'.repeat(5000)}`)).status).toBeLessThan(500);
    expect((await t.call('GET', '/api/v1/search?q=%ZZ')).status).toBeLessThan(500);
    expect((await found('zed')).length).toBeGreaterThan(0);
  });

  it('matches an analyst by ids only, with names masked; a reviewer sees the person', async () => {
    const analyst = await search('7590-vhveg', { role: 'analyst' });
    expect(analyst.status).toBe(200);
    expect(analyst.body.fields).toBe('ids');
    expect(analyst.body.data[0].accountId).toBe(ids.telco);
    expect(analyst.body.data[0].name).not.toContain('7590');
    // Personal fields are not matched for the analyst, so a search cannot say whose email or phone this is.
    for (const q of ['zelda.canary@example.com', 'Quuxington', '412345678']) expect(await found(q, 'analyst'), q).toEqual([]);
    const byId = await search('ZQ-1', { role: 'analyst' });
    expect(byId.text).not.toMatch(/zelda|quuxington/i);
    expect(byId.body.data[0].accountId).toBe(ids.zelda);
    const reviewer = await search('zq-1', { role: 'reviewer' });
    expect(reviewer.body.fields).toBe('all');
    expect(reviewer.body.data[0].name).toBe('Zelda Quuxington');
  });

  it('has trigram indexes on every searched field, and the database finds candidates by them', async () => {
    const rows = await t.db.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname LIKE '%\\_trgm' ORDER BY 1",
    );
    expect(rows.map((r) => r.indexname)).toEqual(
      expect.arrayContaining([
        'accounts_customer_id_trgm',
        'accounts_name_trgm',
        'contacts_email_trgm',
        'contacts_name_trgm',
        'contacts_phone_digits_trgm',
      ]),
    );
    // With sequential scans made dear, the planner reaches contacts by email through the trigram index.
    const plan = await t.db.transaction(async (tx) => {
      await tx.query('SET LOCAL enable_seqscan = off');
      const lines = await tx.query<{ 'QUERY PLAN': string }>("EXPLAIN SELECT id FROM contacts WHERE email ILIKE '%quux.exa%'");
      return lines.map((l) => l['QUERY PLAN']).join('\n');
    });
    expect(plan).toContain('contacts_email_trgm');
  });

  it('is for staff: an agent is refused, as is a call without a token', async () => {
    expect((await search('zed', { role: 'agent' })).status).toBe(403);
    expect((await t.call('GET', '/api/v1/search?q=zed', { token: null })).status).toBe(401);
  });
});
