import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/api/auth.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createServices, type Services } from '../src/server.ts';
import { createTestApp, daysAgo, openTestDb, trouble, troubledCustomer, type TestApp } from './helpers.ts';

const DAY = 86_400_000;
const inDays = (d: number) => new Date(Date.now() + d * DAY).toISOString();

let t: TestApp;
beforeAll(async () => {
  // Agents on, with no holdout, so a signal that got through would lead to a proposal.
  t = await createTestApp({ loop: { holdoutFraction: 0 } });
});
afterAll(async () => t.close());

const post = async (body: unknown) => {
  const res = await t.call('POST', '/api/v1/signals', { body, role: 'agent' });
  await t.bus.drain();
  return res;
};

describe('profile quality', () => {
  it('scores the account and its live contacts rule by rule, per dimension, naming each failing field', async () => {
    const accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Quality Co', customerId: 'QUAL-1', kind: 'person' } }))
      .body.id;
    const add = async (body: Record<string, unknown>) =>
      (await t.call('POST', '/api/v1/contacts', { body: { accountId, ...body } })).body.id as string;
    // Passes all six person rules.
    await add({ firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000' });
    // No last name; a phone the API accepts but not in international form; no email, so the email rule does not apply.
    const bob = await add({ firstName: 'Bob', phone: '(555) 010-2030' });
    // Legacy data written past the API: an email it would refuse, and no names.
    const legacy = await add({ email: 'legacy@example.com' });
    await t.db.query("UPDATE contacts SET email = 'not an email@' WHERE id = $1", [legacy]);
    // A deleted contact does not count.
    const gone = await add({ email: 'gone@example.com' });
    await t.db.query("UPDATE contacts SET email = 'broken' WHERE id = $1", [gone]);
    expect((await t.call('DELETE', `/api/v1/contacts/${gone}`)).status).toBe(204);

    const res = await t.call('GET', '/api/v1/customers/QUAL-1/quality', { role: 'analyst' });
    expect(res.status, res.text).toBe(200);
    // Account 3/3, Ada 6/6, Bob 3/5, legacy 1/4.
    expect(res.body).toMatchObject({
      accountId,
      customerId: 'QUAL-1',
      applicable: 18,
      passed: 13,
      score: 0.722,
      records: { accounts: 1, contacts: 3 },
    });
    expect(res.body.dimensions).toEqual({
      completeness: { applicable: 10, passed: 7, score: 0.7 },
      validity: { applicable: 5, passed: 4, score: 0.8 },
      format: { applicable: 3, passed: 2, score: 0.667 },
    });
    const failing = res.body.failing
      .map((f: { recordId: string; field: string; dimension: string }) => `${f.recordId} ${f.field} ${f.dimension}`)
      .sort();
    expect(failing).toEqual(
      [
        `${bob} lastName completeness`,
        `${bob} phone format`,
        `${legacy} email validity`,
        `${legacy} firstName completeness`,
        `${legacy} lastName completeness`,
      ].sort(),
    );
    expect(res.body.failing.find((f: { rule: string }) => f.rule === 'contacts.phone.format')).toMatchObject({
      entity: 'contacts',
      recordId: bob,
      description: expect.stringContaining('E.164'),
    });
    // The account id finds it too.
    expect((await t.call('GET', `/api/v1/customers/${accountId}/quality`)).body.score).toBe(0.722);
  });

  it('a profile created from a bare signal fails on its placeholder name and a customer id the API would refuse', async () => {
    const res = await post({ type: 'usage', subject: { customerId: 'ACME 42/x' }, data: { quantity: 1 } });
    expect(res.status).toBe(202);
    const quality = await t.call('GET', `/api/v1/customers/${res.body.accepted[0].accountId}/quality`);
    expect(quality.body).toMatchObject({
      customerId: 'ACME 42/x',
      applicable: 3,
      passed: 1,
      score: 0.333,
      records: { accounts: 1, contacts: 0 },
    });
    expect(quality.body.failing.map((f: { rule: string }) => f.rule).sort()).toEqual([
      'accounts.customerId.format',
      'accounts.name.validity',
    ]);
    expect(quality.body.failing.find((f: { field: string }) => f.field === 'name').description).toContain('Unidentified customer');
  });

  it('an unknown customer is a 404, and an agent may not read quality', async () => {
    expect((await t.call('GET', '/api/v1/customers/NOPE-1/quality')).status).toBe(404);
    expect((await t.call('GET', '/api/v1/customers/QUAL-1/quality', { role: 'agent' })).status).toBe(403);
  });
});

describe('source quality', () => {
  it('counts per declared source the signals accepted and quarantined, and scores the leads each source brought', async () => {
    const form = (email: string | undefined, data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
      type: 'lead_form',
      source: 'webform',
      subject: email ? { email } : extra,
      data,
    });
    const res = await post([
      form('ann@webform.example', { firstName: 'Ann', lastName: 'Lee', email: 'ann@webform.example' }),
      form('ben@webform.example', { firstName: 'Ben' }),
      form(undefined, { firstName: 'Cy' }, { phone: '+1 555 010 9999' }),
      form('dee@webform.example', { email: 'not-an-email' }),
      { type: 'usage', source: 'crm-sync', subject: { customerId: 'QUAL-1' }, data: { quantity: 2 } },
      { type: 'usage', source: 'crm-sync', subject: { customerId: 'QUAL-1' }, data: { quantity: 3 } },
      { type: 'usage', source: 'crm-sync', occurredAt: inDays(3), subject: { customerId: 'QUAL-1' }, data: { quantity: 4 } },
    ]);
    expect(res.status).toBe(207);
    expect(res.body.counts).toEqual({ accepted: 5, duplicates: 0, rejected: 2 });
    // A record refused by the record API is no signal: it stays out of the signal sources.
    expect((await t.call('POST', '/api/v1/contacts', { body: { email: 'nope' } })).status).toBe(400);

    const sources = await t.call('GET', '/api/v1/quality/sources', { role: 'reviewer' });
    expect(sources.status).toBe(200);
    const bySource = Object.fromEntries(sources.body.data.map((s: { source: string }) => [s.source, s]));
    expect(bySource.webform.signals).toEqual({ accepted: 3, quarantined: 1, score: 0.75 });
    expect(bySource['crm-sync']).toEqual({ source: 'crm-sync', signals: { accepted: 2, quarantined: 1, score: 0.667 }, leads: null });
    // Ann 4/4; Ben has no last name 3/4; Cy has no last name, an international phone 4/5.
    expect(bySource.webform.leads).toEqual({
      records: 3,
      applicable: 13,
      passed: 11,
      score: 0.846,
      failing: { 'leads.lastName.completeness': 2 },
    });
    expect(Object.keys(bySource).some((s) => s.startsWith('records:'))).toBe(false);
    // Sorted by source.
    const names = sources.body.data.map((s: { source: string }) => s.source);
    expect(names).toEqual([...names].sort((a: string, b: string) => a.localeCompare(b)));
  });
});

describe('quality gates at intake', () => {
  it('a signal dated too far ahead or too long ago is quarantined naming occurredAt, and never reaches features or agents', async () => {
    const accountId = await troubledCustomer(t, 'GATE-1');
    const ahead = trouble('GATE-1', 1).map((s) => ({ ...s, occurredAt: inDays(3.5) }));
    const old = trouble('GATE-1', 2).map((s) => ({ ...s, occurredAt: '1970-01-21T04:00:00Z' }));
    const res = await post([...ahead, ...old]);
    expect(res.status).toBe(400);
    expect(res.body.counts).toEqual({ accepted: 0, duplicates: 0, rejected: 10 });
    for (const r of res.body.rejected) expect(r.issues.map((i: { path: string }) => i.path)).toEqual(['occurredAt']);
    expect(res.body.rejected[0].issues[0].message).toMatch(
      /^is 3 days ahead of the server clock .*; at most 86400 seconds ahead is accepted$/,
    );
    expect(res.body.rejected[9].issues[0].message).toMatch(/before the server clock .*; signals older than 3650 days are refused$/);
    const kept = await t.call('GET', `/api/v1/quarantine/${res.body.rejected[0].quarantineId}`);
    expect(kept.body).toMatchObject({ reason: 'failed quality gate', status: 'open' });

    const ids = [...ahead, ...old].map((s) => s.id);
    expect(await t.db.query('SELECT id FROM signals WHERE id = ANY($1::text[])', [ids])).toEqual([]);
    expect(await t.db.query('SELECT 1 FROM customer_features WHERE account_id = $1', [accountId])).toEqual([]);
    expect(await t.db.query('SELECT 1 FROM proposals WHERE account_id = $1', [accountId])).toEqual([]);

    // The same signals dated now get through and the agents act: the gate is what kept them out.
    const fine = await post(trouble('GATE-1', 3));
    expect(fine.status).toBe(202);
    expect((await t.db.query('SELECT 1 FROM proposals WHERE account_id = $1', [accountId])).length).toBeGreaterThan(0);
  });

  it('a gated signal stays quarantined when resubmitted as it was, and is taken once its date is corrected', async () => {
    const signal = { id: 'gate-resubmit-1', type: 'nps', occurredAt: inDays(2), subject: { customerId: 'QUAL-1' }, data: { score: 6 } };
    const res = await post(signal);
    expect(res.status).toBe(400);
    const again = await t.call('POST', `/api/v1/quarantine/${res.body.quarantineId}/resubmit`, { role: 'reviewer' });
    expect(again.status).toBe(400);
    expect(again.body.issues[0].path).toBe('occurredAt');
    const fixed = await t.call('POST', `/api/v1/quarantine/${res.body.quarantineId}/resubmit`, {
      role: 'reviewer',
      body: { signal: { ...signal, occurredAt: daysAgo(0.5) } },
    });
    expect(fixed.status, fixed.text).toBe(202);
    expect(await t.db.query("SELECT id FROM signals WHERE id = 'gate-resubmit-1'")).toHaveLength(1);
  });

  it('contract and gate problems are reported together', async () => {
    const res = await post({ type: 'nps', occurredAt: inDays(5), subject: { customerId: 'QUAL-1' }, data: { score: 12 } });
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['data.score', 'occurredAt']);
    expect((await t.call('GET', `/api/v1/quarantine/${res.body.quarantineId}`)).body.reason).toBe('failed validation');
  });

  it('the bounds come from the configuration', async () => {
    expect(loadConfig({}).signalGates).toEqual({ maxFutureSeconds: 86_400, maxAgeDays: 3650 });
    expect(loadConfig({ ACS_SIGNAL_MAX_FUTURE_SECONDS: '60', ACS_SIGNAL_MAX_AGE_DAYS: '30' }).signalGates).toEqual({
      maxFutureSeconds: 60,
      maxAgeDays: 30,
    });
    expect(() => loadConfig({ ACS_SIGNAL_MAX_AGE_DAYS: '0' })).toThrow(ConfigError);
    expect(() => loadConfig({ ACS_SIGNAL_MAX_FUTURE_SECONDS: 'soon' })).toThrow(/ACS_SIGNAL_MAX_FUTURE_SECONDS/);

    const db = await openTestDb();
    let services: Services | undefined;
    try {
      services = createServices(
        db,
        { maxBodyBytes: 1 << 20, signalGates: { maxFutureSeconds: 60, maxAgeDays: 30 } },
        pino({ level: 'silent' }),
      );
      const token = (await createToken(db, { role: 'agent', name: 'gates' }, 'test')).token;
      const send = (occurredAt: string) =>
        services!.app.request('/api/v1/signals', {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'usage', occurredAt, subject: { customerId: 'CONF-1' }, data: { quantity: 1 } }),
        });
      const ahead = await send(new Date(Date.now() + 120_000).toISOString());
      expect(ahead.status).toBe(400);
      expect(JSON.stringify(await ahead.json())).toContain('at most 60 seconds ahead');
      const old = await send(daysAgo(40));
      expect(old.status).toBe(400);
      expect(JSON.stringify(await old.json())).toContain('older than 30 days');
      expect((await send(daysAgo(20))).status).toBe(202);
    } finally {
      await services?.bus.stop();
      await db.close();
    }
  });
});

