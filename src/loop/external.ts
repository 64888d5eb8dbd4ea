import { z } from 'zod';
import { creditBudgetLeft, TOOLS } from '../act/index.ts';
import type { PolicyGate } from '../assure/index.ts';
import { toFieldIssues } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { inHoldout, trackRecords } from '../learn/index.ts';
import {
  agentById,
  DEFAULT_RULES,
  expectedValue,
  EXTERNAL_ACTIONS,
  isExternalAgentId,
  loadAgentSettings,
  registerExternalAgent,
  stoppedAgents,
  type ArbitrationRules,
  type ProposalDraft,
} from '../reason/index.ts';
import { findAccount, flaggedSignalsOf } from '../sense/index.ts';
import type { Db } from '../store/index.ts';
import { addReach, loadContexts } from './context.ts';
import { FLAGGED_INPUT_WINDOW_MS, holdoutKey, judgeSubject, recentActions, recordVerdicts } from './loop.ts';

// An external agent's proposal takes the same way as a built-in agent's draft: eligibility, arbitration (EV, cooldown,
// contact cap, credit budget), the holdout, Cedar at the agent's own autonomy, then proposal, decision, approval and
// ledger through recordVerdicts. Nothing here writes a record: only a tool run for an allowing decision does.

const Dollars = z.number().finite().min(0).max(10_000_000);

/** What an external agent sends. `customerId` is the account id or the customer id, as the Customer 360 takes it. */
export const ExternalProposalInput = z.strictObject({
  customerId: z.string().trim().min(1).max(128),
  action: z.enum(EXTERNAL_ACTIONS, {
    error: (issue) => `unknown action ${JSON.stringify(issue.input)}; expected one of ${EXTERNAL_ACTIONS.join(', ')}`,
  }),
  /** The action's parameters, as its tool takes them (docs/mcp.md lists each). */
  params: z.record(z.string(), z.unknown()),
  channel: z.enum(['email', 'sms', 'phone', 'push']).optional(),
  purpose: z.enum(['marketing', 'service', 'sales']).optional(),
  risk: z.enum(['low', 'medium', 'high']).optional(),
  /** The agent's own estimate, which arbitration ranks and refuses at or below zero like any agent's. */
  expectedValue: z.strictObject({ pSuccess: z.number().min(0).max(1), impactDollars: Dollars, costDollars: Dollars.default(0) }),
  /** One sentence a person can read: it is shown on the approval card. */
  reason: z.string().trim().min(1).max(500),
});
export type ExternalProposalInput = z.input<typeof ExternalProposalInput>;

export interface ExternalProposalResult {
  agentId: string;
  accountId: string;
  proposalId: string;
  /** What became of it: waiting for approval, run, denied by policy, suggested only (L1), suppressed or held out. */
  status: 'approval' | 'executed' | 'denied' | 'suggested' | 'suppressed' | 'held_out';
  decisionId: string | null;
  approvalId: string | null;
  /** Why: the policies' reasons, or arbitration's. */
  reasons: string[];
}

export interface ExternalProposalOptions {
  gate: PolicyGate;
  /** The loop's holdout when agents run; without it no customer is held out. */
  holdout?: { salt: string; fraction: number };
  approvalTtlMs?: number;
  now: Date;
  actor: string;
}

