import { executeInTransaction } from './act/index.ts';
import { recordDecision, type PolicyGate, type PolicyRequestInput } from './assure/index.ts';
import type { Bus } from './bus/index.ts';
import { inHoldout } from './learn/index.ts';
import { AGENTS, arbitrate, DEFAULT_RULES, loadAgentSettings, recordProposal, type ArbitrationRules, type ChurnModel, type CustomerContext, type ProposalDraft } from './reason/index.ts';
import { SIGNALS_ACCEPTED, effectiveConsents, type SignalsAcceptedEvent } from './sense/index.ts';
import type { Queryable } from './store/index.ts';

/**
 * The governed loop for customers whose signals were just accepted: agents propose, arbitration keeps
 * one, held-out customers get nothing executed, Cedar decides, and allowed actions run.
 */
export interface LoopOptions {
  gate: PolicyGate;
  /** The churn model in use, if one is trained; agents fall back to documented rules without it. */
  churn: () => ChurnModel | undefined;
  holdout: { salt: string; fraction: number };
  rules?: Omit<ArbitrationRules, 'creditBudgetLeftCents'>;
  dailyCreditBudgetCents: number;
}

export interface LoopTally {
  customers: number;
  proposals: number;
  suppressed: number;
  heldOut: number;
  executed: number;
  approval: number;
  denied: number;
}

async function customerContext(q: Queryable, accountId: string, now: Date): Promise<CustomerContext | null> {
  const [account] = await q.query<{ id: string; customer_id: string; name: string; attributes: Record<string, unknown> }>(
    'SELECT id, customer_id, name, attributes FROM accounts WHERE id = $1 AND deleted_at IS NULL', [accountId]);
  if (!account) return null;
  const [sub] = await q.query<{ contract: string | null; payment_method: string | null; paperless_billing: boolean | null; tenure_months: number | null; monthly_amount: number | null; services: Record<string, unknown> }>(
    'SELECT contract, payment_method, paperless_billing, tenure_months, monthly_amount, services FROM subscriptions WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT 1', [accountId]);
  const [features] = await q.query<{ features: Record<string, number | string | null> }>('SELECT features FROM customer_features WHERE account_id = $1', [accountId]);
  const contacts = await q.query<{ id: string; email: string | null; phone: string | null }>('SELECT id, email, phone FROM contacts WHERE account_id = $1 AND deleted_at IS NULL', [accountId]);
  const consents = await effectiveConsents(q, contacts.map((c) => c.id), now);
  return {
    accountId, customerId: account.customer_id, name: account.name, attributes: account.attributes,
    subscription: sub ? { contract: sub.contract, paymentMethod: sub.payment_method, paperlessBilling: sub.paperless_billing, tenureMonths: sub.tenure_months, monthlyAmount: sub.monthly_amount, services: sub.services } : null,
    features: features?.features ?? {},
    consents: consents.filter((c) => c.status === 'granted').map((c) => ({ channel: String(c.channel), purpose: String(c.purpose) })),
    contacts: contacts.map((c) => ({ email: c.email, phone: c.phone })),
  };
}

type Settings = Awaited<ReturnType<typeof loadAgentSettings>>;

function policyRequest(draft: ProposalDraft, ctx: CustomerContext, held: boolean, settings: Settings): PolicyRequestInput {
  const agent = AGENTS.find((a) => a.manifest.id === draft.agentId)!;
  const autonomy = settings.get(draft.agentId)?.autonomy[draft.action] ?? agent.manifest.actions[draft.action]?.autonomy ?? 0;
  const consent = draft.channel && draft.purpose ? ctx.consents.some((c) => c.channel === draft.channel && c.purpose === draft.purpose) : false;
  return {
    agent: { id: draft.agentId, role: 'agent', autonomy },
    action: draft.action,
    customer: { id: ctx.customerId ?? ctx.accountId!, segment: String(ctx.subscription?.contract ?? 'unknown'), region: 'unknown', inHoldout: held },
    context: {
      risk: draft.risk, hasConsent: consent, amountCents: typeof draft.params.amountCents === 'number' ? draft.params.amountCents : 0,
      ...(draft.channel ? { channel: draft.channel } : {}), ...(draft.purpose ? { purpose: draft.purpose } : {}),
    },
  };
}

