import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMaintenance } from '../src/act/maintenance.ts';
import { FileTransport } from '../src/act/transport.ts';
import { MODEL_DATASETS } from '../src/learn/datasets.ts';
import { auc } from '../src/learn/models/metrics.ts';
import { trainModel } from '../src/learn/models/index.ts';
import { registerModel } from '../src/learn/registry.ts';
import { HELD_OUT_SHARE, isHeldOut, pairedAucDifference, RETRAIN_ACTOR, runDueRetrains, runModelUpkeep } from '../src/learn/retrain.ts';
import { stream } from '../src/lib/index.ts';
import { importCsv } from '../src/sense/import/index.ts';
import { cliEnv, runAcs } from './cli-helpers.ts';
import { createTestApp, type TestApp } from './helpers.ts';

function rng(seed: number) {
  const s = stream(seed, 'model-retrain-test');
  return () => s.next();
}

describe('the paired bootstrap of an AUC difference', () => {
  const labels = [0, 0, 0, 0, 1, 0, 1, 1, 1, 1];
  it('reports each AUC as the rank formula does, and a zero-width interval for the same scores', () => {
    const a = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];
    // 24 of the 25 positive–negative pairs ordered right: 0.96.
    const r = pairedAucDifference(a, a, labels, { resamples: 200, seed: 1 });
    expect(r.a).toBeCloseTo(auc(a, labels), 12);
    expect(r.a).toBeCloseTo(0.96, 12);
    expect(r).toMatchObject({ difference: 0, ci95: [0, 0] });
  });

  it('ties count half, as in the rank formula', () => {
    const tied = [0.5, 0.5, 0.2, 0.5, 0.5, 0.9, 0.5, 0.1, 0.5, 0.5];
    const flat = labels.map(() => 0.3);
    const r = pairedAucDifference(flat, tied, labels, { resamples: 100, seed: 2 });
    expect(r.a).toBe(0.5);
    expect(r.b).toBeCloseTo(auc(tied, labels), 12);
  });

  it('a clearly better scorer has an interval above zero; the same seed gives the same interval', () => {
    const r = rng(7);
    const y: number[] = [];
    const good: number[] = [];
    const noise: number[] = [];
    for (let i = 0; i < 400; i++) {
      const yi = r() < 0.3 ? 1 : 0;
      y.push(yi);
      good.push(yi + r() * 1.2);
      noise.push(r());
    }
    const one = pairedAucDifference(noise, good, y, { seed: 5 });
    expect(one.difference).toBeGreaterThan(0.3);
    expect(one.ci95[0]).toBeGreaterThan(0.2);
    expect(one.ci95[0]).toBeLessThan(one.difference);
    expect(one.ci95[1]).toBeGreaterThan(one.difference);
    expect(pairedAucDifference(noise, good, y, { seed: 5 })).toEqual(one);
    // Two noise scorers: the interval spans zero.
    const other = y.map(() => r());
    const none = pairedAucDifference(noise, other, y, { seed: 5 });
    expect(none.ci95[0]).toBeLessThan(0);
    expect(none.ci95[1]).toBeGreaterThan(0);
  });

  it('holds out a fixed ~30% of customers by id', () => {
    const ids = Array.from({ length: 10_000 }, (_, i) => `C-${i}`);
    const share = ids.filter(isHeldOut).length / ids.length;
    expect(share).toBeGreaterThan(HELD_OUT_SHARE - 0.02);
    expect(share).toBeLessThan(HELD_OUT_SHARE + 0.02);
    expect(ids.slice(0, 50).map(isHeldOut)).toEqual(ids.slice(0, 50).map(isHeldOut));
  });
});

