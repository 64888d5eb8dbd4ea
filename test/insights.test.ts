import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PolicyGate } from '../src/assure/index.ts';
import { inHoldout, KPI_DEFINITIONS, leadHoldoutKey, powerReport, SLA_HOURS, upliftReport, wilsonInterval } from '../src/learn/index.ts';
import { importFirstCustomers, seedContactsAndConsents, WorldDriver, worldFromDatabase } from '../src/world/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));
const POLICIES = fileURLToPath(new URL('../policies/', import.meta.url));
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const AGENT_IDS = ['retention', 'service-recovery', 'lead-nurturing', 'data-stewardship'];
/** What each agent is measured by, written out here rather than read from the manifests. */
const MEASURES: Record<string, { outcome: string; better: 'lower' | 'higher' }> = {
  retention: { outcome: 'churned', better: 'lower' },
  'service-recovery': { outcome: 'complaint', better: 'lower' },
  'lead-nurturing': { outcome: 'converted', better: 'higher' },
};
const SIGNAL_TYPES = [
  'usage',
  'payment_failed',
  'billing_dispute',
  'support_ticket',
  'nps',
  'web_visit',
  'email_engagement',
  'lead_form',
  'outcome',
];

const midnight = (ms: number) => Math.floor(ms / DAY) * DAY;
const dayOf = (t: Date | string | number) => new Date(t).toISOString().slice(0, 10);
const ms = (t: Date | string) => new Date(t).getTime();

/** The holdout the test app draws (salt "test"): `n` subject keys on the wanted side of it. */
function pick(prefix: string, held: boolean, n: number, fraction: number, key: (s: string) => string = (s) => s): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < n; i++) if (inHoldout(key(`${prefix}${i}`), 'test', fraction) === held) out.push(`${prefix}${i}`);
  return out;
}

/** Linear interpolation between closest ranks (what percentile_cont does), written independently here. */
function percentile(sorted: number[], p: number): number {
  const rank = p * (sorted.length - 1);
  const lo = Math.floor(rank);
  return sorted[lo]! + (rank - lo) * (sorted[Math.min(lo + 1, sorted.length - 1)]! - sorted[lo]!);
}

const group = (customers: number, events: number) => ({
  customers,
  events,
  rate: customers ? events / customers : 0,
  ci95: wilsonInterval(events, customers),
});
type Counts = [customers: number, events: number];
type ActionCounts = { action: string; treated: Counts; holdout: Counts };
/** One comparison: both groups, the difference with its interval, and its power (the statistics are unit-tested in uplift.test.ts). */
function comparison(treated: Counts, holdout: Counts) {
  const t = { customers: treated[0], events: treated[1] };
  const h = { customers: holdout[0], events: holdout[1] };
  const r = upliftReport(t, h);
  return { treated: group(...treated), holdout: group(...holdout), difference: r.difference, ci95: r.ci95, power: powerReport(t, h) };
}
/** The uplift object: final counts, per action, and per day of the range the cumulative counts at that day's end. */
function expectedUplift(
  agentId: string,
  treated: Counts,
  holdout: Counts,
  series: { day: string; treated: Counts; holdout: Counts }[],
  byAction: ActionCounts[],
) {
  return {
    agentId,
    ...MEASURES[agentId]!,
    ...comparison(treated, holdout),
    byAction: byAction.map((a) => ({ action: a.action, ...comparison(a.treated, a.holdout) })),
    series: series.map((p) => ({ day: p.day, treated: group(...p.treated), holdout: group(...p.holdout) })),
  };
}

/** Everything happened today: nothing on the days before, all of it by today's end. */
const allToday = (days: string[], today: string, treated: Counts, holdout: Counts) =>
  days.map((day) => (day === today ? { day, treated, holdout } : { day, treated: [0, 0] as Counts, holdout: [0, 0] as Counts }));

