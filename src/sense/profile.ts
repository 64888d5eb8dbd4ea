import { AppError } from '../errors.ts';
import { toApi, type RecordRow } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';
import { featuresAt, type CustomerFeatures } from './features.ts';

/**
 * One entry of a customer's timeline, newest first:
 * - `signal` (at occurred_at; type = the signal type; summary = its data and metric);
 * - `outcome`: an `outcome` signal (type = its kind: churned, renewed, converted, case_resolved, complaint);
 * - `interaction` (at occurred_at; type = the interaction type; summary { direction, subject });
 * - `proposal`: what an agent proposed (at created_at; type = the action; summary { agentId, status, statusReason, ev, reason });
 * - `decision`: what policy decided on it (at decided_at; type = execute, approval or deny; summary { proposalId, policyIds, reasons });
 * - `action`: what ran (an execution, at created_at; type = the tool; summary { status, idempotencyKey, result }).
 */
export interface TimelineItem {
  at: string;
  kind: 'signal' | 'outcome' | 'interaction' | 'proposal' | 'decision' | 'action';
  id: string;
  type: string;
  summary: Record<string, unknown>;
}

/** On equal times the later step of the loop comes first: what ran, then the decision, then the proposal. */
const STEP_ORDER: Record<TimelineItem['kind'], number> = { action: 0, decision: 1, proposal: 2, outcome: 3, signal: 3, interaction: 3 };

export interface Profile {
  account: RecordRow;
  identities: { kind: string; value: string; source: string }[];
  contacts: RecordRow[];
  consents: RecordRow[];
  subscriptions: RecordRow[];
  openCases: RecordRow[];
  features: { asOf: string; values: Record<string, unknown> } | null;
  timeline: TimelineItem[];
}

/**
 * The latest effective consent per holder, channel and purpose decides; this returns those. Holders are
 * contact ids or lead ids (a lead consents on a form before it has contacts).
 */
export async function effectiveConsents(q: Queryable, holderIds: string[], at: Date): Promise<RecordRow[]> {
  if (holderIds.length === 0) return [];
  // One branch per holder column, so each reads its own index instead of the planner scanning for an OR.
  const rows = await q.query<Record<string, unknown>>(
    `SELECT DISTINCT ON (coalesce(contact_id, lead_id), channel, purpose) * FROM (
       SELECT * FROM consents WHERE contact_id = ANY($1::text[])
       UNION ALL
       SELECT * FROM consents WHERE lead_id = ANY($1::text[])
     ) c
     WHERE deleted_at IS NULL AND effective_from <= $2 AND (effective_to IS NULL OR effective_to > $2)
     ORDER BY coalesce(contact_id, lead_id), channel, purpose, captured_at DESC, id DESC`,
    [holderIds, at.toISOString()],
  );
  return rows.map(toApi);
}

/** The live account named by its id or its customer id; a 404 otherwise. */
async function findAccount(q: Queryable, key: string): Promise<RecordRow> {
  const [accountRow] = await q.query<Record<string, unknown>>(
    'SELECT * FROM accounts WHERE (id = $1 OR customer_id = $1) AND deleted_at IS NULL',
    [key],
  );
  if (!accountRow) throw new AppError('not_found', `no customer ${key}`);
  return toApi(accountRow);
}

/**
 * The agents' work on an account, newest first, at most `limit` of each kind: proposals, the decisions on them
 * and the executions of those decisions, in one statement.
 */
async function agentWork(q: Queryable, accountId: string, limit: number): Promise<TimelineItem[]> {
  const rows = await q.query<{ at: Date | string; kind: TimelineItem['kind']; id: string; type: string; summary: Record<string, unknown> }>(
    `(SELECT p.created_at AS at, 'proposal' AS kind, p.id, p.action AS type,
             jsonb_build_object('agentId', p.agent_id, 'status', p.status, 'statusReason', p.status_reason, 'ev', p.ev_value, 'reason', p.reason) AS summary
      FROM proposals p WHERE p.account_id = $1 ORDER BY p.created_at DESC, p.id DESC LIMIT $2)
     UNION ALL
     (SELECT d.decided_at, 'decision', d.id, d.outcome,
             jsonb_build_object('proposalId', d.proposal_id, 'policyIds', d.policy_ids, 'reasons', d.reasons)
      FROM decisions d JOIN proposals p ON p.id = d.proposal_id WHERE p.account_id = $1 ORDER BY d.decided_at DESC, d.id DESC LIMIT $2)
     UNION ALL
     (SELECT e.created_at, 'action', e.idempotency_key, e.action,
             jsonb_build_object('status', e.status, 'idempotencyKey', e.idempotency_key, 'result', e.result)
      FROM executions e JOIN decisions d ON d.id = e.decision_id JOIN proposals p ON p.id = d.proposal_id
      WHERE p.account_id = $1 ORDER BY e.created_at DESC, e.idempotency_key DESC LIMIT $2)`,
    [accountId, limit],
  );
  return rows.map((r) => ({ at: new Date(r.at).toISOString(), kind: r.kind, id: r.id, type: r.type, summary: r.summary }));
}

