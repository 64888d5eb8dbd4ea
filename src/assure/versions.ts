import { basename } from 'node:path';
import { AppError } from '../errors.ts';
import { appendToLedger, sha256 } from '../ledger/index.ts';
import type { Db } from '../store/index.ts';
import { insertPolicyVersion, selectPolicyVersion, selectPolicyVersions } from './assure.repo.ts';
import { checkCandidateOrRefuse } from './candidate.ts';
import type { PolicyGate } from './gate.ts';
import type { PolicySource } from './load.ts';

// Adopting a policy change without a restart. An admin adopts a complete, validated set of .cedar files (the schema
// stays the server's); it becomes the next row of policy_versions, is ledgered (`policy.adopted`, with the set's hash
// and the version it restores, if any) and is put in force by the process that adopted it at once. The insert
// NOTIFYs every other process (PostgreSQL delivers it on commit), which reads the newest version and puts it in force
// too; a process that starts reads it before it decides anything. A rollback adopts an older version's files again,
// as a new version. The first adoption records the files the server started from as version 1, so they can be
// restored like any other.

/** Announces a newly adopted policy version (payload: its number). */
export const POLICY_ADOPTED_CHANNEL = 'acs_policy_adopted';

export interface PolicyVersionSummary {
  version: number;
  sha256: string;
  reason: string;
  restores: number | null;
  adoptedBy: string;
  adoptedAt: string;
}

const hashOf = (files: PolicySource[]) =>
  sha256(JSON.stringify([...files].sort((a, b) => (a.file < b.file ? -1 : 1)).map((f) => [f.file, f.text])));

/** The files of the set a gate runs, as a candidate would name them (no folders). */
const filesOf = (gate: PolicyGate): PolicySource[] => gate.loaded.sources.map((s) => ({ file: basename(s.file), text: s.text }));

/**
 * Adopts `files` as the next version: validated (an invalid set is a 400 naming file:line:column), stored, ledgered
 * and put in force in this process; the others follow on the NOTIFY. Returns the new version's number.
 */
export async function adoptPolicies(
  db: Db,
  gate: PolicyGate,
  files: PolicySource[],
  opts: { actor: string; reason: string; now: Date; restores?: number },
): Promise<number> {
  const checked = checkCandidateOrRefuse(gate.loaded, files);
  const at = opts.now.toISOString();
  const started = filesOf(gate);
  const version = await db.transaction(async (tx) => {
    if (!(await selectPolicyVersion(tx, null))) {
      // The set the server started from becomes version 1, so a rollback can reach it.
      const first = await insertPolicyVersion(
        tx,
        {
          files: started,
          sha256: hashOf(started),
          reason: 'the policy files the server started from',
          restores: null,
          actor: opts.actor,
          at,
        },
        POLICY_ADOPTED_CHANNEL,
      );
      await appendToLedger(tx, [
        {
          type: 'policy.adopted',
          actor: opts.actor,
          subjectType: 'policies',
          subjectId: String(first),
          data: { version: first, sha256: hashOf(started), files: started.map((f) => f.file), fromFiles: true },
          at: opts.now,
        },
      ]);
    }
    const hash = hashOf(files);
    const v = await insertPolicyVersion(
      tx,
      { files, sha256: hash, reason: opts.reason, restores: opts.restores ?? null, actor: opts.actor, at },
      POLICY_ADOPTED_CHANNEL,
    );
    // The reason is free text: kept in policy_versions, which the entry names by version.
    await appendToLedger(tx, [
      {
        type: 'policy.adopted',
        actor: opts.actor,
        subjectType: 'policies',
        subjectId: String(v),
        data: {
          version: v,
          sha256: hash,
          files: files.map((f) => f.file),
          ...(opts.restores ? { restores: opts.restores } : {}),
          reasonGiven: true,
        },
        at: opts.now,
      },
    ]);
    return v;
  });
  if (version > gate.version) gate.adopt(checked, version);
  return version;
}

/** Adopts an older version's files again, as a new version that names it. 404 for an unknown version. */
export async function restorePolicyVersion(
  db: Db,
  gate: PolicyGate,
  version: number,
  opts: { actor: string; reason: string; now: Date },
): Promise<number> {
  const row = await selectPolicyVersion(db, version);
  if (!row) throw new AppError('policy.version_not_found', `no policy version ${version}`);
  return adoptPolicies(db, gate, row.files, { ...opts, restores: version });
}

/**
 * Puts the newest adopted version in force in `gate` when it is newer than the one the gate runs: at start, and on
 * each NOTIFY. A stored version that no longer validates against this server's schema is left out, and said so.
 */
export async function syncPolicyVersion(db: Db, gate: PolicyGate): Promise<number> {
  const row = await selectPolicyVersion(db, null);
  if (!row || row.version <= gate.version) return gate.version;
  const checked = checkCandidateOrRefuse(gate.loaded, row.files);
  if (row.version > gate.version) gate.adopt(checked, row.version);
  return gate.version;
}

/** Keeps `gate` on the newest version: every adoption elsewhere NOTIFYs; a lost connection's return reads it again. */
export async function followPolicyVersions(
  db: Db,
  gate: PolicyGate,
  onError: (err: unknown) => void,
): Promise<(() => Promise<void>) | null> {
  await syncPolicyVersion(db, gate).catch(onError);
  if (!db.listen) return null;
  return db.listen(POLICY_ADOPTED_CHANNEL, () => {
    syncPolicyVersion(db, gate).catch(onError);
  });
}

export async function listPolicyVersions(db: Db, limit = 50): Promise<PolicyVersionSummary[]> {
  const rows = await selectPolicyVersions(db, limit);
  return rows.map((r) => ({
    version: r.version,
    sha256: r.sha256,
    reason: r.reason,
    restores: r.restores,
    adoptedBy: r.adopted_by,
    adoptedAt: new Date(r.adopted_at).toISOString(),
  }));
}

/** One version's files, for review or a diff against the set in force. 404 for an unknown version. */
export async function readPolicyVersion(db: Db, version: number): Promise<PolicyVersionSummary & { files: PolicySource[] }> {
  const row = await selectPolicyVersion(db, version);
  if (!row) throw new AppError('policy.version_not_found', `no policy version ${version}`);
  return {
    version: row.version,
    sha256: row.sha256,
    reason: row.reason,
    restores: row.restores,
    adoptedBy: row.adopted_by,
    adoptedAt: new Date(row.adopted_at).toISOString(),
    files: row.files,
  };
}