const stored = (draft: ProposalDraft, ctx: CustomerContext) => ({
  agentId: draft.agentId, accountId: ctx.accountId, leadId: null, action: draft.action, params: draft.params, channel: draft.channel,
  purpose: draft.purpose, risk: draft.risk, ev: draft.ev as unknown as { value: number } & Record<string, unknown>, reason: draft.reason,
});

/** Runs the loop for these customers inside the caller's transaction. */
export async function decideForCustomers(q: Queryable, accountIds: string[], opts: LoopOptions, now = new Date()): Promise<LoopTally> {
  const tally: LoopTally = { customers: 0, proposals: 0, suppressed: 0, heldOut: 0, executed: 0, approval: 0, denied: 0 };
  const rules = opts.rules ?? DEFAULT_RULES;
  const settings = await loadAgentSettings(q);
  const active = AGENTS.filter((a) => !settings.get(a.manifest.id)?.paused);
  for (const accountId of accountIds) {
    const ctx = await customerContext(q, accountId, now);
    if (!ctx) continue;
    const drafts = active.flatMap((a) => a.propose(ctx, { churn: opts.churn() }));
    if (drafts.length === 0) continue;
    tally.customers++;
    tally.proposals += drafts.length;
    const recent = (await q.query<{ at: Date; action: string; channel: string | null }>(
      `SELECT e.created_at AS at, e.action, p.channel FROM executions e JOIN decisions d ON d.id = e.decision_id JOIN proposals p ON p.id = d.proposal_id
       WHERE p.account_id = $1 AND e.created_at > $2::timestamptz - interval '30 days'`, [accountId, now.toISOString()])).map((r) => ({ ...r, at: new Date(r.at) }));
    const [spent] = await q.query<{ cents: number }>("SELECT coalesce(sum(amount_cents), 0)::int AS cents FROM credits WHERE status = 'applied' AND created_at >= date_trunc('day', $1::timestamptz)", [now.toISOString()]);
    const { chosen, suppressed } = arbitrate(drafts, recent, { ...rules, creditBudgetLeftCents: opts.dailyCreditBudgetCents - spent!.cents }, now);
    for (const s of suppressed) await recordProposal(q, { ...stored(s.draft, ctx), status: 'suppressed', statusReason: s.reason });
    tally.suppressed += suppressed.length;
    if (!chosen) continue;
    const held = inHoldout(ctx.customerId ?? accountId, opts.holdout.salt, opts.holdout.fraction);
    if (held) {
      await recordProposal(q, { ...stored(chosen, ctx), status: 'held_out', statusReason: 'customer is in the holdout' });
      tally.heldOut++;
      continue;
    }
    const request = policyRequest(chosen, ctx, held, settings);
    const decision = opts.gate.decide(request);
    const proposalId = await recordProposal(q, stored(chosen, ctx));
    const { decisionId } = await recordDecision(q, proposalId, request, decision, { now });
    if (decision.outcome === 'execute') {
      await executeInTransaction(q, { decisionId, idempotencyKey: `decision:${decisionId}`, actor: `agent:${chosen.agentId}` });
      tally.executed++;
    } else if (decision.outcome === 'approval') tally.approval++;
    else tally.denied++;
  }
  return tally;
}

/** Runs the loop after every accepted batch, in the delivery's transaction, after features are refreshed. */
export function subscribeDecisionLoop(bus: Bus, opts: LoopOptions, onTally?: (t: LoopTally) => void): void {
  bus.subscribe(SIGNALS_ACCEPTED, async (messages, q) => {
    const events = messages.map((m) => m.payload as SignalsAcceptedEvent);
    const accountIds = [...new Set(events.flatMap((e) => e.accountIds))];
    // The events' own clock, so a replay or a simulation decides as it did at the time.
    const asOf = events.reduce((latest, e) => (e.asOf > latest ? e.asOf : latest), '');
    const tally = await decideForCustomers(q, accountIds, opts, new Date(asOf));
    onTally?.(tally);
  });
}
