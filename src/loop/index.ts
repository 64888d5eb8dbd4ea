import { executeInTransaction, retentionPlay, startPlayInTransaction, type RetentionPlayState } from '../act/index.ts';
import { recordDecisions, type Decision, type PolicyGate, type PolicyRequestInput } from '../assure/index.ts';
import type { Bus } from '../bus/index.ts';
import { inHoldout, leadHoldoutKey } from '../learn/index.ts';
import {
  AGENTS, arbitrate, conflictReason, DEFAULT_RULES, loadAgentSettings, recordProposals,
  type ArbitrationRules, type ChurnModel, type CustomerContext, type ProposalDraft, type ProposalRecordInput, type RecentAction,
} from '../reason/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from '../sense/index.ts';
import type { Queryable } from '../store/index.ts';
import { loadContexts } from './context.ts';

export { loadContexts } from './context.ts';

/**
 * The governed loop for the customers and leads whose signals were just accepted: agents propose,
 * arbitration ranks, held-out customers get nothing executed, Cedar decides in rank order until one
 * proposal is allowed, and that one runs (a credit offer runs as the durable retention play).
 */
export interface LoopOptions {
  gate: PolicyGate;
  /** The churn model in use, if one is trained; agents fall back to documented rules without it. */
  churn: () => ChurnModel | undefined;
  holdout: { salt: string; fraction: number };
  rules?: Omit<ArbitrationRules, 'creditBudgetLeftCents'>;
  dailyCreditBudgetCents: number;
  /** How long an approval waits for a human; default 72 hours. */
  approvalTtlMs?: number;
}

export interface LoopTally {
  /** Customers and leads that got at least one proposal. */
  customers: number;
  proposals: number;
  suppressed: number;
  heldOut: number;
  executed: number;
  approval: number;
  denied: number;
  /** Retention plays started for credit offers. */
  plays: number;
}

export interface LoopSubjects {
  accountIds: string[];
  leadIds: string[];
}

type Settings = Awaited<ReturnType<typeof loadAgentSettings>>;

const autonomyOf = (settings: Settings, agentId: string, action: string): number => {
  const agent = AGENTS.find((a) => a.manifest.id === agentId);
  return settings.get(agentId)?.autonomy[action] ?? agent?.manifest.actions[action as keyof typeof agent.manifest.actions]?.autonomy ?? 0;
};

/** Holdout membership is by customer id, or by the lead's own key for a lead. */
export function holdoutKey(ctx: CustomerContext): string {
  if (ctx.lead) return leadHoldoutKey(ctx.lead);
  return ctx.customerId ?? ctx.accountId!;
}

function policyRequest(draft: ProposalDraft, ctx: CustomerContext, held: boolean, settings: Settings): PolicyRequestInput {
  const consent = draft.channel && draft.purpose ? ctx.consents.some((c) => c.channel === draft.channel && c.purpose === draft.purpose) : false;
  return {
    agent: { id: draft.agentId, role: 'agent', autonomy: autonomyOf(settings, draft.agentId, draft.action) },
    action: draft.action,
    customer: {
      id: ctx.customerId ?? ctx.accountId ?? ctx.lead!.id,
      segment: ctx.lead ? 'lead' : String(ctx.subscription?.contract ?? 'unknown'),
      region: 'unknown',
      inHoldout: held,
    },
    context: {
      risk: draft.risk, hasConsent: consent, amountCents: typeof draft.params.amountCents === 'number' ? draft.params.amountCents : 0,
      ...(draft.channel ? { channel: draft.channel } : {}), ...(draft.purpose ? { purpose: draft.purpose } : {}),
    },
  };
}

const stored = (draft: ProposalDraft, ctx: CustomerContext, status?: ProposalRecordInput['status'], statusReason?: string): ProposalRecordInput => ({
  agentId: draft.agentId, accountId: ctx.accountId, leadId: ctx.lead?.id ?? null, action: draft.action, params: draft.params, channel: draft.channel,
  purpose: draft.purpose, risk: draft.risk, ev: draft.ev as unknown as { value: number } & Record<string, unknown>, reason: draft.reason,
  ...(status ? { status } : {}), ...(statusReason ? { statusReason } : {}),
});

