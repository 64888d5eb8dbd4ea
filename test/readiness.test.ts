import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inHoldout, requiredSampleSize } from '../src/learn/index.ts';
import { DIMENSIONS, STAGES } from '../src/learn/readiness.ts';
import { AGENTS } from '../src/reason/index.ts';
import { cliEnv, openCliDb, runAcs, type CliEnv } from './cli-helpers.ts';
import { createTestApp, type TestApp } from './helpers.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const midnight = (ms: number) => Math.floor(ms / DAY) * DAY;

type Dimension = {
  key: string;
  score: number;
  metrics: { key: string; value: number | null; score: number | null; weight: number; definition: string }[];
  evidence: any;
  fixNext: string[];
};
const dim = (r: { dimensions: Dimension[] }, key: string) => r.dimensions.find((d) => d.key === key)!;
const metricOf = (d: Dimension, key: string) => d.metrics.find((m) => m.key === key)!;
/** A dimension's score from its metrics: the weighted mean over the measurable ones, × 100, rounded. */
const scoreOf = (parts: [score: number | null, weight: number][]) => {
  const scored = parts.filter(([s]) => s !== null) as [number, number][];
  const w = scored.reduce((n, [, x]) => n + x, 0);
  return w ? Math.round((100 * scored.reduce((n, [s, x]) => n + s * x, 0)) / w) : 0;
};
const bandOf = (score: number) => (score < 20 ? 1 : score < 40 ? 2 : score < 60 ? 3 : score < 80 ? 4 : 5);

/** The agents' own manifests: what strategic alignment and process adaptability read before anyone changes anything. */
const MEASURED = AGENTS.filter((a) => a.manifest.measure).length / AGENTS.length;
const actionsOf = (agents: { actions: Record<string, { autonomy: number }> }[]) => agents.flatMap((a) => Object.values(a.actions));

describe('GET /api/v1/readiness on an empty database', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('scores only what the manifests show, stage 1, and names what to fix', async () => {
    const res = await t.call('GET', '/api/v1/readiness', { role: 'analyst' });
    expect(res.status).toBe(200);
    const r = res.body;
    expect(r.days).toBe(30);
    expect(r.dimensions.map((d: Dimension) => d.key)).toEqual([...DIMENSIONS]);
    const acting = actionsOf((await t.call('GET', '/api/v1/agents')).body.data);
    const atL3 = acting.filter((a) => a.autonomy >= 3).length / acting.length;
    const want: Record<string, number> = {
      // Only the manifests' measures count; nothing is recorded, held out or fed.
      strategicAlignment: scoreOf([
        [MEASURED, 1],
        [0, 1],
        [0, 1],
        [0, 1],
      ]),
      // No dry-run, no autonomy change; the manifests' autonomy.
      processAdaptability: scoreOf([
        [0, 1],
        [0, 1],
        [atL3, 1],
      ]),
      dataReadiness: 0,
      agentReliability: 0,
      modelGovernance: 0,
      humanOversight: 0,
      operationalPerformance: 0,
      customerValue: 0,
    };
    expect(Object.fromEntries(r.dimensions.map((d: Dimension) => [d.key, d.score]))).toEqual(want);
    expect(want.strategicAlignment).toBe(19);
    const overall = Math.round(Object.values(want).reduce((a, b) => a + b, 0) / 8);
    expect(r.overall).toBe(overall);
    expect(r.stage).toMatchObject({ stage: 1, name: 'Initial', weakest: 'dataReadiness' });
    // Every metric says what it measures; every dimension says what to do.
    for (const d of r.dimensions as Dimension[]) {
      expect(d.fixNext.length, d.key).toBeGreaterThan(0);
      for (const m of d.metrics) expect(m.definition.length, `${d.key}.${m.key}`).toBeGreaterThan(30);
    }
    expect(r.topFixes).toHaveLength(5);
    expect(r.topFixes[0]).toEqual({
      dimension: 'dataReadiness',
      name: 'Data readiness',
      score: 0,
      fix: 'No customer, contact or lead records yet: import them (acs import).',
    });
    expect(dim(r, 'modelGovernance').fixNext[0]).toMatch(/^Train and register a model/);
  });

  it('names a bad days parameter; staff may read, agents may not', async () => {
    for (const q of ['days=0', 'days=366', 'days=x']) {
      const res = await t.call('GET', `/api/v1/readiness?${q}`);
      expect(res.status, q).toBe(400);
      expect(res.body.issues[0].path).toBe('query.days');
    }
    for (const role of ['admin', 'reviewer', 'analyst'] as const)
      expect((await t.call('GET', '/api/v1/readiness?days=7', { role })).status).toBe(200);
    expect((await t.call('GET', '/api/v1/readiness', { role: 'agent' })).status).toBe(403);
  });
});

