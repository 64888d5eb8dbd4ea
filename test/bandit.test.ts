import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { posteriorKey, sampleBeta, thompson, type Posteriors } from '../src/learn/index.ts';
import { RETENTION_OFFERS } from '../src/reason/index.ts';
import { stream } from '../src/lib/index.ts';
import { cliEnv, openCliDb, runAcs } from './cli-helpers.ts';
import { createTestApp, trouble, troubledCustomer, type TestApp } from './helpers.ts';

const ARMS = ['credit-10', 'credit-25', 'credit-50'];

/**
 * A bounded run of Thompson sampling against Bernoulli customers: each round draws an arm, the arm's true rate
 * decides acceptance (from a stream of its own), and the posterior is updated as outcomes would update it.
 */
function simulate(seed: number, truth: Record<string, number>, rounds: number) {
  const posteriors: Posteriors = new Map();
  const played: string[] = [];
  const start = Date.UTC(2025, 0, 1);
  for (let i = 0; i < rounds; i++) {
    const choice = thompson(posteriors, { seed, now: new Date(start + i * 86_400_000) }).choose(
      'test-offer',
      'month-to-month',
      'CUST-1',
      ARMS.map((arm) => ({ arm, payoff: 1, cost: 0 })),
    );
    const accepted = stream(seed, 'truth', i).next() < truth[choice.arm]!;
    const k = posteriorKey('test-offer', 'month-to-month', choice.arm);
    const p = posteriors.get(k) ?? { alpha: 1, beta: 1, pulls: 0 };
    posteriors.set(k, { alpha: p.alpha + (accepted ? 1 : 0), beta: p.beta + (accepted ? 0 : 1), pulls: p.pulls + 1 });
    played.push(choice.arm);
  }
  return { played, posteriors };
}

describe('Thompson sampling', () => {
  it('draws from Beta(alpha, beta): the sample mean is close to alpha / (alpha + beta)', () => {
    const rng = stream(1, 'beta-check');
    const draws = Array.from({ length: 4000 }, () => sampleBeta(rng, 3, 7));
    expect(draws.every((x) => x > 0 && x < 1)).toBe(true);
    expect(draws.reduce((a, b) => a + b, 0) / draws.length).toBeCloseTo(0.3, 1);
  });

  it('converges to the better arm on simulated Bernoulli outcomes, and a seed replays the same run', () => {
    const truth = { 'credit-10': 0.3, 'credit-25': 0.5, 'credit-50': 0.4 };
    for (const seed of [7, 8, 9]) {
      const { played, posteriors } = simulate(seed, truth, 1500);
      const late = played.slice(-500);
      expect(late.filter((a) => a === 'credit-25').length / late.length, `seed ${seed}`).toBeGreaterThan(0.8);
      const best = posteriors.get(posteriorKey('test-offer', 'month-to-month', 'credit-25'))!;
      expect(best.alpha / (best.alpha + best.beta)).toBeGreaterThan(0.44);
      expect(best.alpha / (best.alpha + best.beta)).toBeLessThan(0.56);
      // The worst arm was tried (exploration) but far less than the best.
      const worst = played.filter((a) => a === 'credit-10').length;
      expect(worst).toBeGreaterThan(0);
      expect(worst).toBeLessThan(played.filter((a) => a === 'credit-25').length / 4);
    }
    expect(simulate(7, truth, 300).played).toEqual(simulate(7, truth, 300).played);
  });

  it('explains the choice: the arm, its posterior, its draw, every candidate and why; the score weighs payoff and cost', () => {
    const posteriors: Posteriors = new Map([
      [posteriorKey('b', 's', 'cheap'), { alpha: 30, beta: 10, pulls: 38 }],
      [posteriorKey('b', 's', 'dear'), { alpha: 31, beta: 9, pulls: 38 }],
    ]);
    const now = new Date('2025-03-01T00:00:00Z');
    // Nearly the same acceptance, but the dear arm costs more than it is worth.
    const c = thompson(posteriors, { seed: 1, now }).choose('b', 's', 'CUST-1', [
      { arm: 'cheap', payoff: 100, cost: 5 },
      { arm: 'dear', payoff: 100, cost: 60 },
    ]);
    expect(c).toMatchObject({ bandit: 'b', segment: 's', arm: 'cheap', posterior: { alpha: 30, beta: 10 }, pulls: 38 });
    expect(c.candidates.map((x) => x.arm)).toEqual(['cheap', 'dear']);
    expect(c.candidates[0]!.score).toBeCloseTo(c.candidates[0]!.sampled * 100 - 5, 1);
    expect(c.why).toMatch(/Thompson sampling for segment s/);
    // Same seed, subject and time: the same draws. An unseen arm has the uniform prior.
    expect(
      thompson(posteriors, { seed: 1, now }).choose('b', 's', 'CUST-1', [
        { arm: 'cheap', payoff: 100, cost: 5 },
        { arm: 'dear', payoff: 100, cost: 60 },
      ]),
    ).toEqual(c);
    expect(thompson(new Map(), { seed: 1, now }).choose('b', 's', 'CUST-1', [{ arm: 'new', payoff: 1, cost: 0 }])).toMatchObject({
      arm: 'new',
      posterior: { alpha: 1, beta: 1 },
      pulls: 0,
    });
  });
});

