import { z } from 'zod';
import { component, IsoTime, page } from './core.ts';

// The agents' answers: the registry with its kill switch, a proposal with what became of it, the server clock.

const Risk = z.enum(['low', 'medium', 'high']);
const DecisionOutcome = z.enum(['execute', 'approval', 'deny']);

export const KillSwitchSchema = component(
  'KillSwitch',
  z.object({
    engaged: z.boolean(),
    /** Who last engaged or released it (the token, as the ledger names it), and when; null when never touched. */
    by: z.string().nullable(),
    at: IsoTime.nullable(),
    reason: z.string().nullable(),
  }),
  'the kill switch: while engaged, no agent proposes and nothing they proposed runs',
);

/** What a level does under the policies in force: representative requests decided by the running gate. */
export const EffectiveAutonomySchema = component(
  'EffectiveAutonomy',
  z.object({
    configured: z.number().int().min(0).max(5),
    /** The outcome every representative request gets, or `varies` (a credit within the limit runs, above it waits). */
    inForce: z.enum(['execute', 'approval', 'deny', 'varies']),
    /** One sentence: what happens, and which policy makes it so. */
    summary: z.string(),
    /**
     * The representative requests: the most favourable customer (consented by double opt-in, not in the holdout, no
     * flagged input) at the action's own risk, with the agent's track record; a credit within and above the limit.
     */
    cases: z.array(z.object({ label: z.string(), outcome: DecisionOutcome, policyIds: z.array(z.string()), reasons: z.array(z.string()) })),
  }),
  'the behaviour an autonomy level has after policy, for one agent and action',
);

const FeatureTrigger = z.object({ feature: z.string(), op: z.enum(['<', '<=', '>', '>=']), value: z.number() });

export const AgentSchema = component(
  'Agent',
  z.object({
    id: z.string(),
    owner: z.string(),
    objective: z.string(),
    riskClass: Risk,
    paused: z.boolean(),
    /** Who paused it (an admin's token, or `supervisor` when it paused the agent on its own) and why; null while it runs. */
    pausedBy: z.string().nullable(),
    pauseReason: z.string().nullable(),
    triggers: z.object({ signalTypes: z.array(z.string()), features: z.array(FeatureTrigger), schedule: z.string().optional() }),
    /**
     * Per action it may propose: the autonomy level in force (0–5), the manifest's default, the action's risk, and
     * the eligibility rules a customer must pass before a draft of it is ranked.
     */
    actions: z.record(
      z.string(),
      z.object({
        autonomy: z.number().int().min(0).max(5),
        defaultAutonomy: z.number().int().min(0).max(5),
        risk: Risk,
        eligibility: z.array(z.enum(['subscription_live', 'person_reachable', 'no_open_save_call'])),
        /** The behaviour in force after policy: the configured level may promise more than the policies allow. */
        effective: EffectiveAutonomySchema,
      }),
    ),
  }),
  'an agent as it runs: its manifest, whether it is paused, and the autonomy in force per action',
);

export const SupervisorThresholdsSchema = component(
  'SupervisorThresholds',
  z.object({
    enabled: z.boolean(),
    baselineDays: z.number().int(),
    minBaselineDays: z.number().int(),
    proposalSpikeFactor: z.number(),
    proposalSpikeMin: z.number().int(),
    denialSpikeFactor: z.number(),
    denialSpikeMin: z.number().int(),
    precisionDrop: z.number(),
    precisionMinVerdicts: z.number().int(),
    complaintSpikeFactor: z.number(),
    complaintSpikeMin: z.number().int(),
    complaintWindowHours: z.number().int(),
    budgetBurnFactor: z.number(),
    budgetBurnMinShare: z.number(),
  }),
  "the supervisor's thresholds: each agent's last 24 hours against the mean per day of its baseline days before",
);

export const SupervisorRunSchema = component(
  'SupervisorRun',
  z.object({
    at: IsoTime,
    paused: z.array(
      z.object({
        agentId: z.string(),
        trigger: z.enum(['proposal_spike', 'denial_spike', 'precision_drop', 'complaint_spike', 'budget_burn']),
        window: z.number(),
        baseline: z.number(),
        threshold: z.number(),
        reason: z.string(),
      }),
    ),
  }),
  'the agents one supervisor round paused, each with its trigger and figures',
);