describe('feature lineage', () => {
  const at = (days: number, minutes = 0) => new Date(Date.now() - days * DAY - minutes * 60_000).toISOString();
  const s = (id: string, type: string, occurredAt: string, data: Record<string, unknown>) => ({
    id,
    type,
    occurredAt,
    subject: { customerId: 'LIN-1' },
    data,
  });
  type Row = {
    feature: string;
    value: number | string | null;
    aggregate: string;
    window: { from: string; to: string } | null;
    signals?: { count: number; ids: string[]; truncated: boolean; metricSum?: number };
    cases?: { count: number; ids: string[] };
    derivedFrom?: string[];
  };
  const byFeature = (data: Row[]) => Object.fromEntries(data.map((r) => [r.feature, r]));

  beforeAll(async () => {
    await t.call('POST', '/api/v1/accounts', { body: { name: 'Lineage Co', customerId: 'LIN-1', kind: 'person' } });
    const res = await post([
      s('lin-u1', 'usage', at(1, 10), { quantity: 5 }),
      s('lin-u2', 'usage', at(2), { quantity: 7 }),
      s('lin-u10', 'usage', at(10), { quantity: 11 }),
      s('lin-u40', 'usage', at(40), { quantity: 100 }),
      s('lin-t1', 'support_ticket', at(1, 20), { text: 'Broken again, terrible.' }),
      s('lin-t2', 'support_ticket', at(2, 20), { text: 'Thanks, great help, all good now.' }),
      s('lin-t3', 'support_ticket', at(3), { text: 'Still slow.' }),
      s('lin-nps5', 'nps', at(5), { score: 3 }),
      s('lin-nps2', 'nps', at(2, 30), { score: 8 }),
      s('lin-pf29', 'payment_failed', at(29), { amount: 10, currency: 'USD' }),
      s('lin-pf31', 'payment_failed', at(31), { amount: 10, currency: 'USD' }),
      s('lin-e-open', 'email_engagement', at(1, 30), { event: 'opened' }),
      s('lin-e-deliv', 'email_engagement', at(1, 40), { event: 'delivered' }),
      s('lin-c50', 'outcome', at(50), { kind: 'complaint' }),
      s('lin-newest', 'web_visit', at(0, 5), { url: 'https://example.com/cancel' }),
    ]);
    expect(res.status, res.text).toBe(202);
  });

  it('lists for every feature its window and the signals that produced it, consistent with the value', async () => {
    const res = await t.call('GET', '/api/v1/customers/LIN-1/features/lineage', { role: 'analyst' });
    expect(res.status, res.text).toBe(200);
    const profile = await t.call('GET', '/api/v1/customers/LIN-1/profile');
    // By default as of the stored features, so it explains what the agents saw.
    expect(res.body.asOf).toBe(profile.body.features.asOf);
    const f = byFeature(res.body.data);
    expect(Object.keys(f).sort()).toEqual(Object.keys(profile.body.features.values).sort());
    for (const [name, row] of Object.entries(f)) expect(row.value, name).toEqual(profile.body.features.values[name]);

    expect(f.usage7d).toMatchObject({
      value: 12,
      aggregate: 'sum',
      signals: { count: 2, ids: ['lin-u1', 'lin-u2'], truncated: false, metricSum: 12 },
    });
    expect(f.usage7d!.window).toEqual({ from: new Date(Date.parse(res.body.asOf) - 7 * DAY).toISOString(), to: res.body.asOf });
    expect(f.usagePrior28d).toMatchObject({ value: 11, signals: { count: 1, ids: ['lin-u10'], metricSum: 11 } });
    expect(f.usagePrior28d!.window!.to).toBe(new Date(Date.parse(res.body.asOf) - 7 * DAY).toISOString());
    expect(f.tickets30d).toMatchObject({ value: 3, aggregate: 'count', signals: { count: 3, ids: ['lin-t1', 'lin-t2', 'lin-t3'] } });
    expect(f.ticketSentiment30d!.signals!.count).toBe(3);
    expect(f.ticketSentiment30d!.value).toBeCloseTo(f.ticketSentiment30d!.signals!.metricSum! / 3, 3);
    expect(f.paymentFailures30d).toMatchObject({ value: 1, signals: { count: 1, ids: ['lin-pf29'] } });
    expect(f.emailEngagements30d).toMatchObject({ value: 1, signals: { count: 1, ids: ['lin-e-open'] } });
    expect(f.lastNps).toMatchObject({ value: 8, aggregate: 'last', signals: { count: 1, ids: ['lin-nps2'] } });
    expect(f.complaints90d).toMatchObject({ value: 1, signals: { count: 1, ids: ['lin-c50'] } });
    expect(f.billingDisputes90d).toMatchObject({ value: 0, signals: { count: 0, ids: [] } });
    expect(f.lastSignalAt).toMatchObject({ aggregate: 'newest', signals: { count: 1, ids: ['lin-newest'] } });
    const newest = await t.call('GET', '/api/v1/signals/lin-newest');
    expect(f.lastSignalAt!.value).toBe(newest.body.occurredAt);
    expect(f.usageTrend).toMatchObject({ aggregate: 'ratio', window: null, derivedFrom: ['usage7d', 'usagePrior28d'] });
    // Each ticket opened a case.
    expect(f.openCases).toMatchObject({ value: 3, aggregate: 'current', window: null, cases: { count: 3 } });
    expect(f.openCases!.cases!.ids).toHaveLength(3);

    // Whatever the feature: a count is the number of its signals, a sum the sum of their metrics.
    for (const row of Object.values(f)) {
      if (row.aggregate === 'count') expect(row.signals!.count, row.feature).toBe(row.value);
      if (row.aggregate === 'sum') expect(row.signals!.metricSum, row.feature).toBe(row.value);
    }
  });

  it('bounds the ids it lists, keeping the count, and takes another asOf', async () => {
    const limited = byFeature((await t.call('GET', '/api/v1/customers/LIN-1/features/lineage?limit=2')).body.data);
    expect(limited.tickets30d!.signals).toEqual({ count: 3, ids: ['lin-t1', 'lin-t2'], truncated: true });
    expect(limited.tickets30d!.value).toBe(3);

    // Twenty days ago: the 40-day-old usage was in the prior window, nothing in the last week, one payment failure.
    const asOf = new Date(Date.now() - 20 * DAY).toISOString();
    const earlier = await t.call('GET', `/api/v1/customers/LIN-1/features/lineage?asOf=${encodeURIComponent(asOf)}`);
    expect(earlier.body.asOf).toBe(asOf);
    const e = byFeature(earlier.body.data);
    expect(e.usage7d).toMatchObject({ value: 0, signals: { count: 0, ids: [], metricSum: 0 } });
    expect(e.usagePrior28d).toMatchObject({ value: 100, signals: { count: 1, ids: ['lin-u40'], metricSum: 100 } });
    expect(e.paymentFailures30d).toMatchObject({ value: 2, signals: { count: 2, ids: ['lin-pf29', 'lin-pf31'] } });
    expect(e.lastNps).toMatchObject({ value: null, signals: { count: 0, ids: [] } });

    expect((await t.call('GET', '/api/v1/customers/LIN-1/features/lineage?limit=0')).status).toBe(400);
    expect((await t.call('GET', '/api/v1/customers/NOPE-1/features/lineage')).status).toBe(404);
  });
});
