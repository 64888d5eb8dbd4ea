import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { approveAndRun, expireApprovals, listExecutionKeys, reject, runDuePlays, type PlayRegistry } from '../act/index.ts';
import type { PolicyGate } from '../assure/index.ts';
import { SAVE_CALL_TITLE } from '../reason/index.ts';
import type { Bus } from '../bus/index.ts';
import { listContactEmailsOfAccounts, listDemoAccountsWithoutContact, parseRecordInput, updateRecord } from '../records/index.ts';
import { importCsv, ingestSignals } from '../sense/index.ts';
import { bernoulli, stream } from '../lib/index.ts';
import {
  applyAction,
  createWorld,
  simCustomerFromRecords,
  simDay,
  simulateDay,
  type ActionResult,
  type ActionTarget,
  type SimAction,
  type SimDay,
  type SimOutcome,
  type SimWorld,
} from '../sim/index.ts';
import type { Db } from '../store/index.ts';
import {
  listOpenTicketCases,
  listRecentWorldExecutions,
  listReviewableApprovals,
  listSignupConsentKeys,
  listWorldCustomers,
  type WorldExecutionRow,
} from '../views/index.ts';

/** Seeded consent: the share of customers who agreed to service email, and to marketing email. */
export const SIM_CONSENT = { serviceEmail: 0.7, marketingEmail: 0.4 };
/** The simulated reviewer approves unless the expected value is negative or a credit is above this. */
export const SIM_REVIEWER_MAX_CREDIT_CENTS = 10_000;
/** Signals per intake call: the batch size a connector would send. */
const INTAKE_BATCH = 1000;
const ACTOR = 'sim';

/** Messages that tell the customer about their own case or credit: notices, not asks to stay (no retention contact). */
const NOTICE_TEMPLATES = new Set(['retention-credit-applied', 'we-are-on-it']);

/**
 * How an executed action reaches a simulated customer (the response model's kinds). Only a retention save call is a
 * task the customer hears about; any other task (a data steward's review) stays inside the company.
 */
function simKind(action: string, params: WorldExecutionRow['params']): SimAction['kind'] {
  if (action === 'send_message') return params.template && NOTICE_TEMPLATES.has(params.template) ? 'notify' : 'outreach';
  if (action === 'create_task') return params.title === SAVE_CALL_TITLE ? 'save_call' : 'create_task';
  const kinds: Record<string, SimAction['kind']> = { offer_credit: 'offer_credit', apply_credit: 'offer_credit' };
  return kinds[action] ?? action;
}