describe('model governance from the model registry', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('champions, their held-out AUC and their latest drift check', async () => {
    const { present } = (await t.db.query<{ present: boolean }>("SELECT to_regclass('model_versions') IS NOT NULL AS present"))[0]!;
    if (!present) return; // the registry's migration is not in this tree: readiness reports it as not installed
    // Two models: 'churn' with a champion (AUC 0.8) whose latest drift check says watch; 'other' without a version.
    await t.db.query("INSERT INTO models (name) VALUES ('churn'), ('other')");
    const version = (id: string, v: number, stage: string, auc: number) =>
      t.db.query(
        `INSERT INTO model_versions (id, name, version, stage, model_id, family, data_fingerprint, training_rows, trained_at, metrics, feature_schema, model, reference, registered_by, registered_at)
       VALUES ($1, 'churn', $2, $3, $1, 'logistic', 'fp', 100, now(), $4::jsonb, '{}', '{}', '{}', 'test', now())`,
        [id, v, stage, JSON.stringify({ heldOut: { auc } })],
      );
    await version('mv1', 1, 'retired', 0.6);
    await version('mv2', 2, 'champion', 0.8);
    const check = (id: string, ago: string, psi: number, status: string) =>
      t.db.query(
        `INSERT INTO model_drift_checks (id, name, version, checked_at, checked_by, population, threshold, max_psi, worst, status, score, features)
       VALUES ($1, 'churn', 2, now() - $2::interval, 'test', 10, 0.25, $3, 'tenureMonths', $4, '{}', '[]')`,
        [id, ago, psi, status],
      );
    await check('dc1', '2 days', 0.3, 'drift');
    await check('dc2', '1 hour', 0.12, 'watch');
    const m = dim((await t.call('GET', '/api/v1/readiness')).body, 'modelGovernance');
    // Registered: 1 of 2 models has a champion; validated: (0.8 − 0.5) / 0.25 ≥ 1; watched: half (watch); no proposals.
    expect(m.metrics.map((x) => [x.key, x.value, x.score])).toEqual([
      ['registeredChampions', 0.5, 0.5],
      ['validatedChampions', 0.8, 1],
      ['driftWatched', 0.5, 0.5],
      ['traceableProposals', null, null],
    ]);
    expect(m.score).toBe(67);
    expect(m.evidence.registry[0]).toMatchObject({
      name: 'churn',
      champion: 2,
      heldOutAuc: 0.8,
      versions: 2,
      lastDriftCheck: { status: 'watch', maxPsi: 0.12 },
    });
    expect(m.fixNext).toEqual([
      "Promote a validated version of 'other' to champion.",
      "'churn' v2 shows drift (watch, PSI 0.12): retrain on current data.",
    ]);
  });
});