describe('bandits in the loop, updated from outcomes', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ loop: { holdoutFraction: 0 } });
  });
  afterAll(async () => t.close());

  const post = async (body: unknown) => {
    const res = await t.call('POST', '/api/v1/signals', { body, role: 'agent' });
    expect(res.status, res.text).toBe(202);
    await t.bus.drain();
    return res;
  };
  const arms = async () =>
    await t.db.query<{ bandit: string; segment: string; arm: string; alpha: number; beta: number; pulls: number }>(
      'SELECT bandit, segment, arm, alpha, beta, pulls FROM bandit_arms ORDER BY 1, 2, 3',
    );

  it('the retention offer comes from the bandit, is recorded with its posterior, and an outcome naming its action updates it once', async () => {
    // Service recovery paused, so retention's credit offer is the action taken; at L3 a credit waits for approval.
    expect((await t.call('PATCH', '/api/v1/agents/service-recovery', { body: { paused: true } })).status).toBe(200);
    const accountId = await troubledCustomer(t, 'BANDIT-1');
    await post(trouble('BANDIT-1', 1));

    const [offer] = (await t.call('GET', `/api/v1/proposals?accountId=${accountId}&status=decided`, { role: 'analyst' })).body.data;
    expect(offer).toMatchObject({ agentId: 'retention', action: 'offer_credit', decision: { outcome: 'approval' } });
    const choice = offer.ev.bandit;
    expect(choice).toMatchObject({ bandit: 'retention-offer', segment: 'month-to-month', posterior: { alpha: 1, beta: 1 }, pulls: 0 });
    expect(choice.candidates.map((c: { arm: string }) => c.arm)).toEqual(RETENTION_OFFERS.map((o) => o.arm));
    expect(choice.candidates.find((c: { arm: string }) => c.arm === choice.arm).sampled).toBe(choice.sampled);
    expect(choice.why).toContain('Thompson sampling');
    // The offer is the arm's share of the $80 bill, and the sentence says which and why.
    const percent = RETENTION_OFFERS.find((o) => o.arm === choice.arm)!.percent;
    expect(offer.params.amountCents).toBe(Math.max(500, Math.min(5000, 80 * percent)));
    expect(offer.reason).toContain(`the ${percent}% offer chosen by Thompson sampling for month-to-month customers`);
    expect(offer.ev.cost.value).toBe(offer.params.amountCents / 100);
    expect(await arms()).toEqual([{ bandit: 'retention-offer', segment: 'month-to-month', arm: choice.arm, alpha: 1, beta: 1, pulls: 1 }]);

    // Nothing ran yet: an outcome now answers nothing.
    await post({ type: 'outcome', subject: { customerId: 'BANDIT-1' }, data: { kind: 'renewed' } });
    expect((await arms())[0]).toMatchObject({ alpha: 1, beta: 1 });

    // Approved, the credit is applied under the approval's key; the outcome naming that key counts as accepted.
    const approvalId = offer.approval.id;
    expect((await t.call('POST', `/api/v1/approvals/${approvalId}/approve`, { role: 'reviewer', body: {} })).status).toBe(200);
    // An outcome naming an action that is not this offer's leaves the pull alone.
    await post({ type: 'outcome', subject: { customerId: 'BANDIT-1' }, data: { kind: 'churned', actionKey: 'approval:appr_nothing' } });
    expect((await arms())[0]).toMatchObject({ alpha: 1, beta: 1 });
    // The customer's answer to the offer, naming it: accepted.
    await post({
      type: 'outcome',
      subject: { customerId: 'BANDIT-1' },
      data: { kind: 'offer_accepted', actionKey: `approval:${approvalId}` },
    });
    expect((await arms())[0]).toMatchObject({ arm: choice.arm, alpha: 2, beta: 1, pulls: 1 });
    const [pull] = await t.db.query<{ reward: number; outcome_signal_id: string }>(
      'SELECT reward, outcome_signal_id FROM bandit_pulls WHERE proposal_id = $1',
      [offer.id],
    );
    expect(pull!.reward).toBe(1);
    // Once answered, a pull is not counted again.
    await post({
      type: 'outcome',
      subject: { customerId: 'BANDIT-1' },
      data: { kind: 'offer_declined', actionKey: `approval:${approvalId}` },
    });
    await post({ type: 'outcome', subject: { customerId: 'BANDIT-1' }, data: { kind: 'churned' } });
    expect((await arms())[0]).toMatchObject({ alpha: 2, beta: 1 });

    // The next customer of the segment draws from the updated posterior.
    const second = await troubledCustomer(t, 'BANDIT-2');
    await post(trouble('BANDIT-2', 1));
    const [next] = (await t.call('GET', `/api/v1/proposals?accountId=${second}&status=decided`, { role: 'analyst' })).body.data;
    const seen = next.ev.bandit.candidates.find((c: { arm: string }) => c.arm === choice.arm);
    expect(seen).toMatchObject({ alpha: 2, beta: 1 });
  });

  it('a message goes on the channel the bandit picks among those with consent; a later outcome of the subject updates it', async () => {
    const posted = await post({
      id: 'bandit-lead-1',
      type: 'lead_form',
      version: 2,
      subject: { email: 'cara@example.com' },
      data: {
        firstName: 'Cara',
        email: 'cara@example.com',
        phone: '+14155550142',
        formId: 'demo',
        consents: [
          { channel: 'email', purpose: 'sales' },
          { channel: 'sms', purpose: 'sales' },
        ],
      },
    });
    const leadId = posted.body.accepted[0].leadId;
    const [sent] = (await t.call('GET', `/api/v1/proposals?leadId=${leadId}&status=decided`, { role: 'analyst' })).body.data;
    expect(sent).toMatchObject({ agentId: 'lead-nurturing', action: 'send_message', decision: { outcome: 'execute' } });
    const choice = sent.ev.bandit;
    expect(choice).toMatchObject({ bandit: 'channel', segment: 'lead', posterior: { alpha: 1, beta: 1 } });
    expect(choice.candidates.map((c: { arm: string }) => c.arm)).toEqual(['email', 'sms']);
    expect(sent.channel).toBe(choice.arm);
    expect(sent.params.channel).toBe(choice.arm);
    expect(sent.reason).toContain(`sent by ${choice.arm} by Thompson sampling over email, sms for lead`);
    const [message] = await t.db.query<{ channel: string; contact_point: string }>(
      'SELECT channel, contact_point FROM messages WHERE lead_id = $1',
      [leadId],
    );
    expect(message!.channel).toBe(choice.arm);
    expect(message!.contact_point).toBe(choice.arm === 'sms' ? '14155550142' : 'cara@example.com');

    // No actionKey: the lead's open pulls whose action ran before the outcome are answered.
    await post({ type: 'outcome', subject: { email: 'cara@example.com' }, data: { kind: 'converted' } });
    expect((await arms()).find((a) => a.bandit === 'channel')).toMatchObject({
      segment: 'lead',
      arm: choice.arm,
      alpha: 2,
      beta: 1,
      pulls: 1,
    });

    // A lead with one consented channel: that channel, recorded as the only one eligible.
    const only = await post({
      id: 'bandit-lead-2',
      type: 'lead_form',
      version: 2,
      subject: { email: 'dan@example.com' },
      data: {
        firstName: 'Dan',
        email: 'dan@example.com',
        phone: '+14155550143',
        formId: 'demo',
        consents: [{ channel: 'sms', purpose: 'sales' }],
      },
    });
    const [sms] = (await t.call('GET', `/api/v1/proposals?leadId=${only.body.accepted[0].leadId}&status=decided`, { role: 'analyst' })).body
      .data;
    expect(sms).toMatchObject({
      channel: 'sms',
      decision: { outcome: 'execute' },
      ev: { bandit: { arm: 'sms', candidates: [{ arm: 'sms' }] } },
    });
    expect(sms.ev.bandit.why).toMatch(/^only sms was eligible/);
  });

  it('GET /api/v1/bandits shows the posteriors per bandit, segment and arm, with pull counts; staff only', async () => {
    const res = await t.call('GET', '/api/v1/bandits', { role: 'analyst' });
    expect(res.status).toBe(200);
    const offer = res.body.data.find((b: { bandit: string }) => b.bandit === 'retention-offer');
    expect(offer.segment).toBe('month-to-month');
    const played = offer.arms.find((a: { alpha: number }) => a.alpha === 2);
    expect(played).toMatchObject({ beta: 1, mean: 0.6667, accepted: 1, declined: 0, open: 0 });
    expect(offer.arms.reduce((n: number, a: { pulls: number }) => n + a.pulls, 0)).toBe(2);
    const channel = res.body.data.find((b: { bandit: string }) => b.bandit === 'channel');
    expect(channel).toMatchObject({ segment: 'lead' });
    // Dan's sms ran and waits for an outcome.
    expect(channel.arms.find((a: { arm: string }) => a.arm === 'sms').open).toBeGreaterThanOrEqual(1);
    expect(res.body.bandits).toEqual({ 'retention-offer': ['credit-10', 'credit-25', 'credit-50'], channel: ['email', 'sms'] });
    expect(res.body.reward).toEqual({ offer_accepted: 1, renewed: 1, converted: 1, offer_declined: 0, churned: 0 });
    for (const role of ['admin', 'reviewer'] as const) expect((await t.call('GET', '/api/v1/bandits', { role })).status).toBe(200);
    expect((await t.call('GET', '/api/v1/bandits', { role: 'agent' })).status).toBe(403);
  });
});

