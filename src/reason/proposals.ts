import { appendToLedger } from '../ledger/index.ts';
import { newId, type Queryable } from '../store/index.ts';

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
  status?: 'proposed' | 'suppressed' | 'held_out';
  statusReason?: string;
}

/** Stores a proposal and ledgers it (ids, action and EV only: the reason sentence stays in the table). */
export async function recordProposal(tx: Queryable, p: ProposalRecordInput): Promise<string> {
  const id = newId('prop');
  await tx.query(
    `INSERT INTO proposals (id, agent_id, account_id, lead_id, action, params, channel, purpose, risk, ev, ev_value, reason, status, status_reason)
     VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10::jsonb, $11, $12, $13, $14)`,
    [id, p.agentId, p.accountId, p.leadId, p.action, JSON.stringify(p.params), p.channel ?? null, p.purpose ?? null, p.risk,
      JSON.stringify(p.ev), p.ev.value, p.reason, p.status ?? 'proposed', p.statusReason ?? null],
  );
  await appendToLedger(tx, [{
    type: 'proposal.created', actor: `agent:${p.agentId}`, subjectType: 'proposals', subjectId: id,
    data: { agentId: p.agentId, accountId: p.accountId, leadId: p.leadId, action: p.action, ev: p.ev.value, status: p.status ?? 'proposed' },
  }]);
  return id;
}