describe('KPIs and agent stats from known inputs', () => {
  // Per action: the retention offers (the save calls lost arbitration), the proactive cases, and for the leads the email
  // (L1 got it, LH's was held out, L2's was denied by policy). L2's enrichment is worth nothing by its own terms
  // (EV 0), so it is suppressed as not worth it and L2 is not treated.
  const ACTIONS = {
    retention: [{ action: 'offer_credit', treated: [4, 1], holdout: [1, 1] }],
    'service-recovery': [{ action: 'create_case', treated: [2, 1], holdout: [1, 1] }],
    'lead-nurturing': [{ action: 'send_message', treated: [1, 1], holdout: [1, 0] }],
  } satisfies Record<string, ActionCounts[]>;
  // The server clock: 01:00 UTC today, moved forward as reviewers work, so everything falls on today.
  const c0 = midnight(Date.now()) + HOUR;
  let clockAt = c0;
  let t: TestApp;
  const today = dayOf(c0);

  const R = pick('KPI-R', false, 4, 0.5);
  const [RH] = pick('KPI-RH', true, 1, 0.5);
  const S = pick('KPI-S', false, 2, 0.5);
  const [SH] = pick('KPI-SH', true, 1, 0.5);
  const emailOf = (s: string) => `${s.toLowerCase()}@initech.example`;
  const leadKey = (s: string) => leadHoldoutKey({ id: '', email: emailOf(s) });
  const [L1, L2] = pick('kpi-l', false, 2, 0.5, leadKey);
  const [LH] = pick('kpi-lh', true, 1, 0.5, leadKey);
  const approvalOf: Record<string, string> = {};

  async function customer(customerId: string) {
    const acc = await t.call('POST', '/api/v1/accounts', { body: { name: customerId, customerId, kind: 'person' } });
    await t.call('POST', '/api/v1/subscriptions', {
      body: { accountId: acc.body.id, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3 },
    });
    const contact = await t.call('POST', '/api/v1/contacts', {
      body: { accountId: acc.body.id, email: `${customerId.toLowerCase()}@example.com` },
    });
    await t.call('POST', '/api/v1/consents', {
      body: {
        contactId: contact.body.id,
        channel: 'email',
        purpose: 'service',
        status: 'granted',
        source: 'signup',
        capturedAt: new Date(c0 - 100 * DAY).toISOString(),
      },
    });
  }
  const signals = async (body: unknown[]) => {
    const res = await t.call('POST', '/api/v1/signals', { role: 'agent', body });
    expect(res.status, res.text).toBe(202);
    await t.bus.drain();
  };
  const at = (when: number) => new Date(when).toISOString();

  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0.5 }, clock: { now: () => new Date(clockAt) } });
    // Retention: a low NPS from month-to-month customers. Four get a credit offer waiting for approval, one is held out.
    for (const id of [...R, RH!]) await customer(id);
    await signals(
      [...R, RH!].map((customerId) => ({ type: 'nps', occurredAt: at(c0 - HOUR), subject: { customerId }, data: { score: 2 } })),
    );
    const queue = (await t.call('GET', '/api/v1/approvals', { role: 'reviewer' })).body.data as {
      id: string;
      customer: { accountId: string };
    }[];
    const accounts = await t.db.query<{ id: string; customer_id: string }>('SELECT id, customer_id FROM accounts');
    for (const a of queue) approvalOf[accounts.find((x) => x.id === a.customer.accountId)!.customer_id] = a.id;
    expect(Object.keys(approvalOf).sort()).toEqual([...R].sort());

    // Reviewers: approve after 2 hours, approve with a smaller credit after 4, reject after 10; one stays pending.
    clockAt = c0 + 2 * HOUR;
    expect((await t.call('POST', `/api/v1/approvals/${approvalOf[R[0]!]}/approve`, { role: 'reviewer' })).status).toBe(200);
    clockAt = c0 + 4 * HOUR;
    const edited = await t.call('POST', `/api/v1/approvals/${approvalOf[R[1]!]}/approve`, {
      role: 'reviewer',
      body: { params: { amountCents: 1000, currency: 'USD', reason: 'smaller offer' } },
    });
    expect(edited.status, edited.text).toBe(200);
    clockAt = c0 + 10 * HOUR;
    expect(
      (await t.call('POST', `/api/v1/approvals/${approvalOf[R[2]!]}/reject`, { role: 'reviewer', body: { reason: 'not this month' } }))
        .status,
    ).toBe(204);

    // Service recovery (retention paused so it stays out): repeated trouble; two get a proactive case, one is held out.
    expect((await t.call('PATCH', '/api/v1/agents/retention', { body: { paused: true } })).status).toBe(200);
    for (const id of [...S, SH!]) await customer(id);
    await signals(
      [...S, SH!].flatMap((customerId) => [
        ...[1, 2].map((h) => ({
          type: 'payment_failed',
          occurredAt: at(clockAt - h * HOUR),
          subject: { customerId },
          data: { amount: 80, currency: 'USD' },
        })),
        ...[3, 4, 5].map((h) => ({
          type: 'support_ticket',
          occurredAt: at(clockAt - h * HOUR),
          subject: { customerId },
          data: { text: 'Broken again, terrible, I am furious and want to cancel.' },
        })),
      ]),
    );

    // Lead nurturing: a lead who ticked the sales-email box gets the email; one who did not has it denied by policy
    // (the enrichment runs instead); one is held out.
    const form = (s: string, consent: boolean) => ({
      type: 'lead_form',
      ...(consent ? { version: 2 } : {}),
      occurredAt: at(clockAt),
      subject: { email: emailOf(s) },
      data: {
        firstName: 'Ann',
        email: emailOf(s),
        formId: 'demo',
        ...(consent ? { consents: [{ channel: 'email', purpose: 'sales' }] } : {}),
      },
    });
    await signals([form(L1!, true), form(L2!, false), form(LH!, true)]);

    // Outcomes after the proposals: R0 and RH churn, S0 and SH complain, L1 converts. S1's complaint came before its proposal.
    clockAt = c0 + 11 * HOUR;
    const after = at(Math.max(Date.now(), clockAt) + 1000);
    const outcome = (subject: object, kind: string, occurredAt = after) => ({ type: 'outcome', occurredAt, subject, data: { kind } });
    await signals([
      outcome({ customerId: R[0] }, 'churned'),
      outcome({ customerId: RH }, 'churned'),
      outcome({ customerId: S[0] }, 'complaint'),
      outcome({ customerId: SH }, 'complaint'),
      outcome({ customerId: S[1] }, 'complaint', at(c0 - 2 * HOUR)),
      outcome({ email: emailOf(L1!) }, 'converted'),
    ]);
  });
  afterAll(async () => t.close());

  it('GET /api/v1/kpis: decisions, signals, approval latency, denials and uplift per day', async () => {
    const res = await t.call('GET', '/api/v1/kpis?days=7', { role: 'analyst' });
    expect(res.status).toBe(200);
    const k = res.body;
    expect(k.now).toBe(at(c0 + 11 * HOUR));
    expect(k.from).toBe(at(midnight(c0) - 6 * DAY));
    expect(k.days).toEqual(Array.from({ length: 7 }, (_, i) => dayOf(midnight(c0) - (6 - i) * DAY)));
    expect(k.days[6]).toBe(today);

    // Executed: two proactive cases and the consented lead's email. Approval: the four credit offers. Denied: the email
    // to the lead without consent. Held out: one of each agent. Suppressed: lost arbitration, or not worth it.
    const suppressed = (await t.db.query<{ n: number }>("SELECT count(*)::int AS n FROM proposals WHERE status = 'suppressed'"))[0]!.n;
    expect(suppressed).toBeGreaterThanOrEqual(5);
    const zero = { execute: 0, approval: 0, deny: 0, heldOut: 0, suppressed: 0 };
    expect(k.decisionsByOutcome).toEqual(
      k.days.map((day: string) => ({ day, ...(day === today ? { execute: 3, approval: 4, deny: 1, heldOut: 3, suppressed } : zero) })),
    );

    const noSignals = Object.fromEntries(SIGNAL_TYPES.map((s) => [s, 0]));
    const todaysSignals = { ...noSignals, nps: 5, payment_failed: 6, support_ticket: 9, lead_form: 3, outcome: 6 };
    expect(k.signalVolume).toEqual(
      k.days.map((day: string) => (day === today ? { day, total: 29, byType: todaysSignals } : { day, total: 0, byType: noSignals })),
    );

    // Latencies 2, 4 and 10 hours: median 4, 90th percentile 4 + 0.8 × 6 = 8.8. The expired and pending ones do not count.
    expect(k.approvalLatency).toEqual(
      k.days.map((day: string) =>
        day === today ? { day, decided: 3, medianHours: 4, p90Hours: 8.8 } : { day, decided: 0, medianHours: null, p90Hours: null },
      ),
    );
    expect(k.approvalsPending).toBe(1);

    expect(k.denialsByPolicy).toEqual([
      { policyId: 'outreach-requires-consent', reason: 'outreach needs an effective consent for its channel and purpose', count: 1 },
    ]);

    // Treated: retention 4 customers (1 churned), service recovery 2 (1 complaint after its case), lead nurturing
    // 1 lead (L1, converted; L2 got nothing that ran). Held out: 1 each, of whom the retention and service customers had the event.
    expect(k.uplift).toEqual([
      expectedUplift('retention', [4, 1], [1, 1], allToday(k.days, today, [4, 1], [1, 1]), ACTIONS.retention),
      expectedUplift('service-recovery', [2, 1], [1, 1], allToday(k.days, today, [2, 1], [1, 1]), ACTIONS['service-recovery']),
      expectedUplift('lead-nurturing', [1, 1], [1, 0], allToday(k.days, today, [1, 1], [1, 0]), ACTIONS['lead-nurturing']),
    ]);
    expect(k.uplift[0]).toMatchObject({ treated: { rate: 0.25 }, holdout: { rate: 1 }, difference: -0.75 });
    expect(k.uplift[2]).toMatchObject({ better: 'higher', treated: { rate: 1 }, holdout: { rate: 0 }, difference: 1 });
  });

  it('GET /api/v1/kpis: operational, business and AI-quality KPIs, each with its definition and unit', async () => {
    const m = (await t.call('GET', '/api/v1/kpis?days=7', { role: 'analyst' })).body.metrics;
    for (const section of ['operational', 'business', 'aiQuality'] as const) {
      for (const [key, value] of Object.entries(
        m[section] as Record<string, { definition: string; unit: string; section: string; label: string }>,
      )) {
        const def = KPI_DEFINITIONS[key as keyof typeof KPI_DEFINITIONS];
        expect(value, key).toMatchObject({ section, label: def.label, unit: def.unit, definition: def.definition });
        expect(def.definition.length, key).toBeGreaterThan(40);
      }
    }
    const executions = (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM executions'))[0]!.n;
    expect(executions).toBeGreaterThanOrEqual(5);

    // Nine ticket cases (normal, 72 h) and two proactive ones (high, 24 h) are open and none is past its deadline.
    expect(m.operational.handleTime).toMatchObject({
      value: null,
      reason: 'no case was closed in the range',
      detail: { closed: 0, meanHours: null, p90Hours: null },
    });
    expect(m.operational.firstContactResolution).toMatchObject({ value: null, numerator: 0, denominator: 0 });
    expect(m.operational.slaCompliance).toMatchObject({
      value: null,
      reason: 'no case opened in the range is closed or past its deadline yet',
      detail: {
        slaHours: SLA_HOURS,
        byPriority: { high: { targetHours: 24, due: 0, met: 0 }, normal: { targetHours: 72, due: 0, met: 0 } },
      },
    });
    // Nine tickets, none resolved.
    expect(m.operational.deflection).toMatchObject({ value: 0, numerator: 0, denominator: 9, reason: null, detail: { resolved: 0 } });

    // Eight customers with an $80 subscription; R0 and RH churned; three leads arrived, L1 converted.
    const monthly = 1 - 0.75 ** (30 / 7);
    expect(m.business.churn).toMatchObject({ value: 0.25, numerator: 2, denominator: 8, detail: { monthlyRate: monthly } });
    expect(m.business.renewal).toMatchObject({ value: 0, numerator: 0, denominator: 2 });
    expect(m.business.conversion).toMatchObject({ value: 1 / 3, numerator: 1, denominator: 3 });
    expect(m.business.clv.value).toBeCloseTo(80 / monthly, 2);
    expect(m.business.clv).toMatchObject({ unit: 'USD', detail: { averageMonthlyRevenue: 80, customersWithRevenue: 8 } });

    // Eight decisions, one denied; three approvals decided by a person after 2, 4 and 10 hours: one approved, one
    // approved with a smaller credit, one rejected. Nothing ran that failed.
    expect(m.aiQuality.policyViolationRate).toMatchObject({ value: 1 / 8, numerator: 1, denominator: 8 });
    expect(m.aiQuality.overrideRate).toMatchObject({
      value: 2 / 3,
      numerator: 2,
      denominator: 3,
      detail: { approved: 1, approvedWithEdits: 1, rejected: 1 },
    });
    expect(m.aiQuality.approvalLatency).toMatchObject({ value: 4, unit: 'hours', detail: { decided: 3, p90Hours: 8.8, expired: 0 } });
    expect(m.aiQuality.escalationPrecision).toMatchObject({ value: 2 / 3, numerator: 2, denominator: 3 });
    expect(m.aiQuality.toolCallFailureRate).toMatchObject({
      value: 0,
      numerator: 0,
      denominator: executions,
      detail: { compensated: 0, refused: 0, failedDelivery: 0 },
    });
  });

  it('uplift per action comes with its power: the MDE for these group sizes and the power the observed difference had', async () => {
    const k = (await t.call('GET', '/api/v1/kpis?days=7')).body;
    // Retention: 1 of 4 treated churned against 1 of 1 held out. The holdout's rate is 1, so the base rate is the
    // pooled 2/5: MDE = (1.959964 + 0.841621) × √(0.4 × 0.6 × (1/4 + 1/1)).
    const retention = k.uplift[0].power;
    const mde = (1.959963984540054 + 0.8416212335729143) * Math.sqrt(0.4 * 0.6 * 1.25);
    expect(retention.baseRate).toBeCloseTo(0.4, 12);
    expect(retention.mde).toBeCloseTo(mde, 9);
    expect(retention.mde).toBeGreaterThan(1); // four against one can detect nothing
    expect(k.uplift[0].byAction[0].power).toEqual(retention);
    // Lead nurturing's enrichment never ran (not worth it), so only its email has an uplift.
    expect(k.uplift[2].byAction.map((a: { action: string }) => a.action)).toEqual(['send_message']);
  });

  it('GET /api/v1/agents/stats: per-agent counts, approvals, precision, override rate and uplift', async () => {
    const res = await t.call('GET', '/api/v1/agents/stats?days=7', { role: 'reviewer' });
    expect(res.status).toBe(200);
    const week = Array.from({ length: 7 }, (_, i) => dayOf(c0 - (6 - i) * DAY));
    const stats = Object.fromEntries((res.body.data as { agentId: string }[]).map((s) => [s.agentId, s]));
    expect(res.body.data.map((s: { agentId: string }) => s.agentId)).toEqual(AGENT_IDS);
    const count = async (agent: string, status: string) =>
      (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM proposals WHERE agent_id = $1 AND status = $2', [agent, status]))[0]!
        .n;

    // Retention: each of five customers got an offer and a save call; the call lost to the offer (suppressed), the
    // held-out customer's offer was held out. Of the four offers: two ran, one was rejected, one waits.
    expect(stats.retention).toEqual({
      agentId: 'retention',
      proposals: 10,
      suppressed: 5,
      heldOut: 1,
      decided: 4,
      executed: 2,
      denied: 0,
      approvals: { pending: 1, approved: 1, approvedWithEdits: 1, rejected: 1, expired: 0 },
      precision: 2 / 3,
      overrideRate: 2 / 3,
      uplift: expectedUplift('retention', [4, 1], [1, 1], allToday(week, today, [4, 1], [1, 1]), ACTIONS.retention),
    });
    const noApprovals = { pending: 0, approved: 0, approvedWithEdits: 0, rejected: 0, expired: 0 };
    const srSuppressed = await count('service-recovery', 'suppressed');
    expect(stats['service-recovery']).toEqual({
      agentId: 'service-recovery',
      proposals: 3 + srSuppressed,
      suppressed: srSuppressed,
      heldOut: 1,
      decided: 2,
      executed: 2,
      denied: 0,
      approvals: noApprovals,
      precision: 1,
      overrideRate: null,
      uplift: expectedUplift('service-recovery', [2, 1], [1, 1], allToday(week, today, [2, 1], [1, 1]), ACTIONS['service-recovery']),
    });
    const lnSuppressed = await count('lead-nurturing', 'suppressed');
    expect(stats['lead-nurturing']).toEqual({
      agentId: 'lead-nurturing',
      proposals: 3 + lnSuppressed,
      suppressed: lnSuppressed,
      heldOut: 1,
      decided: 2,
      executed: 1,
      denied: 1,
      // Precision leaves out the email policy denied for want of consent: both proposals with a verdict ran.
      approvals: noApprovals,
      precision: 1,
      overrideRate: null,
      uplift: expectedUplift('lead-nurturing', [1, 1], [1, 0], allToday(week, today, [1, 1], [1, 0]), ACTIONS['lead-nurturing']),
    });
    expect(stats['data-stewardship']).toEqual({
      agentId: 'data-stewardship',
      proposals: 0,
      suppressed: 0,
      heldOut: 0,
      decided: 0,
      executed: 0,
      denied: 0,
      approvals: noApprovals,
      precision: null,
      overrideRate: null,
      uplift: null,
    });
  });

  it('names a bad days parameter; analysts and reviewers may read, agents may not', async () => {
    for (const path of ['/api/v1/kpis', '/api/v1/agents/stats']) {
      for (const q of ['days=0', 'days=366', 'days=seven', 'days=1.5']) {
        const res = await t.call('GET', `${path}?${q}`);
        expect(res.status, `${path}?${q}`).toBe(400);
        expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['query.days']);
      }
      expect((await t.call('GET', `${path}?day=3`)).body.issues[0].path).toBe('query.day');
      expect((await t.call('GET', path, { role: 'agent' })).status).toBe(403);
    }
    // Defaults to 30 days; a one-day range holds only today.
    const k = (await t.call('GET', '/api/v1/kpis')).body;
    expect(k.days).toHaveLength(30);
    const one = (await t.call('GET', '/api/v1/kpis?days=1')).body;
    expect(one.days).toEqual([today]);
    expect(one.approvalLatency).toEqual([{ day: today, decided: 3, medianHours: 4, p90Hours: 8.8 }]);
  });
});

