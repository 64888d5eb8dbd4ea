/**
 * The agents' work items: tasks (records), messages, credits and plays (act), each with the customer it is for and
 * what produced it (the execution, its decision and proposal, from act and assure), so a reader can follow an item to
 * the ledger. Read only; the writes are the owners' (src/records/tasks.ts, src/act/play-controls.ts).
 *
 * Every list is newest first by id (ids are `<prefix>_<ULID>`, so by creation), resumed after the last id seen.
 */
import type { Queryable } from '../store/index.ts';

type Row = Record<string, unknown>;

/** What produced an item made by an executed action: the execution (ledgered under its key), its decision and proposal. */
export interface WorkOrigin {
  executionKey: string | null;
  decisionId: string | null;
  proposalId: string | null;
  agentId: string | null;
  action: string | null;
}

export interface WorkListFilter {
  customerId?: string;
  status?: string;
  /** Resume after this id (exclusive); newest first. */
  beforeId?: string;
  limit: number;
}

const iso = (v: unknown): string | null => (v == null ? null : new Date(v as string).toISOString());

function originOf(r: Row): WorkOrigin {
  return {
    executionKey: (r.execution_key as string | null) ?? null,
    decisionId: (r.decision_id as string | null) ?? null,
    proposalId: (r.proposal_id as string | null) ?? null,
    agentId: (r.agent_id as string | null) ?? null,
    action: (r.origin_action as string | null) ?? null,
  };
}

// The execution an item names by key, its decision and the proposal it answered: all optional (an item of an import has none).
const ORIGIN_JOIN = `LEFT JOIN executions e ON e.idempotency_key = t.execution_key
  LEFT JOIN decisions d ON d.id = e.decision_id
  LEFT JOIN proposals p ON p.id = d.proposal_id
  LEFT JOIN accounts acc ON acc.id = t.account_id`;
const ORIGIN_COLUMNS = `e.decision_id, d.proposal_id, p.agent_id, e.action AS origin_action, acc.customer_id`;

/** The shared WHERE: customer (by its customer id), status, and the page's position; `extra` adds the list's own. */
function where(f: WorkListFilter, extra: { sql: string; value: unknown }[] = []): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const parts: string[] = [];
  const add = (sql: string, value: unknown) => {
    params.push(value);
    parts.push(sql.replace('?', `$${params.length}`));
  };
  if (f.customerId !== undefined) add('acc.customer_id = ?', f.customerId);
  if (f.status !== undefined) add('t.status = ?', f.status);
  for (const e of extra) add(e.sql, e.value);
  if (f.beforeId !== undefined) add('t.id < ?', f.beforeId);
  params.push(f.limit);
  return { sql: `${parts.length ? `WHERE ${parts.join(' AND ')}` : ''} ORDER BY t.id DESC LIMIT $${params.length}`, params };
}

export interface TaskItem {
  id: string;
  title: string;
  details: string | null;
  assignee: string | null;
  status: 'open' | 'done' | 'cancelled';
  dueAt: string | null;
  createdAt: string;
  accountId: string | null;
  customerId: string | null;
  leadId: string | null;
  origin: WorkOrigin;
}

const toTask = (r: Row): TaskItem => ({
  id: r.id as string,
  title: r.title as string,
  details: (r.details as string | null) ?? null,
  assignee: (r.assignee as string | null) ?? null,
  status: r.status as TaskItem['status'],
  dueAt: iso(r.due_at),
  createdAt: iso(r.created_at)!,
  accountId: (r.account_id as string | null) ?? null,
  customerId: (r.customer_id as string | null) ?? null,
  leadId: (r.lead_id as string | null) ?? null,
  origin: originOf(r),
});

export async function listTasks(q: Queryable, f: WorkListFilter & { assignee?: string }): Promise<TaskItem[]> {
  const w = where(f, f.assignee !== undefined ? [{ sql: 't.assignee = ?', value: f.assignee }] : []);
  const rows = await q.query<Row>(`SELECT t.*, ${ORIGIN_COLUMNS} FROM tasks t ${ORIGIN_JOIN} ${w.sql}`, w.params);
  return rows.map(toTask);
}

export async function findTask(q: Queryable, id: string): Promise<TaskItem | undefined> {
  const [row] = await q.query<Row>(`SELECT t.*, ${ORIGIN_COLUMNS} FROM tasks t ${ORIGIN_JOIN} WHERE t.id = $1`, [id]);
  return row ? toTask(row) : undefined;
}

export interface MessageItem {
  id: string;
  channel: string;
  purpose: string;
  template: string;
  /** The text that goes (or went) out; null when the template alone was queued. */
  body: string | null;
  /** Where it goes: the email address or phone number (masked for analysts, as every contact point). */
  contactPoint: string | null;
  brand: string | null;
  /** Delivery: queued (waiting for the transport), sent, failed or cancelled (its action was undone). */
  status: 'queued' | 'sent' | 'failed' | 'cancelled';
  transport: string | null;
  sentAt: string | null;
  consentId: string | null;
  createdAt: string;
  accountId: string | null;
  customerId: string | null;
  leadId: string | null;
  origin: WorkOrigin;
}

