import { appendToLedger } from '../ledger/index.ts';
import { newId, type Queryable } from '../store/index.ts';
import type { Decision, PolicyRequestInput } from './request.ts';

/** Default time a human has to decide an approval before it expires. */
export const DEFAULT_APPROVAL_TTL_MS = 72 * 3600_000;

/**
 * Stores the gate's decision on a proposal with the matched policy ids and autonomy level, opens an
 * approval when the outcome needs one, and ledgers both.
 */
export async function recordDecision(
  tx: Queryable,
  proposalId: string,
  request: PolicyRequestInput,
  decision: Decision,
  opts: { now?: Date; approvalTtlMs?: number } = {},
): Promise<{ decisionId: string; approvalId: string | null }> {
  const decisionId = newId('dec');
  await tx.query(
    'INSERT INTO decisions (id, proposal_id, outcome, policy_ids, reasons, autonomy, request) VALUES ($1, $2, $3, $4::jsonb, $5::jsonb, $6, $7::jsonb)',
    [decisionId, proposalId, decision.outcome, JSON.stringify(decision.policyIds), JSON.stringify(decision.reasons), decision.autonomy, JSON.stringify(request)],
  );
  await tx.query("UPDATE proposals SET status = 'decided' WHERE id = $1 AND status = 'proposed'", [proposalId]);
  let approvalId: string | null = null;
  if (decision.outcome === 'approval') {
    approvalId = newId('appr');
    const expires = new Date((opts.now ?? new Date()).getTime() + (opts.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS));
    await tx.query('INSERT INTO approvals (id, decision_id, expires_at) VALUES ($1, $2, $3)', [approvalId, decisionId, expires.toISOString()]);
  }
  await appendToLedger(tx, [{
    type: 'policy.decided', actor: 'policy', subjectType: 'decisions', subjectId: decisionId,
    data: { proposalId, outcome: decision.outcome, policyIds: decision.policyIds, autonomy: decision.autonomy, approvalId },
  }]);
  return { decisionId, approvalId };
}
