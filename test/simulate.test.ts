import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSimulation } from '../src/world/index.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));

describe('acs simulate', () => {
  it('runs the world through intake, agents, policy, the reviewer and execution; the same seed gives the same report', async () => {
    const options = { csvFile: TELCO, customers: 150, days: 6, seed: 11, holdout: 0.2 };
    const first = await runSimulation(options);
    const second = await runSimulation(options);
    const { ledger: l1, ...counts1 } = first;
    const { ledger: l2, ...counts2 } = second;
    expect(counts2).toEqual(counts1);
    expect(l1.entries).toBe(l2.entries);
    expect(l1.verified && l2.verified).toBe(true);

    expect(first).toMatchObject({ customers: 150, days: 6, seed: 11 });
    expect(first.signals.accepted).toBeGreaterThan(0);
    expect(first.signals.rejected).toBe(0);
    expect(first.proposals).toBeGreaterThan(0);
    for (const k of ['executed', 'approval', 'denied', 'suppressed', 'heldOut'] as const) expect(first.decisions[k]).toBeGreaterThanOrEqual(0);
    expect(first.decisions.executed + first.decisions.approval).toBeGreaterThan(0);
    expect(first.outcomes.treated.customers + first.outcomes.holdout.customers).toBe(150);
    expect(first.outcomes.holdout.customers).toBeGreaterThan(0);
    expect(first.outcomes.upliftCI95[0]).toBeLessThanOrEqual(first.outcomes.upliftCI95[1]);
    expect(Object.keys(first.byAgent).length).toBeGreaterThan(0);
  });

  it('a different seed gives a different world', async () => {
    const a = await runSimulation({ csvFile: TELCO, customers: 100, days: 3, seed: 1, holdout: 0.1 });
    const b = await runSimulation({ csvFile: TELCO, customers: 100, days: 3, seed: 2, holdout: 0.1 });
    expect(a.signals.accepted).not.toBe(b.signals.accepted);
  });
});