// A seeded population: churn over the last 30 days depends on contract, tenure and charges.
const CONTRACTS = ['Month-to-month', 'One year', 'Two year'];
const N = 900;
const DAY = 86_400_000;
interface Person {
  id: string;
  p: number;
}
function population(seed: number): { csv: string; people: Person[] } {
  const r = rng(seed);
  const lines = ['customer_id,tenure,contract,monthly_charges,paperless_billing,internet_service'];
  const people: Person[] = [];
  for (let i = 0; i < N; i++) {
    const contract = r() < 0.5 ? 0 : r() < 0.5 ? 1 : 2;
    const tenure = 1 + Math.floor(r() * 72);
    const monthly = Math.round((20 + r() * 90) * 100) / 100;
    const fiber = r() < 0.4;
    const logit = -0.8 + (contract === 0 ? 1.8 : contract === 1 ? -0.5 : -2) - 0.05 * tenure + 0.02 * (monthly - 60) + (fiber ? 0.6 : 0);
    const id = `RT-${String(i).padStart(4, '0')}`;
    people.push({ id, p: 1 / (1 + Math.exp(-logit)) });
    lines.push([id, tenure, CONTRACTS[contract], monthly, r() < 0.6 ? 1 : 0, fiber ? 'Fiber optic' : 'DSL'].join(','));
  }
  return { csv: lines.join('\n') + '\n', people };
}

let t: TestApp;
let dir: string;
let now = Date.now();
let people: Person[] = [];
const churnedIds = new Set<string>();

const ledgerData = async (type: string): Promise<Record<string, unknown>[]> =>
  (await t.db.query<{ actor: string; body: string }>('SELECT actor, body FROM ledger WHERE type = $1 ORDER BY seq, id', [type])).map(
    (e) => ({
      actor: e.actor,
      ...(JSON.parse(e.body).data as Record<string, unknown>),
    }),
  );

async function postSignals(signals: unknown[]) {
  for (let i = 0; i < signals.length; i += 500) {
    const res = await t.call('POST', '/api/v1/signals', { role: 'agent', body: signals.slice(i, i + 500) });
    expect(res.status, res.text).toBe(202);
  }
  await t.bus.drain();
}

const churnedAt = (id: string, at: number) => ({
  id: `${id}-churned-${at}`,
  type: 'outcome',
  occurredAt: new Date(at).toISOString(),
  subject: { customerId: id },
  data: { kind: 'churned' },
});