/** Validates an external agent's proposal and puts it through the governed path in one transaction. */
export async function proposeExternal(
  db: Db,
  agentId: string,
  raw: unknown,
  opts: ExternalProposalOptions,
): Promise<ExternalProposalResult> {
  if (!isExternalAgentId(agentId)) throw new Error(`${agentId} is not an external agent id`);
  const parsed = ExternalProposalInput.safeParse(raw);
  if (!parsed.success) throw new AppError('validation_failed', 'invalid proposal', toFieldIssues(parsed.error));
  const input = parsed.data;
  const params = TOOLS[input.action].params.safeParse(input.params);
  if (!params.success) throw new AppError('validation_failed', `invalid params for ${input.action}`, toFieldIssues(params.error, 'params'));
  if (input.action === 'send_message' && (!input.channel || !input.purpose))
    throw new AppError('validation_failed', 'a message needs its channel and purpose', [
      ...(input.channel ? [] : [{ path: 'channel', message: 'required for send_message' }]),
      ...(input.purpose ? [] : [{ path: 'purpose', message: 'required for send_message' }]),
    ]);
  const { now } = opts;
  return db.transaction(async (tx) => {
    const accountId = String((await findAccount(tx, input.customerId)).id);
    await registerExternalAgent(tx, agentId, opts.actor, now);
    if ((await stoppedAgents(tx, [agentId])).has(agentId))
      throw new AppError('agent.paused', `${agentId} is paused, or the kill switch is engaged: it may not propose now`);
    const settings = await loadAgentSettings(tx);
    // An agent may say an action is riskier than its class, never less risky: policy's scrutiny follows the risk.
    const floor = externalRisk(agentId, input.action);
    const risk = input.risk && RISK_ORDER.indexOf(input.risk) > RISK_ORDER.indexOf(floor) ? input.risk : floor;
    const stated = `stated by ${agentId}`;
    const draft: ProposalDraft = {
      agentId,
      action: input.action,
      params: params.data as Record<string, unknown>,
      ...(input.channel ? { channel: input.channel } : {}),
      ...(input.purpose ? { purpose: input.purpose } : {}),
      risk,
      ev: expectedValue(
        { value: input.expectedValue.pSuccess, source: 'rule', detail: stated },
        { value: input.expectedValue.impactDollars, source: 'rule', detail: stated },
        { value: input.expectedValue.costDollars, source: 'rule', detail: stated },
        risk,
      ),
      reason: input.reason,
    };
    const [ctx] = await loadContexts(tx, [accountId], [], now, { duplicates: false, reach: () => true });
    if (!ctx) throw new AppError('customer.not_found', `no customer ${input.customerId}`);
    await addReach(tx, [ctx], now);
    const recent = (await recentActions(tx, { accountIds: [accountId], leadIds: [] }, now)).get(accountId) ?? [];
    const track = await trackRecords(tx, { now, agentIds: [agentId] });
    const flagged = await flaggedSignalsOf(tx, [accountId], [], new Date(now.getTime() - FLAGGED_INPUT_WINDOW_MS), now);
    const rules: ArbitrationRules = {
      ...DEFAULT_RULES,
      creditBudgetLeftCents:
        input.action === 'offer_credit'
          ? await creditBudgetLeft(tx, opts.gate.dailyCreditBudgetCents, now)
          : opts.gate.dailyCreditBudgetCents,
    };
    const held = opts.holdout ? inHoldout(holdoutKey(ctx), opts.holdout.salt, opts.holdout.fraction) : false;
    const verdict = judgeSubject(
      ctx,
      [draft],
      recent,
      rules,
      { gate: opts.gate, settings, held, track, inputFlagged: flagged.has(accountId) },
      now,
    );
    const written = await recordVerdicts(tx, [verdict], settings, { gate: opts.gate, approvalTtlMs: opts.approvalTtlMs }, now);
    const subject = written.subjects[0]!;
    const base = { agentId, accountId, proposalId: subject.proposalIds[0]!, decisionId: null, approvalId: null };
    const decided = subject.decided[0];
    if (!decided) {
      if (verdict.heldOut) return { ...base, status: 'held_out', reasons: ['the customer is in the holdout'] };
      return { ...base, status: 'suppressed', reasons: verdict.suppressed.map((s) => s.reason) };
    }
    const judged = verdict.decided[0]!;
    const status: ExternalProposalResult['status'] =
      judged.decision.outcome === 'deny'
        ? judged.suggestion
          ? 'suggested'
          : 'denied'
        : decided.outcome === 'execute'
          ? 'executed'
          : 'approval';
    return {
      ...base,
      proposalId: decided.proposalId,
      status,
      decisionId: decided.decisionId,
      approvalId: decided.approvalId,
      reasons: judged.decision.reasons,
    };
  });
}

const RISK_ORDER = ['low', 'medium', 'high'] as const;
type RiskLevel = (typeof RISK_ORDER)[number];

/** The risk class of the action in the external agent's manifest (src/reason/agents/external.ts). */
const externalRisk = (agentId: string, action: string): RiskLevel =>
  (agentById(agentId)?.manifest.actions as Record<string, { risk: RiskLevel }> | undefined)?.[action]?.risk ?? 'medium';
