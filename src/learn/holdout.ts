import { createHash } from 'node:crypto';

/**
 * Maps a customer to a point in [0, 1): the first 52 bits of SHA-256(salt + ":" + customerId), divided by 2^52.
 * It depends on nothing but the two strings, so it is the same in every run and process and in any order.
 */
export function holdoutPoint(customerId: string, salt: string): number {
  const digest = createHash('sha256').update(`${salt}:${customerId}`).digest();
  // 52 bits fit a double exactly: 4 bytes as the high part, 20 more bits as the low part.
  const high = digest.readUInt32BE(0);
  const low = digest.readUInt32BE(4) >>> 12;
  return (high * 2 ** 20 + low) / 2 ** 52;
}

/**
 * Whether a customer belongs to the holdout group: actions are proposed for them but never executed, so their
 * outcomes show what happens without the agents. About `fraction` of all customers are in it.
 * Changing the salt draws a new, independent group of the same expected size.
 */
export function inHoldout(customerId: string, salt: string, fraction = 0.1): boolean {
  if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
    throw new RangeError(`holdout fraction must be a number from 0 to 1, got ${fraction}`);
  }
  return holdoutPoint(customerId, salt) < fraction;
}

/** A lead has no customer id yet: it is held out by its email (normalized), or by its id when it has none. */
export function leadHoldoutKey(lead: { id: string; email?: string | null }): string {
  return `lead:${lead.email?.trim().toLowerCase() || lead.id}`;
}
