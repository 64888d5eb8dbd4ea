import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNAL_TYPES } from '../src/contracts/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
let accountId: string;
const daysAgo = (d: number) => new Date(Date.now() - d * 86_400_000).toISOString();

beforeAll(async () => {
  t = await createTestApp({ maxBodyBytes: 64 * 1024 });
  const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Globex', customerId: 'GLX-1', externalId: 'crm-77' } });
  accountId = acc.body.id;
  await t.call('POST', '/api/v1/contacts', { body: { accountId, email: 'Hank.Scorpio@Globex.com', phone: '(555) 010-2030' } });
});
afterAll(async () => t.close());

const post = (body: unknown, role: 'admin' | 'agent' = 'agent') => t.call('POST', '/api/v1/signals', { body, role });

describe('signal intake: matching', () => {
  it.each([
    ['customer id', { customerId: 'GLX-1' }],
    ['email, normalized', { email: '  hank.scorpio@GLOBEX.com ' }],
    ['phone, normalized', { phone: '+1 555.010.2030' }],
    ['external id', { externalId: 'crm-77' }],
  ])('matches a known customer by %s', async (_label, subject) => {
    const res = await post({ type: 'web_visit', subject, data: { url: 'https://globex.example/pricing' } });
    expect(res.status).toBe(202);
    expect(res.body.accepted[0]).toMatchObject({ accountId, leadId: null });
    expect(res.body.accepted[0].created).toBeUndefined();
  });

  it('an unknown subject gets a new profile that later signals find again', async () => {
    const first = await post({ type: 'usage', subject: { email: 'new.person@example.org' }, data: { quantity: 3 } });
    expect(first.status).toBe(202);
    expect(first.body.accepted[0].created).toBe('account');
    const newAccount = first.body.accepted[0].accountId;
    expect(newAccount).not.toBe(accountId);
    const again = await post({ type: 'usage', subject: { email: 'NEW.person@example.org' }, data: { quantity: 4 } });
    expect(again.body.accepted[0]).toMatchObject({ accountId: newAccount });
    expect(again.body.accepted[0].created).toBeUndefined();
    const profile = await t.call('GET', `/api/v1/customers/${newAccount}/profile`);
    expect(profile.body.account.customerId).toMatch(/^CUST-\d{6}$/);
    expect(profile.body.identities.map((i: { kind: string }) => i.kind).sort()).toEqual(['customer_id', 'email']);
  });

  it('two signals in one batch naming the same unknown subject share one new profile', async () => {
    const res = await post([
      { type: 'usage', subject: { phone: '+44 20 7946 0000' }, data: { quantity: 1 } },
      { type: 'usage', subject: { phone: '0044 20 7946 0000' }, data: { quantity: 2 } },
    ]);
    expect(res.status).toBe(202);
    expect(res.body.accepted[0].accountId).toBe(res.body.accepted[1].accountId);
    expect(res.body.accepted.filter((a: { created?: string }) => a.created)).toHaveLength(1);
  });

  it('an unknown lead_form subject creates a lead, not a customer', async () => {
    const res = await post({
      type: 'lead_form',
      subject: { email: 'prospect@initech.example' },
      data: { firstName: 'Bill', company: 'Initech', formId: 'demo-request' },
    });
    expect(res.status).toBe(202);
    expect(res.body.accepted[0]).toMatchObject({ accountId: null, created: 'lead' });
    const lead = await t.call('GET', `/api/v1/leads/${res.body.accepted[0].leadId}`);
    expect(lead.body).toMatchObject({ email: 'prospect@initech.example', firstName: 'Bill', company: 'Initech', status: 'new' });
    const again = await post({ type: 'web_visit', subject: { email: 'prospect@initech.example' }, data: { url: 'https://acs.example/' } });
    expect(again.body.accepted[0]).toMatchObject({ leadId: res.body.accepted[0].leadId, accountId: null });
  });

  it('a signal naming only a deleted customer\u2019s id is quarantined, not given a new profile under that id', async () => {
    const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Gone Ltd', customerId: 'DEL-1' } });
    await t.call('POST', '/api/v1/contacts', { body: { accountId: acc.body.id, email: 'still@here.example' } });
    expect((await t.call('DELETE', `/api/v1/accounts/${acc.body.id}`)).status).toBe(204);
    const res = await post([
      { type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: 8 } },
      { type: 'nps', subject: { customerId: 'DEL-1' }, data: { score: 3 } },
    ]);
    expect(res.status, res.text).toBe(207);
    expect(res.body.accepted.map((a: { index: number }) => a.index)).toEqual([0]);
    expect(res.body.rejected).toHaveLength(1);
    expect(res.body.rejected[0]).toMatchObject({
      index: 1,
      issues: [{ path: 'subject.customerId', message: expect.stringContaining('customer DEL-1 was deleted') }],
    });
    const kept = await t.call('GET', `/api/v1/quarantine/${res.body.rejected[0].quarantineId}`);
    expect(kept.body).toMatchObject({ reason: 'refused', status: 'open' });
    expect(JSON.parse(kept.body.raw)).toMatchObject({ subject: { customerId: 'DEL-1' }, data: { score: 3 } });
    const [row] = await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM accounts WHERE customer_id = 'DEL-1'");
    expect(row!.n).toBe(1);
  });
});