describe('denials nothing permitted', () => {
  let t: TestApp;
  let dir: string;
  beforeAll(async () => {
    // The shipped policies without the one that lets low-risk service actions run: a proactive case is then
    // denied by Cedar's default (no permit), with no policy id.
    dir = mkdtempSync(join(tmpdir(), 'acs-policies-'));
    writeFileSync(join(dir, 'schema.cedarschema'), readFileSync(join(POLICIES, 'schema.cedarschema')));
    const shipped = readFileSync(join(POLICIES, 'default.cedar'), 'utf8');
    const start = shipped.indexOf('@id("low-risk-service-l3")');
    const end = shipped.indexOf('@id(', start + 1);
    expect(start).toBeGreaterThan(0);
    writeFileSync(join(dir, 'default.cedar'), shipped.slice(0, start) + shipped.slice(end));
    t = await createTestApp({ loop: { holdoutFraction: 0 }, gate: PolicyGate.load(dir) });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts a denial without a policy id as "(default deny)", with the reason the gate gave', async () => {
    const acc = await t.call('POST', '/api/v1/accounts', { body: { name: 'Denied Co', customerId: 'DENY-1', kind: 'person' } });
    await t.call('POST', '/api/v1/subscriptions', {
      body: { accountId: acc.body.id, contract: 'month-to-month', monthlyAmount: 80, tenureMonths: 3 },
    });
    const now = Date.now();
    const res = await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      // Tickets only: service recovery's case is the best draft (payment failures would give retention's credit the slot).
      body: [
        ...[3, 4, 5].map((h) => ({
          type: 'support_ticket',
          occurredAt: new Date(now - h * HOUR).toISOString(),
          subject: { customerId: 'DENY-1' },
          data: { text: 'Broken again, terrible, I am furious and want to cancel.' },
        })),
      ],
    });
    expect(res.status).toBe(202);
    await t.bus.drain();
    const denied = await t.db.query<{ policy_ids: string[]; reasons: string[]; action: string }>(
      "SELECT d.policy_ids, d.reasons, p.action FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE d.outcome = 'deny'",
    );
    const byDefault = denied.filter((d) => d.policy_ids.length === 0);
    expect(byDefault.map((d) => d.action)).toContain('create_case');
    // Counted independently: each denial once per policy id, the default ones under "(default deny)".
    const expected = new Map<string, { policyId: string; reason: string; count: number }>();
    for (const d of denied) {
      const pairs = d.policy_ids.length
        ? d.policy_ids.map((id, i) => [id, d.reasons.length === d.policy_ids.length ? d.reasons[i]! : d.reasons[0]!])
        : [['(default deny)', d.reasons[0]!]];
      for (const [policyId, reason] of pairs) {
        const e = expected.get(`${policyId}\n${reason}`) ?? { policyId: policyId!, reason: reason!, count: 0 };
        e.count++;
        expected.set(`${policyId}\n${reason}`, e);
      }
    }
    const kpis = (await t.call('GET', '/api/v1/kpis?days=2')).body;
    const sort = (xs: { policyId: string; reason: string; count: number }[]) =>
      [...xs].sort((a, b) => b.count - a.count || a.policyId.localeCompare(b.policyId) || a.reason.localeCompare(b.reason));
    expect(kpis.denialsByPolicy).toEqual(sort([...expected.values()]));
    expect(kpis.denialsByPolicy).toContainEqual({
      policyId: '(default deny)',
      reason: 'no policy permits create_case here (default deny)',
      count: 1,
    });
  });
});