/** A customer's unified view. `key` is the account id or the customer id. */
export async function getProfile(q: Queryable, key: string, opts: { timelineLimit?: number; now?: Date } = {}): Promise<Profile> {
  const account = await findAccount(q, key);
  const id = account.id;
  const limit = opts.timelineLimit ?? 50;
  const live = (table: string, extra = '') => q.query<Record<string, unknown>>(`SELECT * FROM ${table} WHERE account_id = $1 AND deleted_at IS NULL ${extra}`, [id]);
  const [identities, contacts, subscriptions, openCases, featureRows, signals, interactions, work] = await Promise.all([
    q.query<{ kind: string; value: string; source: string }>('SELECT kind, value, source FROM identities WHERE account_id = $1 ORDER BY kind, value', [id]),
    live('contacts', 'ORDER BY id'),
    live('subscriptions', 'ORDER BY id'),
    live('cases', "AND status IN ('open', 'pending') ORDER BY opened_at DESC"),
    q.query<{ as_of: Date; features: Record<string, unknown> }>('SELECT as_of, features FROM customer_features WHERE account_id = $1', [id]),
    q.query<Record<string, unknown>>('SELECT id, type, occurred_at, data, metric FROM signals WHERE account_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2', [id, limit]),
    q.query<Record<string, unknown>>('SELECT id, type, occurred_at, direction, subject FROM interactions WHERE account_id = $1 AND deleted_at IS NULL ORDER BY occurred_at DESC LIMIT $2', [id, limit]),
    agentWork(q, id, limit),
  ]);
  const contactIds = contacts.map((c) => c.id as string);
  const timeline: TimelineItem[] = [
    ...signals.map((s): TimelineItem => {
      const data = s.data as Record<string, unknown>;
      const outcome = s.type === 'outcome';
      return { at: (s.occurred_at as Date).toISOString(), kind: outcome ? 'outcome' : 'signal', id: s.id as string, type: outcome ? String(data.kind) : (s.type as string), summary: { ...data, metric: s.metric } };
    }),
    ...interactions.map((i) => ({ at: (i.occurred_at as Date).toISOString(), kind: 'interaction' as const, id: i.id as string, type: i.type as string, summary: { direction: i.direction, subject: i.subject } })),
    ...work,
  ]
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : STEP_ORDER[a.kind] - STEP_ORDER[b.kind]))
    .slice(0, limit);
  const feature = featureRows[0];
  return {
    account,
    identities,
    contacts: contacts.map(toApi),
    consents: await effectiveConsents(q, contactIds, opts.now ?? new Date()),
    subscriptions: subscriptions.map(toApi),
    openCases: openCases.map(toApi),
    features: feature ? { asOf: feature.as_of.toISOString(), values: feature.features } : null,
    timeline,
  };
}

/** A consent record of a customer's contact, and whether it is the one that decides its contact, channel and purpose now. */
export type ConsentHistoryItem = RecordRow & { contactId: string; inEffect: boolean };

/**
 * Every consent record of a customer's (live) contacts, superseded, expired and withdrawn ones included, newest
 * captured first. `inEffect` marks the records `effectiveConsents` picks at `now`.
 */
export async function consentHistory(q: Queryable, key: string, now: Date): Promise<ConsentHistoryItem[]> {
  const account = await findAccount(q, key);
  const rows = await q.query<Record<string, unknown>>(
    `SELECT c.* FROM consents c JOIN contacts ct ON ct.id = c.contact_id
     WHERE ct.account_id = $1 AND ct.deleted_at IS NULL AND c.deleted_at IS NULL
     ORDER BY c.captured_at DESC, c.id DESC`,
    [account.id],
  );
  const contactIds = [...new Set(rows.map((r) => r.contact_id as string))];
  const inEffect = new Set((await effectiveConsents(q, contactIds, now)).map((c) => c.id));
  return rows.map((r) => {
    const record = toApi(r);
    return { ...record, contactId: r.contact_id as string, inEffect: inEffect.has(record.id) };
  });
}

/** What a churn model reads of a customer: the account's attributes and its first live subscription, as the API returns them. */
export interface ChurnInput {
  attributes: Record<string, unknown>;
  subscription: {
    contract: string | null; paymentMethod: string | null; paperlessBilling: boolean | null; tenureMonths: number | null;
    monthlyAmount: number | null; services: Record<string, unknown>;
  };
}

export interface FeatureHistory {
  accountId: string;
  points: { asOf: string; features: CustomerFeatures }[];
  /** Null when the customer has no subscription (a churn model cannot score them). */
  churnInput: ChurnInput | null;
}

/**
 * A customer's features at `points` times, `stepDays` apart, the last at `now` (oldest first), computed from the
 * signal history as the feature refresh computes them.
 */
export async function featureHistory(q: Queryable, key: string, opts: { points: number; stepDays: number; now: Date }): Promise<FeatureHistory> {
  const account = await findAccount(q, key);
  const times = Array.from({ length: opts.points }, (_, i) => new Date(opts.now.getTime() - (opts.points - 1 - i) * opts.stepDays * 86_400_000));
  const [points, [sub]] = await Promise.all([
    featuresAt(q, account.id, times),
    q.query<{ contract: string | null; payment_method: string | null; paperless_billing: boolean | null; tenure_months: number | null; monthly_amount: number | null; services: Record<string, unknown> | null }>(
      'SELECT contract, payment_method, paperless_billing, tenure_months, monthly_amount, services FROM subscriptions WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1',
      [account.id],
    ),
  ]);
  return {
    accountId: account.id,
    points,
    churnInput: sub
      ? {
          attributes: (account.attributes as Record<string, unknown> | undefined) ?? {},
          subscription: { contract: sub.contract, paymentMethod: sub.payment_method, paperlessBilling: sub.paperless_billing, tenureMonths: sub.tenure_months, monthlyAmount: sub.monthly_amount, services: sub.services ?? {} },
        }
      : null,
  };
}