beforeAll(async () => {
  t = await createTestApp({ clock: { now: () => new Date(now) } });
  dir = mkdtempSync(join(tmpdir(), 'acs-retrain-'));
  const pop = population(11);
  people = pop.people;
  const file = join(dir, 'customers.csv');
  writeFileSync(file, pop.csv);
  const summary = await importCsv(t.db, 'customers', file, { actor: 'test' });
  expect(summary.rejected).toBe(0);
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('retraining churn on outcomes recorded in ACS, through the API', () => {
  it('with no outcomes recorded yet, the retrain is skipped, saying why, and ledgered', async () => {
    const res = await t.call('POST', '/api/v1/models/churn/retrain');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({
      name: 'churn',
      decision: 'skipped',
      championVersion: null,
      challengerVersion: null,
      margin: 0.01,
      labels: { windowDays: 30, source: 'acs_outcomes' },
      comparison: null,
    });
    expect(res.body.reason).toMatch(/too few outcomes recorded in ACS to retrain churn: \d+ training customers \(0 churned\)/);
    expect(await ledgerData('model.retrained')).toEqual([
      expect.objectContaining({ name: 'churn', decision: 'skipped', actor: expect.stringMatching(/^token:/) }),
    ]);
  });

  it('labels: a churned outcome in the window is a positive, none a negative; churned before the snapshot, or cancelled off the record, is left out', async () => {
    const r = rng(99);
    const signals = [];
    for (const person of people) {
      if (r() < person.p) {
        churnedIds.add(person.id);
        signals.push(churnedAt(person.id, now - (1 + Math.floor(r() * 27)) * DAY));
      }
    }
    // RT-0000..2 churned 40 days ago: gone before the snapshot.
    const early = ['RT-0000', 'RT-0001', 'RT-0002'];
    for (const id of early) (churnedIds.delete(id), signals.push(churnedAt(id, now - 40 * DAY)));
    await postSignals(signals);
    // Two customers cancelled with no outcome recorded in ACS (when they ended is unknown); one cancelled with one.
    const quiet = people
      .map((p) => p.id)
      .filter((id) => !churnedIds.has(id) && !early.includes(id))
      .slice(0, 2);
    const loud = [...churnedIds][0]!;
    await t.db.query(
      "UPDATE subscriptions SET status = 'cancelled' WHERE account_id IN (SELECT id FROM accounts WHERE customer_id = ANY($1::text[]))",
      [[...quiet, loud]],
    );
    const rows = await MODEL_DATASETS.churn!.loadOutcomeLabelled!(t.db, new Date(now - 30 * DAY), new Date(now));
    const ids = rows.map((x) => x.customerId);
    for (const id of [...early, ...quiet]) expect(ids).not.toContain(id);
    expect(ids).toContain(loud);
    expect(rows).toHaveLength(N - 5);
    const positives = rows.filter((x) => x.row.churned === true).map((x) => x.customerId);
    expect(new Set(positives)).toEqual(churnedIds);
    // The imported attribute is no part of it, and the label is never a feature column of its own.
    expect(Object.keys(rows[0]!.row)).toContain('contract');
    expect(churnedIds.size).toBeGreaterThan(150);
    // A window that ended before any outcome: no positives at all.
    const before = await MODEL_DATASETS.churn!.loadOutcomeLabelled!(t.db, new Date(now - 90 * DAY), new Date(now - 60 * DAY));
    expect(before.filter((x) => x.row.churned === true)).toHaveLength(0);
  });

  it('without a champion, the challenger is registered as a candidate and nothing is promoted', async () => {
    const res = await t.call('POST', '/api/v1/models/churn/retrain');
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ decision: 'no_champion', championVersion: null, challengerVersion: 1, comparison: null });
    expect(res.body.training.positives).toBeGreaterThan(100);
    const model = (await t.call('GET', '/api/v1/models/churn')).body;
    expect(model.versions.map((v: { version: number; stage: string }) => [v.version, v.stage])).toEqual([[1, 'candidate']]);
  });

  it('promotes a challenger that clearly beats a champion trained on shuffled labels, and ledgers both metrics, the CI and the margin', async () => {
    // The champion: the same customers, labels shuffled among them, so it learned nothing true.
    const rows = (await MODEL_DATASETS.churn!.loadOutcomeLabelled!(t.db, new Date(now - 30 * DAY), new Date(now)))
      .filter((x) => !isHeldOut(x.customerId))
      .map((x) => x.row);
    const labels = rows.map((x) => x.churned);
    const r = rng(3);
    for (let i = labels.length - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [labels[i], labels[j]] = [labels[j]!, labels[i]!];
    }
    const shuffled = rows.map((x, i) => ({ ...x, churned: labels[i]! }));
    const { model } = trainModel(shuffled, { target: 'churned', positive: 'true', families: ['logistic'], seed: 1 });
    const v2 = await t.db.transaction((tx) =>
      registerModel(tx, { name: 'churn', model: model.toJSON(), rows: shuffled, actor: 'test', now: new Date(now) }),
    );
    expect(v2.version).toBe(2);
    expect((await t.call('POST', '/api/v1/models/churn/versions/2/promote', { body: { stage: 'champion' } })).status).toBe(200);

    const res = await t.call('POST', '/api/v1/models/churn/retrain');
    expect(res.status, res.text).toBe(200);
    const c = res.body.comparison;
    expect(res.body).toMatchObject({ decision: 'promoted', championVersion: 2, challengerVersion: 3, margin: 0.01 });
    expect(c.challengerAuc).toBeGreaterThan(0.7);
    expect(c.championAuc).toBeLessThan(0.62);
    expect(c.difference).toBeCloseTo(c.challengerAuc - c.championAuc, 12);
    expect(c.ci95[0]).toBeGreaterThan(0.01);
    expect(c.ci95[0]).toBeLessThan(c.difference);
    expect(c.ci95[1]).toBeGreaterThan(c.difference);
    expect(c.heldOut.rows).toBeGreaterThan(200);
    expect(c.heldOut.rows + res.body.training.rows).toBe(N - 5);
    expect(c.method).toBe('paired stratified bootstrap, percentile interval, 2000 resamples, seed 13');
    expect(res.body.reason).toMatch(/lower bound above the margin 0.01$/);
    console.log(
      `retrain (shuffled champion): champion AUC ${c.championAuc.toFixed(3)}, challenger ${c.challengerAuc.toFixed(3)}, ` +
        `difference ${c.difference.toFixed(3)} [${c.ci95[0].toFixed(3)}, ${c.ci95[1].toFixed(3)}], held out ${c.heldOut.rows}`,
    );

    const model2 = (await t.call('GET', '/api/v1/models/churn')).body;
    expect(model2.serving).toMatchObject({ source: 'registry', version: 3 });
    const v3 = model2.versions.find((v: { version: number }) => v.version === 3);
    expect(v3).toMatchObject({ stage: 'champion', promotedBy: RETRAIN_ACTOR, replacedVersion: 2 });
    expect(v3.promotionReason).toMatch(/^retrain: challenger AUC/);
    expect(model2.retrains.map((x: { decision: string }) => x.decision)).toEqual(['promoted', 'no_champion', 'skipped']);
    const [promoted] = (await ledgerData('model.retrained')).filter((e) => e.decision === 'promoted');
    expect(promoted).toMatchObject({
      name: 'churn',
      champion: 2,
      challenger: 3,
      margin: 0.01,
      comparison: { championAuc: c.championAuc, challengerAuc: c.challengerAuc, ci95: c.ci95 },
    });
    expect((await ledgerData('model.promoted')).at(-1)).toMatchObject({ actor: RETRAIN_ACTOR, version: 3, to: 'champion', replaced: 2 });
  });

  it('keeps a champion the challenger does not beat by the margin (the CI reaches below it), and ledgers that too', async () => {
    // The champion: the training customers' outcomes in another period, drawn from the same true risk: a good model.
    const byId = new Map(people.map((p) => [p.id, p.p]));
    const r = rng(4242);
    const rows = (await MODEL_DATASETS.churn!.loadOutcomeLabelled!(t.db, new Date(now - 30 * DAY), new Date(now)))
      .filter((x) => !isHeldOut(x.customerId))
      .map((x) => ({ ...x.row, churned: r() < byId.get(x.customerId)! }));
    const { model } = trainModel(rows, { target: 'churned', positive: 'true', families: ['logistic'], seed: 2 });
    await t.db.transaction((tx) => registerModel(tx, { name: 'churn', model: model.toJSON(), rows, actor: 'test', now: new Date(now) }));
    expect((await t.call('POST', '/api/v1/models/churn/versions/4/promote', { body: { stage: 'champion' } })).status).toBe(200);

    const res = await t.call('POST', '/api/v1/models/churn/retrain');
    expect(res.status, res.text).toBe(200);
    const c = res.body.comparison;
    expect(res.body).toMatchObject({ decision: 'kept_champion', championVersion: 4, challengerVersion: 5 });
    expect(c.ci95[0]).toBeLessThanOrEqual(0.01);
    expect(c.ci95[0]).toBeLessThan(0);
    expect(res.body.reason).toMatch(/lower bound not above the margin 0.01$/);
    console.log(
      `retrain (good champion): champion AUC ${c.championAuc.toFixed(3)}, challenger ${c.challengerAuc.toFixed(3)}, ` +
        `difference ${c.difference.toFixed(3)} [${c.ci95[0].toFixed(3)}, ${c.ci95[1].toFixed(3)}]`,
    );
    const model2 = (await t.call('GET', '/api/v1/models/churn')).body;
    expect(model2.serving).toMatchObject({ source: 'registry', version: 4 });
    expect(model2.versions.find((v: { version: number }) => v.version === 5)).toMatchObject({ stage: 'candidate' });
    expect((await ledgerData('model.retrained')).at(-1)).toMatchObject({
      decision: 'kept_champion',
      champion: 4,
      challenger: 5,
      margin: 0.01,
      comparison: { championAuc: c.championAuc, challengerAuc: c.challengerAuc, ci95: c.ci95 },
    });
  });

  it('a higher margin is a setting; the schedule is off with null, and otherwise fires from maintenance once the interval has passed', async () => {
    const put = await t.call('PUT', '/api/v1/models/churn/settings', { body: { retrainEveryDays: null, promoteMargin: 0.05 } });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({
      psiThreshold: 0.25,
      autoDemote: 'off',
      driftCheckHours: 24,
      retrainEveryDays: null,
      labelWindowDays: 30,
      promoteMargin: 0.05,
    });
    expect(await runDueRetrains(t.db, new Date(now + 365 * DAY))).toEqual([]);

    await t.call('PUT', '/api/v1/models/churn/settings', { body: { retrainEveryDays: 7, promoteMargin: 0.05 } });
    // The champion was promoted, and last retrained, just now: nothing is due within the 7 days.
    expect(await runDueRetrains(t.db, new Date(now + 6 * DAY))).toEqual([]);

    const later = new Date(now + 8 * DAY);
    const before = (await ledgerData('model.retrained')).length;
    expect(before).toBe(4);
    const maintenance = startMaintenance(
      t.db,
      {
        transport: new FileTransport(join(dir, 'outbox.jsonl')),
        plays: t.plays,
        clock: { now: () => later },
        models: (at) => runModelUpkeep(t.db, at),
      },
      pino({ level: 'silent' }),
      20,
    );
    let entries: Record<string, unknown>[] = [];
    try {
      for (let i = 0; i < 600 && entries.length === 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        entries = (await ledgerData('model.retrained')).slice(before);
      }
    } finally {
      await maintenance.stop();
    }
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: RETRAIN_ACTOR,
      name: 'churn',
      champion: 4,
      margin: 0.05,
      labels: { asOf: later.toISOString(), windowDays: 30, snapshot: new Date(later.getTime() - 30 * DAY).toISOString() },
    });
    // The margin is now 0.05: the challenger on the later window does not clear it (deterministic by seed).
    expect(entries[0]!.decision).toBe('kept_champion');
    // Once run, not due again within the interval.
    expect(await runDueRetrains(t.db, new Date(later.getTime() + DAY))).toEqual([]);

    // A run that fails is reported, and recorded and ledgered as skipped with the error, so it is not retried every round.
    const failing = new Date(later.getTime() + 8 * DAY);
    const broken = {
      ...t.db,
      query: (async (sql: string, params?: unknown[]) => {
        if (sql.includes("data->>'kind' = 'churned'")) throw new Error('boom');
        return t.db.query(sql, params);
      }) as typeof t.db.query,
    };
    const errors: string[] = [];
    const [failed] = await runDueRetrains(broken, failing, (name, err) => errors.push(`${name}: ${(err as Error).message}`));
    expect(errors).toEqual(['churn: boom']);
    expect(failed).toMatchObject({
      decision: 'skipped',
      ranBy: RETRAIN_ACTOR,
      championVersion: 4,
      reason: expect.stringMatching(/^the retrain failed: boom/),
    });
    expect((await ledgerData('model.retrained')).at(-1)).toMatchObject({ decision: 'skipped', reason: failed!.reason });
    expect(await runDueRetrains(t.db, new Date(failing.getTime() + DAY))).toEqual([]);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  }, 120_000);

  it('only an admin retrains; an unknown model is a 404; bad retrain settings are 400s naming the field', async () => {
    for (const role of ['reviewer', 'analyst', 'agent'] as const) {
      const res = await t.call('POST', '/api/v1/models/churn/retrain', { role });
      expect(res.status).toBe(403);
    }
    expect((await t.call('POST', '/api/v1/models/nope/retrain')).status).toBe(404);
    const bad = await t.call('PUT', '/api/v1/models/churn/settings', {
      body: { retrainEveryDays: 0, labelWindowDays: 0.5, promoteMargin: 1 },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['labelWindowDays', 'promoteMargin', 'retrainEveryDays']);
  });
});