/**
 * What each subject already had in the last 30 days: actions that ran, and actions policy allowed that wait
 * for (or got) approval, dated by the decision, on the clock that decided them.
 */
async function recentActions(q: Queryable, subjects: LoopSubjects, now: Date): Promise<Map<string, RecentAction[]>> {
  const rows = await q.query<{ subject: string; at: Date; agent_id: string; action: string; channel: string | null }>(
    `SELECT coalesce(p.account_id, p.lead_id) AS subject, d.decided_at AS at, p.agent_id, p.action, p.channel
     FROM proposals p JOIN decisions d ON d.proposal_id = p.id LEFT JOIN approvals a ON a.decision_id = d.id
     WHERE (p.account_id = ANY($1::text[]) OR p.lead_id = ANY($2::text[])) AND d.outcome <> 'deny'
       AND (a.id IS NULL OR a.status IN ('pending', 'approved')) AND d.decided_at > $3::timestamptz - interval '30 days'`,
    [subjects.accountIds, subjects.leadIds, now.toISOString()],
  );
  const bySubject = new Map<string, RecentAction[]>();
  for (const r of rows) bySubject.set(r.subject, [...(bySubject.get(r.subject) ?? []), { at: new Date(r.at), agentId: r.agent_id, action: r.action, channel: r.channel }]);
  return bySubject;
}

/** One subject's way through arbitration and policy, before anything is written. */
interface Verdict {
  ctx: CustomerContext;
  suppressed: { draft: ProposalDraft; reason: string }[];
  heldOut: ProposalDraft | null;
  /** Drafts policy decided, in rank order: denied ones, then at most one allowed. */
  decided: { draft: ProposalDraft; request: PolicyRequestInput; decision: Decision }[];
}