/** The first `n` customers of a file in the Telco layout, through the CSV importer. */
export async function importFirstCustomers(db: Db, csvFile: string, n: number, actor: string, now = new Date()): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'acs-customers-'));
  try {
    const lines = readFileSync(csvFile, 'utf8')
      .split('\n')
      .filter((l) => l.trim());
    writeFileSync(join(dir, 'customers.csv'), lines.slice(0, n + 1).join('\n') + '\n');
    await importCsv(db, 'customers', join(dir, 'customers.csv'), { actor, clock: { now: () => now } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Gives every Telco demo customer without a contact one (`<customer id>@example.com`) and draws their consents
 * from the seed, through the CSV importer. Only imported Telco rows (they carry the dataset's `churned` label)
 * are touched: a profile someone else made never gets a made-up contact or consent.
 */
export async function seedContactsAndConsents(db: Db, seed: number, now = new Date()): Promise<void> {
  const accounts = await listDemoAccountsWithoutContact(db);
  if (accounts.length === 0) return;
  const dir = mkdtempSync(join(tmpdir(), 'acs-world-'));
  try {
    writeFileSync(
      join(dir, 'contacts.csv'),
      'accountId,email\n' + accounts.map((a) => `${a.id},${a.customer_id.toLowerCase()}@example.com`).join('\n') + '\n',
    );
    await importCsv(db, 'contacts', join(dir, 'contacts.csv'), { actor: ACTOR, clock: { now: () => now } });
    const contacts = await listContactEmailsOfAccounts(
      db,
      accounts.map((a) => a.id),
    );
    const rows: string[] = [];
    for (const c of contacts) {
      const rng = stream(seed, 'consent', c.email);
      for (const [purpose, p] of [
        ['service', SIM_CONSENT.serviceEmail],
        ['marketing', SIM_CONSENT.marketingEmail],
      ] as const) {
        if (bernoulli(rng, p)) rows.push(`${c.id},email,${purpose},granted,signup,2025-12-01T00:00:00Z`);
      }
    }
    writeFileSync(join(dir, 'consents.csv'), 'contactId,channel,purpose,status,source,capturedAt\n' + rows.join('\n') + '\n');
    await importCsv(db, 'consents', join(dir, 'consents.csv'), { actor: ACTOR, clock: { now: () => now } });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The world of the customers in the database, with customers already gone left out of it: those recorded as churned
 * and those whose subscription is cancelled (the Telco rows labelled as churned import so). They produce nothing.
 */
export async function worldFromDatabase(db: Db, seed: number): Promise<SimWorld> {
  const records = await listWorldCustomers(db);
  return createWorld(
    records
      .filter((r) => !r.churned)
      .map((r) =>
        simCustomerFromRecords(
          { customerId: r.customer_id, attributes: r.attributes },
          {
            contract: r.contract,
            paymentMethod: r.payment_method,
            paperlessBilling: r.paperless_billing,
            tenureMonths: r.tenure_months,
            monthlyAmount: r.monthly_amount,
            totalBilled: r.total_billed,
            services: r.services,
          },
        ),
      ),
    seed,
  );
}

export interface WorldDriverOptions {
  db: Db;
  bus: Bus;
  gate: PolicyGate;
  plays: PlayRegistry;
  world: SimWorld;
  /** Day 0 starts here (ISO); day d is `start` + d days. */
  start: string;
  /** `sim` works the approval queue at the end of each day by the documented rule; `human` leaves it to people. */
  reviewer: 'sim' | 'human';
  /** Once-a-day work at each day's end (scheduled agents), when no one else runs it. */
  daily?: (now: Date) => Promise<unknown>;
  /**
   * Signals per intake transaction, each batch delivered by the bus before the next is taken. The live world sets
   * a small one: it shares the embedded database's one connection with the API, and a day's 1,000 signals in one
   * transaction, then one delivery, held the API for seconds. Unset: 1,000 per transaction, delivered at the end
   * (acs simulate, whose reports stay comparable).
   */
  intakeBatch?: number;
  /** Told of every executed action as it reaches the world (the policy-value benchmark accounts for them). */
  onDelivered?: (delivered: {
    action: SimAction;
    target: ActionTarget;
    day: SimDay;
    result: ActionResult;
    executed: string;
    purpose: string | null;
  }) => void;
}

export interface DayTally {
  day: number;
  signals: { accepted: number; rejected: number };
  reviewed: { approved: number; rejected: number };
  /** Executed actions that reached simulated customers or leads today. */
  delivered: number;
  outcomes: SimOutcome[];
}

/**
 * Drives the simulated world through ACS one day at a time, on the same code path as the server: the day's
 * signals go through intake and the bus (features, agents, arbitration, holdout, Cedar, execution), the
 * reviewer (if simulated) works the queue, due plays advance, stale approvals expire, and every action that
 * ran reaches its customer through the response model.
 */
export class WorldDriver {
  world: SimWorld;

  private constructor(
    private readonly opts: WorldDriverOptions,
    /** Executions the world has already felt, by idempotency key. */
    private readonly applied: Set<string>,
    /** `<customer id>:<purpose>` for each consent the simulated customers really gave (the seeded ones). */
    private readonly consents: Set<string>,
  ) {
    this.world = opts.world;
  }

  /** Executions already in the database are history: the world does not replay them. */
  static async create(opts: WorldDriverOptions): Promise<WorldDriver> {
    const applied = await listExecutionKeys(opts.db);
    const consents = await listSignupConsentKeys(opts.db);
    return new WorldDriver(opts, new Set(applied), new Set(consents));
  }

  async runDay(index: number): Promise<DayTally> {
    const { db, bus } = this.opts;
    const day = simDay(this.opts.start, index);
    const dayEnd = new Date(Date.parse(day.start) + 86_400_000 - 1);
    const tally: DayTally = {
      day: index,
      signals: { accepted: 0, rejected: 0 },
      reviewed: { approved: 0, rejected: 0 },
      delivered: 0,
      outcomes: [],
    };
    const result = simulateDay(this.world, day);
    this.world = result.world;
    // The day's signals first: a ticket opened and resolved today has its case before the case is closed.
    await this.ingest(result.signals, dayEnd, tally);
    const outcomes = await this.closeCases(result.outcomes);
    tally.outcomes.push(...outcomes);
    await this.ingest(outcomeSignals(outcomes), dayEnd, tally);
    await bus.drain();
    if (this.opts.reviewer === 'sim') tally.reviewed = await this.review(dayEnd);
    await this.opts.daily?.(dayEnd);
    await runDuePlays(db, this.opts.plays, { actor: 'system:plays', now: dayEnd });
    await expireApprovals(db, dayEnd);
    await this.deliver(day, dayEnd, tally);
    return tally;
  }

  private async ingest(signals: object[], now: Date, tally: DayTally): Promise<void> {
    const items = signals.map((value) => ({ value }));
    const batch = this.opts.intakeBatch ?? INTAKE_BATCH;
    for (let i = 0; i < items.length; i += batch) {
      const r = await ingestSignals(this.opts.db, items.slice(i, i + batch), { actor: ACTOR, source: 'sim', now });
      tally.signals.accepted += r.accepted.length;
      tally.signals.rejected += r.rejected.length;
      if (this.opts.intakeBatch) {
        this.opts.bus.notify();
        await this.opts.bus.drain();
      }
    }
    this.opts.bus.notify();
  }

  /**
   * The simulated reviewer (docs/simulation.md): highest EV first; rejects a negative EV or a credit above the cap, approves the rest, which then runs once.
   * It leaves alone the items of an agent that is stopped (paused, or the kill switch is engaged), as the approve route would refuse them.
   */
  private async review(now: Date): Promise<DayTally['reviewed']> {
    const { db, gate } = this.opts;
    const done = { approved: 0, rejected: 0 };
    const pending = await listReviewableApprovals(db, now);
    for (const a of pending) {
      const tooBig = a.action === 'offer_credit' && (a.params.amountCents ?? 0) > SIM_REVIEWER_MAX_CREDIT_CENTS;
      if (a.ev_value < 0 || tooBig) {
        await reject(db, a.id, { actor: 'sim:reviewer', reason: tooBig ? 'credit too large' : 'negative expected value', now });
        done.rejected++;
      } else {
        await approveAndRun(db, gate, a.id, { actor: 'sim:reviewer', now });
        done.approved++;
      }
    }
    return done;
  }

  /** What ran reaches the simulated customers and leads; what they do in response comes back as outcome signals. */
  private async deliver(day: ReturnType<typeof simDay>, now: Date, tally: DayTally): Promise<void> {
    const executions = await listRecentWorldExecutions(this.opts.db, now);
    const outcomes: SimOutcome[] = [];
    // The response draw is keyed by the target, the kind and its count that day, never by an execution's key: those
    // hold random ids, and a seed must give the same world.
    const seen = new Map<string, number>();
    for (const e of executions) {
      if (this.applied.has(e.key)) continue;
      this.applied.add(e.key);
      const target = e.customer_id ? { customerId: e.customer_id } : e.email ? { email: e.email } : null;
      if (!target) continue;
      const kind = simKind(e.action, e.params);
      const slot = `${e.customer_id ?? e.email}:${kind}`;
      const ordinal = seen.get(slot) ?? 0;
      seen.set(slot, ordinal + 1);
      const action: SimAction = {
        kind,
        key: `${kind}-${ordinal}`,
        // Carried into the outcomes that answer it (an offer's answer, a case's resolution), never into a draw.
        actionKey: e.key,
        ...(e.result?.caseId ? { caseId: e.result.caseId } : {}),
        amountCents: e.params.amountCents,
        channel: e.params.channel,
        // The world's truth, not ACS's belief: a message counts as consented only if the person really agreed.
        hadConsent: e.action !== 'send_message' || this.reallyConsented(target, e.purpose),
      };
      const r = applyAction(this.world, target, action, day);
      this.world = r.world;
      this.opts.onDelivered?.({ action, target, day, result: r, executed: e.action, purpose: e.purpose });
      if (r.found) tally.delivered++;
      outcomes.push(...r.outcomes);
    }
    const answered = await this.closeCases(outcomes);
    tally.outcomes.push(...answered);
    if (answered.length) await this.ingest(outcomeSignals(answered), now, tally);
  }

  /**
   * A resolved ticket or proactive case closes its ACS case, through the records API as a helpdesk would: status
   * `resolved`, `closedAt` the resolution's time. A ticket's case is the one intake opened for it; a proactive case
   * is the one its action opened. Returns the outcomes with the case they closed named (`caseId`).
   */
  private async closeCases(outcomes: SimOutcome[]): Promise<SimOutcome[]> {
    const resolved = outcomes.filter((o) => o.type === 'case_resolved' && o.customerId);
    if (resolved.length === 0) return outcomes;
    const byTicket = new Map(
      (
        await listOpenTicketCases(
          this.opts.db,
          resolved.filter((o) => !o.caseId && o.ticketId).map((o) => ({ customerId: o.customerId!, ticketId: o.ticketId! })),
        )
      ).map((r) => [r.ticket_id, r.case_id]),
    );
    const out: SimOutcome[] = [];
    for (const o of outcomes) {
      const caseId = o.type === 'case_resolved' ? (o.caseId ?? (o.ticketId ? byTicket.get(o.ticketId) : undefined)) : undefined;
      if (!caseId) {
        out.push(o);
        continue;
      }
      try {
        const patch = parseRecordInput('cases', { status: 'resolved', closedAt: o.occurredAt }, true);
        await updateRecord(this.opts.db, 'cases', caseId, patch, ACTOR, undefined, new Date(o.occurredAt));
      } catch (err) {
        // A case deleted or merged away meanwhile has nothing left to close.
        if ((err as { code?: string }).code !== 'record.not_found') throw err;
      }
      out.push({ ...o, caseId });
    }
    return out;
  }

  private reallyConsented(target: { customerId: string } | { email: string }, purpose: string | null): boolean {
    if ('email' in target) return this.world.leads.some((l) => l.email === target.email && l.consents.some((c) => c.purpose === purpose));
    return this.consents.has(`${target.customerId}:${purpose}`);
  }
}

/** Outcomes as `outcome` signals: customers by customer id, leads by email, with the case and the action they answer. */
export function outcomeSignals(list: SimOutcome[]) {
  return list.map((o) => ({
    id: o.id,
    type: 'outcome',
    occurredAt: o.occurredAt,
    source: 'sim',
    subject: o.customerId ? { customerId: o.customerId } : { email: o.email! },
    data: {
      kind: o.type,
      ...(o.reason ? { reason: o.reason } : {}),
      ...(o.caseId ? { caseId: o.caseId } : {}),
      ...(o.actionKey ? { actionKey: o.actionKey } : {}),
    },
  }));
}
