import { appendToLedger } from '../ledger/index.ts';
import { newId, type Tx } from '../store/index.ts';
import { insertProposals } from './assure.repo.ts';

/** A proposal as stored: the action, for whom, and its explanation (EV terms and a sentence). */
export interface ProposalRecordInput {
  agentId: string;
  accountId: string | null;
  leadId: string | null;
  action: string;
  params: Record<string, unknown>;
  channel?: string;
  purpose?: string;
  risk: 'low' | 'medium' | 'high';
  /** The expected-value terms with their sources; `value` is p × impact − cost − risk penalty. */
  ev: { value: number } & Record<string, unknown>;
  reason: string;
  /** suggested: an L1 agent's proposal, decided (denied for execution by the L1 rule) and kept as a suggestion. */
  status?: 'proposed' | 'suppressed' | 'held_out' | 'suggested';
  statusReason?: string;
  /** Set on a later step of another action's play (its notice): the decision of the action it follows. */
  followsDecisionId?: string;
}

/** Stores a proposal and ledgers it (ids, action and EV only: the reason sentence stays in the table). */
export async function recordProposal(tx: Tx, p: ProposalRecordInput, opts: { now?: Date } = {}): Promise<string> {
  return (await recordProposals(tx, [p], opts))[0]!;
}

/**
 * recordProposal for many at once: one insert and one ledger append however many there are. Returns ids in order.
 * `now` dates them on the caller's clock (the live world's); without it, the database's time.
 */
export async function recordProposals(tx: Tx, proposals: ProposalRecordInput[], opts: { now?: Date } = {}): Promise<string[]> {
  const at = opts.now ?? new Date();
  const rows = proposals.map((p) => ({
    id: newId('prop'),
    agent_id: p.agentId,
    account_id: p.accountId,
    lead_id: p.leadId,
    action: p.action,
    params: p.params,
    channel: p.channel ?? null,
    purpose: p.purpose ?? null,
    risk: p.risk,
    ev: p.ev,
    ev_value: p.ev.value,
    reason: p.reason,
    status: p.status ?? 'proposed',
    status_reason: p.statusReason ?? null,
    follows_decision_id: p.followsDecisionId ?? null,
    ...(opts.now ? { created_at: opts.now.toISOString() } : {}),
  }));
  await insertProposals(tx, rows, { datedByCaller: Boolean(opts.now) });
  await appendToLedger(
    tx,
    rows.map((r) => ({
      type: 'proposal.created',
      actor: `agent:${r.agent_id}`,
      subjectType: 'proposals',
      subjectId: r.id,
      data: { agentId: r.agent_id, accountId: r.account_id, leadId: r.lead_id, action: r.action, ev: r.ev_value, status: r.status },
      at,
    })),
  );
  return rows.map((r) => r.id);
}
