import {
  draftMessageBody,
  executeInTransaction,
  ledgerMessageGeneration,
  recordJudged,
  withTextVerdict,
  retentionPlay,
  serviceRecoveryPlay,
  startPlayInTransaction,
  creditBudgetLeft,
  type DraftedMessage,
  type MessageTextDeps,
  type RetentionPlayState,
  type ServiceRecoveryPlayState,
} from '../act/index.ts';
import type { Decision, PolicyGate, PolicyRequestInput, ProposalRecordInput } from '../assure/index.ts';
import type { Bus } from '../bus/index.ts';
import {
  inHoldout,
  leadHoldoutKey,
  loadPosteriors,
  loadChurnCalibration,
  loadUpliftEstimator,
  measuresOf,
  recordPulls,
  servingChurn,
  thompson,
  trackContext,
  trackRecords,
  type Pull,
  type TrackRecord,
} from '../learn/index.ts';
import {
  AGENTS,
  arbitrate,
  autonomyInForce,
  conflictReason,
  DEFAULT_RULES,
  followUpLimit,
  ineligibility,
  loadAgentSettings,
  MESSAGE_CHANNELS,
  onChosenChannel,
  regionOf,
  segmentOf,
  stoppedAgents,
  type BanditChooser,
  type Agent,
  type ChurnCalibration,
  type UpliftEstimator,
  type AgentSettings,
  type ArbitrationRules,
  type ChurnModel,
  type CustomerContext,
  type ProposalDraft,
  type RecentAction,
} from '../reason/index.ts';
import { findAccountsToSteward } from '../records/index.ts';
import { addressOutreach, flaggedSignalsOf, SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from '../sense/index.ts';
import type { Db, Queryable, Tx } from '../store/index.ts';
import { readRecentActions } from '../views/index.ts';
import { addReach, loadContexts } from './context.ts';

// The governed loop for the customers and leads whose signals were just accepted: agents propose,
// arbitration ranks, held-out customers get nothing executed, Cedar decides in rank order until one
// proposal is allowed, and that one runs (a credit offer runs as the durable retention play; a service-recovery case
// runs with its notice as the service recovery play: the notice follows the case, it does not compete with it).

export interface LoopOptions {
  gate: PolicyGate;
  /** The churn model in use, if one is trained; agents fall back to documented rules without it. */
  churn: () => ChurnModel | undefined;
  holdout: { salt: string; fraction: number };
  rules?: Omit<ArbitrationRules, 'creditBudgetLeftCents'>;
  dailyCreditBudgetCents: number;
  /** How long an approval waits for a human; default 72 hours. */
  approvalTtlMs?: number;
  /** Seed of the bandits' draws (with the subject and the UTC day of the decision); default DEFAULT_BANDIT_SEED. */
  banditSeed?: string | number;
  /** How message bodies are generated: the embedded composer unless a provider is given (src/act/message-body.ts). */
  text?: MessageTextDeps;
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
  /** L1 suggestions recorded (each the customer's one action: shown to people, never executed). */
  suggested: number;
  /** Plays started: retention plays for credit offers, service recovery plays for a case with its notice. */
  plays: number;
}

export interface LoopSubjects {
  accountIds: string[];
  leadIds: string[];
  /**
   * Which agents look at each subject: those whose manifest names one of the subject's new signal types
   * (by subject id), or the listed agents for a scheduled run. Absent: every agent looks at every subject.
   */
  triggers?: { bySignalTypes: Map<string, Set<string>> } | { agentIds: string[] };
}

/** The active agents that look at this subject, as its triggers say. */
function agentsFor(active: readonly Agent[], subjects: LoopSubjects, subjectId: string): Agent[] {
  const t = subjects.triggers;
  if (!t) return [...active];
  if ('agentIds' in t) return active.filter((a) => t.agentIds.includes(a.manifest.id));
  const types = t.bySignalTypes.get(subjectId);
  return active.filter((a) => a.manifest.triggers.signalTypes.some((type) => types?.has(type)));
}

/** Holdout membership is by customer id, or by the lead's own key for a lead. */
export function holdoutKey(ctx: CustomerContext): string {
  if (ctx.lead) return leadHoldoutKey(ctx.lead);
  return ctx.customerId ?? ctx.accountId!;
}

/**
 * An outreach draft addressed: to the point it names, or else to the first of the customer's points whose consent
 * in effect grants, under its own brand or else the customer's; both go into its parameters, so the message goes
 * where consent was checked and the tool can check it again. Whether consent grants is the policy's `hasConsent`.
 */
function addressed(draft: ProposalDraft, ctx: CustomerContext): { draft: ProposalDraft; hasConsent: boolean; doubleOptIn: boolean } {
  if (!draft.channel || !draft.purpose) return { draft, hasConsent: false, doubleOptIn: false };
  const named = draft.params as { to?: string; brand?: string };
  const a = addressOutreach(ctx.consents, ctx.contacts, {
    channel: draft.channel,
    purpose: draft.purpose,
    to: named.to,
    brand: named.brand ?? ctx.brand ?? null,
  });
  const params = { ...draft.params, ...(a.to ? { to: a.to } : {}), ...(a.brand ? { brand: a.brand } : {}) };
  return { draft: { ...draft, params }, hasConsent: a.granted, doubleOptIn: a.doubleOptIn };
}

/** The message channels on which the consent in effect grants this draft's purpose for one of the subject's points. */
function consentedChannels(draft: ProposalDraft, ctx: CustomerContext): string[] {
  if (!draft.purpose) return [];
  const brand = (draft.params as { brand?: string }).brand ?? ctx.brand ?? null;
  return MESSAGE_CHANNELS.filter(
    (channel) => addressOutreach(ctx.consents, ctx.contacts, { channel, purpose: draft.purpose!, brand }).granted,
  );
}

function policyRequest(
  draft: ProposalDraft,
  ctx: CustomerContext,
  settings: AgentSettings,
  consent: { hasConsent: boolean; doubleOptIn: boolean },
  track: Map<string, TrackRecord>,
  inputFlagged: boolean,
): PolicyRequestInput {
  return {
    agent: { id: draft.agentId, role: 'agent', autonomy: autonomyInForce(settings, draft.agentId, draft.action) },
    action: draft.action,
    customer: {
      id: ctx.customerId ?? ctx.accountId ?? ctx.lead!.id,
      segment: segmentOf(ctx),
      // From the country the customer's data names (src/reason/region.ts): EU, UK, US, … or unknown.
      region: regionOf(ctx),
      // Held-out customers never reach the gate; policy's holdout rule is the second line for other callers.
      inHoldout: false,
    },
    context: {
      risk: draft.risk,
      hasConsent: consent.hasConsent,
      doubleOptIn: consent.doubleOptIn,
      amountCents: typeof draft.params.amountCents === 'number' ? draft.params.amountCents : 0,
      ...(draft.channel ? { channel: draft.channel } : {}),
      ...(draft.purpose ? { purpose: draft.purpose } : {}),
      // Earned autonomy: the agent's record for this action, read once per batch.
      ...trackContext(track, draft.agentId, draft.action),
      // A recent signal of this customer was flagged as a possible prompt injection: a human approves.
      ...(inputFlagged ? { inputFlagged: true } : {}),
    },
  };
}

/** How far back a signal flagged for prompt injection lowers its customer's autonomy. */
export const FLAGGED_INPUT_WINDOW_MS = 7 * 24 * 3600 * 1000;

const stored = (
  draft: ProposalDraft,
  ctx: CustomerContext,
  status?: ProposalRecordInput['status'],
  statusReason?: string,
): ProposalRecordInput => ({
  agentId: draft.agentId,
  accountId: ctx.accountId,
  leadId: ctx.lead?.id ?? null,
  action: draft.action,
  params: draft.params,
  channel: draft.channel,
  purpose: draft.purpose,
  risk: draft.risk,
  ev: draft.ev as unknown as { value: number } & Record<string, unknown>,
  reason: draft.reason,
  ...(status ? { status } : {}),
  ...(statusReason ? { statusReason } : {}),
});

/**
 * What each subject already had in the last 30 days: actions that ran, and actions policy allowed that wait
 * for (or got) approval, dated by the decision, on the clock that decided them.
 */
export async function recentActions(q: Queryable, subjects: LoopSubjects, now: Date): Promise<Map<string, RecentAction[]>> {
  const rows = await readRecentActions(q, subjects.accountIds, subjects.leadIds, now.toISOString());
  const bySubject = new Map<string, RecentAction[]>();
  for (const r of rows)
    bySubject.set(r.subject, [
      ...(bySubject.get(r.subject) ?? []),
      { at: new Date(r.at), agentId: r.agent_id, action: r.action, channel: r.channel, followUp: r.follow_up },
    ]);
  return bySubject;
}

/**
 * An L1 suggestion: denied for execution by the L1 rule alone (`autonomy-l1-suggest-only`). Any other forbid that
 * also matched (no consent, the holdout, EU marketing without double opt-in) makes it a plain denial: the agent would
 * not be allowed to do it at any level, so it is not worth suggesting.
 */
export const L1_SUGGEST_POLICY_ID = 'autonomy-l1-suggest-only';
export function isSuggestion(decision: Decision): true | undefined {
  return decision.outcome === 'deny' && decision.policyIds.length === 1 && decision.policyIds[0] === L1_SUGGEST_POLICY_ID
    ? true
    : undefined;
}

/** One subject's way through arbitration and policy, before anything is written. */
export interface Verdict {
  ctx: CustomerContext;
  suppressed: { draft: ProposalDraft; reason: string }[];
  heldOut: ProposalDraft | null;
  /** Drafts policy decided, in rank order: denied ones, then at most one allowed or suggested (L1). */
  decided: { draft: ProposalDraft; request: PolicyRequestInput; decision: Decision; suggestion?: true }[];
  /** The one action taken (or held out), if any. */
  winner: ProposalDraft | null;
  /** A step of the winner's play that follows it (service recovery's notice after its case), addressed; not decided yet. */
  followUp: ProposalDraft | null;
}

/**
 * Arbitration and policy for one subject's drafts, in memory: drafts the customer is not eligible for, drafts not
 * worth taking (EV at or below zero) and drafts over a limit are suppressed with the reason, the rest are ranked by EV,
 * a held-out subject's best draft is held out, and otherwise Cedar decides in rank order until a draft is
 * allowed (next-best action: a denied draft is recorded as denied and the next one is asked).
 */
export function judgeSubject(
  ctx: CustomerContext,
  drafts: ProposalDraft[],
  recent: RecentAction[],
  rules: ArbitrationRules,
  env: {
    gate: PolicyGate;
    settings: AgentSettings;
    held: boolean;
    bandit?: BanditChooser;
    track?: Map<string, TrackRecord>;
    /** The subject has a signal flagged for prompt injection in the window (FLAGGED_INPUT_WINDOW_MS). */
    inputFlagged?: boolean;
  },
  now: Date,
): Verdict {
  // Messages go on the channel the bandit picks among those with consent, before arbitration counts contacts per channel.
  if (env.bandit) drafts = drafts.map((d) => onChosenChannel(d, ctx, consentedChannels(d, ctx), env.bandit!));
  // A draft that is part of another action's play (a notice after its case) does not compete for the slot: it follows
  // the action it belongs to if that one wins, and is decided as its play's step when it is sent.
  const steps = drafts.filter((d) => d.partOf);
  drafts = drafts.filter((d) => !d.partOf);
  // Eligibility first: a customer an action is not for (a cancelled subscription, an erased person) never competes.
  const refused: Verdict['suppressed'] = [];
  const eligible = drafts.filter((draft) => {
    const reason = ineligibility(draft, ctx);
    if (reason) refused.push({ draft, reason });
    return !reason;
  });
  const arbitration = arbitrate(eligible, recent, rules, now);
  const ranked = arbitration.ranked;
  const suppressed = [...refused, ...arbitration.suppressed];
  const verdict: Verdict = { ctx, suppressed, heldOut: null, decided: [], winner: null, followUp: null };
  if (env.held) {
    verdict.winner = verdict.heldOut = ranked[0] ?? null;
  } else {
    for (const draft of ranked) {
      const outreach = addressed(draft, ctx);
      const request = policyRequest(outreach.draft, ctx, env.settings, outreach, env.track ?? new Map(), env.inputFlagged === true);
      const decision = env.gate.decide(request);
      const suggestion = isSuggestion(decision);
      verdict.decided.push({ draft: outreach.draft, request, decision, ...(suggestion ? { suggestion } : {}) });
      // An allowed draft runs; an L1 suggestion is the customer's one action too: shown to people, and nothing else
      // runs in its place.
      if (decision.outcome !== 'deny' || suggestion) {
        verdict.winner = draft;
        break;
      }
    }
  }
  const { winner } = verdict;
  if (winner)
    for (const loser of ranked.slice(ranked.indexOf(winner) + 1)) suppressed.push({ draft: loser, reason: conflictReason(winner, loser) });
  // An L1 suggestion wins the slot but runs nothing, so nothing follows it.
  const suggested = verdict.decided.at(-1)?.suggestion === true;
  for (const step of steps) {
    const of = `${step.agentId}/${step.partOf}`;
    const isWinner = winner !== null && winner.agentId === step.agentId && winner.action === step.partOf;
    const follows = isWinner && !env.held && !suggested;
    const reason = !follows
      ? `part of ${of}, which was ${env.held && winner ? 'held out' : isWinner && suggested ? 'only suggested' : 'not taken'}`
      : (ineligibility(step, ctx) ?? followUpLimit(step, recent, rules, now));
    if (reason) suppressed.push({ draft: step, reason });
    else verdict.followUp = addressed(step, ctx).draft;
  }
  return verdict;
}

/**
 * What the holdout taught, fitted once per decision day per loop configuration (outcomes arrive by the day, so a
 * finer refresh would change little), not per batch: the uplift estimates agents price p(success) with, and the
 * churn score's calibration. A failed read is not kept: the next batch tries again.
 */
interface HoldoutLearning {
  uplift: UpliftEstimator;
  churnCalibration: ChurnCalibration;
}
const learningCache = new WeakMap<LoopOptions, { day: string; learning: Promise<HoldoutLearning> }>();
function holdoutLearningFor(q: Queryable, opts: LoopOptions, now: Date): Promise<HoldoutLearning> {
  const day = now.toISOString().slice(0, 10);
  const cached = learningCache.get(opts);
  if (cached?.day === day) return cached.learning;
  const measures = measuresOf(
    AGENTS.map((a) => ({ agentId: a.manifest.id, ...(a.manifest.measure ? { measure: a.manifest.measure } : {}) })),
  );
  const learning = (async () => ({
    uplift: await loadUpliftEstimator(q, measures, now),
    churnCalibration: await loadChurnCalibration(q, now),
  }))();
  learningCache.set(opts, { day, learning });
  learning.catch(() => learningCache.delete(opts));
  return learning;
}

const emptyTally = (): LoopTally => ({
  customers: 0,
  proposals: 0,
  suppressed: 0,
  heldOut: 0,
  executed: 0,
  approval: 0,
  denied: 0,
  suggested: 0,
  plays: 0,
});

/** Runs the loop for these customers and leads inside the caller's transaction. */
export async function decideFor(q: Tx, subjects: LoopSubjects, opts: LoopOptions, now = new Date()): Promise<LoopTally> {
  const tally = emptyTally();
  if (subjects.accountIds.length + subjects.leadIds.length === 0) return tally;
  const rules = opts.rules ?? DEFAULT_RULES;
  // An agent that is paused, or every agent while the kill switch is engaged, proposes nothing.
  const stopped = await stoppedAgents(q);
  const active = AGENTS.filter((a) => !stopped.has(a.manifest.id));
  if (active.length === 0) return tally;
  const settings = await loadAgentSettings(q);
  const lookers = new Map([...subjects.accountIds, ...subjects.leadIds].map((id) => [id, agentsFor(active, subjects, id)]));
  // Subjects no agent is triggered for are not even loaded: most signals (usage of a calm customer, an outcome) change nothing.
  const triggered = (id: string) => lookers.get(id)!.length > 0;
  const scheduledFor = subjects.triggers && 'agentIds' in subjects.triggers ? subjects.triggers.agentIds : [];
  const contexts = await loadContexts(q, subjects.accountIds.filter(triggered), subjects.leadIds.filter(triggered), now, {
    duplicates: scheduledFor.includes('data-stewardship') || !subjects.triggers,
    reach: (id) => lookers.get(id)!.some((a) => a.manifest.readsContacts),
  });
  const churn = opts.churn();
  // Thompson sampling over offers and channels: the posteriors once per batch (a few rows), draws seeded per subject.
  const bandit = contexts.length ? thompson(await loadPosteriors(q), { seed: opts.banditSeed, now }) : undefined;
  // The registry's champion and challenger for churn, once per batch (loaded models are cached by version).
  const registry = contexts.length ? { churn: await servingChurn(q) } : undefined;
  // p(success) as the incremental effect learned from the holdout (src/learn/uplift-model.ts), and p(churn)
  // calibrated to the held-out customers' churn (src/learn/churn-calibration.ts), once per decision day.
  const { uplift, churnCalibration } = contexts.length
    ? await holdoutLearningFor(q, opts, now)
    : { uplift: undefined, churnCalibration: undefined };
  const proposing = contexts
    .map((ctx) => ({
      ctx,
      drafts: lookers
        .get(ctx.accountId ?? ctx.lead!.id)!
        .flatMap((a) => a.propose(ctx, { churn, registry, bandit, now, uplift, churnCalibration })),
    }))
    .filter((p) => p.drafts.length > 0);
  if (proposing.length === 0) return tally;
  // Policy needs consent; only now, and only for the subjects with proposals.
  await addReach(
    q,
    proposing.map((p) => p.ctx),
    now,
  );
  // History and budget are read only for the few subjects with proposals: most signals change nothing.
  const recent = await recentActions(
    q,
    {
      accountIds: proposing.flatMap((p) => (p.ctx.accountId ? [p.ctx.accountId] : [])),
      leadIds: proposing.flatMap((p) => (p.ctx.lead ? [p.ctx.lead.id] : [])),
    },
    now,
  );
  // Earned autonomy: the proposing agents' records per action, one query for the batch.
  const track = await trackRecords(q, { now, agentIds: [...new Set(proposing.flatMap((p) => p.drafts.map((d) => d.agentId)))] });
  // Prompt-injection defence: subjects with a flagged signal in the last 7 days, one query for the batch.
  const flagged = await flaggedSignalsOf(
    q,
    proposing.flatMap((p) => (p.ctx.accountId ? [p.ctx.accountId] : [])),
    proposing.flatMap((p) => (p.ctx.lead ? [p.ctx.lead.id] : [])),
    new Date(now.getTime() - FLAGGED_INPUT_WINDOW_MS),
    now,
  );
  let creditLeft = proposing.some((p) => p.drafts.some((d) => d.action === 'offer_credit'))
    ? await creditBudgetLeft(q, opts.dailyCreditBudgetCents, now)
    : opts.dailyCreditBudgetCents;

  const verdicts: Verdict[] = [];
  for (const { ctx, drafts } of proposing) {
    const held = inHoldout(holdoutKey(ctx), opts.holdout.salt, opts.holdout.fraction);
    const verdict = judgeSubject(
      ctx,
      drafts,
      recent.get(ctx.accountId ?? ctx.lead!.id) ?? [],
      { ...rules, creditBudgetLeftCents: creditLeft },
      { gate: opts.gate, settings, held, bandit, track, inputFlagged: flagged.has(ctx.accountId ?? ctx.lead!.id) },
      now,
    );
    if (!held && verdict.winner?.action === 'offer_credit') creditLeft -= Number(verdict.winner.params.amountCents);
    verdicts.push(verdict);
  }

  const written = await recordVerdicts(q, verdicts, settings, opts, now);
  for (const key of Object.keys(tally) as (keyof LoopTally)[]) tally[key] += written.tally[key];
  return tally;
}

/** What recordVerdicts wrote: the counts, and each verdict's proposals by id with their decisions and runs. */
export interface Written {
  tally: LoopTally;
  /** Per verdict, in order: its proposals' ids, and for each decided draft its decision, approval and execution. */
  subjects: {
    proposalIds: string[];
    decided: { proposalId: string; decisionId: string; approvalId: string | null; outcome: string; ran: string | null; play: boolean }[];
  }[];
}

/**
 * The decide step's writes for judged subjects, one implementation for the loop and external agents' proposals
 * (src/loop/external.ts): message bodies, proposals and decisions with their approvals, the bandits' pulls, and what
 * policy allowed, run or started as its play.
 */
export async function recordVerdicts(
  q: Tx,
  verdicts: Verdict[],
  settings: AgentSettings,
  opts: Pick<LoopOptions, 'gate' | 'approvalTtlMs' | 'text'>,
  now: Date,
): Promise<Written> {
  const tally = emptyTally();
  const subjects: Written['subjects'] = verdicts.map(() => ({ proposalIds: [], decided: [] }));
  const verdictIndex = new Map(verdicts.map((v, i) => [v, i]));
  // An allowed message gets its body before it is recorded: grounded, cited, and checked by the guardrails. A body that
  // failed a check goes to a person; one that abstained is not sent (src/act/message-body.ts).
  const bodies = new Map<object, DraftedMessage>();
  for (const v of verdicts) {
    const last = v.decided.at(-1);
    if (!last || last.draft.action !== 'send_message' || last.decision.outcome === 'deny') continue;
    const drafted = await draftMessageBody(
      q,
      {
        accountId: v.ctx.accountId,
        template: String(last.draft.params.template ?? ''),
        consentPurpose: last.draft.purpose ?? String(last.draft.params.purpose ?? ''),
        now,
      },
      opts.text,
    );
    if (!drafted) continue;
    last.draft = { ...last.draft, params: { ...last.draft.params, ...drafted.params } };
    last.decision = withTextVerdict(last.decision, drafted);
    bodies.set(last, drafted);
  }

  // Writes, batched: every proposal, then every decision, then the allowed actions.
  const proposals: ProposalRecordInput[] = [];
  // Which verdict each proposal belongs to.
  const owners: number[] = [];
  // Each decided draft, and where its proposal stands in `proposals`.
  const decided: { verdict: Verdict; index: number; proposal: number }[] = [];
  for (const v of verdicts) {
    tally.customers++;
    for (const s of v.suppressed) proposals.push(stored(s.draft, v.ctx, 'suppressed', s.reason));
    if (v.heldOut) proposals.push(stored(v.heldOut, v.ctx, 'held_out', 'customer is in the holdout'));
    v.decided.forEach((d, index) => {
      decided.push({ verdict: v, index, proposal: proposals.length });
      proposals.push(d.suggestion ? stored(d.draft, v.ctx, 'suggested', d.decision.reasons.join('; ')) : stored(d.draft, v.ctx));
    });
    while (owners.length < proposals.length) owners.push(verdictIndex.get(v)!);
    tally.suppressed += v.suppressed.length;
    tally.heldOut += v.heldOut ? 1 : 0;
  }
  tally.proposals = proposals.length;
  const { proposalIds, decisions: recorded } = await recordJudged(
    q,
    proposals,
    decided.map(({ verdict, index, proposal }) => ({
      proposal,
      request: verdict.decided[index]!.request,
      decision: verdict.decided[index]!.decision,
    })),
    { now, approvalTtlMs: opts.approvalTtlMs },
  );
  proposalIds.forEach((id, i) => subjects[owners[i]!]!.proposalIds.push(id));

  for (const { verdict, index, proposal } of decided) {
    const drafted = bodies.get(verdict.decided[index]!);
    if (drafted)
      await ledgerMessageGeneration(
        q,
        drafted.generation.record,
        proposalIds[proposal]!,
        `agent:${verdict.decided[index]!.draft.agentId}`,
        now,
      );
  }

  // An arm is played when policy allows the proposal that carries it (an outcome counts only once its action ran).
  const pulls: Pull[] = decided.flatMap(({ verdict, index, proposal }) => {
    const { draft, decision } = verdict.decided[index]!;
    return draft.ev.bandit && decision.outcome !== 'deny'
      ? [
          {
            proposalId: proposalIds[proposal]!,
            choice: draft.ev.bandit,
            accountId: verdict.ctx.accountId,
            leadId: verdict.ctx.lead?.id ?? null,
          },
        ]
      : [];
  });
  await recordPulls(q, pulls, now);

  const play = retentionPlay(opts.gate, { approvalTtlMs: opts.approvalTtlMs });
  const recovery = serviceRecoveryPlay(opts.gate, { approvalTtlMs: opts.approvalTtlMs });
  for (let i = 0; i < decided.length; i++) {
    const { verdict, index } = decided[i]!;
    const { draft, request, decision } = verdict.decided[index]!;
    const { decisionId, approvalId } = recorded[i]!;
    const written = {
      proposalId: proposalIds[decided[i]!.proposal]!,
      decisionId,
      approvalId,
      outcome: decision.outcome,
      ran: null as string | null,
      play: false,
    };
    subjects[verdictIndex.get(verdict)!]!.decided.push(written);
    if (decision.outcome === 'deny') {
      if (verdict.decided[index]!.suggestion) tally.suggested++;
      else tally.denied++;
      continue;
    }
    if (decision.outcome === 'execute') tally.executed++;
    else tally.approval++;
    if (draft.action === 'offer_credit' && verdict.ctx.accountId) {
      // Offer → (approval) → credit → notice, durably: the play picks up from the decision made here.
      const state: RetentionPlayState = {
        agent: {
          id: draft.agentId,
          offerAutonomy: decision.autonomy,
          notifyAutonomy: autonomyInForce(settings, draft.agentId, 'send_message'),
        },
        customer: { id: request.customer.id, segment: request.customer.segment, region: request.customer.region, inHoldout: false },
        amountCents: Number(draft.params.amountCents),
        ev: draft.ev as unknown as RetentionPlayState['ev'],
        reason: draft.reason,
        offer: { decisionId, approvalId },
        ...(request.context.inputFlagged ? { inputFlagged: true } : {}),
      };
      await startPlayInTransaction(q, play, {
        accountId: verdict.ctx.accountId,
        state,
        actor: `agent:${draft.agentId}`,
        now,
        step: approvalId ? 'await_approval' : 'apply_credit',
      });
      written.play = true;
      tally.plays++;
    } else {
      const ran =
        decision.outcome === 'execute'
          ? await executeInTransaction(q, { decisionId, idempotencyKey: `decision:${decisionId}`, actor: `agent:${draft.agentId}`, now })
          : null;
      written.ran = ran?.status ?? null;
      const notice = verdict.followUp;
      // The case ran (or waits for its approval): its notice follows as the next step of its play, not as a rival action.
      if (notice && verdict.ctx.accountId && ran?.status !== 'refused') {
        const state: ServiceRecoveryPlayState = {
          agent: { id: draft.agentId, notifyAutonomy: autonomyInForce(settings, draft.agentId, 'send_message') },
          customer: { id: request.customer.id, segment: request.customer.segment, region: request.customer.region, inHoldout: false },
          case: { decisionId, approvalId, ...(ran ? { caseId: String(ran.result.caseId ?? '') } : {}) },
          notice: {
            channel: notice.channel!,
            purpose: notice.purpose!,
            params: notice.params,
            ev: notice.ev as unknown as ServiceRecoveryPlayState['notice']['ev'],
            reason: notice.reason,
          },
          ...(request.context.inputFlagged ? { inputFlagged: true } : {}),
        };
        await startPlayInTransaction(q, recovery, {
          accountId: verdict.ctx.accountId,
          state,
          actor: `agent:${draft.agentId}`,
          now,
          step: ran ? 'notify_customer' : 'await_approval',
        });
        written.play = true;
        tally.plays++;
      }
    }
  }
  return { tally, subjects };
}

/** Runs the loop after every accepted batch, in the delivery's transaction, after features are refreshed. */
export function subscribeDecisionLoop(bus: Bus, opts: LoopOptions, onTally?: (t: LoopTally) => void): void {
  bus.subscribe(SIGNALS_ACCEPTED, async (messages, q) => {
    const events = messages.map((m) => m.payload as SignalsAcceptedEvent);
    const bySignalTypes = new Map<string, Set<string>>();
    for (const e of events) {
      for (const [subject, types] of Object.entries(e.typesBySubject ?? {}))
        bySignalTypes.set(subject, new Set([...(bySignalTypes.get(subject) ?? []), ...types]));
    }
    const subjects: LoopSubjects = {
      accountIds: [...new Set(events.flatMap((e) => e.accountIds))],
      leadIds: [...new Set(events.flatMap((e) => e.leadIds ?? []))],
      // Events from before signal types were recorded run every agent, as they did then.
      ...(events.every((e) => e.typesBySubject) ? { triggers: { bySignalTypes } } : {}),
    };
    // The events' own clock, so a replay or a simulation decides as it did at the time.
    const asOf = events.reduce((latest, e) => (e.asOf > latest ? e.asOf : latest), '');
    const tally = await decideFor(q, subjects, opts, new Date(asOf));
    onTally?.(tally);
  });
}

/** Agents whose manifest runs them on a schedule (`daily`) rather than on signals. */
export const SCHEDULED_AGENTS = AGENTS.filter((a) => a.manifest.triggers.schedule === 'daily').map((a) => a.manifest.id);
/** Subjects one scheduled sweep looks at, at most; the rest wait for the next day. */
const SWEEP_LIMIT = 2000;
/**
 * Subjects decided per transaction in a sweep. Short transactions let other work in between: the embedded
 * database has one connection, and a 2,000-customer sweep in one transaction held the API for over ten seconds.
 */
export const SWEEP_CHUNK = 100;

/**
 * The daily run of scheduled agents (data stewardship) over the customers whose records look wrong: no name,
 * no way to reach them, an incomplete subscription, or a contact point shared with another profile. Found
 * in SQL first, so the sweep reads only those customers, not the whole base. Each chunk of customers is decided
 * and committed in a transaction of its own; a run stopped midway leaves whole chunks done, and the next day's
 * sweep finds whoever still needs it.
 */
export async function runScheduledAgents(db: Db, opts: LoopOptions, now = new Date()): Promise<LoopTally> {
  // Nothing to sweep for while every scheduled agent is stopped (paused, or the kill switch is engaged).
  const stopped = await stoppedAgents(db, SCHEDULED_AGENTS);
  if (SCHEDULED_AGENTS.every((id) => stopped.has(id))) return emptyTally();
  const ids = (await findAccountsToSteward(db, SWEEP_LIMIT)).map((c) => c.id);
  const total = emptyTally();
  for (let i = 0; i < ids.length; i += SWEEP_CHUNK) {
    const chunk = ids.slice(i, i + SWEEP_CHUNK);
    const tally = await db.transaction((tx) =>
      decideFor(tx, { accountIds: chunk, leadIds: [], triggers: { agentIds: SCHEDULED_AGENTS } }, opts, now),
    );
    for (const key of Object.keys(total) as (keyof LoopTally)[]) total[key] += tally[key];
  }
  return total;
}