describe('signal intake: batches, NDJSON and duplicates', () => {
  it('a signal id that arrives twice is accepted once', async () => {
    const signal = { id: 'evt-dup-1', type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: 9 } };
    expect((await post(signal)).status).toBe(202);
    const second = await post(signal);
    expect(second.status).toBe(200);
    expect(second.body.duplicates).toEqual([{ index: 0, id: 'evt-dup-1' }]);
    const inBatch = await post([{ ...signal, id: 'evt-dup-2' }, { ...signal, id: 'evt-dup-2' }, signal]);
    expect(inBatch.body.counts).toEqual({ accepted: 1, duplicates: 2, rejected: 0 });
    const rows = await t.db.query("SELECT id FROM signals WHERE id IN ('evt-dup-1', 'evt-dup-2')");
    expect(rows).toHaveLength(2);
    const ledger = await t.db.query("SELECT seq FROM ledger WHERE type = 'signal.accepted' AND subject_id = 'evt-dup-1'");
    expect(ledger).toHaveLength(1);
  });

  it('a batch is partly accepted and says which indices failed and why', async () => {
    const res = await post([
      { type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: 4 } },
      { type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: 11 } },
      { type: 'teleport', subject: { customerId: 'GLX-1' }, data: {} },
      { type: 'usage', subject: {}, data: { quantity: 1 } },
    ]);
    expect(res.status).toBe(207);
    expect(res.body.counts).toEqual({ accepted: 1, duplicates: 0, rejected: 3 });
    const byIndex = Object.fromEntries(
      res.body.rejected.map((r: { index: number; issues: { path: string }[] }) => [r.index, r.issues.map((i) => i.path)]),
    );
    expect(byIndex[1]).toEqual(['data.score']);
    expect(byIndex[2]).toEqual(['type']);
    expect(byIndex[3]).toEqual(['subject']);
    for (const r of res.body.rejected) expect(r.quarantineId).toMatch(/^q_/);
  });

  it('takes NDJSON, quarantining a malformed line without losing the others', async () => {
    const lines = [
      JSON.stringify({ type: 'email_engagement', subject: { customerId: 'GLX-1' }, data: { event: 'opened', campaignId: 'c1' } }),
      '{"type": "nps", "subject": {',
      JSON.stringify({ type: 'email_engagement', subject: { customerId: 'GLX-1' }, data: { event: 'clicked', campaignId: 'c1' } }),
    ];
    const res = await t.call('POST', '/api/v1/signals', {
      raw: lines.join('\n') + '\n',
      contentType: 'application/x-ndjson',
      role: 'agent',
    });
    expect(res.status).toBe(207);
    expect(res.body.counts).toEqual({ accepted: 2, duplicates: 0, rejected: 1 });
    expect(res.body.rejected[0].index).toBe(1);
    const q = await t.call('GET', `/api/v1/quarantine/${res.body.rejected[0].quarantineId}`);
    expect(q.body.raw).toBe(lines[1]);
    expect(q.body.reason).toBe('malformed JSON');
  });
});

