import pino from 'pino';
import { playRegistry, retentionPlay } from '../act/index.ts';
import { PolicyGate } from '../assure/index.ts';
import { OutboxBus } from '../bus/index.ts';
import { verifyLedger } from '../ledger/index.ts';
import { inHoldout, leadHoldoutKey, upliftReport } from '../learn/index.ts';
import { runScheduledAgents, subscribeDecisionLoop } from '../loop/index.ts';
import { ChurnModel, loadChurnExamples, trainingFingerprint } from '../reason/index.ts';
import { subscribeFeatureUpdates } from '../sense/index.ts';
import type { SimOutcome } from '../sim/index.ts';
import { migrate, openPglite, type Db } from '../store/index.ts';
import { importFirstCustomers, seedContactsAndConsents, WorldDriver, worldFromDatabase } from './driver.ts';

export interface SimulateOptions {
  csvFile: string;
  customers: number;
  days: number;
  seed: number;
  holdout: number;
  onDay?: (done: number, total: number) => void;
}

/** The first simulated day; fixed so a seed always replays the same calendar. */
const START = '2026-01-05T00:00:00.000Z';

const countBy = async (db: Db, sql: string) => Object.fromEntries((await db.query<{ k: string; n: number }>(sql)).map((r) => [r.k, r.n]));
const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** Treated against held-out: the share of each group with an outcome of this kind, and the 95% interval of the difference. */
function compare(members: string[], held: (key: string) => boolean, hit: Set<string>) {
  const group = (inGroup: boolean) => {
    const ids = members.filter((id) => held(id) === inGroup);
    return { customers: ids.length, events: ids.filter((id) => hit.has(id)).length };
  };
  return upliftReport(group(false), group(true));
}

/**
 * Runs the simulated world through the same code path as the server: signals through intake, the bus,
 * agents, policy, a simulated reviewer, plays, execution and the ledger. The same seed gives the same counts.
 */
export async function runSimulation(opts: SimulateOptions) {
  const db = await openPglite();
  try {
    await migrate(db);
    await importFirstCustomers(db, opts.csvFile, opts.customers, 'sim');
    await seedContactsAndConsents(db, opts.seed);
    const examples = await loadChurnExamples(db);
    const churn = examples.length >= 50 ? ChurnModel.train(examples, trainingFingerprint(examples)) : undefined;
    const gate = PolicyGate.load();
    const bus = new OutboxBus(db, pino({ level: 'silent' }), 3_600_000);
    subscribeFeatureUpdates(bus);
    const salt = `sim-${opts.seed}`;
    const loop = { gate, churn: () => churn, holdout: { salt, fraction: opts.holdout }, dailyCreditBudgetCents: 100_000 };
    subscribeDecisionLoop(bus, loop);
    const driver = await WorldDriver.create({
      db, bus, gate, plays: playRegistry(retentionPlay(gate)), world: await worldFromDatabase(db, opts.seed), start: START, reviewer: 'sim',
      daily: (now) => db.transaction((tx) => runScheduledAgents(tx, loop, now)),
    });
    const customerIds = driver.world.customers.map((c) => c.input.customerId);

    const signals = { accepted: 0, rejected: 0 };
    const outcomes: SimOutcome[] = [];
    for (let d = 0; d < opts.days; d++) {
      const day = await driver.runDay(d);
      signals.accepted += day.signals.accepted;
      signals.rejected += day.signals.rejected;
      outcomes.push(...day.outcomes);
      opts.onDay?.(d + 1, opts.days);
    }
    await bus.drain();
    await bus.stop();

    const held = (key: string) => inHoldout(key, salt, opts.holdout);
    const churned = new Set(outcomes.filter((o) => o.type === 'churned' && o.customerId).map((o) => o.customerId!));
    const uplift = compare(customerIds, held, churned);
    const leadKeys = driver.world.leads.map((l) => leadHoldoutKey({ id: l.leadKey, email: l.email }));
    const converted = new Set(outcomes.filter((o) => o.type === 'converted' && o.email).map((o) => leadHoldoutKey({ id: '', email: o.email })));
    const leadUplift = compare(leadKeys, held, converted);

    const decisions = await countBy(db, 'SELECT outcome AS k, count(*)::int AS n FROM decisions GROUP BY outcome');
    const statuses = await countBy(db, 'SELECT status AS k, count(*)::int AS n FROM proposals GROUP BY status');
    const approvals = await countBy(db, 'SELECT status AS k, count(*)::int AS n FROM approvals GROUP BY status');
    const plays = await countBy(db, 'SELECT status AS k, count(*)::int AS n FROM plays GROUP BY status');
    const byAgentRows = await db.query<{ agent_id: string; proposals: number; executed: number; approval: number; denied: number }>(
      `SELECT p.agent_id, count(*)::int AS proposals,
              count(*) FILTER (WHERE d.outcome = 'execute')::int AS executed, count(*) FILTER (WHERE d.outcome = 'approval')::int AS approval,
              count(*) FILTER (WHERE d.outcome = 'deny')::int AS denied
       FROM proposals p LEFT JOIN decisions d ON d.proposal_id = p.id GROUP BY p.agent_id ORDER BY p.agent_id`);
    const deniedBy = await countBy(db, `SELECT policy AS k, count(*)::int AS n FROM decisions, jsonb_array_elements_text(policy_ids) AS policy WHERE outcome = 'deny' GROUP BY policy`);
    const [executions] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM executions');
    const ledger = await verifyLedger(db);
    return {
      customers: customerIds.length,
      days: opts.days,
      seed: opts.seed,
      signals,
      proposals: Object.values(statuses).reduce((a, b) => a + b, 0),
      decisions: {
        executed: decisions.execute ?? 0, approval: decisions.approval ?? 0, denied: decisions.deny ?? 0, suppressed: statuses.suppressed ?? 0, heldOut: statuses.held_out ?? 0,
        deniedBy,
      },
      approvals: { approved: approvals.approved ?? 0, rejected: approvals.rejected ?? 0, expired: approvals.expired ?? 0, pending: approvals.pending ?? 0 },
      outcomes: {
        treated: { customers: uplift.treated.customers, churnRate: round(uplift.treated.rate) },
        holdout: { customers: uplift.holdout.customers, churnRate: round(uplift.holdout.rate) },
        upliftCI95: uplift.ci95.map(round) as [number, number],
        complaints: outcomes.filter((o) => o.type === 'complaint').length,
        leads: {
          treated: { leads: leadUplift.treated.customers, conversionRate: round(leadUplift.treated.rate) },
          holdout: { leads: leadUplift.holdout.customers, conversionRate: round(leadUplift.holdout.rate) },
          upliftCI95: leadUplift.ci95.map(round) as [number, number],
        },
      },
      byAgent: Object.fromEntries(byAgentRows.map((r) => [r.agent_id, { proposals: r.proposals, executed: r.executed, approval: r.approval, denied: r.denied }])),
      plays,
      executions: executions!.n,
      ledger: { entries: ledger.entries, verified: ledger.ok, head: ledger.head },
    };
  } finally {
    await db.close();
  }
}

export type SimulationReport = Awaited<ReturnType<typeof runSimulation>>;