describe('GET /api/v1/readiness from a week of known work', () => {
  // Server clock: 01:00 today, moved forward as people work; read at 17:00 tomorrow.
  const c0 = midnight(Date.now()) + HOUR;
  let clockAt = c0;
  let t: TestApp;
  let r: {
    overall: number;
    stage: { stage: number; name: string; weakest: string };
    dimensions: Dimension[];
    topFixes: { dimension: string; score: number; fix: string }[];
  };
  const pick = (prefix: string, held: boolean, n: number) => {
    const out: string[] = [];
    for (let i = 0; out.length < n; i++) if (inHoldout(`${prefix}${i}`, 'test', 0.5) === held) out.push(`${prefix}${i}`);
    return out;
  };
  const R = pick('RDY-R', false, 3);
  const [RH] = pick('RDY-RH', true, 1);
  const at = (ms: number) => new Date(ms).toISOString();

  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0.5 }, clock: { now: () => new Date(clockAt) } });
    // Four month-to-month customers with an $80 subscription and a contact known only by email (no names).
    for (const customerId of [...R, RH!]) {
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
          capturedAt: at(c0 - 100 * DAY),
        },
      });
    }
    // A low NPS: each of the three gets a credit offer sent for approval; the fourth is held out.
    const nps = await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: [...R, RH!].map((customerId) => ({ type: 'nps', occurredAt: at(c0 - HOUR), subject: { customerId }, data: { score: 2 } })),
    });
    expect(nps.status).toBe(202);
    await t.bus.drain();
    const queue = (await t.call('GET', '/api/v1/approvals')).body.data as { id: string; customer: { customerId: string } }[];
    const approval = Object.fromEntries(queue.map((a) => [a.customer.customerId, a.id]));
    expect(Object.keys(approval).sort()).toEqual([...R].sort());
    // People: R0's offer approved after 2 hours, R1's rejected after 30; R2's still waits.
    clockAt = c0 + 2 * HOUR;
    expect((await t.call('POST', `/api/v1/approvals/${approval[R[0]!]}/approve`, { role: 'reviewer' })).status).toBe(200);
    clockAt = c0 + 30 * HOUR;
    expect(
      (await t.call('POST', `/api/v1/approvals/${approval[R[1]!]}/reject`, { role: 'reviewer', body: { reason: 'not now' } })).status,
    ).toBe(204);
    // R1 and the held-out customer churn. One signal is refused into the quarantine and left there.
    const outcomes = await t.call('POST', '/api/v1/signals', {
      role: 'agent',
      body: [R[1]!, RH!].map((customerId) => ({
        type: 'outcome',
        occurredAt: at(c0 + 31 * HOUR),
        subject: { customerId },
        data: { kind: 'churned' },
      })),
    });
    expect(outcomes.status).toBe(202);
    expect(
      (
        await t.call('POST', '/api/v1/signals', {
          role: 'agent',
          body: { type: 'nps', subject: { customerId: R[2] }, data: { score: 42 } },
        })
      ).status,
    ).toBe(400);
    await t.bus.drain();
    // The process: a dry-run of the policies in force, and one autonomy lowered.
    const files = (await t.call('GET', '/api/v1/policies')).body.files;
    expect((await t.call('POST', '/api/v1/policies/dry-run', { body: { files } })).status).toBe(200);
    expect(
      (await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { autonomy: { create_case: 2 }, reason: 'test' } })).status,
    ).toBe(200);
    clockAt = c0 + 40 * HOUR;
    const res = await t.call('GET', '/api/v1/readiness?days=7', { role: 'reviewer' });
    expect(res.status).toBe(200);
    r = res.body;
  });
  afterAll(async () => t.close());

  it('strategic alignment: measures, outcomes recorded, holdout coverage and KPIs fed', async () => {
    const d = dim(r, 'strategicAlignment');
    // Churn was recorded (retention) but no complaint or conversion; only retention held anyone out.
    expect(metricOf(d, 'outcomesRecorded')).toMatchObject({ value: 0.333, score: 0.333 });
    expect(metricOf(d, 'holdoutCoverage')).toMatchObject({ value: 0.333 });
    // KPIs with a value: churn, renewal, CLV, policy violations, overrides, approval latency, escalation precision
    // and tool-call failures: 8 of 18 (no case, ticket, lead, generated text or scanned free text).
    expect(metricOf(d, 'kpisFed').value).toBe(0.444);
    expect(d.evidence.kpisWithValue).toEqual([
      'churn',
      'renewal',
      'clv',
      'policyViolationRate',
      'overrideRate',
      'approvalLatency',
      'escalationPrecision',
      'toolCallFailureRate',
    ]);
    expect(d.evidence.outcomesRecorded).toEqual({ churned: 2 });
    expect(d.evidence.heldOut).toEqual({ retention: 1, 'service-recovery': 0, 'lead-nurturing': 0 });
    expect(d.score).toBe(
      scoreOf([
        [MEASURED, 1],
        [1 / 3, 1],
        [1 / 3, 1],
        [8 / 18, 1],
      ]),
    );
    expect(d.fixNext).toContain(
      "Record 'complaint' outcomes (outcome signals): none arrived in the last 7 days, so service-recovery cannot be measured.",
    );
  });

  it('data readiness: rule pass rate, signals refused, quarantine left open', async () => {
    const d = dim(r, 'dataReadiness');
    // Accounts pass their 3 rules (12 of 12); each contact has an email but no names: 2 of 4 (8 of 16). 20 of 28.
    expect(d.evidence).toMatchObject({
      records: { accounts: 4, contacts: 4, leads: 0 },
      rulesApplicable: 28,
      rulesFailing: 8,
      failingByRule: { 'contacts.firstName.completeness': 4, 'contacts.lastName.completeness': 4 },
    });
    // Six signals accepted (four NPS, two outcomes), one refused and still open; no identity review.
    expect(d.evidence.signals).toEqual({ accepted: 6, quarantined: 1 });
    expect(d.evidence.quarantine).toEqual({ total: 1, open: 1 });
    expect(metricOf(d, 'qualityScore')).toMatchObject({ value: 0.714, weight: 0.4 });
    expect(metricOf(d, 'signalAcceptance').value).toBe(0.857);
    expect(metricOf(d, 'quarantineResolved')).toMatchObject({ value: 0, score: 0 });
    expect(metricOf(d, 'identityReviewsDecided')).toMatchObject({ value: null, score: null });
    expect(d.score).toBe(
      scoreOf([
        [20 / 28, 0.4],
        [6 / 7, 0.3],
        [0, 0.15],
      ]),
    );
    expect(d.score).toBe(64);
    expect(d.fixNext[0]).toMatch(/^4 of 4 records fail contacts\.firstName\.completeness/);
    expect(d.fixNext).toContain('1 refused input(s) wait in the quarantine: resubmit them corrected or discard them with a reason.');
  });

  it('process adaptability: a dry-run, an autonomy change, the share of actions that run without a person', async () => {
    const d = dim(r, 'processAdaptability');
    const acting = actionsOf((await t.call('GET', '/api/v1/agents')).body.data);
    const atL3 = acting.filter((a) => a.autonomy >= 3).length / acting.length;
    expect(d.evidence).toMatchObject({ dryRuns: 1, autonomyChanges: 1, tunedFromManifest: ['service-recovery.create_case'] });
    expect(d.evidence.autonomy['service-recovery.create_case']).toBe(2);
    expect(d.score).toBe(
      scoreOf([
        [1, 1],
        [1, 1],
        [atL3, 1],
      ]),
    );
  });

  it('agent reliability, human oversight and model governance', async () => {
    // Three offers put to policy, none denied; R0's credit ran and took effect.
    const rel = dim(r, 'agentReliability');
    expect(rel.evidence).toMatchObject({ decisions: 3, denied: 0, failed: 0 });
    expect(rel.evidence.executions).toBeGreaterThanOrEqual(1);
    expect(rel.score).toBe(100);
    // Each metric is named after what its value is: none denied and none failed are rates of 0, scored 1.
    expect(rel.metrics.map((m) => [m.key, m.value, m.score])).toEqual([
      ['policyViolationRate', 0, 1],
      ['toolCallFailureRate', 0, 1],
      ['groundingRate', null, null], // no text was generated: unscored
      ['abstentionRate', null, null], // shown, never scored
      ['playCompletion', null, null], // no play ended in this week
    ]);
    expect(metricOf(rel, 'policyViolationRate').definition).toMatch(/^Policy violation rate/i);
    // Two decided (2 h on time, 30 h late), none expired; R2's waits 40 hours, past the 24-hour target.
    const o = dim(r, 'humanOversight');
    expect(o.evidence).toMatchObject({
      decided: 2,
      decidedOnTime: 1,
      expired: 0,
      pending: 1,
      pendingOverdue: 1,
      medianLatencyHours: 16,
      overrideRate: 0.5,
      escalationPrecision: 0.5,
    });
    expect(metricOf(o, 'answeredOnTime').value).toBe(0.5);
    expect(metricOf(o, 'answered').value).toBe(1);
    expect(o.score).toBe(75);
    expect(o.fixNext[0]).toBe('1 pending approval(s) have waited over 24 hours: work the queue (GET /api/v1/approvals).');
    // Rules only (the test app has no churn model) and nothing in the registry.
    const m = dim(r, 'modelGovernance');
    expect(m.score).toBe(0);
    expect(m.evidence.modelBackedProposals).toBe(0);
    expect(m.evidence.ruleBasedProposals).toBeGreaterThanOrEqual(4);
  });

  it('operational performance and customer value', async () => {
    expect(dim(r, 'operationalPerformance').score).toBe(0);
    const v = dim(r, 'customerValue');
    // Retention: 1 of 3 treated churned against 1 of 1 held out; pooled base rate 1/2 (the holdout's is 1).
    expect(v.evidence.byAgent.retention).toMatchObject({ treated: 3, holdout: 1, difference: -0.667 });
    const mde = (1.959963984540054 + 0.8416212335729143) * Math.sqrt(0.25 * (1 / 3 + 1));
    expect(v.evidence.byAgent.retention.mde).toBeCloseTo(mde, 3);
    expect(v.score).toBe(0);
    const need = requiredSampleSize(0.05, 0.5, 3)!.holdout;
    expect(need).toBe(1047);
    expect(v.fixNext).toContain(
      `retention's comparison (treated 3, held out 1) can only detect a ${(mde * 100).toFixed(1)}% difference: about ${need} held-out customers are needed to detect 5.0% (a longer period or a larger ACS_HOLDOUT_FRACTION).`,
    );
  });

  it('overall, the stage (capped one above the weakest dimension) and the top fixes, weakest first', () => {
    const scores = r.dimensions.map((d) => d.score);
    expect(r.overall).toBe(Math.round(scores.reduce((a, b) => a + b, 0) / 8));
    expect(bandOf(r.overall)).toBeGreaterThan(2);
    const stage = Math.min(bandOf(r.overall), bandOf(Math.min(...scores)) + 1);
    expect(stage).toBe(2);
    expect(r.stage).toMatchObject({ stage: 2, name: STAGES[1].name, weakest: 'modelGovernance' });
    expect(r.topFixes.map((f) => f.dimension)).toEqual([
      'modelGovernance',
      'operationalPerformance',
      'customerValue',
      'strategicAlignment',
      'dataReadiness',
    ]);
    expect(r.topFixes[0]!.fix).toMatch(/^Train and register a model/);
  });
});

