import type { RecordKind } from '../contracts/index.ts';
import type { Queryable, Tx } from '../store/index.ts';
import { identityKeys, type IdentityKey } from '../contracts/index.ts';
import {
  claimIdentities,
  deleteAccountIdentities,
  deleteIdentityClaims,
  deleteLeadIdentities,
  selectIdentitiesByKeys,
  type IdentityClaim,
  type ResolvedIdentity,
} from './identities.repo.ts';

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
  await deleteIdentityClaims(tx, claims);
}

/** A deleted profile or lead releases every identifier that names it, including its contacts'. */
export async function releaseOwner(tx: Tx, kind: RecordKind, id: string): Promise<void> {
  if (kind === 'accounts') await deleteAccountIdentities(tx, id);
  if (kind === 'leads') await deleteLeadIdentities(tx, id);
}

/** Looks up many identifiers in one query. */
export async function lookupIdentities(q: Queryable, keys: IdentityKey[]): Promise<Map<string, ResolvedIdentity>> {
  const found = new Map<string, ResolvedIdentity>();
  if (keys.length === 0) return found;
  const rows = await selectIdentitiesByKeys(q, keys);
  for (const r of rows) found.set(`${r.kind}:${r.value}`, r);
  return found;
}
