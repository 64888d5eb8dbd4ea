import type { RecordKind } from '../contracts/index.ts';
import { insertRows, type Queryable } from '../store/index.ts';
import { identityKeys, type IdentityKey } from './normalize.ts';

/**
 * Claims the identifiers a record carries for its profile (account) or lead, so signals that name
 * them resolve here. The first claim on an identifier wins; later claims do not steal it.
 */
export async function registerIdentities(tx: Queryable, kind: RecordKind, record: Record<string, unknown>, source: string): Promise<void> {
  const str = (k: string) => (typeof record[k] === 'string' ? (record[k] as string) : null);
  let owner: { account_id?: string; lead_id?: string } | null = null;
  let keys: IdentityKey[] = [];
  if (kind === 'accounts') {
    owner = { account_id: record.id as string };
    keys = identityKeys({ customerId: str('customerId'), externalId: str('externalId') });
  } else if (kind === 'contacts' && str('accountId')) {
    owner = { account_id: str('accountId')! };
    keys = identityKeys({ email: str('email'), phone: str('phone'), externalId: str('externalId') });
  } else if (kind === 'leads') {
    owner = { lead_id: record.id as string };
    keys = identityKeys({ email: str('email'), phone: str('phone') });
  }
  if (!owner || keys.length === 0) return;
  await claimIdentities(tx, keys.map((k) => ({ ...k, ...owner, source })));
}

export type IdentityClaim = IdentityKey & { account_id?: string; lead_id?: string; source: string };

export async function claimIdentities(tx: Queryable, claims: IdentityClaim[]): Promise<void> {
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
  const rows = await q.query<ResolvedIdentity>(
    `SELECT i.kind, i.value, i.account_id, i.lead_id FROM identities i
     JOIN jsonb_to_recordset($1::jsonb) AS k(kind text, value text) ON i.kind = k.kind AND i.value = k.value`,
    [JSON.stringify(keys)],
  );
  for (const r of rows) found.set(`${r.kind}:${r.value}`, r);
  return found;
}
