import type { PolicyGate, PolicyRequestInput } from '../assure/index.ts';
import { recordPulls, trackContext, trackRecords, type Pull } from '../learn/index.ts';
import { isAgentStopped } from '../reason/index.ts';
import { outreachConsent } from '../sense/index.ts';
import { approvalExecutionKey } from './approvals.ts';
import { executeInTransaction } from './execute.ts';
import { draftMessageBody, ledgerMessageGeneration, withTextVerdict, type MessageTextDeps } from './message-body.ts';
import { recordJudged } from './governed.ts';
import { awaitApproval, type PlayDefinition } from './plays.ts';

/** What the service recovery play carries from step to step; plain JSON, so it survives restarts. */
export interface ServiceRecoveryPlayState {
  agent: { id: string; notifyAutonomy: number };
  customer: { id: string; segment: string; region: string; inHoldout: boolean };
  /** The case's decision (made by the loop), its approval if a human must allow it, and the case once opened. */
  case: { decisionId: string; approvalId: string | null; caseId?: string };
  /** The notice the agent drafted with the case: channel and purpose, its parameters as the loop addressed them, its EV. */
  /** The case was decided with a customer's input flagged as a possible prompt injection: its notice is too. */
  inputFlagged?: boolean;
  notice: {
    channel: NonNullable<PolicyRequestInput['context']['channel']>;
    purpose: NonNullable<PolicyRequestInput['context']['purpose']>;
    params: Record<string, unknown>;
    ev: { value: number } & Record<string, unknown>;
    reason: string;
  };
  /** What became of the notice: queued, waiting for approval, or why it was not sent. */
  sent?: string;
}

const ACTOR = 'play:service-recovery';

/**
 * Repeated trouble → a proactive case → tell the customer a case was opened. The notice is the case's second step,
 * not an action that competes with it for the customer's one slot: the loop starts this play when the case wins
 * (after executing it, or at its approval), and the notice is decided by the same gate when it is sent, on the
 * consent in effect then. A notice policy refuses, or that the tool refuses, ends the play with the reason and
 * no message; the case stays open.
 */
export function serviceRecoveryPlay(
  gate: PolicyGate,
  opts: { approvalPollMs?: number; approvalTtlMs?: number; text?: MessageTextDeps } = {},
): PlayDefinition<ServiceRecoveryPlayState> {
  const pollMs = opts.approvalPollMs ?? 60_000;
  return {
    kind: 'service_recovery',
    first: 'await_approval',
    steps: {
      // The case waits for a human when policy says so; the notice waits with it.
      await_approval: awaitApproval({ approvalOf: (s) => s.case.approvalId, next: 'open_case', what: 'the case', pollMs }),
      open_case: {
        run: async (tx, play, s) => {
          if (await isAgentStopped(tx, s.agent.id)) return { wait: pollMs, state: s };
          // After an approval, the same key as the approve route: whichever runs first opens the case, once.
          const key = s.case.approvalId ? approvalExecutionKey(s.case.approvalId) : `decision:${s.case.decisionId}`;
          const opened = await executeInTransaction(tx, {
            decisionId: s.case.decisionId,
            idempotencyKey: key,
            actor: ACTOR,
            now: play.now,
          });
          if (opened.status === 'refused') return { refuse: `the case was not opened: ${String(opened.result.reason)}`, state: s };
          return { next: 'notify_customer', state: { ...s, case: { ...s.case, caseId: String(opened.result.caseId ?? '') } } };
        },
      },
      notify_customer: {
        run: async (tx, play, s) => {
          if (await isAgentStopped(tx, s.agent.id)) return { wait: pollMs, state: s };
          const n = s.notice;
          // Decided on the consent in effect when it is sent (days after the case, perhaps), and addressed to the point it allows.
          const consent = await outreachConsent(
            tx,
            { accountId: play.accountId, leadId: null },
            { channel: n.channel, purpose: n.purpose, brand: typeof n.params.brand === 'string' ? n.params.brand : null },
            play.now,
          );
          // The body: grounded in the knowledge base and the customer's facts (the case's subject among them), with citations.
          const drafted = await draftMessageBody(
            tx,
            {
              accountId: play.accountId,
              template: String(n.params.template ?? ''),
              consentPurpose: n.purpose,
              now: play.now,
              caseId: s.case.caseId ?? null,
            },
            opts.text,
          );
          const params = {
            ...n.params,
            ...(consent.to ? { to: consent.to } : {}),
            ...(consent.brand ? { brand: consent.brand } : {}),
            ...drafted?.params,
          };
          const track = trackContext(await trackRecords(tx, { now: play.now, agentIds: [s.agent.id] }), s.agent.id, 'send_message');
          const request: PolicyRequestInput = {
            agent: { id: s.agent.id, role: 'agent', autonomy: s.agent.notifyAutonomy },
            action: 'send_message',
            customer: s.customer,
            context: {
              channel: n.channel,
              purpose: n.purpose,
              hasConsent: consent.granted,
              risk: 'low',
              amountCents: 0,
              ...track,
              ...(s.inputFlagged ? { inputFlagged: true } : {}),
            },
          };
          // A body that failed a guardrail goes to a person; one that abstained is not sent (message-body.ts).
          const decision = withTextVerdict(gate.decide(request), drafted);
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
                action: 'send_message',
                params,
                channel: n.channel,
                purpose: n.purpose,
                risk: 'low',
                ev: n.ev,
                reason: n.reason,
                // A step of the case's play: a contact, not a second action for the cooldown.
                followsDecisionId: s.case.decisionId,
              },
            ],
            [{ proposal: 0, request, decision }],
            { now: play.now, approvalTtlMs: opts.approvalTtlMs },
          );
          if (drafted) await ledgerMessageGeneration(tx, drafted.generation.record, proposalId!, ACTOR, play.now);
          // The channel bandit's arm is played when policy allows the notice that carries it.
          const bandit = n.ev.bandit as Pull['choice'] | undefined;
          if (bandit && decision.outcome !== 'deny')
            await recordPulls(tx, [{ proposalId: proposalId!, choice: bandit, accountId: play.accountId, leadId: null }], play.now);
          if (decision.outcome === 'deny') {
            const why = `the notice was not sent: ${decision.reasons.join('; ') || 'denied'}`;
            return { refuse: why, state: { ...s, sent: why } };
          }
          // Waiting for a human is the approval queue's business now: approving it sends the notice.
          if (decision.outcome === 'approval')
            return { done: true, state: { ...s, sent: `waiting for approval: ${decision.reasons.join('; ')}` } };
          const sent = await executeInTransaction(tx, {
            decisionId: recorded!.decisionId,
            idempotencyKey: `play:${play.id}:notify`,
            actor: ACTOR,
            now: play.now,
          });
          if (sent.status === 'refused') {
            const why = `the notice was not sent: ${String(sent.result.reason)}`;
            return { refuse: why, state: { ...s, sent: why } };
          }
          return { done: true, state: { ...s, sent: 'queued' } };
        },
      },
    },
  };
}