describe('acs model retrain', () => {
  it('runs on the database when no server runs, as the cli actor, and says what it decided and why', async () => {
    const cli = await cliEnv();
    try {
      const run = await runAcs(['model', 'retrain', 'churn'], cli.env);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/^retrain of churn at .* by cli: skipped \(champion none, challenger none\)$/m);
      expect(run.stdout).toMatch(/too few outcomes recorded in ACS to retrain churn: 0 training customers/);
      expect(run.stdout).toMatch(/labels: churned outcomes recorded in ACS from .* \(30 days\); margin 0.01$/m);
      const json = await runAcs(['model', 'retrain', 'churn', '--json'], cli.env);
      expect(JSON.parse(json.stdout)).toMatchObject({ name: 'churn', decision: 'skipped', ranBy: 'cli' });
      const show = await runAcs(['model', 'list', 'churn'], cli.env);
      expect(show.stdout).toMatch(
        /^retrain on outcomes recorded in ACS: every 7 d once a champion serves; 30-day label window, promoted when the AUC gain's 95% CI lower bound exceeds 0.01$/m,
      );
      expect(show.stdout).toMatch(/^retrain of churn at .* by cli: skipped/m);
      const bad = await runAcs(['model', 'retrain'], cli.env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/model retrain needs the model name/);
    } finally {
      await cli.cleanup();
      rmSync(cli.dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
