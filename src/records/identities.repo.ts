import type { IdentityKey } from '../contracts/index.ts';
import { insertRows, type Queryable, type Tx } from '../store/index.ts';

export type IdentityClaim = IdentityKey & { account_id?: string; lead_id?: string; source: string };

export interface ResolvedIdentity {
  kind: string;
  value: string;
  account_id: string | null;
  lead_id: string | null;
}

/**
 * Claims identifiers so signals that name them resolve to their owner. The first claim on an identifier wins; later
 * claims do not steal it.
 */
export async function claimIdentities(tx: Tx, claims: IdentityClaim[]): Promise<void> {
  await insertRows(
    tx,
    'identities',
    { kind: 'text', value: 'text', account_id: 'text', lead_id: 'text', source: 'text' },
    claims,
    'ON CONFLICT (kind, value) DO NOTHING',
  );
}

/** Deletes these claims, each only while its owner (account or lead) still holds it. */
export async function deleteIdentityClaims(tx: Tx, claims: IdentityClaim[]): Promise<void> {
  await tx.query(
    `DELETE FROM identities i USING jsonb_to_recordset($1::jsonb) AS c(kind text, value text, account_id text, lead_id text)
     WHERE i.kind = c.kind AND i.value = c.value AND i.account_id IS NOT DISTINCT FROM c.account_id AND i.lead_id IS NOT DISTINCT FROM c.lead_id`,
    [JSON.stringify(claims.map((c) => ({ kind: c.kind, value: c.value, account_id: c.account_id ?? null, lead_id: c.lead_id ?? null })))],
  );
}

/** Every identifier that names the account, its contacts' included. */
export async function deleteAccountIdentities(tx: Tx, accountId: string): Promise<void> {
  await tx.query('DELETE FROM identities WHERE account_id = $1', [accountId]);
}

export async function deleteLeadIdentities(tx: Tx, leadId: string): Promise<void> {
  await tx.query('DELETE FROM identities WHERE lead_id = $1', [leadId]);
}

/** The owners of many identifiers, in one query; an identifier no one claims has no row. */
export async function selectIdentitiesByKeys(q: Queryable, keys: IdentityKey[]): Promise<ResolvedIdentity[]> {
  // One primary-key probe per key: the LIMIT (a no-op, the key is unique) keeps the planner from turning
  // this into a hash join that scans the whole table because it cannot see how few keys there are.
  return q.query<ResolvedIdentity>(
    `SELECT i.kind, i.value, i.account_id, i.lead_id FROM jsonb_to_recordset($1::jsonb) AS k(kind text, value text)
     CROSS JOIN LATERAL (SELECT * FROM identities x WHERE x.kind = k.kind AND x.value = k.value LIMIT 1) i`,
    [JSON.stringify(keys)],
  );
}
