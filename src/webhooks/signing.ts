import { createHmac, randomBytes } from 'node:crypto';

/**
 * Signatures per the Standard Webhooks specification (standardwebhooks.com): the secret is `whsec_` and base64 of
 * random bytes; a message is signed as HMAC-SHA256, keyed by the secret's decoded bytes, of `${id}.${timestamp}.${body}`,
 * and sent as `v1,` and its base64 in the `webhook-signature` header, beside `webhook-id` and `webhook-timestamp`.
 */
export const SECRET_PREFIX = 'whsec_';

/** A new signing secret: 32 random bytes. */
export function newSigningSecret(): string {
  return SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** The key a secret stands for: its base64 after the prefix, decoded. */
function secretKey(secret: string): Buffer {
  const b64 = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(b64, 'base64');
  if (key.length === 0) throw new Error('the signing secret holds no key');
  return key;
}

/** The `v1,<base64>` signature of one message. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  return 'v1,' + createHmac('sha256', secretKey(secret)).update(`${id}.${timestamp}.${body}`).digest('base64');
}

/** The three headers a delivery carries, signed at `now` (the timestamp is whole seconds since the epoch). */
export function signedHeaders(secret: string, id: string, body: string, now: Date): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': sign(secret, id, timestamp, body),
  };
}
