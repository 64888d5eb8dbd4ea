import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { approve, executeDecision, expireApprovals, reject } from './act/index.ts';
import { PolicyGate } from './assure/index.ts';
import { OutboxBus } from './bus/index.ts';
import { verifyLedger } from './ledger/index.ts';
import { inHoldout, upliftReport } from './learn/index.ts';
import { subscribeDecisionLoop } from './loop.ts';
import { ChurnModel, loadChurnExamples, trainingFingerprint } from './reason/index.ts';
import { ingestSignals, subscribeFeatureUpdates } from './sense/index.ts';
import { importCsv } from './sense/import/index.ts';
import { applyAction, bernoulli, createWorld, simCustomerFromRecords, simDay, simulateDay, stream, type SimAction, type SimOutcome } from './sim/index.ts';
import { migrate, openPglite, type Db } from './store/index.ts';

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
/** Seeded consent: the share of customers who agreed to service email, and to marketing email. */
export const SIM_CONSENT = { serviceEmail: 0.7, marketingEmail: 0.4 };
/** The simulated reviewer approves unless the expected value is negative or a credit is above this. */
export const SIM_REVIEWER_MAX_CREDIT_CENTS = 10_000;

const ACTION_KIND: Record<string, SimAction['kind']> = {
  offer_credit: 'offer_credit', apply_credit: 'offer_credit', create_task: 'save_call', send_message: 'outreach',
  create_case: 'create_case', priority_routing: 'priority_routing', route_lead: 'route_lead', update_record: 'update_record',
};

