import type { PolicyGate, PolicyRequestInput } from '../assure/index.ts';
import { trackContext, trackRecords } from '../learn/index.ts';
import { isAgentStopped } from '../reason/index.ts';
import { outreachConsent } from '../sense/index.ts';
import type { Tx } from '../store/index.ts';
import { approvalExecutionKey } from './approvals.ts';
import { compensateInTransaction, executeInTransaction } from './execute.ts';
import { recordJudged } from './governed.ts';
import { draftMessageBody, ledgerMessageGeneration, withTextVerdict, type MessageTextDeps } from './message-body.ts';
import { awaitApproval, type PlayDefinition, type PlayRef } from './plays.ts';

/** What the retention play carries from step to step; everything is plain JSON so it survives restarts. */
export interface RetentionPlayState {
  agent: { id: string; offerAutonomy: number; notifyAutonomy: number };
  customer: { id: string; segment: string; region: string; inHoldout: boolean };
  amountCents: number;
  /** The proposing agent's expected value and sentence, kept with the proposal. */
  ev: { value: number } & Record<string, unknown>;
  reason: string;
  offer?: { decisionId: string; approvalId: string | null };
  creditKey?: string;
  notice?: string;
  /** The offer was decided with a customer's input flagged as a possible prompt injection: its notice is too. */
  inputFlagged?: boolean;
}

const ACTOR = 'play:retention';

/**
 * While its agent is stopped (the kill switch, or its own pause) the steps that act (credit, notice) wait: they would
 * otherwise fail, retry, give up and reverse the credit. The play goes on once the agent may act again.
 */
const agentStopped = isAgentStopped;

async function decide(
  tx: Tx,
  gate: PolicyGate,
  play: PlayRef,
  s: RetentionPlayState,
  action: 'offer_credit' | 'send_message',
  params: Record<string, unknown>,
  approvalTtlMs?: number,
  text?: MessageTextDeps,
) {
  const notify = action === 'send_message';
  // The notice is decided on the consent in effect when it is sent, days after the offer perhaps, and goes where that consent allows.
  const consent = notify
    ? await outreachConsent(tx, { accountId: play.accountId, leadId: null }, { channel: 'email', purpose: 'service' }, play.now)
    : null;
  if (consent?.to) params = { ...params, to: consent.to, ...(consent.brand ? { brand: consent.brand } : {}) };
  // The notice's body: grounded in the knowledge base and the customer's facts (the credit among them), with citations.
  const drafted = notify
    ? await draftMessageBody(
        tx,
        {
          accountId: play.accountId,
          template: String(params.template ?? ''),
          consentPurpose: 'service',
          now: play.now,
          // The notice follows apply_credit: the credit is applied, and the text says so.
          appliedCreditCents: s.amountCents,
        },
        text,
      )
    : null;
  if (drafted) params = { ...params, ...drafted.params };
  // Earned autonomy applies to the play's steps as to the loop's proposals.
  const track = trackContext(await trackRecords(tx, { now: play.now, agentIds: [s.agent.id] }), s.agent.id, action);
  const request: PolicyRequestInput = {
    agent: { id: s.agent.id, role: 'agent', autonomy: notify ? s.agent.notifyAutonomy : s.agent.offerAutonomy },
    action,
    customer: s.customer,
    context: notify
      ? {
          channel: 'email',
          purpose: 'service',
          hasConsent: consent!.granted,
          doubleOptIn: consent!.doubleOptIn,
          risk: 'low',
          // The notice is the play's later step, in another domain (outreach) than its offer (money): decided with the
          // plan's level, so an L5 plan runs it without a second approval (policy `l5-plan-across-domains`).
          planAutonomy: s.agent.offerAutonomy,
          ...track,
          ...(s.inputFlagged ? { inputFlagged: true } : {}),
        }
      : { risk: 'low', amountCents: s.amountCents, ...track, ...(s.inputFlagged ? { inputFlagged: true } : {}) },
  };
  // A body that failed a guardrail goes to a person; one that abstained is not sent (message-body.ts).
  const decision = withTextVerdict(gate.decide(request), drafted);
  // The loop's own decide step records it: the proposal, then policy's decision (and approval) on it.
  const {
    proposalIds: [proposalId],
    decisions: [recorded],
  } = await recordJudged(
    tx,
    [
      {
        agentId: s.agent.id,
        accountId: play.accountId,
        leadId: null,
        action,
        params,
        risk: 'low',
        ev: s.ev,
        reason: notify ? 'tell the customer about the credit' : s.reason,
        // The notice is a step of the credit's play: a contact, not a second action for the cooldown.
        ...(notify ? { channel: 'email', purpose: 'service', followsDecisionId: s.offer?.decisionId } : {}),
      },
    ],
    [{ proposal: 0, request, decision }],
    { now: play.now, approvalTtlMs },
  );
  if (drafted) await ledgerMessageGeneration(tx, drafted.generation.record, proposalId!, ACTOR, play.now);
  return { decision, ...recorded! };
}

