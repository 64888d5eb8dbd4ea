import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binCounts, driftStatus, numericBin, psi, quantileEdges } from '../src/learn/drift.ts';
import { runDueDriftChecks, trainAndRegister } from '../src/learn/registry.ts';
import { retentionAgent, type CustomerContext, type ProposalDraft, type ServedModels } from '../src/reason/index.ts';
import { importCsv } from '../src/sense/import/index.ts';
import { openDatabase } from '../src/server.ts';
import { cliEnv, runAcs } from './cli-helpers.ts';
import { createTestApp, trouble, troubledCustomer, type TestApp } from './helpers.ts';

describe('PSI, worked by hand', () => {
  it('Σ (a − e) · ln(a / e) over bins', () => {
    // (−.15)ln(.4) + (−.05)ln(.8) + (.05)ln(1.2) + (.15)ln(1.6) = .137444 + .011157 + .009116 + .070501
    expect(psi([0.25, 0.25, 0.25, 0.25], [0.1, 0.2, 0.3, 0.4])).toBeCloseTo(0.228218, 5);
    // Symmetric in its two sides.
    expect(psi([0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25])).toBeCloseTo(0.228218, 5);
    // (.3 − .5)ln(.6) + (.7 − .5)ln(1.4) = .102165 + .067294
    expect(psi([0.5, 0.5], [0.3, 0.7])).toBeCloseTo(0.169459, 5);
  });

  it('is 0 for identical populations, and takes counts as well as shares', () => {
    expect(psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5])).toBe(0);
    expect(psi([25, 25, 25, 25], [10, 20, 30, 40])).toBeCloseTo(0.228218, 5);
  });

  it('floors an empty bin at 0.0001, and a bin empty on both sides adds nothing', () => {
    // 2 × (.4 − .5)ln(.8) + (.2 − .0001)ln(.2 / .0001) = .044629 + .1999 × 7.600902
    expect(psi([0.5, 0.5, 0], [0.4, 0.4, 0.2])).toBeCloseTo(1.56405, 5);
    expect(psi([0.5, 0.5, 0], [0.3, 0.7, 0])).toBeCloseTo(0.169459, 5);
    expect(() => psi([1, 2], [1])).toThrow(/2 expected bins but 1/);
    expect(() => psi([0, 0], [1, 1])).toThrow(/no observations/);
  });

  it('bands: below 0.1 ok, to the threshold watch, at or above it drift', () => {
    expect(driftStatus(0.05)).toBe('ok');
    expect(driftStatus(0.1)).toBe('watch');
    expect(driftStatus(0.2499)).toBe('watch');
    expect(driftStatus(0.25)).toBe('drift');
    expect(driftStatus(0.15, 0.12)).toBe('drift');
    expect(driftStatus(0.06, 0.05)).toBe('drift');
  });

  it('bins numbers by training deciles (closed on the right, missing last) and categories by level', () => {
    const edges = quantileEdges(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(edges).toEqual([11, 21, 31, 41, 51, 61, 71, 81, 91]);
    expect([numericBin(edges, 11), numericBin(edges, 11.5), numericBin(edges, 1000), numericBin(edges, NaN)]).toEqual([0, 1, 9, 10]);
    // A 0/1 column has one edge; the maximum never is one.
    expect(quantileEdges([0, 0, 0, 1, 1])).toEqual([0]);
    expect(binCounts({ kind: 'categorical', levels: ['a', 'b'], shares: [] }, ['a', 'b', 'b', 'z', null])).toEqual([1, 2, 1, 1]);
  });
});

// A small seeded world of customers in the Telco export's format: churn depends on contract, tenure and charges.
function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const HEADER =
  'churn,female,senior_citizen,partner,dependents,tenure,phone_service,internet_service,tech_support,contract,paperless_billing,payment_method,monthly_charges';
const CONTRACTS = ['Month-to-month', 'One year', 'Two year'];
const PAYMENTS = ['Electronic check', 'Mailed check', 'Credit card (automatic)'];
const yes = (b: boolean) => (b ? 'Yes' : 'No');

