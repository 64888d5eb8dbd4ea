import pino from 'pino';
import { playRegistry, retentionPlay, serviceRecoveryPlay } from '../act/index.ts';
import { PolicyGate } from '../assure/index.ts';
import { OutboxBus } from '../bus/index.ts';
import { verifyLedger } from '../ledger/index.ts';
import {
  agentUplift,
  dayRange,
  inHoldout,
  leadHoldoutKey,
  measuresOf,
  modelUsage,
  upliftModelReport,
  upliftReport,
  type Comparison,
} from '../learn/index.ts';
import { runScheduledAgents } from '../loop/index.ts';
import { subscribePipeline } from '../pipeline/index.ts';
import { AGENTS, ChurnModel, loadChurnExamples, trainingFingerprint } from '../reason/index.ts';
import type { SimOutcome, SimWorld } from '../sim/index.ts';
import { migrate, openPglite, type Db } from '../store/index.ts';
import { simulationCounts } from '../views/index.ts';
import {
  importFirstCustomers,
  seedContactsAndConsents,
  WorldDriver,
  worldFromDatabase,
  type DayTally,
  type WorldDriverOptions,
} from './driver.ts';

export interface SimulateOptions {
  csvFile: string;
  customers: number;
  days: number;
  seed: number;
  holdout: number;
  onDay?: (done: number, total: number) => void;
  /**
   * Loads a knowledge base into the fresh database before the first day (the CLI loads the demo's), so message bodies
   * are grounded and cited; without it messages go out as templates with no body.
   */
  loadKnowledge?: (db: Db, now: Date) => Promise<unknown>;
  /** Watches the run from outside (the policy-value benchmark): the world at the start, each delivered action, each day. */
  observer?: SimulationObserver;
}

export interface SimulationObserver {
  start?: (world: SimWorld) => void;
  delivered?: WorldDriverOptions['onDelivered'];
  day?: (tally: DayTally, world: SimWorld) => void;
}

/** The first simulated day; fixed so a seed always replays the same calendar. */
export const SIM_START = '2026-01-05T00:00:00.000Z';

const round = (x: number) => Math.round(x * 10_000) / 10_000;
const DAY_MS = 86_400_000;