async function loadCustomers(db: Db, csvFile: string, n: number, seed: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'acs-sim-'));
  try {
    const lines = readFileSync(csvFile, 'utf8').split('\n').filter((l) => l.trim());
    writeFileSync(join(dir, 'customers.csv'), lines.slice(0, n + 1).join('\n') + '\n');
    await importCsv(db, 'customers', join(dir, 'customers.csv'), { actor: 'sim' });
    const accounts = await db.query<{ id: string; customer_id: string }>('SELECT id, customer_id FROM accounts ORDER BY customer_id');
    writeFileSync(join(dir, 'contacts.csv'), 'accountId,email\n' + accounts.map((a) => `${a.id},${a.customer_id.toLowerCase()}@example.com`).join('\n') + '\n');
    await importCsv(db, 'contacts', join(dir, 'contacts.csv'), { actor: 'sim' });
    const contacts = await db.query<{ id: string; email: string }>('SELECT id, email FROM contacts');
    const rows: string[] = [];
    for (const c of contacts) {
      const rng = stream(seed, 'consent', c.email);
      for (const [purpose, p] of [['service', SIM_CONSENT.serviceEmail], ['marketing', SIM_CONSENT.marketingEmail]] as const) {
        if (bernoulli(rng, p)) rows.push(`${c.id},email,${purpose},granted,signup,2025-12-01T00:00:00Z`);
      }
    }
    writeFileSync(join(dir, 'consents.csv'), 'contactId,channel,purpose,status,source,capturedAt\n' + rows.join('\n') + '\n');
    await importCsv(db, 'consents', join(dir, 'consents.csv'), { actor: 'sim' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const countBy = async (db: Db, sql: string) => Object.fromEntries((await db.query<{ k: string; n: number }>(sql)).map((r) => [r.k, r.n]));

/**
 * Runs the simulated world through the same code path as the server: signals through intake, the bus,
 * agents, policy, a simulated reviewer, execution and the ledger. The same seed gives the same counts.
 */
export async function runSimulation(opts: SimulateOptions) {
  const db = await openPglite();
  try {
    await migrate(db);
    await loadCustomers(db, opts.csvFile, opts.customers, opts.seed);
    const examples = await loadChurnExamples(db);
    const churn = examples.length >= 50 ? ChurnModel.train(examples, trainingFingerprint(examples)) : undefined;
    const gate = PolicyGate.load();
    const bus = new OutboxBus(db, pino({ level: 'silent' }), 3_600_000);
    subscribeFeatureUpdates(bus);
    const salt = `sim-${opts.seed}`;
    subscribeDecisionLoop(bus, { gate, churn: () => churn, holdout: { salt, fraction: opts.holdout }, dailyCreditBudgetCents: 100_000 });

    const records = await db.query<{ customer_id: string; attributes: Record<string, unknown>; contract: string; payment_method: string; paperless_billing: boolean; tenure_months: number; monthly_amount: number; total_billed: number | null; services: Record<string, unknown> }>(
      'SELECT a.customer_id, a.attributes, s.contract, s.payment_method, s.paperless_billing, s.tenure_months, s.monthly_amount, s.total_billed, s.services FROM accounts a JOIN subscriptions s ON s.account_id = a.id ORDER BY a.customer_id');
    let world = createWorld(records.map((r) => simCustomerFromRecords(
      { customerId: r.customer_id, attributes: r.attributes },
      { contract: r.contract, paymentMethod: r.payment_method, paperlessBilling: r.paperless_billing, tenureMonths: r.tenure_months, monthlyAmount: r.monthly_amount, totalBilled: r.total_billed, services: r.services },
    )), opts.seed);
    const consent = new Set((await db.query<{ k: string }>("SELECT a.customer_id || ':' || c.purpose AS k FROM consents c JOIN contacts ct ON ct.id = c.contact_id JOIN accounts a ON a.id = ct.account_id WHERE c.status = 'granted'")).map((r) => r.k));

    const signals = { accepted: 0, rejected: 0 };
    const outcomes: SimOutcome[] = [];
    const applied = new Set<string>();
    const reviewer = { approved: 0, rejected: 0 };
    for (let d = 0; d < opts.days; d++) {
      const day = simDay(START, d);
      const dayEnd = new Date(new Date(day.start).getTime() + 86_400_000 - 1);
      const result = simulateDay(world, day);
      world = result.world;
      const todays = [...result.outcomes];
      const outcomeSignals = (list: SimOutcome[]) => list.filter((o) => o.customerId).map((o) => ({
        id: o.id, type: 'outcome', occurredAt: o.occurredAt, source: 'sim', subject: { customerId: o.customerId }, data: { kind: o.type, ...(o.reason ? { reason: o.reason } : {}) },
      }));
      const items = [...result.signals, ...outcomeSignals(result.outcomes)].map((value) => ({ value }));
      for (let i = 0; i < items.length; i += 1000) {
        const r = await ingestSignals(db, items.slice(i, i + 1000), { actor: 'sim', source: 'sim', now: dayEnd });
        signals.accepted += r.accepted.length;
        signals.rejected += r.rejected.length;
      }
      await bus.drain();

      // The simulated reviewer works the queue at the end of each day (its rule is documented in docs/simulation.md).
      const pending = await db.query<{ id: string; ev_value: number; action: string; params: { amountCents?: number } }>(
        `SELECT a.id, p.ev_value, p.action, p.params FROM approvals a JOIN decisions dd ON dd.id = a.decision_id JOIN proposals p ON p.id = dd.proposal_id
         WHERE a.status = 'pending' AND a.expires_at > $1 ORDER BY p.ev_value DESC, a.id`, [dayEnd.toISOString()]);
      for (const a of pending) {
        const tooBig = a.action === 'offer_credit' && (a.params.amountCents ?? 0) > SIM_REVIEWER_MAX_CREDIT_CENTS;
        if (a.ev_value < 0 || tooBig) {
          await reject(db, a.id, { actor: 'sim:reviewer', reason: tooBig ? 'credit too large' : 'negative expected value', now: dayEnd });
          reviewer.rejected++;
        } else {
          const ok = await approve(db, gate, a.id, { actor: 'sim:reviewer', now: dayEnd });
          await executeDecision(db, { decisionId: ok.decisionId, idempotencyKey: `approval:${a.id}`, actor: 'sim:reviewer' });
          reviewer.approved++;
        }
      }
      await expireApprovals(db, dayEnd);

      // What ran today reaches the simulated customers through the response model.
      const executions = await db.query<{ key: string; action: string; params: { amountCents?: number; channel?: 'email' }; customer_id: string | null; purpose: string | null }>(
        `SELECT e.idempotency_key AS key, e.action, e.params, a.customer_id, p.purpose FROM executions e JOIN decisions dd ON dd.id = e.decision_id
         JOIN proposals p ON p.id = dd.proposal_id LEFT JOIN accounts a ON a.id = p.account_id ORDER BY e.idempotency_key`);
      for (const e of executions) {
        if (applied.has(e.key) || !e.customer_id) continue;
        applied.add(e.key);
        const action: SimAction = {
          kind: ACTION_KIND[e.action] ?? e.action, key: e.key, amountCents: e.params.amountCents, channel: e.params.channel,
          hadConsent: e.action !== 'send_message' || consent.has(`${e.customer_id}:${e.purpose}`),
        };
        const r = applyAction(world, { customerId: e.customer_id }, action, day);
        world = r.world;
        todays.push(...r.outcomes);
        const extra = outcomeSignals(r.outcomes).map((value) => ({ value }));
        if (extra.length) signals.accepted += (await ingestSignals(db, extra, { actor: 'sim', source: 'sim', now: dayEnd })).accepted.length;
      }
      outcomes.push(...todays);
      opts.onDay?.(d + 1, opts.days);
    }
    await bus.drain();
    await bus.stop();

    const held = (id: string) => inHoldout(id, salt, opts.holdout);
    const churned = new Set(outcomes.filter((o) => o.type === 'churned' && o.customerId).map((o) => o.customerId!));
    const ids = records.map((r) => r.customer_id);
    const group = (inGroup: boolean) => {
      const members = ids.filter((id) => held(id) === inGroup);
      return { customers: members.length, events: members.filter((id) => churned.has(id)).length };
    };
    const uplift = upliftReport(group(false), group(true));
    const decisions = await countBy(db, 'SELECT outcome AS k, count(*)::int AS n FROM decisions GROUP BY outcome');
    const statuses = await countBy(db, 'SELECT status AS k, count(*)::int AS n FROM proposals GROUP BY status');
    const approvals = await countBy(db, 'SELECT status AS k, count(*)::int AS n FROM approvals GROUP BY status');
    const byAgentRows = await db.query<{ agent_id: string; proposals: number; executed: number; approval: number; denied: number }>(
      `SELECT p.agent_id, count(*)::int AS proposals,
              count(*) FILTER (WHERE d.outcome = 'execute')::int AS executed, count(*) FILTER (WHERE d.outcome = 'approval')::int AS approval,
              count(*) FILTER (WHERE d.outcome = 'deny')::int AS denied
       FROM proposals p LEFT JOIN decisions d ON d.proposal_id = p.id GROUP BY p.agent_id ORDER BY p.agent_id`);
    const ledger = await verifyLedger(db);
    const round = (x: number) => Math.round(x * 10_000) / 10_000;
    return {
      customers: records.length,
      days: opts.days,
      seed: opts.seed,
      signals,
      proposals: Object.values(statuses).reduce((a, b) => a + b, 0),
      decisions: { executed: decisions.execute ?? 0, approval: decisions.approval ?? 0, denied: decisions.deny ?? 0, suppressed: statuses.suppressed ?? 0, heldOut: statuses.held_out ?? 0 },
      approvals: { approved: approvals.approved ?? 0, rejected: approvals.rejected ?? 0, expired: approvals.expired ?? 0, pending: approvals.pending ?? 0 },
      outcomes: {
        treated: { customers: uplift.treated.customers, churnRate: round(uplift.treated.rate) },
        holdout: { customers: uplift.holdout.customers, churnRate: round(uplift.holdout.rate) },
        upliftCI95: uplift.ci95.map(round) as [number, number],
        complaints: outcomes.filter((o) => o.type === 'complaint').length,
      },
      byAgent: Object.fromEntries(byAgentRows.map((r) => [r.agent_id, { proposals: r.proposals, executed: r.executed, approval: r.approval, denied: r.denied }])),
      executions: applied.size,
      ledger: { entries: ledger.entries, verified: ledger.ok, head: ledger.head },
    };
  } finally {
    await db.close();
  }
}

export type SimulationReport = Awaited<ReturnType<typeof runSimulation>>;