describe('signal intake: bad input', () => {
  it('malformed JSON is a 400 and the raw body is kept in quarantine', async () => {
    const raw = '{"type": "nps", "subject": {"customerId": "GLX-1"}, "data": {"score": 7}';
    const res = await t.call('POST', '/api/v1/signals', { raw, role: 'agent' });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('malformed_json');
    const q = await t.call('GET', `/api/v1/quarantine/${res.body.quarantineId}`);
    expect(q.body).toMatchObject({ raw, status: 'open', source: 'api' });
  });

  it('wrong types name each bad field, in the envelope and the data at once', async () => {
    const res = await post({
      type: 'payment_failed',
      occurredAt: 'yesterday',
      subject: { customerId: 'GLX-1' },
      data: { amount: '12', currency: 'usd', extra: 1 },
    });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual([
      'data.amount',
      'data.currency',
      'data.extra',
      'occurredAt',
    ]);
  });

  it('an unknown signal type lists the known ones', async () => {
    const res = await post({ type: 'telepathy', subject: { customerId: 'GLX-1' }, data: {} });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].message).toContain('unknown signal type');
    for (const type of SIGNAL_TYPES) expect(res.body.issues[0].message).toContain(type);
  });

  it('lead_form version 2 carries the consent boxes; version 1 does not know them, and a bad box names its field', async () => {
    const boxes = [{ channel: 'email', purpose: 'sales' }];
    const v1 = await post({ type: 'lead_form', subject: { email: 'v1@initech.example' }, data: { consents: boxes } });
    expect(v1.status).toBe(400);
    expect(v1.body.issues[0]).toMatchObject({ path: 'data.consents', message: expect.stringMatching(/unrecognized|unknown/i) });
    const bad = await post({
      type: 'lead_form',
      version: 2,
      subject: { email: 'v2@initech.example' },
      data: { consents: [{ channel: 'email', purpose: 'spam' }] },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0].path).toBe('data.consents.0.purpose');
    const ok = await post({ type: 'lead_form', version: 2, subject: { email: 'v2@initech.example' }, data: { consents: boxes } });
    expect(ok.status).toBe(202);
    const consents = await t.call('GET', `/api/v1/consents?leadId=${ok.body.accepted[0].leadId}`);
    expect(consents.body.data).toMatchObject([{ channel: 'email', purpose: 'sales', status: 'granted', source: 'lead_form' }]);
    expect(
      await t.db.query("SELECT 1 FROM ledger WHERE type = 'record.created' AND subject_id = $1", [consents.body.data[0].id]),
    ).toHaveLength(1);
  });

  it('an unknown contract version is refused, naming version', async () => {
    const res = await post({ type: 'nps', version: 7, subject: { customerId: 'GLX-1' }, data: { score: 5 } });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toBe('version');
  });

  it('an oversized body is a 413 and its prefix is kept in quarantine', async () => {
    const big = JSON.stringify({ type: 'support_ticket', subject: { customerId: 'GLX-1' }, data: { text: 'x'.repeat(100 * 1024) } });
    const res = await t.call('POST', '/api/v1/signals', { raw: big, role: 'agent' });
    expect(res.status).toBe(413);
    expect(res.body.code).toBe('payload_too_large');
    const q = await t.call('GET', `/api/v1/quarantine/${res.body.quarantineId}`);
    expect(q.body.reason).toBe('body too large');
    expect(big.startsWith(q.body.raw)).toBe(true);
    expect(q.body.raw.length).toBe(64 * 1024);
  });

  it('an unsupported content type is a 415', async () => {
    const res = await t.call('POST', '/api/v1/signals', {
      raw: 'type=nps',
      contentType: 'application/x-www-form-urlencoded',
      role: 'agent',
    });
    expect(res.status).toBe(415);
  });

  it('an empty array is a 400', async () => {
    expect((await post([])).status).toBe(400);
  });

  it('property: any JSON value gets a 2xx or a 4xx with field issues, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue({ maxDepth: 4 }), async (value) => {
        const res = await post(value);
        expect(res.status).toBeLessThan(500);
        if (res.status === 400 && !Array.isArray(value)) {
          expect(res.body.code).toMatch(/validation_failed|bad_request/);
        }
      }),
      { numRuns: 60, seed: 42 },
    );
  });

  it('property: mutated valid signals are accepted or refused with named fields, and never lost', async () => {
    const valid = fc.record({
      type: fc.constant('nps'),
      subject: fc.record({ customerId: fc.constant('GLX-1') }),
      data: fc.record({ score: fc.integer({ min: 0, max: 10 }) }),
    });
    const mutated = fc
      .tuple(valid, fc.constantFrom('type', 'subject', 'data', 'occurredAt', 'extra'), fc.anything({ maxDepth: 2 }))
      .map(([s, key, junk]) => ({ ...s, [key]: junk }));
    await fc.assert(
      fc.asyncProperty(fc.array(fc.oneof(valid, mutated), { minLength: 1, maxLength: 8 }), async (batch) => {
        const before = await t.db.query<{ n: number }>(
          'SELECT (SELECT count(*) FROM signals)::int + (SELECT count(*) FROM quarantine)::int AS n',
        );
        const res = await post(batch);
        expect(res.status).toBeLessThan(500);
        const counts = res.body.counts;
        expect(counts.accepted + counts.rejected + counts.duplicates).toBe(batch.length);
        for (const r of res.body.rejected) expect(r.issues.length).toBeGreaterThan(0);
        const after = await t.db.query<{ n: number }>(
          'SELECT (SELECT count(*) FROM signals)::int + (SELECT count(*) FROM quarantine)::int AS n',
        );
        expect(after[0]!.n - before[0]!.n).toBe(counts.accepted + counts.rejected);
      }),
      { numRuns: 40, seed: 7 },
    );
  });
});