/** A comparison as the report shows it: rates, intervals and power to 4 decimals. */
function reported(c: Comparison) {
  const r4 = (x: number | null) => (x === null ? null : round(x));
  const group = (g: Comparison['treated']) => ({
    customers: g.customers,
    events: g.events,
    rate: round(g.rate),
    ci95: g.ci95.map(round) as [number, number],
  });
  return {
    treated: group(c.treated),
    holdout: group(c.holdout),
    difference: round(c.difference),
    ci95: c.ci95.map(round) as [number, number],
    pValue: r4(c.power.pValue),
    mde: r4(c.power.mde),
    power: r4(c.power.power),
  };
}

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
    await opts.loadKnowledge?.(db, new Date(SIM_START));
    await importFirstCustomers(db, opts.csvFile, opts.customers, 'sim', new Date(SIM_START));
    await seedContactsAndConsents(db, opts.seed, new Date(SIM_START));
    const examples = await loadChurnExamples(db);
    const churn = examples.length >= 50 ? ChurnModel.train(examples, trainingFingerprint(examples)) : undefined;
    const gate = PolicyGate.load();
    const bus = new OutboxBus(db, pino({ level: 'silent' }), 3_600_000);
    const salt = `sim-${opts.seed}`;
    const loop = { gate, churn: () => churn, holdout: { salt, fraction: opts.holdout }, dailyCreditBudgetCents: 100_000 };
    subscribePipeline(bus, { decide: loop });
    const driver = await WorldDriver.create({
      db,
      bus,
      gate,
      plays: playRegistry(retentionPlay(gate), serviceRecoveryPlay(gate)),
      world: await worldFromDatabase(db, opts.seed),
      start: SIM_START,
      onDelivered: opts.observer?.delivered,
      reviewer: 'sim',
      daily: (now) => runScheduledAgents(db, loop, now),
    });
    const customerIds = driver.world.customers.map((c) => c.input.customerId);
    opts.observer?.start?.(driver.world);

    const signals = { accepted: 0, rejected: 0 };
    const outcomes: SimOutcome[] = [];
    for (let d = 0; d < opts.days; d++) {
      const day = await driver.runDay(d);
      signals.accepted += day.signals.accepted;
      signals.rejected += day.signals.rejected;
      outcomes.push(...day.outcomes);
      opts.observer?.day?.(day, driver.world);
      opts.onDay?.(d + 1, opts.days);
    }
    await bus.drain();
    await bus.stop();

    const held = (key: string) => inHoldout(key, salt, opts.holdout);
    const churned = new Set(outcomes.filter((o) => o.type === 'churned' && o.customerId).map((o) => o.customerId!));
    const uplift = compare(customerIds, held, churned);
    const leadKeys = driver.world.leads.map((l) => leadHoldoutKey({ id: l.leadKey, email: l.email }));
    const converted = new Set(
      outcomes.filter((o) => o.type === 'converted' && o.email).map((o) => leadHoldoutKey({ id: '', email: o.email })),
    );
    const leadUplift = compare(leadKeys, held, converted);

    const { decisions, statuses, approvals, plays, byAgentRows, deniedBy, executions, messageBodies } = await simulationCounts(db);
    // The agents' own measures over the whole run, from the recorded proposals and outcome signals, as the KPIs read
    // them (the range runs to the midnight after the last day, so the last day's end is inside it).
    const range = dayRange(new Date(Date.parse(SIM_START) + opts.days * DAY_MS), opts.days + 1);
    const agents = AGENTS.map((a) => ({ agentId: a.manifest.id, ...(a.manifest.measure ? { measure: a.manifest.measure } : {}) }));
    const upliftByAgent = Object.fromEntries(
      (await agentUplift(db, measuresOf(agents), range)).map((u) => [
        u.agentId,
        {
          outcome: u.outcome,
          better: u.better,
          ...reported(u),
          byAction: Object.fromEntries(u.byAction.map((a) => [a.action, reported(a)])),
        },
      ]),
    );
    // How well the uplift model behind p(success) ranks customers held out of its fit (src/learn/uplift-model.ts).
    const upliftModel = Object.fromEntries(
      (await upliftModelReport(db, measuresOf(agents), range.to)).agents.map((a) => [a.agentId, { outcome: a.outcome, ...a.evaluation }]),
    );
    const models = await modelUsage(db, range);
    const ledger = await verifyLedger(db);
    return {
      customers: customerIds.length,
      days: opts.days,
      seed: opts.seed,
      signals,
      proposals: Object.values(statuses).reduce((a, b) => a + b, 0),
      decisions: {
        executed: decisions.execute ?? 0,
        approval: decisions.approval ?? 0,
        denied: decisions.deny ?? 0,
        suppressed: statuses.suppressed ?? 0,
        heldOut: statuses.held_out ?? 0,
        deniedBy,
      },
      approvals: {
        approved: approvals.approved ?? 0,
        rejected: approvals.rejected ?? 0,
        expired: approvals.expired ?? 0,
        pending: approvals.pending ?? 0,
      },
      outcomes: {
        treated: { customers: uplift.treated.customers, churnRate: round(uplift.treated.rate) },
        holdout: { customers: uplift.holdout.customers, churnRate: round(uplift.holdout.rate) },
        /** Treated minus held-out churn rate. */
        uplift: round(uplift.difference),
        upliftCI95: uplift.ci95.map(round) as [number, number],
        complaints: outcomes.filter((o) => o.type === 'complaint').length,
        leads: {
          treated: { leads: leadUplift.treated.customers, conversionRate: round(leadUplift.treated.rate) },
          holdout: { leads: leadUplift.holdout.customers, conversionRate: round(leadUplift.holdout.rate) },
          upliftCI95: leadUplift.ci95.map(round) as [number, number],
        },
      },
      byAgent: Object.fromEntries(
        byAgentRows.map((r) => [r.agent_id, { proposals: r.proposals, executed: r.executed, approval: r.approval, denied: r.denied }]),
      ),
      /** Per measured agent and action: treated against holdout on the agent's outcome, 95% intervals, p-value, MDE and power. */
      upliftByAgent,
      /** Per measured agent: Qini coefficient and AUUC of the uplift model on customers held out of its fit, with the counts ranked. */
      upliftModel,
      /** Per agent, the models its proposals rested on (`rules` when none), with their versions and counts. */
      models,
      plays,
      executions: executions!.n,
      /** Per agent, its message proposals, how many carry a generated body, and how many of those cite a knowledge passage. */
      messageBodies,
      ledger: { entries: ledger.entries, verified: ledger.ok, head: ledger.head },
    };
  } finally {
    await db.close();
  }
}

export type SimulationReport = Awaited<ReturnType<typeof runSimulation>>;
