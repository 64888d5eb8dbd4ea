/**
 * assure's tables: proposals and the decisions policy made on them. Their SQL lives here; decisions.ts and
 * candidate.ts keep the rules.
 */
import { insertRows, type Db, type Tx } from '../store/index.ts';
import type { Outcome } from './request.ts';

/** A decision with the proposal it answers, as a dry run of candidate policies re-decides it. */
export interface DecisionWithProposalRow {
  id: string;
  proposal_id: string;
  outcome: Outcome;
  policy_ids: string[];
  request: unknown;
  decided_at: Date;
  /** decided_at as PostgreSQL prints it: a cursor that keeps its microseconds. */
  at_key: string;
  agent_id: string;
  action: string;
  account_id: string | null;
  lead_id: string | null;
}

/** Decisions made in (`from`, `to`], newest first, before the cursor (`cursorAt`, `cursorId`) when given. */
export async function selectDecisionsPage(
  db: Db,
  page: { from: string; to: string; cursorAt: string | null; cursorId: string | null; limit: number; agentId?: string },
): Promise<DecisionWithProposalRow[]> {
  return db.query<DecisionWithProposalRow>(
    `SELECT d.id, d.proposal_id, d.outcome, d.policy_ids, d.request, d.decided_at, d.decided_at::text AS at_key,
              p.agent_id, p.action, p.account_id, p.lead_id
       FROM decisions d JOIN proposals p ON p.id = d.proposal_id
       WHERE d.decided_at > $1::timestamptz AND d.decided_at <= $2::timestamptz
         AND ($3::timestamptz IS NULL OR (d.decided_at, d.id) < ($3::timestamptz, $4::text))
         AND ($6::text IS NULL OR p.agent_id = $6::text)
       ORDER BY d.decided_at DESC, d.id DESC LIMIT $5`,
    [page.from, page.to, page.cursorAt, page.cursorId, page.limit, page.agentId ?? null],
  );
}

/** Decision rows as recordDecisions builds them (extra keys are left out). */
export async function insertDecisions(tx: Tx, rows: readonly object[]): Promise<void> {
  await insertRows(
    tx,
    'decisions',
    {
      id: 'text',
      proposal_id: 'text',
      outcome: 'text',
      policy_ids: 'jsonb',
      reasons: 'jsonb',
      autonomy: 'int',
      request: 'jsonb',
      decided_at: 'timestamptz',
    },
    rows,
  );
}

/** Marks proposals decided (those still `proposed`; a held-out or suppressed one keeps its status). */
export async function markProposalsDecided(tx: Tx, proposalIds: string[]): Promise<void> {
  await tx.query("UPDATE proposals SET status = 'decided' WHERE id = ANY($1::text[]) AND status = 'proposed'", [proposalIds]);
}

/** Proposal rows as recordProposals builds them; `datedByCaller`: they carry `created_at` (else the database's time). */
export async function insertProposals(tx: Tx, rows: readonly object[], opts: { datedByCaller: boolean }): Promise<void> {
  await insertRows(
    tx,
    'proposals',
    {
      id: 'text',
      agent_id: 'text',
      account_id: 'text',
      lead_id: 'text',
      action: 'text',
      params: 'jsonb',
      channel: 'text',
      purpose: 'text',
      risk: 'text',
      ev: 'jsonb',
      ev_value: 'numeric',
      reason: 'text',
      status: 'text',
      status_reason: 'text',
      follows_decision_id: 'text',
      ...(opts.datedByCaller ? { created_at: 'timestamptz' } : {}),
    },
    rows,
  );
}

export interface PolicyVersionRow {
  version: number;
  files: { file: string; text: string }[];
  sha256: string;
  reason: string;
  restores: number | null;
  adopted_by: string;
  adopted_at: Date;
}

const VERSION_COLUMNS = 'version, files, sha256, reason, restores, adopted_by, adopted_at';

/** The newest adopted version (the set in force), or one by number. */
export async function selectPolicyVersion(q: Db | Tx, version: number | null): Promise<PolicyVersionRow | undefined> {
  const [row] = await q.query<PolicyVersionRow>(
    version === null
      ? `SELECT ${VERSION_COLUMNS} FROM policy_versions ORDER BY version DESC LIMIT 1`
      : `SELECT ${VERSION_COLUMNS} FROM policy_versions WHERE version = $1`,
    version === null ? [] : [version],
  );
  return row;
}

/** Every adopted version, newest first, without the files' text. */
export async function selectPolicyVersions(q: Db | Tx, limit: number): Promise<Omit<PolicyVersionRow, 'files'>[]> {
  return q.query(`SELECT version, sha256, reason, restores, adopted_by, adopted_at FROM policy_versions ORDER BY version DESC LIMIT $1`, [
    limit,
  ]);
}

/**
 * Adds the next version and announces it (PostgreSQL delivers the NOTIFY on commit). The table is locked for the rest
 * of the transaction, so two adoptions at once get consecutive numbers.
 */
export async function insertPolicyVersion(
  tx: Tx,
  row: { files: { file: string; text: string }[]; sha256: string; reason: string; restores: number | null; actor: string; at: string },
  channel: string,
): Promise<number> {
  await tx.query('LOCK TABLE policy_versions IN EXCLUSIVE MODE');
  const [{ version }] = (await tx.query<{ version: number }>(
    `INSERT INTO policy_versions (version, files, sha256, reason, restores, adopted_by, adopted_at)
       SELECT coalesce(max(version), 0) + 1, $1::jsonb, $2, $3, $4, $5, $6::timestamptz FROM policy_versions
     RETURNING version`,
    [JSON.stringify(row.files), row.sha256, row.reason, row.restores, row.actor, row.at],
  )) as [{ version: number }];
  await tx.query('SELECT pg_notify($1, $2)', [channel, String(version)]);
  return version;
}