describe('quarantine', () => {
  it('lists, resubmits a corrected signal, and refuses a second resubmission', async () => {
    const bad = await post({ type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: 'ten' } });
    const id = bad.body.quarantineId;
    const list = await t.call('GET', '/api/v1/quarantine?status=open&limit=500', { role: 'reviewer' });
    expect(list.body.data.map((q: { id: string }) => q.id)).toContain(id);

    const asIs = await t.call('POST', `/api/v1/quarantine/${id}/resubmit`, { role: 'reviewer' });
    expect(asIs.status).toBe(400);
    expect(asIs.body.issues[0].path).toBe('data.score');
    expect((await t.call('GET', `/api/v1/quarantine/${id}`)).body.status).toBe('open');

    const fixed = await t.call('POST', `/api/v1/quarantine/${id}/resubmit`, {
      role: 'reviewer',
      body: { signal: { type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: 10 } } },
    });
    expect(fixed.status).toBe(202);
    const signalId = fixed.body.accepted[0].id;
    const closed = await t.call('GET', `/api/v1/quarantine/${id}`);
    expect(closed.body).toMatchObject({ status: 'resubmitted', resolution: { signalId, corrected: true } });

    const twice = await t.call('POST', `/api/v1/quarantine/${id}/resubmit`, {
      role: 'reviewer',
      body: { signal: { type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: 10 } } },
    });
    expect(twice.status).toBe(409);
    const ledger = await t.call('GET', `/api/v1/ledger?subjectId=${id}`);
    expect(ledger.body.data.map((e: { type: string }) => e.type).sort()).toEqual(['quarantine.resubmitted', 'signal.quarantined']);
  });

  it('discards with a reason, and needs one', async () => {
    const bad = await post({ type: 'usage', subject: { customerId: 'GLX-1' }, data: { quantity: -1 } });
    const id = bad.body.quarantineId;
    expect((await t.call('POST', `/api/v1/quarantine/${id}/discard`, { role: 'reviewer', body: {} })).status).toBe(400);
    const res = await t.call('POST', `/api/v1/quarantine/${id}/discard`, { role: 'reviewer', body: { reason: 'test traffic' } });
    expect(res.body).toMatchObject({ status: 'discarded', resolution: { reason: 'test traffic' } });
  });
});

