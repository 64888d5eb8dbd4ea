import { appendToLedger } from '../ledger/index.ts';
import { inSpan, spanIds, tracingEnabled } from '../lib/index.ts';
import { insertDecisions, markProposalsDecided, type Decision, type PolicyRequestInput } from '../assure/index.ts';
import { newId, type Tx } from '../store/index.ts';
import { insertApprovals } from './act.repo.ts';

/** Default time a human has to decide an approval before it expires. */
export const DEFAULT_APPROVAL_TTL_MS = 72 * 3600_000;

export interface DecisionRecordInput {
  proposalId: string;
  request: PolicyRequestInput;
  decision: Decision;
}

/**
 * Stores the gate's decision on a proposal with the matched policy ids and autonomy level, opens an
 * approval when the outcome needs one, and ledgers both.
 */
export async function recordDecision(
  tx: Tx,
  proposalId: string,
  request: PolicyRequestInput,
  decision: Decision,
  opts: { now?: Date; approvalTtlMs?: number } = {},
): Promise<{ decisionId: string; approvalId: string | null }> {
  return (await recordDecisions(tx, [{ proposalId, request, decision }], opts))[0]!;
}

/** recordDecision for many at once, in a fixed number of statements. Returns the ids in order. */
export async function recordDecisions(
  tx: Tx,
  items: DecisionRecordInput[],
  opts: { now?: Date; approvalTtlMs?: number } = {},
): Promise<{ decisionId: string; approvalId: string | null }[]> {
  if (items.length === 0) return [];
  return inSpan('policy record', {}, async (span) => {
    const recorded = await recordDecisionsUntraced(tx, items, opts);
    if (tracingEnabled())
      span.setAttributes({
        'acs.decision.count': recorded.length,
        'acs.decision.ids': spanIds(recorded.map((r) => r.decisionId)),
        'acs.proposal.ids': spanIds(items.map((i) => i.proposalId)),
        'acs.decision.outcomes': spanIds(items.map((i) => i.decision.outcome)),
        'acs.approval.ids': spanIds(recorded.flatMap((r) => (r.approvalId ? [r.approvalId] : []))),
      });
    return recorded;
  });
}

async function recordDecisionsUntraced(
  tx: Tx,
  items: DecisionRecordInput[],
  opts: { now?: Date; approvalTtlMs?: number },
): Promise<{ decisionId: string; approvalId: string | null }[]> {
  const now = opts.now ?? new Date();
  const expires = new Date(now.getTime() + (opts.approvalTtlMs ?? DEFAULT_APPROVAL_TTL_MS)).toISOString();
  const rows = items.map((i) => ({
    id: newId('dec'),
    proposal_id: i.proposalId,
    outcome: i.decision.outcome,
    policy_ids: i.decision.policyIds,
    reasons: i.decision.reasons,
    autonomy: i.decision.autonomy,
    request: i.request,
    decided_at: now.toISOString(),
    approvalId: i.decision.outcome === 'approval' ? newId('appr') : null,
  }));
  await insertDecisions(tx, rows);
  await markProposalsDecided(
    tx,
    rows.map((r) => r.proposal_id),
  );
  await insertApprovals(
    tx,
    rows.filter((r) => r.approvalId).map((r) => ({ id: r.approvalId, decision_id: r.id, expires_at: expires })),
  );
  await appendToLedger(
    tx,
    rows.map((r) => ({
      type: 'policy.decided',
      actor: 'policy',
      subjectType: 'decisions',
      subjectId: r.id,
      data: { proposalId: r.proposal_id, outcome: r.outcome, policyIds: r.policy_ids, autonomy: r.autonomy, approvalId: r.approvalId },
      at: now,
    })),
  );
  return rows.map((r) => ({ decisionId: r.id, approvalId: r.approvalId }));
}