describe('KPIs over days of the simulated world', () => {
  // The world's eight days end yesterday; the server clock reads now.
  const now = Date.now();
  const start = midnight(now) - 8 * DAY;
  let t: TestApp;

  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0.2 }, clock: { now: () => new Date(now) } });
    await importFirstCustomers(t.db, TELCO, 300, 'test');
    await seedContactsAndConsents(t.db, 7);
    const driver = await WorldDriver.create({
      db: t.db,
      bus: t.bus,
      gate: t.gate,
      plays: t.plays,
      world: await worldFromDatabase(t.db, 7),
      start: new Date(start).toISOString(),
      reviewer: 'sim',
    });
    for (let d = 0; d < 8; d++) await driver.runDay(d);
    await t.bus.drain();
    // Left for a person: approvals the simulated reviewer never saw, so some stay pending.
    await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: { type: 'nps', subject: { customerId: 'CUST-000001' }, data: { score: 1 } },
    });
    await t.bus.drain();
  }, 120_000);
  afterAll(async () => t.close());

  /** Every series recomputed in plain code from the rows the loop recorded. */
  async function recompute(days: number) {
    const from = midnight(now) - (days - 1) * DAY;
    const to = midnight(now) + DAY;
    const inRange = (x: Date | string) => ms(x) >= from && ms(x) < to;
    const dayList = Array.from({ length: days }, (_, i) => dayOf(from + i * DAY));
    const proposals = await t.db.query<{
      id: string;
      agent_id: string;
      action: string;
      account_id: string | null;
      lead_id: string | null;
      status: string;
      created_at: Date;
    }>('SELECT * FROM proposals');
    const decisions = await t.db.query<{
      id: string;
      proposal_id: string;
      outcome: string;
      policy_ids: string[];
      reasons: string[];
      decided_at: Date;
    }>('SELECT * FROM decisions');
    const approvals = await t.db.query<{ decision_id: string; status: string; edited_params: unknown; decided_at: Date | null }>(
      'SELECT * FROM approvals',
    );
    const executions = await t.db.query<{ decision_id: string }>('SELECT decision_id FROM executions');
    const signals = await t.db.query<{
      type: string;
      account_id: string | null;
      lead_id: string | null;
      occurred_at: Date;
      received_at: Date;
      data: { kind?: string };
    }>('SELECT * FROM signals');
    const decisionOf = new Map(decisions.map((d) => [d.proposal_id, d]));
    const approvalOf = new Map(approvals.map((a) => [a.decision_id, a]));
    const ran = new Set(executions.map((e) => e.decision_id));

    const decisionsByOutcome = dayList.map((day) => ({
      day,
      execute: decisions.filter((d) => inRange(d.decided_at) && dayOf(d.decided_at) === day && d.outcome === 'execute').length,
      approval: decisions.filter((d) => inRange(d.decided_at) && dayOf(d.decided_at) === day && d.outcome === 'approval').length,
      deny: decisions.filter((d) => inRange(d.decided_at) && dayOf(d.decided_at) === day && d.outcome === 'deny').length,
      heldOut: proposals.filter((p) => inRange(p.created_at) && dayOf(p.created_at) === day && p.status === 'held_out').length,
      suppressed: proposals.filter((p) => inRange(p.created_at) && dayOf(p.created_at) === day && p.status === 'suppressed').length,
    }));
    const signalVolume = dayList.map((day) => {
      const that = signals.filter((s) => inRange(s.received_at) && dayOf(s.received_at) === day);
      return {
        day,
        total: that.length,
        byType: Object.fromEntries(SIGNAL_TYPES.map((type) => [type, that.filter((s) => s.type === type).length])),
      };
    });
    const decidedAt = new Map(decisions.map((d) => [d.id, ms(d.decided_at)]));
    const approvalLatency = dayList.map((day) => {
      const hours = approvals
        .filter((a) => ['approved', 'rejected'].includes(a.status) && inRange(a.decided_at!) && dayOf(a.decided_at!) === day)
        .map((a) => (ms(a.decided_at!) - decidedAt.get(a.decision_id)!) / HOUR)
        .sort((a, b) => a - b);
      return {
        day,
        decided: hours.length,
        medianHours: hours.length ? percentile(hours, 0.5) : null,
        p90Hours: hours.length ? percentile(hours, 0.9) : null,
      };
    });

    const uplift = Object.keys(MEASURES).map((agentId) => {
      /** Each customer's first counted proposal of the agent (of one action, when `action` is given). */
      const firstsOf = (action?: string) => {
        const firsts = new Map<string, { held: boolean; account: string | null; lead: string | null; first: number }>();
        for (const p of proposals) {
          const d = decisionOf.get(p.id);
          if (p.agent_id !== agentId || !inRange(p.created_at) || (action && p.action !== action)) continue;
          if (!(p.status === 'held_out' || (p.status === 'decided' && d && d.outcome !== 'deny'))) continue;
          const key = `${p.status === 'held_out'}|${p.account_id}|${p.lead_id}`;
          const seen = firsts.get(key);
          if (!seen || ms(p.created_at) < seen.first)
            firsts.set(key, { held: p.status === 'held_out', account: p.account_id, lead: p.lead_id, first: ms(p.created_at) });
        }
        return [...firsts.values()];
      };
      // Customers who entered before `until`, and those of them with an event after entering and before `until`.
      const tally = (firsts: ReturnType<typeof firstsOf>, held: boolean, until: number): Counts => {
        const members = firsts.filter((f) => f.held === held && f.first < until);
        const hit = members.filter((f) =>
          signals.some(
            (s) =>
              s.type === 'outcome' &&
              s.data.kind === MEASURES[agentId]!.outcome &&
              ((f.account && s.account_id === f.account) || (f.lead && s.lead_id === f.lead)) &&
              ms(s.occurred_at) > f.first &&
              ms(s.occurred_at) < until,
          ),
        );
        return [members.length, hit.length];
      };
      const all = firstsOf();
      const series = dayList.map((day, i) => ({
        day,
        treated: tally(all, false, from + (i + 1) * DAY),
        holdout: tally(all, true, from + (i + 1) * DAY),
      }));
      const actions = [...new Set(proposals.filter((p) => p.agent_id === agentId).map((p) => p.action))].sort();
      const byAction = actions
        .map((action) => ({ action, firsts: firstsOf(action) }))
        .filter((a) => a.firsts.length > 0)
        .map((a) => ({ action: a.action, treated: tally(a.firsts, false, to), holdout: tally(a.firsts, true, to) }));
      return expectedUplift(agentId, tally(all, false, to), tally(all, true, to), series, byAction);
    });

    const stats = AGENT_IDS.map((agentId) => {
      const mine = proposals.filter((p) => p.agent_id === agentId && inRange(p.created_at));
      const decided = mine.flatMap((p) => (decisionOf.get(p.id) ? [decisionOf.get(p.id)!] : []));
      const appr = decided.flatMap((d) => (approvalOf.get(d.id) ? [approvalOf.get(d.id)!] : []));
      const approvals = {
        pending: appr.filter((a) => a.status === 'pending').length,
        approved: appr.filter((a) => a.status === 'approved' && a.edited_params === null).length,
        approvedWithEdits: appr.filter((a) => a.status === 'approved' && a.edited_params !== null).length,
        rejected: appr.filter((a) => a.status === 'rejected').length,
        expired: appr.filter((a) => a.status === 'expired').length,
      };
      const executed = decided.filter((d) => ran.has(d.id)).length;
      const denied = decided.filter((d) => d.outcome === 'deny').length;
      // Precision: approved (run on policy's authority, or approved by a person) over those plus the rejected.
      const approvedAll = decided.filter((d) => d.outcome === 'execute').length + approvals.approved + approvals.approvedWithEdits;
      const human = approvals.approved + approvals.approvedWithEdits + approvals.rejected;
      return {
        agentId,
        proposals: mine.length,
        suppressed: mine.filter((p) => p.status === 'suppressed').length,
        heldOut: mine.filter((p) => p.status === 'held_out').length,
        decided: decided.length,
        executed,
        denied,
        approvals,
        precision: approvedAll + approvals.rejected ? approvedAll / (approvedAll + approvals.rejected) : null,
        overrideRate: human ? (approvals.rejected + approvals.approvedWithEdits) / human : null,
        uplift: uplift.find((u) => u.agentId === agentId) ?? null,
      };
    });
    return {
      days: dayList,
      decisionsByOutcome,
      signalVolume,
      approvalLatency,
      approvalsPending: approvals.filter((a) => a.status === 'pending').length,
      uplift,
      stats,
    };
  }

  type Latency = { day: string; decided: number; medianHours: number | null; p90Hours: number | null };
  /** Hours are rounded to 3 decimals in the response. */
  const latencyClose = (got: Latency[], want: Latency[]) => {
    expect(got.map((g) => [g.day, g.decided])).toEqual(want.map((w) => [w.day, w.decided]));
    got.forEach((g, i) => {
      for (const key of ['medianHours', 'p90Hours'] as const) {
        const w = want[i]![key];
        if (w === null) expect(g[key]).toBeNull();
        else expect(g[key]).toBeCloseTo(w, 3);
      }
    });
  };

  it('the KPIs over the whole run, and over a shorter range, match a recomputation from the recorded rows', async () => {
    for (const days of [10, 3]) {
      const want = await recompute(days);
      const got = (await t.call('GET', `/api/v1/kpis?days=${days}`, { role: 'analyst' })).body;
      expect(got.days).toEqual(want.days);
      expect(got.decisionsByOutcome).toEqual(want.decisionsByOutcome);
      expect(got.signalVolume).toEqual(want.signalVolume);
      latencyClose(got.approvalLatency, want.approvalLatency);
      expect(got.approvalsPending).toBe(want.approvalsPending);
      expect(got.uplift).toEqual(want.uplift);
    }
    // The world did something on each of its days, and the sim reviewer worked the queue.
    const whole = await recompute(10);
    const worldDays = whole.days.slice(1, 9);
    for (const day of worldDays) expect(whole.signalVolume.find((s) => s.day === day)!.total, day).toBeGreaterThan(0);
    expect(whole.decisionsByOutcome.reduce((n, d) => n + d.execute, 0)).toBeGreaterThan(0);
    expect(whole.approvalLatency.reduce((n, d) => n + d.decided, 0)).toBeGreaterThan(0);
    expect(whole.uplift.find((u) => u.agentId === 'retention')!.treated.customers).toBeGreaterThan(0);
  });

  it('agent stats match a recomputation from the recorded rows', async () => {
    for (const days of [10, 3]) {
      const want = await recompute(days);
      const got = (await t.call('GET', `/api/v1/agents/stats?days=${days}`)).body;
      expect(got.data).toEqual(want.stats);
    }
  });
});