describe('features and profile', () => {
  it('computes rolling features from the signal history', async () => {
    const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Features Inc', customerId: 'FEAT-1' } });
    const s = (type: string, d: number, data: object) => ({ type, occurredAt: daysAgo(d), subject: { customerId: 'FEAT-1' }, data });
    const res = await post([
      s('usage', 1, { quantity: 10 }),
      s('usage', 3, { quantity: 5 }),
      s('usage', 10, { quantity: 40 }),
      s('usage', 20, { quantity: 40 }),
      s('usage', 60, { quantity: 1000 }),
      s('payment_failed', 2, { amount: 30, currency: 'USD' }),
      s('payment_failed', 40, { amount: 30, currency: 'USD' }),
      s('nps', 30, { score: 9 }),
      s('nps', 5, { score: 2 }),
      s('support_ticket', 1, { text: 'The app is broken again and support ignored me. Terrible, I want to cancel.' }),
      s('email_engagement', 4, { event: 'opened' }),
      s('email_engagement', 4, { event: 'bounced' }),
      s('outcome', 6, { kind: 'complaint', reason: 'called twice about the same fault' }),
      s('outcome', 6, { kind: 'renewed' }),
    ]);
    expect(res.body.counts.accepted).toBe(14);
    await t.bus.drain();
    const profile = await t.call('GET', '/api/v1/customers/FEAT-1/profile');
    const f = profile.body.features.values;
    expect(f.usage7d).toBe(15);
    expect(f.usagePrior28d).toBe(80);
    expect(f.usageTrend).toBe(0.75);
    expect(f.paymentFailures30d).toBe(1);
    expect(f.lastNps).toBe(2);
    expect(f.tickets30d).toBe(1);
    expect(f.ticketSentiment30d).toBeLessThan(-0.3);
    expect(f.openCases).toBe(1);
    expect(f.emailEngagements30d).toBe(1);
    expect(f.complaints90d).toBe(1);
    expect(f.lastSignalAt).toBe(new Date(f.lastSignalAt).toISOString());
    expect(profile.body.openCases[0].description).toContain('broken again');
    expect(profile.body.timeline[0].type).toBe('support_ticket');
    expect(profile.body.account.id).toBe(acc.body.id);
  });

  it('an accepted signal shows in the profile timeline and in the ledger', async () => {
    const res = await post({
      type: 'billing_dispute',
      subject: { customerId: 'GLX-1' },
      data: { amount: 99.5, currency: 'EUR', reason: 'double charge' },
    });
    const id = res.body.accepted[0].id;
    await t.bus.drain();
    const profile = await t.call('GET', '/api/v1/customers/GLX-1/profile');
    expect(profile.body.timeline.map((i: { id: string }) => i.id)).toContain(id);
    expect(profile.body.features.values.billingDisputes90d).toBe(1);
    const ledger = await t.call('GET', `/api/v1/ledger?subjectId=${id}`);
    expect(ledger.body.data[0]).toMatchObject({ type: 'signal.accepted', data: { signalType: 'billing_dispute', accountId } });
    expect(JSON.stringify(ledger.body)).not.toContain('double charge');
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('keeps personal data out of the ledger', async () => {
    await post({
      type: 'lead_form',
      subject: { email: 'private.person@example.net', phone: '+1 212 555 0199' },
      data: { firstName: 'Priya', lastName: 'Secret' },
    });
    const rows = await t.db.query<{ body: string }>('SELECT body FROM ledger');
    const all = rows.map((r) => r.body).join('\n');
    for (const pii of ['private.person', '212 555', '2125550199', 'Priya', 'Secret', 'hank.scorpio', 'Globex'])
      expect(all).not.toContain(pii);
  });

  it('a 404 for an unknown customer', async () => {
    expect((await t.call('GET', '/api/v1/customers/NOPE-1/profile')).status).toBe(404);
  });
});

describe('concurrency', () => {
  it('concurrent batches naming the same unknown subject create one profile', async () => {
    const subject = { email: 'race.condition@example.com' };
    const batch = (n: number) =>
      Array.from({ length: 5 }, (_, i) => ({ id: `race-${n}-${i}`, type: 'usage', subject, data: { quantity: 1 } }));
    const results = await Promise.all([1, 2, 3, 4].map((n) => post(batch(n))));
    const accounts = new Set(results.flatMap((r) => r.body.accepted.map((a: { accountId: string }) => a.accountId)));
    expect(accounts.size).toBe(1);
    const created = results.flatMap((r) => r.body.accepted.filter((a: { created?: string }) => a.created));
    expect(created).toHaveLength(1);
  });
});

describe('found in review', () => {
  it('text the database cannot store is a 400 naming the field, and the rest of the batch still lands', async () => {
    const res = await post([
      { id: 'nul-ok-1', type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: 8 } },
      { type: 'support_ticket', subject: { customerId: 'GLX-1' }, data: { text: 'broken\u0000' } },
      { type: 'support_ticket', subject: { customerId: 'GLX-1' }, data: { text: 'lonely \ud800 surrogate' } },
    ]);
    expect(res.status).toBe(207);
    expect(res.body.accepted.map((a: { id: string }) => a.id)).toEqual(['nul-ok-1']);
    expect(res.body.rejected.map((r: { issues: { path: string }[] }) => r.issues[0]!.path)).toEqual(['data.text', 'data.text']);
    const kept = await t.call('GET', `/api/v1/quarantine/${res.body.rejected[0].quarantineId}`);
    expect(kept.body.raw).toContain('broken\\u0000');
    expect((await t.call('GET', '/api/v1/accounts/%00')).status).toBe(400);
  });

  it('a malformed body holding a real NUL byte is kept, escaped', async () => {
    const res = await t.call('POST', '/api/v1/signals', { raw: '{"type": "nps", "x": "a\u0000b', role: 'agent' });
    expect(res.status).toBe(400);
    const kept = await t.call('GET', `/api/v1/quarantine/${res.body.quarantineId}`);
    expect(kept.body.raw).toBe('{"type": "nps", "x": "a\\u0000b');
  });

  it('a type named like an object property is an unknown type', async () => {
    const res = await post({ type: 'constructor', subject: { customerId: 'GLX-1' }, data: {} });
    expect(res.body.issues[0]).toMatchObject({ path: 'type' });
  });

  it('a signal never hands a customer id to another profile', async () => {
    const res = await post({
      type: 'usage',
      subject: { email: 'hank.scorpio@globex.com', customerId: 'CUST-999999' },
      data: { quantity: 1 },
    });
    expect(res.body.accepted[0].accountId).toBe(accountId);
    const ids = await t.db.query("SELECT 1 FROM identities WHERE kind = 'customer_id' AND value = 'CUST-999999'");
    expect(ids).toHaveLength(0);
  });

  it('a deleted or moved contact stops routing signals to the old profile', async () => {
    const a = await t.call('POST', '/api/v1/accounts', { body: { name: 'Old home' } });
    const b = await t.call('POST', '/api/v1/accounts', { body: { name: 'New home' } });
    const contact = await t.call('POST', '/api/v1/contacts', { body: { accountId: a.body.id, email: 'mover@example.com' } });
    expect((await post({ type: 'usage', subject: { email: 'mover@example.com' }, data: { quantity: 1 } })).body.accepted[0].accountId).toBe(
      a.body.id,
    );
    await t.call('PATCH', `/api/v1/contacts/${contact.body.id}`, { body: { accountId: b.body.id } });
    expect((await post({ type: 'usage', subject: { email: 'mover@example.com' }, data: { quantity: 1 } })).body.accepted[0].accountId).toBe(
      b.body.id,
    );
    await t.call('DELETE', `/api/v1/accounts/${b.body.id}?reason=${encodeURIComponent('left us, see ticket 7')}`);
    const after = await post({ type: 'usage', subject: { email: 'mover@example.com' }, data: { quantity: 1 } });
    expect(after.body.accepted[0].created).toBe('account');
    const ledger = await t.db.query<{ body: string }>("SELECT body FROM ledger WHERE type = 'record.deleted' AND subject_id = $1", [
      b.body.id,
    ]);
    expect(ledger[0]!.body).toContain('"reasonGiven":true');
    expect(ledger[0]!.body).not.toContain('ticket 7');
    const kept = await t.db.query<{ reason: string }>('SELECT reason FROM deletion_reasons WHERE record_id = $1', [b.body.id]);
    expect(kept[0]!.reason).toBe('left us, see ticket 7');
  });

  it('features follow a closed case and count a signal from a clock that runs ahead', async () => {
    await t.call('POST', '/api/v1/accounts', { body: { name: 'Clock', customerId: 'CLK-1' } });
    const ahead = new Date(Date.now() + 120_000).toISOString();
    await post([
      { type: 'usage', occurredAt: ahead, subject: { customerId: 'CLK-1' }, data: { quantity: 5 } },
      { type: 'support_ticket', subject: { customerId: 'CLK-1' }, data: { text: 'it is down' } },
    ]);
    await t.bus.drain();
    let profile = await t.call('GET', '/api/v1/customers/CLK-1/profile');
    expect(profile.body.features.values.usage7d).toBe(5);
    expect(profile.body.features.values.openCases).toBe(1);
    await t.call('PATCH', `/api/v1/cases/${profile.body.openCases[0].id}`, { body: { status: 'closed' } });
    await t.bus.drain();
    profile = await t.call('GET', '/api/v1/customers/CLK-1/profile');
    expect(profile.body.features.values.openCases).toBe(0);
  });

  it('a too-large batch is kept in quarantine whole', async () => {
    const many = Array.from({ length: 10_001 }, () => 1);
    const res = await post(many);
    expect(res.status).toBe(413);
    const kept = await t.call('GET', `/api/v1/quarantine/${res.body.quarantineId}`);
    expect(JSON.parse(kept.body.raw)).toHaveLength(10_001);
  });

  it('a null resubmit body is a 400, not a 500', async () => {
    const bad = await post({ type: 'nps', subject: { customerId: 'GLX-1' }, data: { score: -1 } });
    const res = await t.call('POST', `/api/v1/quarantine/${bad.body.quarantineId}/resubmit`, { raw: 'null', role: 'reviewer' });
    expect(res.status).toBe(400);
  });
});