/** Runs the loop for these customers and leads inside the caller's transaction. */
export async function decideFor(q: Queryable, subjects: LoopSubjects, opts: LoopOptions, now = new Date()): Promise<LoopTally> {
  const tally: LoopTally = { customers: 0, proposals: 0, suppressed: 0, heldOut: 0, executed: 0, approval: 0, denied: 0, plays: 0 };
  if (subjects.accountIds.length + subjects.leadIds.length === 0) return tally;
  const rules = opts.rules ?? DEFAULT_RULES;
  const settings = await loadAgentSettings(q);
  const active = AGENTS.filter((a) => !settings.get(a.manifest.id)?.paused);
  const contexts = await loadContexts(q, subjects.accountIds, subjects.leadIds, now);
  const recent = await recentActions(q, subjects, now);
  const [spent] = await q.query<{ cents: number }>(
    "SELECT coalesce(sum(amount_cents), 0)::int AS cents FROM credits WHERE status = 'applied' AND created_at >= date_trunc('day', $1::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'",
    [now.toISOString()],
  );
  let creditLeft = opts.dailyCreditBudgetCents - spent!.cents;

  const verdicts: Verdict[] = [];
  for (const ctx of contexts) {
    const drafts = active.flatMap((a) => a.propose(ctx, { churn: opts.churn() }));
    if (drafts.length === 0) continue;
    const { ranked, suppressed } = arbitrate(drafts, recent.get(ctx.accountId ?? ctx.lead!.id) ?? [], { ...rules, creditBudgetLeftCents: creditLeft }, now);
    const verdict: Verdict = { ctx, suppressed, heldOut: null, decided: [] };
    verdicts.push(verdict);
    if (ranked.length === 0) continue;
    const held = inHoldout(holdoutKey(ctx), opts.holdout.salt, opts.holdout.fraction);
    let winner: ProposalDraft | null = null;
    if (held) {
      winner = verdict.heldOut = ranked[0]!;
    } else {
      // Next-best action: a proposal policy denies is recorded as denied, and the next one is asked.
      for (const draft of ranked) {
        const request = policyRequest(draft, ctx, held, settings);
        const decision = opts.gate.decide(request);
        verdict.decided.push({ draft, request, decision });
        if (decision.outcome !== 'deny') {
          winner = draft;
          if (draft.action === 'offer_credit') creditLeft -= Number(draft.params.amountCents);
          break;
        }
      }
    }
    if (winner) for (const loser of ranked.slice(ranked.indexOf(winner) + 1)) suppressed.push({ draft: loser, reason: conflictReason(winner, loser) });
  }

  // Writes, batched: every proposal, then every decision, then the allowed actions.
  const proposals: ProposalRecordInput[] = [];
  const decidedAt: { verdict: Verdict; index: number; proposal: number }[] = [];
  for (const v of verdicts) {
    tally.customers++;
    for (const s of v.suppressed) proposals.push(stored(s.draft, v.ctx, 'suppressed', s.reason));
    if (v.heldOut) proposals.push(stored(v.heldOut, v.ctx, 'held_out', 'customer is in the holdout'));
    v.decided.forEach((d, index) => decidedAt.push({ verdict: v, index, proposal: proposals.push(stored(d.draft, v.ctx)) - 1 }));
    tally.suppressed += v.suppressed.length;
    tally.heldOut += v.heldOut ? 1 : 0;
  }
  tally.proposals = proposals.length;
  const proposalIds = await recordProposals(q, proposals);
  const recorded = await recordDecisions(q, decidedAt.map(({ verdict, index, proposal }) => ({
    proposalId: proposalIds[proposal]!, request: verdict.decided[index]!.request, decision: verdict.decided[index]!.decision,
  })), { now, approvalTtlMs: opts.approvalTtlMs });

  const play = retentionPlay(opts.gate, { approvalTtlMs: opts.approvalTtlMs });
  for (let i = 0; i < decidedAt.length; i++) {
    const { verdict, index } = decidedAt[i]!;
    const { draft, request, decision } = verdict.decided[index]!;
    const { decisionId, approvalId } = recorded[i]!;
    if (decision.outcome === 'deny') {
      tally.denied++;
      continue;
    }
    if (decision.outcome === 'execute') tally.executed++;
    else tally.approval++;
    if (draft.action === 'offer_credit' && verdict.ctx.accountId) {
      // Offer → (approval) → credit → notice, durably: the play picks up from the decision made here.
      const state: RetentionPlayState = {
        agent: { id: draft.agentId, offerAutonomy: decision.autonomy, notifyAutonomy: autonomyOf(settings, draft.agentId, 'send_message') },
        customer: { id: request.customer.id, segment: request.customer.segment, region: request.customer.region, inHoldout: false },
        amountCents: Number(draft.params.amountCents),
        hasServiceEmailConsent: verdict.ctx.consents.some((c) => c.channel === 'email' && c.purpose === 'service'),
        ev: draft.ev as unknown as RetentionPlayState['ev'], reason: draft.reason, offer: { decisionId, approvalId },
      };
      await startPlayInTransaction(q, play, { accountId: verdict.ctx.accountId, state, actor: `agent:${draft.agentId}`, now, step: approvalId ? 'await_approval' : 'apply_credit' });
      tally.plays++;
    } else if (decision.outcome === 'execute') {
      await executeInTransaction(q, { decisionId, idempotencyKey: `decision:${decisionId}`, actor: `agent:${draft.agentId}`, now });
    }
  }
  return tally;
}

/** Runs the loop after every accepted batch, in the delivery's transaction, after features are refreshed. */
export function subscribeDecisionLoop(bus: Bus, opts: LoopOptions, onTally?: (t: LoopTally) => void): void {
  bus.subscribe(SIGNALS_ACCEPTED, async (messages, q) => {
    const events = messages.map((m) => m.payload as SignalsAcceptedEvent);
    const subjects = {
      accountIds: [...new Set(events.flatMap((e) => e.accountIds))],
      leadIds: [...new Set(events.flatMap((e) => e.leadIds ?? []))],
    };
    // The events' own clock, so a replay or a simulation decides as it did at the time.
    const asOf = events.reduce((latest, e) => (e.asOf > latest ? e.asOf : latest), '');
    const tally = await decideFor(q, subjects, opts, new Date(asOf));
    onTally?.(tally);
  });
}