describe('acs bandits', () => {
  it('prints each arm\u2019s posterior from the database, as text or JSON, and refuses arguments', async () => {
    const cli = await cliEnv();
    try {
      const empty = await runAcs(['bandits'], cli.env);
      expect(empty.code, empty.stderr).toBe(0);
      expect(empty.stdout).toContain('No bandit has been played yet');
      const db = await openCliDb(cli);
      try {
        await db.query(
          "INSERT INTO bandit_arms (bandit, segment, arm, alpha, beta, pulls) VALUES ('retention_offer', 'month-to-month', 'credit_25', 4, 2, 7)",
        );
      } finally {
        await db.close();
      }
      const json = await runAcs(['bandits', '--json'], cli.env);
      expect(json.code, json.stderr).toBe(0);
      const [report] = JSON.parse(json.stdout);
      expect(report).toMatchObject({ bandit: 'retention_offer', segment: 'month-to-month' });
      expect(report.arms[0]).toMatchObject({ arm: 'credit_25', alpha: 4, beta: 2, pulls: 7 });
      expect(report.arms[0].mean).toBeCloseTo(4 / 6, 4);
      const text = await runAcs(['bandits'], cli.env);
      expect(text.stdout).toMatch(/credit_25\s+Beta\(4, 2\)\s+mean\s+66\.7%\s+pulls 7/);
      const bad = await runAcs(['bandits', 'extra'], cli.env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("acs bandits takes no arguments, got 'extra'");
    } finally {
      await cli.cleanup();
    }
  }, 60_000);
});
