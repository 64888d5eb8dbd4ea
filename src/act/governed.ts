import { recordProposals, type Decision, type PolicyRequestInput, type ProposalRecordInput } from '../assure/index.ts';
import type { Tx } from '../store/index.ts';
import { recordDecisions } from './decisions.ts';

/** A proposal policy judged: the request it was asked and its answer; `proposal` indexes the proposals recorded with it. */
export interface Judged {
  proposal: number;
  request: PolicyRequestInput;
  decision: Decision;
}

/**
 * The decide step's writes, one implementation for the governed loop and the plays: the proposals (suppressed and
 * held-out ones too), then policy's decisions on the judged ones with their approvals, each batch ledgered.
 */
export async function recordJudged(
  q: Tx,
  proposals: ProposalRecordInput[],
  judged: Judged[],
  opts: { now?: Date; approvalTtlMs?: number } = {},
): Promise<{ proposalIds: string[]; decisions: { decisionId: string; approvalId: string | null }[] }> {
  const proposalIds = await recordProposals(q, proposals, { now: opts.now });
  const decisions = await recordDecisions(
    q,
    judged.map((j) => ({ proposalId: proposalIds[j.proposal]!, request: j.request, decision: j.decision })),
    opts,
  );
  return { proposalIds, decisions };
}