function trainingCsv(n: number, seed: number): string {
  const r = rng(seed);
  const lines = [HEADER];
  for (let i = 0; i < n; i++) {
    const contract = r() < 0.5 ? 0 : r() < 0.5 ? 1 : 2;
    const tenure = 1 + Math.floor(r() * 72);
    const monthly = Math.round((20 + r() * 90) * 100) / 100;
    const fiber = r() < 0.4;
    const logit = -0.5 + (contract === 0 ? 1.5 : contract === 1 ? -0.5 : -1.5) - 0.04 * tenure + 0.015 * (monthly - 60) + (fiber ? 0.5 : 0);
    const churn = r() < 1 / (1 + Math.exp(-logit));
    lines.push(
      [
        yes(churn),
        r() < 0.5 ? 1 : 0,
        r() < 0.15 ? 1 : 0,
        yes(r() < 0.5),
        yes(r() < 0.3),
        tenure,
        yes(r() < 0.9),
        fiber ? 'Fiber optic' : r() < 0.7 ? 'DSL' : 'No',
        yes(r() < 0.3),
        CONTRACTS[contract],
        r() < 0.6 ? 1 : 0,
        PAYMENTS[Math.floor(r() * 3)],
        monthly,
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

/** Long-tenured two-year customers on cheap plans, no outcome recorded: a population unlike the training one. */
function shiftedCsv(n: number, seed: number): string {
  const r = rng(seed);
  const lines = [HEADER.replace('churn,', '')];
  for (let i = 0; i < n; i++) {
    lines.push(
      [
        r() < 0.5 ? 1 : 0,
        0,
        'Yes',
        'Yes',
        60 + Math.floor(r() * 12),
        'Yes',
        'No',
        'No',
        'Two year',
        0,
        'Mailed check',
        Math.round((19 + r() * 6) * 100) / 100,
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

let t: TestApp;
let dir: string;
async function importRows(name: string, csv: string) {
  const file = join(dir, name);
  writeFileSync(file, csv);
  const summary = await importCsv(t.db, 'customers', file, { actor: 'test' });
  expect(summary.rejected).toBe(0);
}
const ledger = async (type: string) =>
  t.db.query<{ actor: string; subject_type: string; subject_id: string; body: string }>(
    'SELECT actor, subject_type, subject_id, body FROM ledger WHERE type = $1 ORDER BY seq, id',
    [type],
  );
const ledgerData = async (type: string) =>
  (await ledger(type)).map((e) => ({ actor: e.actor, ...(JSON.parse(e.body).data as Record<string, unknown>) }));

/** The retention proposals recorded for a customer after a burst of trouble. */
async function retentionProposals(customerId: string, n: number): Promise<ProposalDraft[]> {
  const accountId =
    (await t.db.query<{ id: string }>('SELECT id FROM accounts WHERE customer_id = $1', [customerId]))[0]?.id ??
    (await troubledCustomer(t, customerId));
  expect((await t.call('POST', '/api/v1/signals', { body: trouble(customerId, n), role: 'agent' })).status).toBe(202);
  await t.bus.drain();
  const rows = await t.db.query<{ ev: ProposalDraft['ev'] }>(
    "SELECT ev FROM proposals WHERE account_id = $1 AND agent_id = 'retention' ORDER BY id DESC LIMIT 2",
    [accountId],
  );
  expect(rows.length).toBeGreaterThan(0);
  return rows.map((r) => ({ ev: r.ev }) as ProposalDraft);
}

beforeAll(async () => {
  t = await createTestApp({ loop: { holdoutFraction: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'acs-models-'));
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the model registry, through the API', () => {
  it('lists churn before anything is registered: rules serve; training with too few examples is a 409 that says why', async () => {
    const list = await t.call('GET', '/api/v1/models', { role: 'analyst' });
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([
      expect.objectContaining({ name: 'churn', trainable: true, versions: 0, champion: null, serving: { source: 'rules' } }),
    ]);
    const res = await t.call('POST', '/api/v1/models/churn/train');
    expect(res.status).toBe(409);
    expect(res.body.detail).toMatch(/too few examples to train churn: found 0 customers with a recorded churn outcome/);
    expect(res.body.detail).toMatch(/need at least 50, with 10 of each outcome/);
  });

  it('trains from the store and registers candidates, each with fingerprint, metrics, schema and a drift reference', async () => {
    await importRows('train.csv', trainingCsv(240, 1));
    const v1 = await t.call('POST', '/api/v1/models/churn/train', { body: { families: ['logistic'], seed: 1 } });
    expect(v1.status, v1.text).toBe(201);
    expect(v1.body).toMatchObject({
      name: 'churn',
      version: 1,
      stage: 'candidate',
      family: 'logistic',
      trainingRows: 240,
      registeredBy: expect.stringMatching(/^token:/),
      promotedBy: null,
    });
    expect(v1.body.dataFingerprint).toMatch(/^[0-9a-f]{64}$/);
    expect(v1.body.metrics.heldOut.auc).toBeGreaterThan(0.6);
    expect(v1.body.featureSchema.columns.map((c: { column: string }) => c.column)).toEqual(
      expect.arrayContaining(['contract', 'tenureMonths', 'monthlyAmount']),
    );
    // The outcome is the target, never a feature.
    expect(v1.body.featureSchema.columns.map((c: { column: string }) => c.column)).not.toContain('churned');
    const v2 = await t.call('POST', '/api/v1/models/churn/train', { body: { families: ['logistic'], seed: 2 } });
    expect(v2.body).toMatchObject({ version: 2, stage: 'candidate' });
    const [stored] = await t.db.query<{
      reference: { rows: number; features: { column: string; shares: number[] }[]; score: { edges: number[]; shares: number[] } };
      model: { version: string };
    }>("SELECT reference, model FROM model_versions WHERE name = 'churn' AND version = 1");
    expect(stored!.model.version).toBe('churn-v1');
    expect(stored!.reference.rows).toBe(240);
    expect(stored!.reference.score.edges.length).toBeGreaterThan(5);
    for (const f of stored!.reference.features) expect(f.shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
    expect(await ledgerData('model.registered')).toEqual([
      expect.objectContaining({ name: 'churn', version: 1, family: 'logistic', trainingRows: 240 }),
      expect.objectContaining({ name: 'churn', version: 2 }),
    ]);
  });

  it('promotes a champion, replaces it, and rolls back to the previous one, each in the ledger', async () => {
    const p1 = await t.call('POST', '/api/v1/models/churn/versions/1/promote', { body: { stage: 'champion', reason: 'first model' } });
    expect(p1.status, p1.text).toBe(200);
    expect(p1.body).toMatchObject({
      version: 1,
      stage: 'champion',
      promotedBy: expect.stringMatching(/^token:/),
      promotionReason: 'first model',
      replacedVersion: null,
    });
    const p2 = await t.call('POST', '/api/v1/models/churn/versions/2/promote', { body: { stage: 'champion' } });
    expect(p2.body).toMatchObject({ version: 2, stage: 'champion', replacedVersion: 1 });
    let model = (await t.call('GET', '/api/v1/models/churn', { role: 'analyst' })).body;
    expect(model.serving).toMatchObject({ source: 'registry', version: 2 });
    expect(model.versions.map((v: { version: number; stage: string }) => [v.version, v.stage])).toEqual([
      [2, 'champion'],
      [1, 'retired'],
    ]);
    expect(model.versions[1].retiredReason).toBe('replaced by v2');

    const back = await t.call('POST', '/api/v1/models/churn/rollback', { body: { reason: 'v2 looks off' } });
    expect(back.status, back.text).toBe(200);
    expect(back.body).toMatchObject({ from: 2, to: { version: 1, stage: 'champion' } });
    model = (await t.call('GET', '/api/v1/models/churn')).body;
    expect(model.versions.map((v: { version: number; stage: string }) => [v.version, v.stage])).toEqual([
      [2, 'retired'],
      [1, 'champion'],
    ]);
    // v1 replaced nothing: there is no further back.
    const again = await t.call('POST', '/api/v1/models/churn/rollback');
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/churn v1 replaced no earlier champion/);

    expect(await ledgerData('model.promoted')).toEqual([
      expect.objectContaining({ name: 'churn', version: 1, from: 'candidate', to: 'champion', reason: 'first model' }),
      expect.objectContaining({ name: 'churn', version: 2, from: 'candidate', to: 'champion', replaced: 1 }),
    ]);
    expect(await ledgerData('model.demoted')).toEqual([
      expect.objectContaining({ version: 1, from: 'champion', to: 'retired', reason: 'replaced by v2' }),
    ]);
    expect(await ledgerData('model.rolled_back')).toEqual([
      expect.objectContaining({ name: 'churn', from: 2, to: 1, reason: 'v2 looks off', actor: expect.stringMatching(/^token:/) }),
    ]);
  });

  it('every retention proposal records the champion it used, with the challenger shadow-scored beside it but not deciding', async () => {
    expect((await t.call('POST', '/api/v1/models/churn/versions/2/promote', { body: { stage: 'challenger' } })).body).toMatchObject({
      version: 2,
      stage: 'challenger',
    });
    const proposals = await retentionProposals('SHADOW-1', 1);
    for (const { ev } of proposals) {
      expect(ev.pSuccess).toMatchObject({
        source: 'model',
        model: { id: 'churn', version: '1' },
        detail: expect.stringMatching(/registry champion churn v1/),
      });
      expect(ev.pSuccess.shadow).toMatchObject({
        model: { id: 'churn', version: '2' },
        detail: expect.stringMatching(/challenger churn v2.*shadow only/),
      });
      expect(typeof ev.pSuccess.shadow!.value).toBe('number');
      // The value decided on is the champion's.
      expect(ev.value).toBeCloseTo(ev.pSuccess.value * ev.impact.value - ev.cost.value - ev.riskPenalty.value, 1);
    }
    const list = (await t.call('GET', '/api/v1/models')).body.data[0];
    expect(list).toMatchObject({ champion: { version: 1 }, challenger: { version: 2 }, serving: { source: 'registry', version: 1 } });
  });

  it('a drift check on the training population is stable; on a shifted one it alerts, names the column and keeps the champion (auto-demotion off)', async () => {
    const calm = await t.call('POST', '/api/v1/models/churn/drift');
    expect(calm.status, calm.text).toBe(200);
    expect(calm.body).toMatchObject({ name: 'churn', version: 1, status: 'ok', threshold: 0.25, action: null });
    expect(calm.body.maxPsi).toBeLessThan(0.1);
    expect(calm.body.population).toBeGreaterThanOrEqual(240);
    expect(await ledger('model.drift_alert')).toHaveLength(0);

    await importRows('shifted.csv', shiftedCsv(400, 3));
    const drifted = await t.call('POST', '/api/v1/models/churn/drift');
    expect(drifted.body).toMatchObject({ status: 'drift', action: null });
    expect(drifted.body.maxPsi).toBeGreaterThanOrEqual(0.25);
    const byColumn = Object.fromEntries(drifted.body.features.map((f: { column: string; psi: number }) => [f.column, f.psi]));
    expect(byColumn.contract).toBeGreaterThan(0.25);
    expect(byColumn.tenureMonths).toBeGreaterThan(0.25);
    expect(drifted.body.score.psi).toBeGreaterThan(0.1);
    // Each feature's PSI is the sum over its bins, recomputable from what is reported.
    const contract = drifted.body.features.find((f: { column: string }) => f.column === 'contract');
    expect(
      psi(
        contract.bins.map((b: { expected: number }) => b.expected),
        contract.bins.map((b: { actual: number }) => b.actual),
      ),
    ).toBeCloseTo(contract.psi, 4);

    const [alert] = await ledgerData('model.drift_alert');
    expect(alert).toMatchObject({ name: 'churn', version: 1, threshold: 0.25, worst: drifted.body.worst });
    const model = (await t.call('GET', '/api/v1/models/churn', { role: 'analyst' })).body;
    expect(model.latestDrift).toMatchObject({ id: drifted.body.id, status: 'drift', maxPsi: drifted.body.maxPsi });
    expect(model.driftChecks.map((c: { status: string }) => c.status)).toEqual(['drift', 'ok']);
    expect(model.serving).toMatchObject({ source: 'registry', version: 1 });
  });

  it('with autoDemote last_good, a drifted champion gives way to the last good version, then (none left) to rules, and proposals say rules', async () => {
    // v2 champion again, replacing v1: v1 is its last good version.
    await t.call('POST', '/api/v1/models/churn/versions/2/promote', { body: { stage: 'champion' } });
    const put = await t.call('PUT', '/api/v1/models/churn/settings', { body: { autoDemote: 'last_good', psiThreshold: 0.2 } });
    expect(put.status, put.text).toBe(200);
    expect(put.body).toEqual({
      autoDemote: 'last_good',
      psiThreshold: 0.2,
      driftCheckHours: 24,
      retrainEveryDays: 7,
      labelWindowDays: 30,
      promoteMargin: 0.01,
    });

    const first = await t.call('POST', '/api/v1/models/churn/drift');
    expect(first.body).toMatchObject({ version: 2, status: 'drift', threshold: 0.2, action: 'demoted to v1' });
    let model = (await t.call('GET', '/api/v1/models/churn')).body;
    const v = (n: number) => model.versions.find((x: { version: number }) => x.version === n);
    expect(v(1)).toMatchObject({ stage: 'champion', promotedBy: 'system:drift', promotionReason: 'last good version after v2 drifted' });
    expect(v(2)).toMatchObject({ stage: 'retired', demotedForDrift: true, retiredReason: expect.stringMatching(/^drift: PSI/) });

    const second = await t.call('POST', '/api/v1/models/churn/drift');
    expect(second.body).toMatchObject({ version: 1, status: 'drift', action: 'demoted to rules' });
    model = (await t.call('GET', '/api/v1/models/churn')).body;
    expect(model.serving).toMatchObject({
      source: 'rules',
      reason: expect.stringMatching(/churn v1 was demoted for drift.*no earlier good version/),
    });
    expect(model.versions.every((x: { stage: string }) => x.stage !== 'champion')).toBe(true);
    expect((await ledgerData('model.demoted')).slice(-2)).toEqual([
      expect.objectContaining({ actor: 'system:drift', version: 2, to: 'retired', replacedBy: 1 }),
      expect.objectContaining({ actor: 'system:drift', version: 1, to: 'rules' }),
    ]);

    // No model serves: the agent falls back to its documented rules and says so.
    for (const { ev } of await retentionProposals('RULES-1', 1)) {
      expect(ev.pSuccess.source).toBe('rule');
      expect(ev.pSuccess.model).toBeUndefined();
      expect(ev.pSuccess.detail).toMatch(/10% base, \+15 month-to-month, \+15 per trigger \(no model: churn v1 was demoted for drift/);
    }
    // Nothing to check while rules serve.
    expect((await t.call('POST', '/api/v1/models/churn/drift')).status).toBe(409);
  });

  it('rolls back from rules to the demoted champion; autoDemote rules goes straight to rules; the schedule checks what is due', async () => {
    const back = await t.call('POST', '/api/v1/models/churn/rollback');
    expect(back.body).toMatchObject({ from: 'rules', to: { version: 1, stage: 'champion', demotedForDrift: false } });
    expect((await ledgerData('model.rolled_back')).at(-1)).toMatchObject({ from: 'rules', to: 1 });
    const served = await retentionProposals('BACK-1', 1);
    expect(served[0]!.ev.pSuccess.model).toEqual({ id: 'churn', version: '1' });

    await t.call('PUT', '/api/v1/models/churn/settings', { body: { autoDemote: 'rules', driftCheckHours: 6 } });
    const now = new Date();
    // v1's last check (the one that demoted it) is under 6 hours old: nothing is due yet.
    expect(await runDueDriftChecks(t.db, now)).toEqual([]);
    const later = new Date(now.getTime() + 7 * 3600_000);
    const [check] = await runDueDriftChecks(t.db, later);
    expect(check).toMatchObject({ name: 'churn', version: 1, status: 'drift', action: 'demoted to rules', checkedBy: 'system:drift' });
    expect((await t.call('GET', '/api/v1/models/churn')).body.serving.source).toBe('rules');
    expect(await runDueDriftChecks(t.db, new Date(later.getTime() + 24 * 3600_000))).toEqual([]);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });
});

describe('who may do what, and 4xx that name the field', () => {
  it('staff read; only admins train, promote, roll back, check and change settings', async () => {
    for (const role of ['admin', 'reviewer', 'analyst'] as const) {
      expect((await t.call('GET', '/api/v1/models', { role })).status).toBe(200);
      expect((await t.call('GET', '/api/v1/models/churn', { role })).status).toBe(200);
    }
    expect((await t.call('GET', '/api/v1/models', { role: 'agent' })).status).toBe(403);
    const writes: [string, string, unknown][] = [
      ['POST', '/api/v1/models/churn/train', {}],
      ['POST', '/api/v1/models/churn/versions/1/promote', { stage: 'champion' }],
      ['POST', '/api/v1/models/churn/rollback', {}],
      ['POST', '/api/v1/models/churn/drift', undefined],
      ['PUT', '/api/v1/models/churn/settings', { autoDemote: 'off' }],
    ];
    for (const role of ['reviewer', 'analyst', 'agent'] as const) {
      for (const [method, path, body] of writes) {
        const res = await t.call(method, path, { role, ...(body === undefined ? {} : { body }) });
        expect(res.status, `${method} ${path} as ${role}`).toBe(403);
        expect(res.body.detail).toMatch(/allowed: admin$/);
      }
    }
  });

  it('bad stage, version, settings and training options are 400s naming the field; unknown models and versions 404; repeats 409', async () => {
    const stage = await t.call('POST', '/api/v1/models/churn/versions/1/promote', { body: { stage: 'boss' } });
    expect(stage.status).toBe(400);
    expect(stage.body.issues.map((i: { path: string }) => i.path)).toEqual(['stage']);
    const version = await t.call('POST', '/api/v1/models/churn/versions/abc/promote', { body: { stage: 'champion' } });
    expect(version.status).toBe(400);
    expect(version.body.issues[0].path).toBe('version');
    expect((await t.call('POST', '/api/v1/models/churn/versions/99/promote', { body: { stage: 'champion' } })).status).toBe(404);
    const missing = await t.call('GET', '/api/v1/models/nope');
    expect(missing.status).toBe(404);
    expect(missing.body.detail).toMatch(/no model 'nope'; known: churn/);
    const settings = await t.call('PUT', '/api/v1/models/churn/settings', {
      body: { psiThreshold: -1, autoDemote: 'sometimes', extra: 1 },
    });
    expect(settings.status).toBe(400);
    expect(settings.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['autoDemote', 'extra', 'psiThreshold']);
    const train = await t.call('POST', '/api/v1/models/churn/train', { body: { families: ['forest'] } });
    expect(train.status).toBe(400);
    expect(train.body.issues[0].path).toBe('families.0');
    await t.call('POST', '/api/v1/models/churn/versions/1/promote', { body: { stage: 'champion' } });
    const twice = await t.call('POST', '/api/v1/models/churn/versions/1/promote', { body: { stage: 'champion' } });
    expect(twice.status).toBe(409);
    expect(twice.body.detail).toBe('churn v1 is already the champion');
    const demote = await t.call('POST', '/api/v1/models/churn/versions/1/promote', { body: { stage: 'challenger' } });
    expect(demote.status).toBe(409);
  });
});

describe('the retention agent chooses its churn score in order', () => {
  const ctx: CustomerContext = {
    accountId: 'acc_1',
    customerId: 'C-1',
    attributes: {},
    subscription: { contract: 'month-to-month', tenureMonths: 3, monthlyAmount: 80 },
    features: { paymentFailures30d: 2 },
    consents: [],
    contacts: [],
  };
  const scorer = (version: number, p: number) => ({ name: 'churn', version, predict: () => p });
  const pSuccess = (registry?: ServedModels) =>
    retentionAgent.propose(ctx, registry ? { registry: { churn: registry } } : {})[0]!.ev.pSuccess;

  it('registry champion, else rules (saying why); a challenger only ever rides along', () => {
    const withChampion = pSuccess({ champion: scorer(3, 0.4), challenger: scorer(4, 0.7), rules: null });
    // 40% + 2 triggers × 10 points = 60%, × 0.3 save rate for the credit.
    expect(withChampion).toMatchObject({ source: 'model', value: 0.18, model: { id: 'churn', version: '3' } });
    expect(withChampion.shadow).toMatchObject({ model: { id: 'churn', version: '4' }, value: 0.27 });
    const ruled = pSuccess({ champion: null, challenger: scorer(4, 0.7), rules: 'churn v3 was demoted for drift' });
    expect(ruled).toMatchObject({
      source: 'rule',
      detail: expect.stringMatching(/no model: churn v3 was demoted for drift/),
      shadow: { model: { version: '4' } },
    });
    expect(pSuccess()).toMatchObject({ source: 'rule', detail: expect.stringMatching(/no model available/) });
  });
});

describe('acs model list|promote|rollback|drift', () => {
  it('works on the database when no server runs, as the cli actor, with usage errors that name the argument', async () => {
    const cli = await cliEnv();
    try {
      const config = { databaseUrl: cli.env.DATABASE_URL, dataDir: cli.dataDir };
      const db = await openDatabase(config);
      try {
        const file = join(cli.dataDir, 'train.csv');
        writeFileSync(file, trainingCsv(120, 5));
        await importCsv(db, 'customers', file, { actor: 'test' });
        await trainAndRegister(db, 'churn', { families: ['logistic'] }, 'test', new Date());
      } finally {
        await db.close();
      }
      const promote = await runAcs(['model', 'promote', 'churn', '1', '--reason', 'first'], cli.env);
      expect(promote.code, promote.stderr).toBe(0);
      expect(promote.stdout).toMatch(/^churn v1 is now the champion$/m);
      const list = await runAcs(['model', 'list'], cli.env);
      expect(list.stdout).toMatch(
        /^churn: 1 version, champion v1 \(logistic, AUC 0\.\d{3}\); serving registry v1; not checked for drift yet$/m,
      );
      const drift = await runAcs(['model', 'drift', 'churn', '--json'], cli.env);
      expect(drift.code, drift.stderr).toBe(0);
      expect(JSON.parse(drift.stdout)).toMatchObject({ name: 'churn', version: 1, status: 'ok', checkedBy: 'cli', population: 120 });
      const show = await runAcs(['model', 'list', 'churn'], cli.env);
      expect(show.stdout).toMatch(/^churn: serving registry v1; PSI threshold 0.25, auto-demote off, checked every 24 h$/m);
      expect(show.stdout).toMatch(/^ {6}1 {2}champion {4}logistic {2}.*cli /m);
      expect(show.stdout).toMatch(/^drift check of churn v1 .* by cli: OK/m);
      const rollback = await runAcs(['model', 'rollback', 'churn'], cli.env);
      expect(rollback.code).toBe(2);
      expect(rollback.stderr).toMatch(/churn v1 replaced no earlier champion/);
      const bad = await runAcs(['model', 'promote', 'churn', 'x'], cli.env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/VERSION must be a version number/);
      const stage = await runAcs(['model', 'promote', 'churn', '1', '--stage', 'boss'], cli.env);
      expect(stage.stderr).toMatch(/--stage must be champion or challenger, not 'boss'/);
    } finally {
      await cli.cleanup();
      rmSync(cli.dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});