export async function listMessages(q: Queryable, f: WorkListFilter): Promise<MessageItem[]> {
  const w = where(f);
  const rows = await q.query<Row>(`SELECT t.*, ${ORIGIN_COLUMNS} FROM messages t ${ORIGIN_JOIN} ${w.sql}`, w.params);
  return rows.map((r) => ({
    id: r.id as string,
    channel: r.channel as string,
    purpose: r.purpose as string,
    template: r.template as string,
    body: (r.body as string | null) ?? null,
    contactPoint: (r.contact_point as string | null) ?? null,
    brand: (r.brand as string | null) ?? null,
    status: r.status as MessageItem['status'],
    transport: (r.transport as string | null) ?? null,
    sentAt: iso(r.sent_at),
    consentId: (r.consent_id as string | null) ?? null,
    createdAt: iso(r.created_at)!,
    accountId: (r.account_id as string | null) ?? null,
    customerId: (r.customer_id as string | null) ?? null,
    leadId: (r.lead_id as string | null) ?? null,
    origin: originOf(r),
  }));
}

export interface CreditItem {
  id: string;
  amountCents: number;
  currency: string;
  reason: string | null;
  status: 'applied' | 'reversed';
  createdAt: string;
  reversedAt: string | null;
  accountId: string;
  customerId: string | null;
  origin: WorkOrigin;
}

export async function listCredits(q: Queryable, f: WorkListFilter): Promise<CreditItem[]> {
  const w = where(f);
  const rows = await q.query<Row>(`SELECT t.*, ${ORIGIN_COLUMNS} FROM credits t ${ORIGIN_JOIN} ${w.sql}`, w.params);
  return rows.map((r) => ({
    id: r.id as string,
    amountCents: Number(r.amount_cents),
    currency: r.currency as string,
    reason: (r.reason as string | null) ?? null,
    status: r.status as CreditItem['status'],
    createdAt: iso(r.created_at)!,
    reversedAt: iso(r.reversed_at),
    accountId: r.account_id as string,
    customerId: (r.customer_id as string | null) ?? null,
    origin: originOf(r),
  }));
}

export interface PlayItem {
  id: string;
  kind: string;
  step: string;
  status: 'running' | 'waiting' | 'done' | 'refused' | 'gave_up';
  attempts: number;
  lastError: string | null;
  nextRunAt: string;
  createdAt: string;
  updatedAt: string;
  /** The steps it has completed, in order. */
  completed: string[];
  /** Set when an admin cancelled it (src/act/play-controls.ts): who, when and why. */
  cancelled: { by: string; at: string; reason: string | null } | null;
  accountId: string | null;
  customerId: string | null;
  /** The agent whose play it is (its state names it); the play is ledgered under its own id (play.started ...). */
  agentId: string | null;
  /** The decisions its steps were decided with, as its state records them (the offer's, the case's). */
  decisionIds: string[];
}

function toPlay(r: Row): PlayItem {
  const state = (r.state ?? {}) as { data?: Record<string, unknown>; completed?: unknown; cancelled?: Record<string, unknown> };
  const data = state.data ?? {};
  const agent = data.agent as { id?: unknown } | undefined;
  const decisionIds = [data.offer, data.case]
    .map((x) => (x as { decisionId?: unknown } | undefined)?.decisionId)
    .filter((x): x is string => typeof x === 'string');
  const c = state.cancelled;
  return {
    id: r.id as string,
    kind: r.kind as string,
    step: r.step as string,
    status: r.status as PlayItem['status'],
    attempts: Number(r.attempts),
    lastError: (r.last_error as string | null) ?? null,
    nextRunAt: iso(r.next_run_at)!,
    createdAt: iso(r.created_at)!,
    updatedAt: iso(r.updated_at)!,
    completed: Array.isArray(state.completed) ? state.completed.map(String) : [],
    cancelled: c ? { by: String(c.by), at: String(c.at), reason: typeof c.reason === 'string' ? c.reason : null } : null,
    accountId: (r.account_id as string | null) ?? null,
    customerId: (r.customer_id as string | null) ?? null,
    agentId: typeof agent?.id === 'string' ? agent.id : null,
    decisionIds,
  };
}

export async function listPlays(q: Queryable, f: WorkListFilter & { kind?: string }): Promise<PlayItem[]> {
  const w = where(f, f.kind !== undefined ? [{ sql: 't.kind = ?', value: f.kind }] : []);
  const rows = await q.query<Row>(
    `SELECT t.*, acc.customer_id FROM plays t LEFT JOIN accounts acc ON acc.id = t.account_id ${w.sql}`,
    w.params,
  );
  return rows.map(toPlay);
}

export async function findPlay(q: Queryable, id: string): Promise<PlayItem | undefined> {
  const [row] = await q.query<Row>(
    `SELECT t.*, acc.customer_id FROM plays t LEFT JOIN accounts acc ON acc.id = t.account_id WHERE t.id = $1`,
    [id],
  );
  return row ? toPlay(row) : undefined;
}