export const AgentRegistry = component(
  'AgentRegistry',
  z.object({ data: z.array(AgentSchema), killSwitch: KillSwitchSchema }),
  'every agent, and the kill switch',
);

/** One term of an expected value and where its number came from; models add their id and shadow scores; an `uplift` term (p(success) learned from the holdout) adds the `prior` it was shrunk toward. */
const EvTerm = z.object({ value: z.number(), source: z.enum(['features', 'rule', 'model', 'uplift']), detail: z.string() }).loose();

export const ProposalSchema = component(
  'Proposal',
  z.object({
    id: z.string(),
    agentId: z.string(),
    /** The customer's account, or the lead, it is about (one of the two). */
    accountId: z.string().nullable(),
    customerId: z.string().nullable(),
    leadId: z.string().nullable(),
    action: z.string(),
    /** The action's parameters: open-ended, per action. */
    params: z.record(z.string(), z.unknown()),
    channel: z.string().nullable(),
    purpose: z.string().nullable(),
    risk: Risk,
    /** p(success) × impact − cost − risk penalty, each term with its source; a bandit's choice when one chose. */
    ev: z.object({ pSuccess: EvTerm, impact: EvTerm, cost: EvTerm, riskPenalty: EvTerm, value: z.number() }).loose(),
    reason: z.string(),
    /** suggested: an L1 agent's proposal, kept and shown as a suggestion (its decision denies execution by the L1 rule). */
    status: z.enum(['proposed', 'suppressed', 'held_out', 'suggested', 'decided']),
    statusReason: z.string().nullable(),
    /** The decision of the action this proposal follows as the next step of its play (a notice after its case or credit). */
    followsDecisionId: z.string().nullable(),
    createdAt: IsoTime,
    decision: z
      .object({
        id: z.string(),
        outcome: DecisionOutcome,
        policyIds: z.array(z.string()),
        reasons: z.array(z.string()),
        autonomy: z.number().int(),
        decidedAt: IsoTime,
      })
      .nullable(),
    approval: z.object({ id: z.string(), status: z.enum(['pending', 'approved', 'rejected', 'expired']) }).nullable(),
    executions: z.array(
      z.object({
        idempotencyKey: z.string(),
        status: z.enum(['succeeded', 'compensated', 'refused']),
        /** What the tool returned: open-ended, per action. */
        result: z.unknown(),
      }),
    ),
  }),
  'what an agent proposed: its explanation, why it was suppressed or held out, what policy decided, the approval and what ran',
);

export const ProposalPage = component('ProposalPage', page(ProposalSchema), 'one page of proposals, newest first');

export const ServerClock = component(
  'ServerClock',
  z.object({
    now: IsoTime,
    /** The live demo world's calendar when it runs; null otherwise. */
    world: z.object({ seed: z.number().int(), startDay: IsoTime, daysDone: z.number().int().min(0) }).nullable(),
  }),
  'the server clock, and the live demo world\u2019s calendar when it runs',
);

const Transitions = z.record(z.string(), z.number().int());

export const AutonomyPreviewSchema = component(
  'AutonomyPreview',
  z.object({
    agentId: z.string(),
    /** Per changed action: the behaviour in force now and the behaviour the new level would have. */
    actions: z.record(z.string(), z.object({ before: EffectiveAutonomySchema, after: EffectiveAutonomySchema })),
    /** The agent's recorded decisions for those actions in the last `days`, decided again with the new levels. */
    replay: z.object({
      days: z.number().int(),
      from: IsoTime,
      to: IsoTime,
      considered: z.number().int(),
      changed: z.number().int(),
      /** Changed decisions by `before→after` outcome. */
      transitions: Transitions,
    }),
  }),
  'what an autonomy change would change, before it is made: nothing is written',
);

export const AutonomyChangeList = component(
  'AutonomyChangeList',
  z.object({
    data: z.array(
      z.object({
        id: z.string(),
        levels: z.record(z.string(), z.number().int()),
        previous: z.record(z.string(), z.number().int()),
        reason: z.string(),
        by: z.string(),
        at: IsoTime,
      }),
    ),
  }),
  'an agent\u2019s autonomy changes with their reasons, newest first',
);
