import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importCsv } from '../src/sense/import/index.ts';
import { createTestApp, trouble, troubledCustomer, type ResponseBody, type TestApp } from './helpers.ts';

// Issue 13, "one score": the approval card and the Customer 360 show the same churn probability, from the same model
// version, scored at the same time; a fresh score by another model version is labelled as such, never mixed in.

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const HEADER = 'churn,tenure,internet_service,contract,paperless_billing,payment_method,monthly_charges';
const CONTRACTS = ['Month-to-month', 'One year', 'Two year'];
/** Customers in the Telco export's format whose churn depends on contract, tenure and charges. */
function trainingCsv(n: number, seed: number): string {
  const r = rng(seed);
  const lines = [HEADER];
  for (let i = 0; i < n; i++) {
    const contract = r() < 0.5 ? 0 : r() < 0.5 ? 1 : 2;
    const tenure = 1 + Math.floor(r() * 72);
    const monthly = Math.round((20 + r() * 90) * 100) / 100;
    const logit = -0.5 + (contract === 0 ? 1.5 : contract === 1 ? -0.5 : -1.5) - 0.04 * tenure + 0.015 * (monthly - 60);
    const churn = r() < 1 / (1 + Math.exp(-logit));
    lines.push(
      [churn ? 'Yes' : 'No', tenure, r() < 0.4 ? 'Fiber optic' : 'DSL', CONTRACTS[contract], 1, 'Electronic check', monthly].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await createTestApp({ loop: { holdoutFraction: 0 } });
  dir = mkdtempSync(join(tmpdir(), 'acs-score-'));
  const file = join(dir, 'train.csv');
  writeFileSync(file, trainingCsv(240, 1));
  expect((await importCsv(t.db, 'customers', file, { actor: 'test' })).rejected).toBe(0);
  for (const seed of [1, 2]) {
    const v = await t.call('POST', '/api/v1/models/churn/train', { body: { families: ['logistic'], seed } });
    expect(v.status, v.text).toBe(201);
  }
  expect((await t.call('POST', '/api/v1/models/churn/versions/1/promote', { body: { stage: 'champion' } })).status).toBe(200);
});
afterAll(async () => {
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const scoreOf = (s: ResponseBody) => ({ probability: s.probability, model: s.model, scoredAt: s.scoredAt, source: s.source });

/** The pending approval the console's review card shows for this customer, with a churn score. */
async function cardOf(customerId: string): Promise<ResponseBody> {
  const queue = await t.call('GET', '/api/v1/approvals?limit=200', { role: 'reviewer' });
  expect(queue.status).toBe(200);
  const card = queue.body.data.find((a: ResponseBody) => a.customer.customerId === customerId && a.proposal.churn);
  expect(card, `no approval with a churn score for ${customerId}`).toBeDefined();
  return card;
}

describe('one churn score: the approval card and the Customer 360', () => {
  it('show the same probability, from the same model version, scored at the same time as the decision', async () => {
    const accountId = await troubledCustomer(t, 'SCORE-1');
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('SCORE-1', 1), role: 'agent' })).status).toBe(202);
    await t.bus.drain();

    const card = await cardOf('SCORE-1');
    const churn = card.proposal.churn;
    expect(churn).toMatchObject({ source: 'model', model: { name: 'churn', version: '1' } });
    expect(churn.probability).toBeGreaterThan(churn.profileScore);
    // The sentence on the card says the same number.
    expect(card.proposal.reason).toContain(`churn risk ${(churn.probability * 100).toFixed(0)}%`);
    // Scored when the proposal was made, on the decision's clock.
    const [row] = await t.db.query<{ created_at: Date }>('SELECT created_at FROM proposals WHERE id = $1', [card.proposal.id]);
    expect(churn.scoredAt).toBe(row!.created_at.toISOString());

    const profile = await t.call('GET', `/api/v1/customers/SCORE-1/profile`, { role: 'analyst' });
    expect(profile.status).toBe(200);
    const { decided, current } = profile.body.churn;
    expect(scoreOf(decided)).toEqual(scoreOf(churn));
    expect(decided.triggers).toEqual(churn.triggers);
    expect(decided.decisionId).not.toBeNull();
    // The fresh score is labelled as one: same function, same model, scored now.
    expect(current).toMatchObject({ fresh: true, sameModelAsDecided: true, model: { name: 'churn', version: '1' } });
    expect(current.probability).toBe(churn.probability);
    expect(Date.parse(current.scoredAt)).toBeGreaterThanOrEqual(Date.parse(churn.scoredAt));
    expect(current.label).toMatch(/the model the latest decision used/);
    // The feature history's churn is the profile score of the same serving model.
    const history = await t.call('GET', `/api/v1/customers/${accountId}/features/history?points=2`, { role: 'analyst' });
    expect(history.body.data.at(-1).churn).toEqual({ probability: churn.profileScore, modelId: 'churn', modelVersion: '1' });
  });

  it('a score by another model version is labelled as such, and the decided one keeps its own version and time', async () => {
    const before = (await cardOf('SCORE-1')).proposal.churn;
    expect((await t.call('POST', '/api/v1/models/churn/versions/2/promote', { body: { stage: 'champion' } })).status).toBe(200);

    const { decided, current } = (await t.call('GET', '/api/v1/customers/SCORE-1/profile')).body.churn;
    expect(scoreOf(decided)).toEqual(scoreOf(before));
    expect(current).toMatchObject({ fresh: true, sameModelAsDecided: false, model: { name: 'churn', version: '2' } });
    expect(current.label).toMatch(/scored now by churn v2, a different model from the one the latest decision used \(churn v1, scored /);
    // The card still shows what it was decided with.
    expect((await cardOf('SCORE-1')).proposal.churn).toEqual(before);

    // A new decision uses the new champion; the card and the 360 move together.
    expect((await t.call('POST', '/api/v1/signals', { body: trouble('SCORE-1', 2), role: 'agent' })).status).toBe(202);
    await t.bus.drain();
    const again = (await t.call('GET', '/api/v1/customers/SCORE-1/profile')).body.churn;
    expect(again.decided.model).toEqual({ name: 'churn', version: '2' });
    expect(again.current.sameModelAsDecided).toBe(true);
    // What the 360 calls decided is what that proposal recorded (its card, if it waits for a person, shows this field).
    const [stored] = await t.db.query<{ churn: unknown }>("SELECT ev->'churn' AS churn FROM proposals WHERE id = $1", [
      again.decided.proposalId,
    ]);
    expect(scoreOf(stored!.churn)).toEqual(scoreOf(again.decided));
  });

  it('without a churn score decided yet, the 360 says so and the fresh score still names its model', async () => {
    await troubledCustomer(t, 'SCORE-2');
    const { decided, current } = (await t.call('GET', '/api/v1/customers/SCORE-2/profile')).body.churn;
    expect(decided).toBeNull();
    expect(current).toMatchObject({ fresh: true, sameModelAsDecided: null, model: { name: 'churn', version: '2' }, triggers: [] });
    expect(current.label).toMatch(/no decision has used a churn score yet/);
  });
});
