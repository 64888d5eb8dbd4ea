import { fileURLToPath } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { simulateCommand } from '../src/cli/simulate.ts';
import type { Config } from '../src/config.ts';
import { runSimulation } from '../src/world/index.ts';

const TELCO = fileURLToPath(new URL('../data/telco_churn.csv', import.meta.url));

describe('acs simulate', () => {
  it('runs the world through intake, agents, policy, the reviewer and execution; the same seed gives the same report', async () => {
    const options = { csvFile: TELCO, customers: 300, days: 10, seed: 7, holdout: 0.1 };
    const first = await runSimulation(options);
    const second = await runSimulation(options);
    const { ledger: l1, ...counts1 } = first;
    const { ledger: l2, ...counts2 } = second;
    expect(counts2).toEqual(counts1);
    expect(l1.entries).toBe(l2.entries);
    expect(l1.verified && l2.verified).toBe(true);

    // The 77 of the first 300 Telco rows labelled as churned import as cancelled subscriptions: they are not simulated.
    expect(first).toMatchObject({ customers: 223, days: 10, seed: 7 });
    expect(first.signals.accepted).toBeGreaterThan(0);
    expect(first.signals.rejected).toBe(0);
    expect(first.proposals).toBeGreaterThan(0);
    // Every kind of outcome happens: actions run, wait for a reviewer, are denied by policy, suppressed, held out.
    for (const k of ['executed', 'approval', 'denied', 'suppressed', 'heldOut'] as const) expect(first.decisions[k]).toBeGreaterThan(0);
    expect(Object.keys(first.decisions.deniedBy)).toContain('outreach-requires-consent');
    expect(first.approvals.approved).toBeGreaterThan(0);
    expect(first.executions).toBeGreaterThanOrEqual(first.decisions.executed);
    expect(first.byAgent['lead-nurturing']!.proposals).toBeGreaterThan(0);
    expect(first.outcomes.treated.customers + first.outcomes.holdout.customers).toBe(223);
    expect(first.outcomes.leads.treated.leads).toBeGreaterThan(0);
    expect(first.ledger.head).toMatch(/^[0-9a-f]{64}$/);
    // No knowledge base loaded: messages are template names with no body.
    for (const b of Object.values(first.messageBodies)) expect(b).toMatchObject({ withBody: 0, cited: 0 });
    expect(Object.keys(first.messageBodies).length).toBeGreaterThan(0);
    expect(first.outcomes.holdout.customers).toBeGreaterThan(0);
    expect(first.outcomes.upliftCI95[0]).toBeLessThanOrEqual(first.outcomes.upliftCI95[1]);
    expect(Object.keys(first.byAgent).length).toBeGreaterThan(0);

    // Per measured agent (and action): treated against holdout on its own outcome, with intervals and power.
    expect(Object.keys(first.upliftByAgent)).toEqual(['retention', 'service-recovery', 'lead-nurturing']);
    expect(first.upliftByAgent.retention).toMatchObject({ outcome: 'churned', better: 'lower' });
    for (const u of Object.values(first.upliftByAgent)) {
      for (const c of [u, ...Object.values(u.byAction)]) {
        expect(c.ci95[0]).toBeLessThanOrEqual(c.difference);
        expect(c.ci95[1]).toBeGreaterThanOrEqual(c.difference);
        for (const g of [c.treated, c.holdout]) expect(g.ci95[0]).toBeLessThanOrEqual(g.ci95[1]);
        expect(c.difference).toBeCloseTo(c.treated.rate - c.holdout.rate, 3);
      }
      expect(Object.keys(u.byAction).length).toBeGreaterThan(0);
    }
    expect(first.upliftByAgent.retention!.treated.customers).toBeGreaterThan(0);
    // Per measured agent: how the uplift model behind p(success) ranks customers held out of its fit.
    expect(Object.keys(first.upliftModel)).toEqual(['retention', 'service-recovery', 'lead-nurturing']);
    expect(first.upliftModel.retention).toMatchObject({ outcome: 'churned' });
    for (const m of Object.values(first.upliftModel)) expect(m.treated + m.holdout).toBe(m.customers);
    // Retention's p(success) comes from the churn model fitted on the demo data, named with its version; the other
    // agents work by rules. Every proposal is accounted for.
    expect(first.models.retention!.length).toBeGreaterThan(0);
    for (const m of first.models.retention!)
      expect(m).toMatchObject({ model: expect.not.stringMatching(/^rules$/), version: expect.stringMatching(/\S/) });
    expect(first.models.retention!.reduce((n, m) => n + m.proposals, 0)).toBe(first.byAgent.retention!.proposals);
    expect(first.models['lead-nurturing']).toEqual([
      { model: 'rules', version: null, proposals: first.byAgent['lead-nurturing']!.proposals },
    ]);
  });

  it('a different seed gives a different world', async () => {
    const a = await runSimulation({ csvFile: TELCO, customers: 100, days: 3, seed: 1, holdout: 0.1 });
    const b = await runSimulation({ csvFile: TELCO, customers: 100, days: 3, seed: 2, holdout: 0.1 });
    expect(a.signals.accepted).not.toBe(b.signals.accepted);
  });

  it('acs simulate loads the demo knowledge base: retention and service-recovery messages get bodies with citations', async () => {
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void printed.push(line));
    try {
      expect(await simulateCommand(['--customers', '300', '--days', '10', '--json'], {} as Config)).toBe(0);
    } finally {
      log.mockRestore();
    }
    const report = JSON.parse(printed.join('\n')) as {
      messageBodies: Record<string, { messages: number; withBody: number; cited: number }>;
    };
    const bodies = report.messageBodies;
    const cited = (bodies.retention?.cited ?? 0) + (bodies['service-recovery']?.cited ?? 0);
    expect(cited, JSON.stringify(bodies)).toBeGreaterThan(0);
    for (const b of Object.values(bodies)) expect(b.cited).toBeLessThanOrEqual(b.withBody);
  });
});