describe('operational and business KPIs from known records', () => {
  // The server clock: noon today. The range of 7 days starts at midnight six days ago.
  const N = midnight(Date.now()) + 12 * HOUR;
  let t: TestApp;
  const ids: Record<string, string> = {};
  const at = (offset: number) => new Date(N + offset).toISOString();

  beforeAll(async () => {
    // No agents: only what the test records.
    t = await createTestApp({ clock: { now: () => new Date(N) } });
    const subs: Record<string, [status: string, amount: number][]> = {
      A: [['active', 50]],
      B: [['active', 100]],
      C: [
        ['active', 30],
        ['active', 20],
      ],
      D: [['cancelled', 70]],
      E: [],
    };
    for (const [name, list] of Object.entries(subs)) {
      const acc = await t.call('POST', '/api/v1/accounts', {
        body: { name: `Customer ${name}`, customerId: `OPS-${name}`, kind: 'person' },
      });
      ids[name] = acc.body.id;
      for (const [status, monthlyAmount] of list) {
        expect((await t.call('POST', '/api/v1/subscriptions', { body: { accountId: acc.body.id, status, monthlyAmount } })).status).toBe(
          201,
        );
      }
    }
    // Cases recorded by people: [customer, priority, opened, closed].
    const cases: [string, string, number, number | null][] = [
      ['A', 'urgent', -3 * DAY, -3 * DAY + 2 * HOUR], // 2 h, within 4 h
      ['B', 'high', -2 * DAY, -2 * DAY + 30 * HOUR], // 30 h, over 24 h
      ['C', 'normal', -5 * DAY, -4 * DAY], // 24 h, within 72 h
      ['C', 'low', -10 * DAY, -1 * DAY], // 216 h: closed in the range, opened before it
      ['E', 'normal', -4 * DAY, null], // open, its 72 h ran out a day ago
      ['A', 'urgent', -1 * HOUR, null], // open, 3 h left
    ];
    for (const [who, priority, opened, closed] of cases) {
      const res = await t.call('POST', '/api/v1/cases', {
        body: {
          accountId: ids[who],
          subject: 'Help',
          priority,
          openedAt: at(opened),
          ...(closed === null ? {} : { closedAt: at(closed), status: 'closed' }),
        },
      });
      expect(res.status, res.text).toBe(201);
    }
    // Support tickets (each opens a low-priority case of its own, not due yet), their resolutions, and a person's task for A.
    const ticket = (who: string, offset: number) => ({
      type: 'support_ticket',
      occurredAt: at(offset),
      subject: { customerId: `OPS-${who}` },
      data: { text: 'It does not work', priority: 'low' },
    });
    const outcome = (subject: object, kind: string, offset: number) => ({
      type: 'outcome',
      occurredAt: at(offset),
      subject,
      data: { kind },
    });
    const form = (email: string, offset: number) => ({
      type: 'lead_form',
      occurredAt: at(offset),
      subject: { email },
      data: { email, firstName: 'Lee' },
    });
    const res = await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: [
        ticket('A', -3 * DAY + HOUR),
        ticket('C', -6 * DAY),
        ticket('E', -2 * DAY),
        outcome({ customerId: 'OPS-A' }, 'case_resolved', -2 * DAY),
        outcome({ customerId: 'OPS-C' }, 'case_resolved', -5.5 * DAY),
        outcome({ customerId: 'OPS-A' }, 'renewed', -1 * DAY),
        outcome({ customerId: 'OPS-B' }, 'churned', -2 * DAY),
        outcome({ customerId: 'OPS-E' }, 'churned', -1 * DAY),
        outcome({ customerId: 'OPS-D' }, 'churned', -10 * DAY),
        form('l1@example.com', -3 * DAY),
        form('l2@example.com', -2 * DAY),
        form('l3@example.com', -9 * DAY),
        outcome({ email: 'l1@example.com' }, 'converted', -1 * DAY),
        outcome({ email: 'l3@example.com' }, 'converted', -1 * DAY),
      ],
    });
    expect(res.status, res.text).toBe(202);
    await t.bus.drain();
    await t.db.query('INSERT INTO tasks (id, account_id, title, created_at) VALUES ($1, $2, $3, $4)', [
      'task_ops_a',
      ids.A,
      'Call back',
      at(-2.5 * DAY),
    ]);
  });
  afterAll(async () => t.close());

  it('handle time, first-contact resolution, SLA compliance and deflection', async () => {
    const m = (await t.call('GET', '/api/v1/kpis?days=7')).body.metrics.operational;
    // Closed in the range: 2, 24, 30 and 216 hours. Median 27; 90th percentile 30 + 0.7 × 186 = 160.2; mean 68.
    expect(m.handleTime).toMatchObject({ value: 27, unit: 'hours', reason: null, detail: { closed: 4, meanHours: 68, p90Hours: 160.2 } });
    // A wrote again after its urgent case opened, and C after its low one: the high and normal ones were first-contact.
    expect(m.firstContactResolution).toMatchObject({ value: 0.5, numerator: 2, denominator: 4 });
    // Due: the urgent (met), the high (missed), the closed normal (met) and the open normal past its deadline (missed).
    // The case opened before the range, the urgent one opened an hour ago and the tickets' low cases are not due.
    expect(m.slaCompliance).toMatchObject({
      value: 0.5,
      numerator: 2,
      denominator: 4,
      detail: {
        slaHours: { urgent: 4, high: 24, normal: 72, low: 168 },
        byPriority: {
          high: { targetHours: 24, due: 1, met: 0 },
          low: { targetHours: 168, due: 0, met: 0 },
          normal: { targetHours: 72, due: 2, met: 1 },
          urgent: { targetHours: 4, due: 1, met: 1 },
        },
      },
    });
    // Three tickets: C's was resolved with nobody's work; A's was resolved but a person had a task for A meanwhile; E's is not resolved.
    expect(m.deflection).toMatchObject({ value: 1 / 3, numerator: 1, denominator: 3, detail: { resolved: 2 } });
  });

  it('churn, renewal, conversion and CLV', async () => {
    const m = (await t.call('GET', '/api/v1/kpis?days=7')).body.metrics.business;
    // Customers: A, B, C (active subscriptions) and E (churned in the range); D churned before it. B and E churned.
    const monthly = 1 - 0.5 ** (30 / 7);
    expect(m.churn).toMatchObject({ value: 0.5, numerator: 2, denominator: 4, detail: { monthlyRate: monthly } });
    // A renewed; B and E churned.
    expect(m.renewal).toMatchObject({ value: 1 / 3, numerator: 1, denominator: 3 });
    // l1 and l2 arrived in the range, l1 converted; l3 arrived before it.
    expect(m.conversion).toMatchObject({ value: 0.5, numerator: 1, denominator: 2 });
    // Monthly revenue per paying customer: A 50, B 100, C 30 + 20: 200 / 3.
    expect(m.clv).toMatchObject({
      value: Math.round((200 / 3 / monthly) * 100) / 100,
      unit: 'USD',
      detail: { averageMonthlyRevenue: 66.6667, customersWithRevenue: 3, monthlyChurnRate: monthly },
    });
  });

  it('AI quality is null, with the reason, when no agent has worked', async () => {
    const m = (await t.call('GET', '/api/v1/kpis?days=7')).body.metrics.aiQuality;
    expect(m.policyViolationRate).toMatchObject({
      value: null,
      reason: 'no proposal was put to policy in the range',
      numerator: 0,
      denominator: 0,
    });
    expect(m.overrideRate).toMatchObject({ value: null, reason: 'no approval was decided by a person in the range' });
    expect(m.approvalLatency).toMatchObject({ value: null, reason: 'no approval was decided by a person in the range' });
    expect(m.escalationPrecision.value).toBeNull();
    expect(m.toolCallFailureRate).toMatchObject({ value: null, reason: 'nothing was executed in the range' });
  });
});