/**
 * Churn risk → propose an offer → (approval) → apply the credit → notify the customer. A customer in the
 * holdout gets the proposal recorded as held out and nothing else. If a later step keeps failing, the
 * credit is reversed.
 */
export function retentionPlay(
  gate: PolicyGate,
  opts: { approvalPollMs?: number; approvalTtlMs?: number; text?: MessageTextDeps } = {},
): PlayDefinition<RetentionPlayState> {
  const pollMs = opts.approvalPollMs ?? 60_000;
  return {
    kind: 'retention',
    first: 'propose_offer',
    steps: {
      propose_offer: {
        run: async (tx, play, s) => {
          const params = { amountCents: s.amountCents, currency: 'USD', reason: 'retention offer' };
          if (s.customer.inHoldout) {
            await recordJudged(
              tx,
              [
                {
                  agentId: s.agent.id,
                  accountId: play.accountId,
                  leadId: null,
                  action: 'offer_credit',
                  params,
                  risk: 'low',
                  ev: s.ev,
                  reason: s.reason,
                  status: 'held_out',
                  statusReason: 'customer is in the holdout',
                },
              ],
              [],
              { now: play.now },
            );
            return { refuse: 'customer is in the holdout', state: s };
          }
          const { decision, decisionId, approvalId } = await decide(tx, gate, play, s, 'offer_credit', params, opts.approvalTtlMs);
          const state = { ...s, offer: { decisionId, approvalId } };
          if (decision.outcome === 'deny') return { refuse: decision.reasons.join('; '), state };
          return { next: decision.outcome === 'approval' ? 'await_approval' : 'apply_credit', state };
        },
      },
      // The approval is a step that waits; a reviewer's decision lets it go on.
      await_approval: awaitApproval({ approvalOf: (s) => s.offer?.approvalId, next: 'apply_credit', what: 'the offer', pollMs }),
      apply_credit: {
        run: async (tx, play, s) => {
          if (await agentStopped(tx, s.agent.id)) return { wait: pollMs, state: s };
          // After an approval, the same key as the approve route: whichever runs first applies the credit, once.
          const key = s.offer!.approvalId ? approvalExecutionKey(s.offer!.approvalId) : `play:${play.id}:apply_credit`;
          const applied = await executeInTransaction(tx, {
            decisionId: s.offer!.decisionId,
            idempotencyKey: key,
            actor: ACTOR,
            now: play.now,
            dailyCreditBudgetCents: gate.dailyCreditBudgetCents,
          });
          // Refused (the day's budget is spent): nothing was applied, so there is nothing to announce.
          if (applied.status === 'refused') return { refuse: `the credit was not applied: ${String(applied.result.reason)}`, state: s };
          return { next: 'notify_customer', state: { ...s, creditKey: key } };
        },
        compensate: async (tx, play, s) => {
          if (s.creditKey) await compensateInTransaction(tx, s.creditKey, ACTOR, 'retention play gave up', play.now);
        },
      },
      notify_customer: {
        run: async (tx, play, s) => {
          const params = { channel: 'email', purpose: 'service', template: 'retention-credit-applied' };
          const { decision, decisionId } = await decide(tx, gate, play, s, 'send_message', params, opts.approvalTtlMs, opts.text);
          // Waiting for a human is the approval queue's business now: approving it sends the notice.
          if (decision.outcome === 'approval')
            return { done: true, state: { ...s, notice: `waiting for approval: ${decision.reasons.join('; ')}` } };
          if (decision.outcome !== 'execute')
            return { done: true, state: { ...s, notice: `not sent: ${decision.reasons.join('; ') || decision.outcome}` } };
          const sent = await executeInTransaction(tx, {
            decisionId,
            idempotencyKey: `play:${play.id}:notify`,
            actor: ACTOR,
            now: play.now,
          });
          return { done: true, state: { ...s, notice: sent.status === 'refused' ? `not sent: ${String(sent.result.reason)}` : 'queued' } };
        },
      },
    },
  };
}
