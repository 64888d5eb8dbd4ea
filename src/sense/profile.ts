import { AppError } from '../errors.ts';
import { toApi, type RecordRow } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';

export interface TimelineItem {
  at: string;
  kind: 'signal' | 'interaction';
  id: string;
  type: string;
  summary: Record<string, unknown>;
}

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

/** A customer's unified view. `key` is the account id or the customer id. */
export async function getProfile(q: Queryable, key: string, opts: { timelineLimit?: number; now?: Date } = {}): Promise<Profile> {
  const [accountRow] = await q.query<Record<string, unknown>>(
    'SELECT * FROM accounts WHERE (id = $1 OR customer_id = $1) AND deleted_at IS NULL',
    [key],
  );
  if (!accountRow) throw new AppError('not_found', `no customer ${key}`);
  const account = toApi(accountRow);
  const id = account.id;
  const limit = opts.timelineLimit ?? 50;
  const live = (table: string, extra = '') => q.query<Record<string, unknown>>(`SELECT * FROM ${table} WHERE account_id = $1 AND deleted_at IS NULL ${extra}`, [id]);
  const [identities, contacts, subscriptions, openCases, featureRows, signals, interactions] = await Promise.all([
    q.query<{ kind: string; value: string; source: string }>('SELECT kind, value, source FROM identities WHERE account_id = $1 ORDER BY kind, value', [id]),
    live('contacts', 'ORDER BY id'),
    live('subscriptions', 'ORDER BY id'),
    live('cases', "AND status IN ('open', 'pending') ORDER BY opened_at DESC"),
    q.query<{ as_of: Date; features: Record<string, unknown> }>('SELECT as_of, features FROM customer_features WHERE account_id = $1', [id]),
    q.query<Record<string, unknown>>('SELECT id, type, occurred_at, data, metric FROM signals WHERE account_id = $1 ORDER BY occurred_at DESC, id DESC LIMIT $2', [id, limit]),
    q.query<Record<string, unknown>>('SELECT id, type, occurred_at, direction, subject FROM interactions WHERE account_id = $1 AND deleted_at IS NULL ORDER BY occurred_at DESC LIMIT $2', [id, limit]),
  ]);
  const contactIds = contacts.map((c) => c.id as string);
  const timeline: TimelineItem[] = [
    ...signals.map((s) => ({ at: (s.occurred_at as Date).toISOString(), kind: 'signal' as const, id: s.id as string, type: s.type as string, summary: { ...(s.data as object), metric: s.metric } })),
    ...interactions.map((i) => ({ at: (i.occurred_at as Date).toISOString(), kind: 'interaction' as const, id: i.id as string, type: i.type as string, summary: { direction: i.direction, subject: i.subject } })),
  ]
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
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
