import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { playRegistry, startMaintenance } from '../src/act/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// The supervisor pauses an agent that trips a threshold against its own trailing baseline (src/supervisor). History is
// seeded straight into the tables (proposals, decisions, approvals, executions, signals, credits); the round runs
// through the real app (POST /api/v1/supervisor/run) on the test's clock.

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const NOON = new Date('2026-06-10T12:00:00Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

async function app(now = NOON): Promise<TestApp> {
  t = await createTestApp({ clock: { now: () => now } });
  await t.db.query("INSERT INTO accounts (id, name) VALUES ('acc_sup', 'Supervised Ltd')");
  return t;
}

let seq = 0;
/**
 * `n` proposals of `agent` made at `at`, each decided with `outcome`; with an approval of status `approval`; with an
 * execution at the same time when `executed`.
 */
async function seed(
  a: TestApp,
  agent: string,
  at: Date,
  n: number,
  opts: { outcome?: 'execute' | 'approval' | 'deny'; approval?: 'approved' | 'rejected'; executed?: boolean } = {},
): Promise<string[]> {
  if (n === 0) return [];
  const prefix = `p${++seq}-`;
  const outcome = opts.outcome ?? (opts.approval ? 'approval' : 'execute');
  await a.db.query(
    `INSERT INTO proposals (id, agent_id, account_id, action, params, risk, ev, ev_value, reason, status, created_at)
     SELECT $1 || g, $2, 'acc_sup', 'create_task', '{}', 'low', '{}', 1, 'seeded', 'decided', $3::timestamptz FROM generate_series(1, $4) g`,
    [prefix, agent, at.toISOString(), n],
  );
  await a.db.query(
    `INSERT INTO decisions (id, proposal_id, outcome, policy_ids, reasons, autonomy, request, decided_at)
     SELECT 'd' || id, id, $2, '[]', '[]', 3, '{}', created_at FROM proposals WHERE id LIKE $1 || '%'`,
    [prefix, outcome],
  );
  if (opts.approval)
    await a.db.query(
      `INSERT INTO approvals (id, decision_id, status, expires_at, decided_by, decided_at)
       SELECT 'a' || d.id, d.id, $2, d.decided_at + interval '3 days', 'reviewer', d.decided_at FROM decisions d WHERE d.proposal_id LIKE $1 || '%'`,
      [prefix, opts.approval],
    );
  if (opts.executed)
    await a.db.query(
      `INSERT INTO executions (idempotency_key, decision_id, action, params, status, result, created_at)
       SELECT 'k' || d.id, d.id, 'create_task', '{}', 'succeeded', '{}', d.decided_at FROM decisions d WHERE d.proposal_id LIKE $1 || '%'`,
      [prefix],
    );
  return (await a.db.query<{ id: string }>("SELECT 'kd' || id AS id FROM proposals WHERE id LIKE $1 || '%' ORDER BY id", [prefix])).map(
    (r) => r.id,
  );
}

async function complaints(a: TestApp, at: Date, n: number): Promise<void> {
  await a.db.query(
    `INSERT INTO signals (id, type, schema_version, occurred_at, account_id, subject, data)
     SELECT 'sig-c' || $3 || '-' || g, 'outcome', 1, $1::timestamptz, 'acc_sup', '{}', '{"kind": "complaint"}' FROM generate_series(1, $2) g`,
    [at.toISOString(), n, ++seq],
  );
}

/** Each day of the baseline (7 days before the window), `perDay(day)` seeds that day, at an hour into it. */
async function baseline(now: Date, perDay: (at: Date) => Promise<unknown>): Promise<void> {
  for (let d = 1; d <= 7; d++) await perDay(new Date(now.getTime() - d * DAY - HOUR));
}
const lastHour = (now = NOON) => new Date(now.getTime() - HOUR);

const run = async (a: TestApp) => {
  const res = await a.call('POST', '/api/v1/supervisor/run');
  expect(res.status).toBe(200);
  return res.body.paused as { agentId: string; trigger: string; window: number; baseline: number; threshold: number; reason: string }[];
};

const agent = async (a: TestApp, id: string) => (await a.call('GET', '/api/v1/agents')).body.data.find((x: { id: string }) => x.id === id);

/** The pause shows on the agent, is ledgered with its figures, counted in the metric; a reviewer cannot resume it, an admin can. */
async function expectAutoPaused(a: TestApp, id: string, trigger: string, figures: { window: number; baseline: number }) {
  const shown = await agent(a, id);
  expect(shown).toMatchObject({ paused: true, pausedBy: 'supervisor' });
  expect(shown.pauseReason).toContain(trigger.split('_')[0]);
  const [row] = await a.db.query<{ stopped: boolean }>('SELECT agent_stopped($1) AS stopped', [id]);
  expect(row!.stopped).toBe(true);

  const ledger = await a.db.query<{ actor: string; subject_id: string; body: string }>(
    "SELECT actor, subject_id, body FROM ledger WHERE type = 'agent.auto_paused'",
  );
  expect(ledger).toHaveLength(1);
  expect(ledger[0]).toMatchObject({ actor: 'supervisor', subject_id: id });
  expect(JSON.parse(ledger[0]!.body).data).toMatchObject({ trigger, ...figures });

  const metrics = await a.call('GET', '/metrics', { token: null });
  expect(metrics.text).toContain(`acs_agent_auto_pauses_total{agent="${id}",trigger="${trigger}"} 1`);

  const byReviewer = await a.call('PATCH', `/api/v1/agents/${id}`, { role: 'reviewer', body: { paused: false } });
  expect(byReviewer.status).toBe(403);
  expect((await agent(a, id)).paused).toBe(true);
  const byAdmin = await a.call('PATCH', `/api/v1/agents/${id}`, { body: { paused: false } });
  expect(byAdmin.status).toBe(200);
  expect(byAdmin.body).toMatchObject({ paused: false, pausedBy: null, pauseReason: null });
  // Resumed by an admin, it is not paused again for the spike the admin looked at.
  expect(await run(a)).toEqual([]);
}

describe('the supervisor', () => {
  it('pauses an agent whose proposals spike against its baseline, and leaves a calm agent running', async () => {
    const a = await app();
    await baseline(NOON, async (at) => {
      await seed(a, 'retention', at, 10, { approval: 'approved' });
      await seed(a, 'service-recovery', at, 10);
    });
    await seed(a, 'retention', lastHour(), 80, { approval: 'approved' });
    await seed(a, 'service-recovery', lastHour(), 12);

    const paused = await run(a);
    expect(paused).toEqual([expect.objectContaining({ agentId: 'retention', trigger: 'proposal_spike', window: 80, baseline: 10 })]);
    expect(await agent(a, 'service-recovery')).toMatchObject({ paused: false, pausedBy: null });
    await expectAutoPaused(a, 'retention', 'proposal_spike', { window: 80, baseline: 10 });
  });

  it('pauses an agent whose denials and rejections spike', async () => {
    const a = await app();
    const put = await a.call('PUT', '/api/v1/supervisor/settings', { body: { denialSpikeMin: 10 } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ denialSpikeMin: 10, denialSpikeFactor: 3 });
    await baseline(NOON, async (at) => {
      await seed(a, 'retention', at, 18, { approval: 'approved' });
      await seed(a, 'retention', at, 2, { outcome: 'deny' });
    });
    await seed(a, 'retention', lastHour(), 5, { approval: 'approved' });
    await seed(a, 'retention', lastHour(), 15, { outcome: 'deny' });

    expect(await run(a)).toEqual([expect.objectContaining({ agentId: 'retention', trigger: 'denial_spike', window: 15, baseline: 2 })]);
    await expectAutoPaused(a, 'retention', 'denial_spike', { window: 15, baseline: 2 });
  });

  it('pauses an agent whose precision drops', async () => {
    const a = await app();
    await baseline(NOON, async (at) => {
      await seed(a, 'retention', at, 18, { approval: 'approved' });
      await seed(a, 'retention', at, 2, { approval: 'rejected' });
    });
    await seed(a, 'retention', lastHour(), 12, { approval: 'approved' });
    await seed(a, 'retention', lastHour(), 18, { approval: 'rejected' });

    expect(await run(a)).toEqual([
      expect.objectContaining({ agentId: 'retention', trigger: 'precision_drop', window: 0.4, baseline: 0.9, threshold: 0.6 }),
    ]);
    await expectAutoPaused(a, 'retention', 'precision_drop', { window: 0.4, baseline: 0.9 });
  });

  it('pauses an agent whose actions are followed by a spike in complaints', async () => {
    const a = await app();
    await baseline(NOON, async (at) => {
      await seed(a, 'service-recovery', at, 5, { executed: true });
      await complaints(a, new Date(at.getTime() + 10 * 60_000), 1);
    });
    await seed(a, 'service-recovery', new Date(NOON.getTime() - 3 * HOUR), 5, { executed: true });
    await complaints(a, lastHour(), 8);

    expect(await run(a)).toEqual([
      expect.objectContaining({ agentId: 'service-recovery', trigger: 'complaint_spike', window: 8, baseline: 1 }),
    ]);
    await expectAutoPaused(a, 'service-recovery', 'complaint_spike', { window: 8, baseline: 1 });
  });

  it('pauses an agent burning the credit budget faster than planned', async () => {
    const early = new Date('2026-06-10T03:00:00Z'); // an eighth of the day: the plan has spent 12,500 of 100,000 cents
    const a = await app(early);
    const keys = await seed(a, 'retention', new Date(early.getTime() - 2 * HOUR), 8, { executed: true });
    // 8 credits of 5,000 cents today: 40,000, more than twice the plan so far and at least a quarter of the budget.
    for (const [i, key] of keys.entries())
      await a.db.query(
        "INSERT INTO credits (id, account_id, amount_cents, execution_key, created_at) VALUES ($1, 'acc_sup', 5000, $2, $3)",
        [`cr-${i}`, key, new Date(early.getTime() - 2 * HOUR).toISOString()],
      );
    // Yesterday's credits are not today's.
    await a.db.query(
      "INSERT INTO credits (id, account_id, amount_cents, execution_key, created_at) VALUES ('cr-old', 'acc_sup', 90000, $1, $2)",
      [keys[0], new Date(early.getTime() - DAY).toISOString()],
    );

    expect(await run(a)).toEqual([
      expect.objectContaining({ agentId: 'retention', trigger: 'budget_burn', window: 40_000, baseline: 12_500, threshold: 25_000 }),
    ]);
    await expectAutoPaused(a, 'retention', 'budget_burn', { window: 40_000, baseline: 12_500 });
  });

  it('judges no spike without a baseline, and keeps thresholds that an admin sets, validated', async () => {
    const a = await app();
    // A new agent's first busy day is not a spike: it has no baseline yet.
    await seed(a, 'retention', lastHour(), 200, { approval: 'rejected' });
    expect(await run(a)).toEqual([]);

    expect((await a.call('GET', '/api/v1/supervisor/settings', { role: 'analyst' })).body).toMatchObject({
      baselineDays: 7,
      enabled: true,
    });
    expect((await a.call('PUT', '/api/v1/supervisor/settings', { role: 'reviewer', body: { enabled: false } })).status).toBe(403);
    const bad = await a.call('PUT', '/api/v1/supervisor/settings', { body: { precisionDrop: 2 } });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('precisionDrop');
    const unknown = await a.call('PUT', '/api/v1/supervisor/settings', { body: { spikiness: 2 } });
    expect(unknown.status).toBe(400);
    const tooMany = await a.call('PUT', '/api/v1/supervisor/settings', { body: { minBaselineDays: 8 } });
    expect(tooMany.status).toBe(400);
    expect(JSON.stringify(tooMany.body)).toContain('minBaselineDays');
    expect((await a.call('POST', '/api/v1/supervisor/run', { role: 'reviewer' })).status).toBe(403);
  });

  it('runs in the maintenance rounds, once per hour of the server clock, with its alerts', async () => {
    const a = await app();
    await baseline(NOON, (at) => seed(a, 'retention', at, 10, { approval: 'approved' }));
    await seed(a, 'retention', lastHour(), 80, { approval: 'approved' });
    const rounds: Date[] = [];
    let now = NOON;
    const maintenance = startMaintenance(
      a.db,
      {
        transport: { name: 'none', deliver: async () => {} },
        plays: playRegistry(),
        clock: { now: () => now },
        supervise: async (at) => {
          rounds.push(at);
          return a.supervise(at);
        },
      },
      pino({ level: 'silent' }),
      20,
    );
    await expect.poll(() => rounds.length, { timeout: 10_000 }).toBe(1);
    await new Promise((r) => setTimeout(r, 200)); // more rounds in the same hour do not run it again
    expect(rounds).toHaveLength(1);
    now = new Date(NOON.getTime() + HOUR);
    await expect.poll(() => rounds.length, { timeout: 10_000 }).toBe(2);
    await maintenance.stop();
    expect(await agent(a, 'retention')).toMatchObject({ paused: true, pausedBy: 'supervisor' });
    const metrics = await a.call('GET', '/metrics', { token: null });
    expect(metrics.text).toContain('acs_agent_auto_pauses_total{agent="retention",trigger="proposal_spike"} 1');
  });
});
