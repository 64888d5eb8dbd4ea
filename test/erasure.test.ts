import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { retentionPlay, runDuePlays, startPlay } from '../src/act/index.ts';
import { createTestApp, daysAgo, trouble, troubledCustomer, type TestApp } from './helpers.ts';

const ADA_EMAIL = 'ada.lovelace@example.org';
const ADA_PHONE = '+1 555 010 4477';

/** Everything that names Ada somewhere in the database before erasure, and must be nowhere after it. */
const PERSONAL = [
  ADA_EMAIL,
  'Lovelace',
  ADA_PHONE,
  '5550104477',
  'erase-1@example.com',
  'ada.old@example.net',
  'Customer ERASE-1',
  'billing-ada-77',
  'crm-ada-77',
  'Countess',
  'Ada L.',
  '1815-12-10',
  'Analytical Engines',
  'engine lost my notes',
  'T-ADA-1',
  'finds it slow',
  'Difference Engine',
  'moved house',
  'Ada wants a call',
  'Ada by phone',
  'Ada is furious',
  'Ada called twice',
];

describe('POST /api/v1/customers/{id}/erase: the right to erasure', () => {
  let t: TestApp;
  let accountId: string;
  let otherId: string;
  let leadId: string;
  let adaContactId: string;
  let quarantinedAda: string;
  let quarantinedOther: string;
  let erasedAt: string;
  let playId: string;

  /** Every row of every table in the schema, as lower-case JSON text by table: the ledger, the quarantine and the outbox included. */
  async function dump(): Promise<Record<string, string>> {
    const tables = await t.db.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY 1",
    );
    const out: Record<string, string> = {};
    for (const { table_name } of tables) {
      const rows = await t.db.query<{ j: string }>(`SELECT row_to_json(x)::text AS j FROM "${table_name}" x`);
      out[table_name] = rows
        .map((r) => r.j)
        .join('\n')
        .toLowerCase();
    }
    return out;
  }
  /** Which of `strings` each table holds, as `table: string`. */
  const found = (tables: Record<string, string>, strings: string[]) =>
    Object.entries(tables).flatMap(([table, text]) => strings.filter((s) => text.includes(s.toLowerCase())).map((s) => `${table}: ${s}`));

  const signal = async (body: unknown) => {
    const res = await t.call('POST', '/api/v1/signals', { body, role: 'agent' });
    expect(res.status, res.text).toBe(202);
    return res.body.accepted[0];
  };
  const erase = (key: string, body: unknown, role: 'admin' | 'reviewer' | 'analyst' | 'agent' = 'admin') =>
    t.call('POST', `/api/v1/customers/${key}/erase`, { body, role });

  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
    // Ada filled in a lead form before she became a customer: a lead of hers that nothing links to her profile.
    const form = await signal({
      id: 'ada-form-1',
      type: 'lead_form',
      version: 2,
      subject: { email: ADA_EMAIL },
      data: {
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: ADA_EMAIL,
        phone: ADA_PHONE,
        company: 'Analytical Engines Ltd',
        message: 'Ada wants a call',
        consents: [{ channel: 'email', purpose: 'sales' }],
      },
    });
    leadId = form.leadId;
    expect(leadId).toMatch(/^lead_/);

    accountId = await troubledCustomer(t, 'ERASE-1');
    otherId = await troubledCustomer(t, 'ERASE-2');
    const patched = await t.call('PATCH', `/api/v1/accounts/${accountId}`, {
      body: { externalId: 'billing-ada-77', attributes: { gender: 'Female', birthday: '1815-12-10' } },
    });
    expect(patched.status, patched.text).toBe(200);
    const ada = await t.call('POST', '/api/v1/contacts', {
      body: {
        accountId,
        firstName: 'Ada',
        lastName: 'Lovelace',
        email: ADA_EMAIL,
        phone: ADA_PHONE,
        title: 'Countess',
        externalId: 'crm-ada-77',
        attributes: { nickname: 'Ada L.' },
      },
    });
    expect(ada.status, ada.text).toBe(201);
    adaContactId = ada.body.id;
    const consent = await t.call('POST', '/api/v1/consents', {
      body: {
        contactId: adaContactId,
        channel: 'sms',
        purpose: 'service',
        status: 'granted',
        source: 'Ada by phone',
        capturedAt: daysAgo(10),
      },
    });
    expect(consent.status, consent.text).toBe(201);
    // A contact deleted with a reason: the reason is free text about her.
    const old = await t.call('POST', '/api/v1/contacts', { body: { accountId, firstName: 'Ada', email: 'ada.old@example.net' } });
    expect((await t.call('DELETE', `/api/v1/contacts/${old.body.id}?reason=${encodeURIComponent('Ada moved house')}`)).status).toBe(204);
    expect(
      (
        await t.call('POST', '/api/v1/interactions', {
          body: {
            type: 'call',
            accountId,
            contactId: adaContactId,
            direction: 'inbound',
            subject: 'Call with Ada Lovelace',
            body: 'She asked about the Difference Engine',
          },
        })
      ).status,
    ).toBe(201);
    expect((await t.call('POST', '/api/v1/opportunities', { body: { accountId, name: 'Lovelace renewal', amount: 960 } })).status).toBe(
      201,
    );

    // Her signals: tickets, an NPS comment, and a visit that resolves to her profile by her contact's phone.
    for (const body of [trouble('ERASE-1', 1), trouble('ERASE-2', 1)])
      expect((await t.call('POST', '/api/v1/signals', { body, role: 'agent' })).status).toBe(202);
    await signal({
      type: 'support_ticket',
      subject: { customerId: 'ERASE-1' },
      data: { ticketId: 'T-ADA-1', subject: 'Lovelace notes', text: 'Ada here: the engine lost my notes' },
    });
    await signal({ type: 'nps', subject: { customerId: 'ERASE-1' }, data: { score: 2, comment: 'Ada finds it slow' } });
    expect(
      (
        await signal({
          type: 'web_visit',
          subject: { phone: ADA_PHONE },
          data: { url: 'https://example.com/pricing', durationSeconds: 30 },
        })
      ).accountId,
    ).toBe(accountId);
    // Refused input naming her is quarantined; so is input about ERASE-10, whose id merely starts like hers.
    const bad = await t.call('POST', '/api/v1/signals', {
      body: { type: 'nps', subject: { email: ADA_EMAIL }, data: { score: 99, comment: 'Ada is furious' } },
      role: 'agent',
    });
    quarantinedAda = bad.body.quarantineId;
    const other = await t.call('POST', '/api/v1/signals', {
      body: { type: 'nps', subject: { customerId: 'ERASE-10' }, data: { score: 99, comment: 'someone else entirely' } },
      role: 'agent',
    });
    quarantinedOther = other.body.quarantineId;
    expect(quarantinedAda).toMatch(/^q_/);
    expect(quarantinedOther).toMatch(/^q_/);
    await t.bus.drain();
    // A credit offer waiting on a reviewer, with the agent's sentence about her.
    const play = retentionPlay(t.gate);
    playId = await startPlay(t.db, play, {
      accountId,
      actor: 'test',
      now: new Date(),
      state: {
        agent: { id: 'retention', offerAutonomy: 3, notifyAutonomy: 4 },
        customer: { id: 'ERASE-1', segment: 'consumer', region: 'US', inHoldout: false },
        amountCents: 2000,
        ev: { value: 42 },
        reason: 'Ada called twice',
      },
    });
    // The server's registry: the loop may have started other plays for her too (a case with its notice).
    await runDuePlays(t.db, t.plays, { actor: 'test', now: new Date() });
    const [waiting] = await t.db.query<{ status: string }>('SELECT status FROM plays WHERE id = $1', [playId]);
    expect(waiting!.status).toBe('waiting');
  });
  afterAll(async () => t.close());

  it('refuses a request whose confirm is missing or names someone else, and erases nothing', async () => {
    for (const body of [{}, { reason: 'asked' }, { confirm: 'ERASE-2' }, { confirm: otherId }, { confirm: 'erase-1' }]) {
      const res = await erase('ERASE-1', body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(
        res.body.issues.map((i: { path: string }) => i.path),
        JSON.stringify(body),
      ).toEqual(['confirm']);
    }
    const unknownField = await erase('ERASE-1', { confirm: 'ERASE-1', everything: true });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.issues).toEqual([{ path: 'everything', message: 'unknown field' }]);
    expect((await t.call('GET', `/api/v1/accounts/${accountId}`)).body.name).toBe('Customer ERASE-1');
    expect((await t.call('GET', `/api/v1/contacts/${adaContactId}`)).body.email).toBe(ADA_EMAIL);
  });

  it('is for admins only, and names an unknown customer', async () => {
    for (const role of ['reviewer', 'analyst', 'agent'] as const) {
      const res = await erase('ERASE-1', { confirm: 'ERASE-1' }, role);
      expect(res.status, role).toBe(403);
    }
    const missing = await erase('NOBODY', { confirm: 'NOBODY' });
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toContain('NOBODY');
    expect((await t.call('GET', `/api/v1/accounts/${accountId}`)).status).toBe(200);
  });

  it('destroys every personal value in every table, keeps ids, times, types and numbers, and ledgers it with counts', async () => {
    const before = await dump();
    const held = found(before, PERSONAL);
    expect(
      PERSONAL.filter((s) => !held.some((h) => h.endsWith(`: ${s}`))),
      'absent before erasure',
    ).toEqual([]);
    const signalsBefore = await t.db.query<{
      id: string;
      type: string;
      occurred_at: Date;
      metric: number | null;
      data: Record<string, unknown>;
    }>('SELECT id, type, occurred_at, metric, data FROM signals WHERE account_id = $1 ORDER BY id', [accountId]);
    const [featuresBefore] = await t.db.query<{ features: unknown }>('SELECT features FROM customer_features WHERE account_id = $1', [
      accountId,
    ]);

    const res = await erase(accountId, { confirm: 'ERASE-1', reason: 'Art. 17 request, ticket DPO-4411' });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      subject: { accountId, customerId: 'ERASE-1' },
      alreadyErased: false,
      reasonGiven: true,
      leadIds: [leadId],
      otherProfiles: [],
    });
    // Three contacts (one deleted earlier), three consents (the sign-up, Ada's sms, the lead form's box), the deleted contact's reason,
    // the four tickets, the NPS comment, the lead form and the visit; the payment failures carried nothing personal.
    expect(res.body.counts).toMatchObject({
      accounts: 1,
      contacts: 3,
      leads: 1,
      consents: 3,
      interactions: 1,
      opportunities: 1,
      signals: 7,
      deletion_reasons: 1,
      quarantine: 1,
    });
    expect(res.body.counts.cases).toBeGreaterThanOrEqual(4);
    expect(res.body.counts.proposals).toBeGreaterThan(0);
    // The waiting credit offer, and the service recovery play the loop started for her case (its notice).
    expect(res.body.counts.plays).toBe(2);
    expect(res.body.counts.identities).toBeGreaterThanOrEqual(4);
    erasedAt = res.body.erasedAt;

    const after = await dump();
    expect(found(after, PERSONAL), 'left after erasure').toEqual([]);
    // The other customer is untouched.
    expect(found(after, ['erase-2@example.com', 'Customer ERASE-2', 'furious and want to cancel'])).toEqual(
      expect.arrayContaining(['contacts: erase-2@example.com', 'accounts: Customer ERASE-2', 'signals: furious and want to cancel']),
    );
    expect((await t.call('GET', `/api/v1/accounts/${otherId}`)).body.name).toBe('Customer ERASE-2');

    // What aggregates need survives: the same signals, with their types, times, metrics and amounts; the features.
    const signalsAfter = await t.db.query<{
      id: string;
      type: string;
      occurred_at: Date;
      metric: number | null;
      data: Record<string, unknown>;
    }>('SELECT id, type, occurred_at, metric, data FROM signals WHERE account_id = $1 ORDER BY id', [accountId]);
    expect(signalsAfter.map(({ data: _, ...s }) => s)).toEqual(signalsBefore.map(({ data: _, ...s }) => s));
    expect(signalsAfter.filter((s) => s.type === 'payment_failed').map((s) => s.data)).toEqual(
      Array(2).fill({ amount: 80, currency: 'USD' }),
    );
    expect(signalsAfter.find((s) => s.type === 'nps')!.data).toEqual({ score: 2 });
    expect(signalsAfter.filter((s) => s.type === 'support_ticket').every((s) => Object.keys(s.data).length === 0)).toBe(true);
    const [featuresAfter] = await t.db.query<{ features: unknown }>('SELECT features FROM customer_features WHERE account_id = $1', [
      accountId,
    ]);
    expect(featuresAfter!.features).toEqual(featuresBefore!.features);
    // Consents stay as proof: channel, purpose, status and dates.
    const consents = await t.db.query<{ channel: string; purpose: string; status: string; source: string }>(
      'SELECT channel, purpose, status, source FROM consents WHERE contact_id = $1',
      [adaContactId],
    );
    expect(consents).toEqual([{ channel: 'sms', purpose: 'service', status: 'granted', source: '[erased]' }]);

    // The customer id stays claimed by the erased account; her email, phone and external ids resolve no more.
    const identities = await t.db.query<{ kind: string; value: string }>(
      'SELECT kind, value FROM identities WHERE account_id = $1 OR lead_id = $2',
      [accountId, leadId],
    );
    expect(identities).toEqual([{ kind: 'customer_id', value: 'ERASE-1' }]);
    // Nothing more is done for her: no pending approval, no queued message, no open task.
    const [open] = await t.db.query<{ approvals: number; messages: number; tasks: number }>(
      `SELECT (SELECT count(*)::int FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1 AND a.status = 'pending') AS approvals,
              (SELECT count(*)::int FROM messages WHERE account_id = $1 AND status = 'queued') AS messages,
              (SELECT count(*)::int FROM tasks WHERE account_id = $1 AND status = 'open') AS tasks`,
      [accountId],
    );
    expect(open).toEqual({ approvals: 0, messages: 0, tasks: 0 });
    const [play] = await t.db.query<{ status: string }>('SELECT status FROM plays WHERE id = $1', [playId]);
    expect(play!.status).toBe('refused');
    const stopped = (await t.call('GET', `/api/v1/ledger?type=play.refused&subjectId=${playId}`)).body.data;
    expect(stopped.map((e: { data: unknown }) => e.data)).toEqual([
      { kind: 'retention', step: 'await_approval', why: 'the customer was erased', erasureId: res.body.erasureId },
    ]);
    const lapsed = (await t.call('GET', '/api/v1/ledger?type=approval.expired')).body.data;
    // Every approval that was waiting for her lapsed through the erasure (her batches left one or more waiting).
    const [hers] = await t.db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id
       WHERE p.account_id = $1 AND a.status = 'expired'`,
      [accountId],
    );
    expect(hers!.n).toBeGreaterThan(0);
    expect(lapsed.map((e: { data: { via: string; erasureId: string } }) => [e.data.via, e.data.erasureId])).toEqual(
      Array.from({ length: hers!.n }, () => ['erasure', res.body.erasureId]),
    );
    // The profile is gone from reads; the refused input that named her is discarded, the one about ERASE-10 is not.
    expect((await t.call('GET', '/api/v1/customers/ERASE-1/profile')).status).toBe(404);
    expect((await t.call('GET', `/api/v1/accounts/${accountId}`)).status).toBe(404);
    expect((await t.call('GET', `/api/v1/quarantine/${quarantinedAda}`)).body).toMatchObject({
      status: 'discarded',
      raw: '[erased]',
      issues: [],
    });
    const untouched = await t.call('GET', `/api/v1/quarantine/${quarantinedOther}`);
    expect(untouched.body.status).toBe('open');
    expect(untouched.body.raw).toContain('someone else entirely');

    // The chain still verifies, and the erasure is in it with its counts, not its reason.
    const verify = await t.call('GET', '/api/v1/ledger/verify', { role: 'analyst' });
    expect(verify.body).toMatchObject({ ok: true, firstBadSeq: null });
    const entries = (await t.call('GET', `/api/v1/ledger?type=customer.erased&subjectId=${accountId}`)).body.data;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ subjectType: 'accounts', subjectId: accountId, actor: expect.stringMatching(/^token:/) });
    expect(entries[0].data).toEqual({ erasureId: res.body.erasureId, counts: res.body.counts, leadIds: [leadId], reasonGiven: true });
    expect(JSON.stringify(entries[0])).not.toContain('DPO-4411');
    const discarded = (await t.call('GET', `/api/v1/ledger?type=quarantine.discarded&subjectId=${quarantinedAda}`)).body.data;
    expect(discarded.map((e: { data: unknown }) => e.data)).toEqual([{ via: 'erasure', erasureId: res.body.erasureId }]);
    const leadDeleted = (await t.call('GET', `/api/v1/ledger?type=record.deleted&subjectId=${leadId}`)).body.data;
    expect(leadDeleted).toHaveLength(1);
    const [register] = await t.db.query<{ reason: string; counts: unknown }>('SELECT reason, counts FROM erasures WHERE id = $1', [
      res.body.erasureId,
    ]);
    expect(register).toEqual({ reason: 'Art. 17 request, ticket DPO-4411', counts: res.body.counts });
  });

  it('leaves an export with no personal values in it', async () => {
    const res = await t.call('GET', '/api/v1/customers/ERASE-1/export');
    expect(res.status, res.text).toBe(200);
    expect(PERSONAL.filter((s) => res.text.toLowerCase().includes(s.toLowerCase()))).toEqual([]);
    expect(res.body.data.accounts[0]).toMatchObject({
      id: accountId,
      customerId: 'ERASE-1',
      name: 'Erased customer',
      externalId: null,
      attributes: {},
      erasedAt: expect.any(String),
    });
    expect(res.body.data.erasures).toEqual([
      expect.objectContaining({ accountId, reason: 'Art. 17 request, ticket DPO-4411', counts: expect.objectContaining({ accounts: 1 }) }),
    ]);
    expect(res.body.data.contacts).toHaveLength(3);
    expect(
      res.body.data.contacts.every((c: Record<string, unknown>) => c.email === null && c.firstName === null && c.deletedAt !== null),
    ).toBe(true);
  });

  it('a new signal naming her email or phone starts a new profile instead of reaching the erased one', async () => {
    const byEmail = await signal({ type: 'nps', subject: { email: ADA_EMAIL }, data: { score: 9 } });
    expect(byEmail).toMatchObject({ created: 'account' });
    expect(byEmail.accountId).not.toBe(accountId);
    const byPhone = await signal({ type: 'nps', subject: { phone: ADA_PHONE }, data: { score: 9 } });
    expect([accountId, null]).not.toContain(byPhone.accountId);
    expect(byPhone.leadId).toBeNull();
  });

  it('erasing again says so, and erases what reached the customer id since', async () => {
    // The customer id still names the erased account (documented): a ticket sent with it lands there.
    const late = await signal({ type: 'support_ticket', subject: { customerId: 'ERASE-1' }, data: { text: 'Ada Lovelace again' } });
    expect(late.accountId).toBe(accountId);
    const first = (await t.call('GET', `/api/v1/ledger?type=customer.erased&subjectId=${accountId}`)).body.data[0];

    const res = await erase('ERASE-1', { confirm: accountId });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ alreadyErased: true, reasonGiven: false, erasedAt });
    const { signals, cases, ...rest } = res.body.counts;
    expect({ signals, cases }).toEqual({ signals: 1, cases: 1 });
    expect(
      Object.values(rest).every((n) => n === 0),
      JSON.stringify(rest),
    ).toBe(true);
    expect(found(await dump(), ['Ada Lovelace again'])).toEqual([]);

    const entries = (await t.call('GET', `/api/v1/ledger?type=customer.erased&subjectId=${accountId}`)).body.data;
    expect(entries).toHaveLength(2);
    expect(entries[0].data).toMatchObject({ repeat: true, reasonGiven: false, counts: res.body.counts });
    expect(entries[1].seq).toBe(first.seq);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('a profile folded into another by a merge is the same person: erasing by its id erases the survivor, and it too', async () => {
    const survivor = await t.call('POST', '/api/v1/accounts', {
      body: { name: 'Grace Hopper', customerId: 'FOLD-1', kind: 'person', externalId: 'gh-crm-1' },
    });
    const folded = await t.call('POST', '/api/v1/accounts', {
      body: { name: 'G. Hopper', customerId: 'FOLD-2', kind: 'person', externalId: 'gh-billing-7' },
    });
    await t.call('POST', '/api/v1/contacts', {
      body: { accountId: folded.body.id, firstName: 'Grace', lastName: 'Hopper', email: 'grace@navy.example' },
    });
    const merge = await t.call('POST', '/api/v1/identity/merges', { body: { survivorId: 'FOLD-1', mergedId: 'FOLD-2' } });
    expect(merge.status, merge.text).toBe(201);
    expect(found(await dump(), ['G. Hopper', 'grace@navy.example', 'gh-billing-7'])).not.toEqual([]);

    const res = await erase('FOLD-2', { confirm: 'FOLD-2' });
    expect(res.status, res.text).toBe(200);
    expect(res.body.subject).toEqual({ accountId: survivor.body.id, customerId: 'FOLD-1' });
    expect(res.body.counts.accounts).toBe(2);
    expect(found(await dump(), ['Grace Hopper', 'G. Hopper', 'grace@navy.example', 'gh-billing-7', 'gh-crm-1'])).toEqual([]);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });
});
