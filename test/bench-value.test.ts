import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createWorld, dailyHazard, simDay, type SimCustomerInput, type SimWorld } from '../src/sim/index.ts';
import {
  Accounts,
  nonePolicy,
  oraclePolicy,
  POLICIES,
  policyValue,
  runPolicy,
  runValueBenchDetailed,
  valueTable,
  type ValueBenchReport,
} from '../src/world/index.ts';
import { ACTION_COST_CENTS, expectedActiveDays, meanCi, seededConsents } from '../src/world/value.ts';
import { cliEnv, runAcs } from './cli-helpers.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));
const BENCH = fileURLToPath(new URL('../bench/value.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

function input(customerId: string, over: Partial<SimCustomerInput> = {}): SimCustomerInput {
  return {
    customerId,
    gender: 'female',
    seniorCitizen: false,
    partner: false,
    dependents: false,
    historicallyChurned: null,
    contract: 'month-to-month',
    paymentMethod: 'Electronic check',
    paperlessBilling: true,
    tenureMonths: 1,
    monthlyAmount: 90,
    totalBilled: 90,
    services: {
      internetService: 'Fiber optic',
      phoneService: true,
      multipleLines: false,
      onlineSecurity: false,
      onlineBackup: false,
      deviceProtection: false,
      techSupport: false,
      streamingTv: false,
      streamingMovies: false,
    },
    ...over,
  };
}

/** Every key and the type of every value, exactly as issue 13 §6 pins them. */
function expectPinnedShape(r: ValueBenchReport, customers: number, days: number, seed: number) {
  expect(Object.keys(r).sort()).toEqual(['customers', 'days', 'differences', 'oracleShare', 'policies', 'seed', 'uplift']);
  expect(r).toMatchObject({ customers, days, seed });
  expect(Object.keys(r.policies).sort()).toEqual(['acs', 'none', 'oracle', 'random', 'rules']);
  for (const p of Object.values(r.policies)) {
    expect(Object.keys(p).sort()).toEqual(['churnRate', 'ci95', 'complaints', 'contacts', 'netValuePerCustomer']);
    expect(p.ci95).toHaveLength(2);
    expect(p.ci95[0]).toBeLessThanOrEqual(p.netValuePerCustomer);
    expect(p.ci95[1]).toBeGreaterThanOrEqual(p.netValuePerCustomer);
    expect(p.churnRate).toBeGreaterThanOrEqual(0);
    expect(p.churnRate).toBeLessThanOrEqual(1);
    expect(Number.isInteger(p.complaints) && Number.isInteger(p.contacts)).toBe(true);
  }
  expect(Object.keys(r.differences).sort()).toEqual(['acsVsRandom', 'acsVsRules']);
  for (const d of Object.values(r.differences)) {
    expect(Object.keys(d).sort()).toEqual(['ci95', 'mean']);
    expect(d.ci95[0]).toBeLessThanOrEqual(d.mean);
    expect(d.ci95[1]).toBeGreaterThanOrEqual(d.mean);
  }
  expect(r.oracleShare === null || typeof r.oracleShare === 'number').toBe(true);
  expect(Object.keys(r.uplift).sort()).toEqual(['ci95', 'difference', 'outcome']);
  expect(r.uplift.outcome).toBe('churned');
  expect(r.uplift.ci95[0]).toBeLessThanOrEqual(r.uplift.ci95[1]);
}

function runBench(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [TSX, BENCH, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`bench:value ${args.join(' ')} timed out`));
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

describe('policy-value benchmark', () => {
  it('the accountant: revenue for the days a customer stayed, less credits and action costs', () => {
    const start = createWorld([input('A', { monthlyAmount: 60 }), input('B', { monthlyAmount: 30 })], 1);
    const b = start.customers[1]!;
    const end: SimWorld = {
      ...start,
      customers: [start.customers[0]!, { ...b, state: { ...b.state, status: 'churned', churnedDay: 15 } }],
    };
    const accounts = new Accounts(start);
    accounts.delivered('A', { kind: 'offer_credit', amountCents: 1000, hadConsent: true });
    accounts.delivered('A', { kind: 'save_call', hadConsent: true });
    accounts.delivered('B', { kind: 'outreach', hadConsent: true });
    accounts.delivered('B', { kind: 'create_case', hadConsent: true });
    accounts.delivered('nobody', { kind: 'offer_credit', amountCents: 5000, hadConsent: true });
    accounts.outcomes([{ id: 'x', type: 'complaint', customerId: 'B', day: 3, occurredAt: '2026-01-08T12:00:00Z' }]);
    const { value, perCustomer } = policyValue(start, end, 30, accounts);
    // A: $60 for 30 days − $10 credit − $15 save call; B: $30 × 15/30 − $0.50 email − $10 case.
    expect(ACTION_COST_CENTS.save_call).toBe(1500);
    expect([...perCustomer]).toEqual([60 - 10 - 15, 15 - 0.5 - 10]);
    expect(value.netValuePerCustomer).toBeCloseTo((35 + 4.5) / 2, 4);
    expect(value.churnRate).toBe(0.5);
    expect(value.complaints).toBe(1);
    // The credit, the save call and the email reach the customer (contacts); a case is internal.
    expect(value.contacts).toBe(3);
    const { mean, ci95 } = meanCi([35, 4.5]);
    expect(value.ci95).toEqual([Math.round(ci95[0] * 1e4) / 1e4, Math.round(ci95[1] * 1e4) / 1e4]);
    expect(mean).toBeCloseTo(19.75, 10);
    expect(ci95[1] - mean).toBeCloseTo(1.96 * Math.sqrt((15.25 ** 2 * 2) / 1 / 2), 10);
  });

  it('the oracle does no worse than no action where an action clearly helps (persuadable customers), and its look-ahead values a treatment', () => {
    // 200 new fiber customers on a high bill in a world whose base hazard is six times the calibrated one: their
    // hazard is high enough for a retention action to pay back inside the run.
    // All persuadable (the world draws a share of unmoved customers and sleeping dogs, whom no action helps).
    const drawn = createWorld(
      Array.from({ length: 200 }, (_, i) => input(`C${i}`, { monthlyAmount: 110 })),
      3,
      { baseDaily: 0.004 },
    );
    const world = { ...drawn, customers: drawn.customers.map((c) => ({ ...c, responsiveness: 'persuadable' as const })) };
    expect(dailyHazard(world.customers[0]!, 0, world.baseDaily)).toBeGreaterThan(0.01);
    const days = 60;
    const consents = seededConsents(world, world.seed);
    const none = runPolicy(world, days, nonePolicy);
    const oracle = runPolicy(world, days, oraclePolicy(consents, days));
    const vNone = policyValue(world, none.end, days, none.accounts).value;
    const vOracle = policyValue(world, oracle.end, days, oracle.accounts).value;
    expect(oracle.accounts.actions.size).toBeGreaterThan(0);
    expect(vOracle.churnRate).toBeLessThan(vNone.churnRate);
    expect(vOracle.netValuePerCustomer).toBeGreaterThanOrEqual(vNone.netValuePerCustomer);
    // Its look-ahead is a real expectation: more days expected for the customer whom a save call reached.
    const c = world.customers[0]!;
    const called = {
      ...c,
      state: { ...c.state, treatments: [{ source: 'save_call' as const, fromDay: 0, untilDay: 29, hazardMultiplier: 0.5 }] },
    };
    expect(expectedActiveDays(called, 0, 30, world.baseDaily)).toBeGreaterThan(expectedActiveDays(c, 0, 30, world.baseDaily));
  });

  it('the oracle without the hidden kind decides the same whatever the kinds are; the full oracle does not', () => {
    // The same high-risk customers, once all persuadable and once all sleeping dogs.
    const drawn = createWorld(
      Array.from({ length: 60 }, (_, i) => input(`K${i}`, { monthlyAmount: 110 })),
      5,
      { baseDaily: 0.004 },
    );
    const as = (kind: 'persuadable' | 'sleepingDog'): SimWorld => ({
      ...drawn,
      customers: drawn.customers.map((c) => ({ ...c, responsiveness: kind })),
    });
    const consents = seededConsents(drawn, drawn.seed);
    const day = simDay('2027-01-01T00:00:00.000Z', 0);
    const decide = (world: SimWorld, knowsKind: boolean) =>
      oraclePolicy(consents, 60, undefined, undefined, { knowsKind }).decide(world, day, []);
    const blindPersuadable = decide(as('persuadable'), false);
    expect(decide(as('sleepingDog'), false)).toEqual(blindPersuadable);
    const knowing = decide(as('persuadable'), true);
    expect(knowing.length).toBeGreaterThan(0);
    // Contact only makes a sleeping dog likelier to leave: the full oracle leaves them all alone.
    expect(decide(as('sleepingDog'), true).filter((d) => d.action.kind !== 'create_case' && d.action.kind !== 'priority_routing')).toEqual(
      [],
    );
    expect(knowing).not.toEqual(blindPersuadable);
  });

  it('runs five policies on one world in the pinned shape; the same seed gives the same numbers, customers ACS left alone match no action', async () => {
    const opts = { csvFile: TELCO, customers: 150, days: 10, seed: 7 };
    const first = await runValueBenchDetailed(opts);
    expectPinnedShape(first.report, 150, 10, 7);
    const second = await runValueBenchDetailed(opts);
    expect(second.report).toEqual(first.report);
    // Common random numbers: a customer no policy action reached lives the same days under ACS as under no action.
    let untouched = 0;
    first.customerIds.forEach((id, i) => {
      if (first.actedOn.has(id)) return;
      untouched++;
      expect(first.perCustomer.acs[i]).toBe(first.perCustomer.none[i]);
    });
    expect(untouched).toBeGreaterThan(100);
    // Random replays ACS's actions kind for kind: the same number of contacts.
    expect(first.report.policies.random.contacts).toBeLessThanOrEqual(first.report.policies.acs.contacts);
    const table = valueTable(first.report);
    for (const name of POLICIES) expect(table).toMatch(new RegExp(`^${name} `, 'm'));
    expect(table).toContain('oracle');
  }, 120_000);

  it('acs simulate --compare prints the same JSON document; bad flags name the flag', async () => {
    const cli = await cliEnv();
    try {
      const r = await runAcs(['simulate', '--compare', '--customers', '150', '--days', '10', '--seed', '7', '--json'], cli.env, 120_000);
      expect(r.code).toBe(0);
      expect(r.stdout.trim().split('\n')).toHaveLength(1);
      const report = JSON.parse(r.stdout) as ValueBenchReport;
      expectPinnedShape(report, 150, 10, 7);
      expect(r.stderr).toContain('bench:value acs: 10/10 days');
      expect(r.stderr).toMatch(/cores, Node v/);

      const bad = await runAcs(['simulate', '--compare', '--days', 'ninety'], cli.env);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain("--days must be a whole number from 1 to 365, not 'ninety'");
      const unknown = await runAcs(['simulate', '--compare', '--customer', '5'], cli.env);
      expect(unknown.code).toBe(2);
      expect(unknown.stderr).toContain('--customer');
    } finally {
      await cli.cleanup();
    }
    const bench = await runBench(['--customers', '0']);
    expect(bench.code).toBe(2);
    expect(bench.stderr).toContain("--customers must be a whole number from 1 to 7043, not '0'");
    const flag = await runBench(['--bogus']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain('--bogus');
  }, 180_000);
});
