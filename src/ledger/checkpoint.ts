import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import type { Db } from '../store/index.ts';
import { canonicalJson } from './canonical.ts';
import type { HeadCheck } from './ledger.ts';
import { readLedgerHead } from './ledger.repo.ts';
import { sequenceLedger } from './sequencer.ts';

/**
 * Published heads: the ledger's newest chained entry, signed with an Ed25519 key of this installation and appended
 * to a file in the data dir. Copy the file (and the public key) elsewhere: a checkpoint whose entry has gone from the
 * chain shows the newest entries were removed, which the chain alone cannot show.
 */
export const CHECKPOINT_FILE = 'ledger-checkpoints.jsonl';
export const SIGNING_KEY_FILE = 'ledger-signing-key.pem';
export const PUBLIC_KEY_FILE = 'ledger-signing-key.pub.pem';

export interface Checkpoint {
  seq: number;
  hash: string;
  at: string;
  /** Ed25519 over the canonical JSON of { seq, hash, at }, base64. */
  signature: string;
}

const signed = (c: Pick<Checkpoint, 'seq' | 'hash' | 'at'>) => Buffer.from(canonicalJson({ seq: c.seq, hash: c.hash, at: c.at }));

/** The installation's signing key, made on first use (private key mode 0600, public key beside it). */
function signingKey(dir: string): KeyObject {
  const file = join(dir, SIGNING_KEY_FILE);
  if (existsSync(file)) return createPrivateKey(readFileSync(file));
  mkdirSync(dir, { recursive: true });
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  // 'wx': a second process starting at the same moment keeps the first one's key.
  try {
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return createPrivateKey(readFileSync(file));
  }
  writeFileSync(join(dir, PUBLIC_KEY_FILE), publicKey.export({ type: 'spki', format: 'pem' }), { mode: 0o644 });
  return privateKey;
}

/** The checkpoints recorded in `dir`, oldest first (none when there is no file). */
export function readCheckpoints(dir: string): Checkpoint[] {
  const file = join(dir, CHECKPOINT_FILE);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line) as Checkpoint);
}

/**
 * Chains what is waiting, then records the head as a signed checkpoint when it moved since the last one.
 * Resolves to the checkpoint recorded, the last one when the head has not moved, or null on an empty ledger.
 */
export async function writeCheckpoint(db: Db, dir: string, now = new Date()): Promise<Checkpoint | null> {
  await sequenceLedger(db);
  const head = await readLedgerHead(db);
  if (!head) return null;
  const last = readCheckpoints(dir).at(-1);
  if (last && last.seq === head.seq && last.hash === head.hash) return last;
  const key = signingKey(dir);
  const at = now.toISOString();
  const checkpoint: Checkpoint = {
    seq: head.seq,
    hash: head.hash,
    at,
    signature: sign(null, signed({ ...head, at }), key).toString('base64'),
  };
  appendFileSync(join(dir, CHECKPOINT_FILE), JSON.stringify(checkpoint) + '\n', { mode: 0o600 });
  return checkpoint;
}

/**
 * The recorded checkpoints as heads the chain must still hold. A checkpoint whose signature does not verify (the
 * file was edited) is an error: the file can no longer be trusted.
 */
export function checkpointHeads(dir: string): HeadCheck[] {
  const checkpoints = readCheckpoints(dir);
  if (checkpoints.length === 0) return [];
  const publicFile = join(dir, PUBLIC_KEY_FILE);
  const key = existsSync(publicFile) ? createPublicKey(readFileSync(publicFile)) : createPublicKey(signingKey(dir));
  return checkpoints.map((c, i) => {
    if (!verify(null, signed(c), key, Buffer.from(c.signature, 'base64'))) {
      throw new Error(`checkpoint ${i + 1} in ${CHECKPOINT_FILE} (entry ${c.seq}) has a bad signature: the file was changed`);
    }
    return { seq: c.seq, hash: c.hash, label: `the checkpoint of ${c.at}` };
  });
}