describe('acs readiness', () => {
  let cli: CliEnv;
  beforeAll(async () => {
    cli = await cliEnv();
  });
  afterAll(async () => cli.cleanup());

  it("reads the database as the other commands do, on the live world's clock, and prints JSON or a report", async () => {
    const db = await openCliDb(cli);
    try {
      // Two profiles, one still the placeholder intake gives; one contact with a name and a bad email.
      await db.query("INSERT INTO accounts (id, name) VALUES ('acc_cli1', 'Acme Ltd'), ('acc_cli2', 'Unidentified customer')");
      await db.query(
        "INSERT INTO contacts (id, account_id, first_name, last_name, email) VALUES ('con_cli1', 'acc_cli1', 'Ann', 'Lee', 'not-an-email')",
      );
      await db.query(
        "INSERT INTO world_clock (id, seed, start_day, next_day, sim_now) VALUES (1, 7, '2026-01-05T00:00:00Z', 3, '2026-01-08T06:00:00Z')",
      );
    } finally {
      await db.close();
    }
    const json = await runAcs(['readiness', '--json', '--days', '7'], cli.env);
    expect(json.code, json.stderr).toBe(0);
    const r = JSON.parse(json.stdout);
    expect(r).toMatchObject({ now: '2026-01-08T06:00:00.000Z', from: '2026-01-02T00:00:00.000Z', days: 7 });
    const data = dim(r, 'dataReadiness');
    // Accounts: 3 + 2 of 3 rules pass (the placeholder name fails); the contact 3 of 4 (the email). 8 of 10.
    expect(data.evidence).toMatchObject({
      rulesApplicable: 10,
      rulesFailing: 2,
      failingByRule: { 'accounts.name.validity': 1, 'contacts.email.validity': 1 },
    });
    expect(metricOf(data, 'qualityScore').value).toBe(0.8);
    expect(data.score).toBe(80);
    expect(r.stage.stage).toBe(1);

    const text = await runAcs(['readiness', '--days', '7'], cli.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`Stage 1 of 5, Initial`);
    expect(text.stdout).toMatch(/Data readiness\s+80 /);
    expect(text.stdout).toContain('Top fixes:');

    const bad = await runAcs(['readiness', '--days', '0'], cli.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--days must be a whole number from 1 to 365');
  });
});
