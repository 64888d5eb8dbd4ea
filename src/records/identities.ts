import type { RecordKind } from '../contracts/index.ts';
import { insertRows, type Queryable, type Tx } from '../store/index.ts';
import { identityKeys, type IdentityKey } from '../contracts/index.ts';

/** The identifiers a record carries for its profile (account) or lead: the one statement of those rules. */
export function identityClaimsFor(kind: RecordKind, record: Record<string, unknown>, source: string): IdentityClaim[] {
  const str = (k: string) => (typeof record[k] === 'string' ? (record[k] as string) : null);
  const claims = (owner: { account_id?: string; lead_id?: string }, keys: IdentityKey[]) => keys.map((k) => ({ ...k, ...owner, source }));
  if (kind === 'accounts')
    return claims({ account_id: record.id as string }, identityKeys({ customerId: str('customerId'), externalId: str('externalId') }));
  if (kind === 'contacts' && str('accountId')) {
    return claims(
      { account_id: str('accountId')! },
      identityKeys({ email: str('email'), phone: str('phone'), externalId: str('externalId') }),
    );
  }
  if (kind === 'leads') return claims({ lead_id: record.id as string }, identityKeys({ email: str('email'), phone: str('phone') }));
  return [];
}

/**
 * Claims a record's identifiers so signals that name them resolve to it. The first claim on an
 * identifier wins; later claims do not steal it.
 */
export async function registerIdentities(tx: Tx, kind: RecordKind, record: Record<string, unknown>, source: string): Promise<void> {
  await claimIdentities(tx, identityClaimsFor(kind, record, source));
}

/** Lets go of the identifiers a record claimed (before an update retargets them, or on delete). */
export async function releaseIdentities(tx: Tx, kind: RecordKind, record: Record<string, unknown>): Promise<void> {
  const claims = identityClaimsFor(kind, record, '');
  if (claims.length === 0) return;
  await tx.query(
    `DELETE FROM identities i USING jsonb_to_recordset($1::jsonb) AS c(kind text, value text, account_id text, lead_id text)
     WHERE i.kind = c.kind AND i.value = c.value AND i.account_id IS NOT DISTINCT FROM c.account_id AND i.lead_id IS NOT DISTINCT FROM c.lead_id`,
    [JSON.stringify(claims.map((c) => ({ kind: c.kind, value: c.value, account_id: c.account_id ?? null, lead_id: c.lead_id ?? null })))],
  );
}

/** A deleted profile or lead releases every identifier that names it, including its contacts'. */
export async function releaseOwner(tx: Tx, kind: RecordKind, id: string): Promise<void> {
  if (kind === 'accounts') await tx.query('DELETE FROM identities WHERE account_id = $1', [id]);
  if (kind === 'leads') await tx.query('DELETE FROM identities WHERE lead_id = $1', [id]);
}

export type IdentityClaim = IdentityKey & { account_id?: string; lead_id?: string; source: string };

export async function claimIdentities(tx: Tx, claims: IdentityClaim[]): Promise<void> {
  await insertRows(
    tx,
    'identities',
    { kind: 'text', value: 'text', account_id: 'text', lead_id: 'text', source: 'text' },
    claims,
    'ON CONFLICT (kind, value) DO NOTHING',
  );
}

export interface ResolvedIdentity {
  kind: string;
  value: string;
  account_id: string | null;
  lead_id: string | null;
}

/** Looks up many identifiers in one query. */
export async function lookupIdentities(q: Queryable, keys: IdentityKey[]): Promise<Map<string, ResolvedIdentity>> {
  const found = new Map<string, ResolvedIdentity>();
  if (keys.length === 0) return found;
  // One primary-key probe per key: the LIMIT (a no-op, the key is unique) keeps the planner from turning
  // this into a hash join that scans the whole table because it cannot see how few keys there are.
  const rows = await q.query<ResolvedIdentity>(
    `SELECT i.kind, i.value, i.account_id, i.lead_id FROM jsonb_to_recordset($1::jsonb) AS k(kind text, value text)
     CROSS JOIN LATERAL (SELECT * FROM identities x WHERE x.kind = k.kind AND x.value = k.value LIMIT 1) i`,
    [JSON.stringify(keys)],
  );
  for (const r of rows) found.set(`${r.kind}:${r.value}`, r);
  return found;
}
