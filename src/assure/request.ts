import { z } from 'zod';

/** Every action an agent may propose. The policy schema declares each of them (plus groups such as `outreach`). */
export const POLICY_ACTIONS = [
  'send_message',
  'create_case',
  'create_task',
  'priority_routing',
  'route_lead',
  'update_record',
  'offer_credit',
  'apply_credit',
] as const;
export type PolicyAction = (typeof POLICY_ACTIONS)[number];

export const CHANNELS = ['email', 'sms', 'phone', 'push'] as const;
export const PURPOSES = ['marketing', 'service', 'sales'] as const;
export const RISKS = ['low', 'medium', 'high'] as const;
export const OUTCOMES = ['execute', 'approval', 'deny'] as const;
export type Outcome = (typeof OUTCOMES)[number];

const Id = z.string().trim().min(1).max(128);
const Label = z.string().trim().min(1).max(64);

/** What the gate decides on: who proposes what, for whom, in which circumstances. Unknown fields are errors. */
export const PolicyRequest = z.strictObject({
  agent: z.strictObject({
    id: Id,
    role: Label,
    /** The agent's autonomy level for this action: 0 = L0 (off) … 5 = L5. */
    autonomy: z.number().int().min(0).max(5),
  }),
  action: z.enum(POLICY_ACTIONS, {
    error: (issue) => `unknown action ${JSON.stringify(issue.input)}; expected one of ${POLICY_ACTIONS.join(', ')}`,
  }),
  customer: z.strictObject({
    id: Id,
    segment: Label,
    region: Label,
    inHoldout: z.boolean(),
  }),
  context: z.strictObject({
    channel: z.enum(CHANNELS).optional(),
    purpose: z.enum(PURPOSES).optional(),
    /**
     * The consent in effect at decision time grants this channel and purpose for the contact point the message goes
     * to and its brand (src/sense/consent.ts). Absent means no consent.
     */
    hasConsent: z.boolean().default(false),
    /** The consent that grants was given by double opt-in and confirmed (src/sense/consent.ts). Absent means no. */
    doubleOptIn: z.boolean().default(false),
    /**
     * A later step of a multi-step play: the autonomy level of the play's first decision (the plan), 0 = not a play's
     * later step. An L5 plan's low-risk steps in other domains run without a second approval (policies/README.md).
     */
    planAutonomy: z.number().int().min(0).max(5).default(0),
    /** Money the action moves, in cents. */
    amountCents: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    risk: z.enum(RISKS),
    /**
     * Earned autonomy (src/learn/track-record.ts): the agent's decisions for this action with a verdict in the last 30
     * days (ran on policy's authority, approved or rejected by a person), and the share approved or run, in basis
     * points (0–10000). Absent means no track record: 0 and 0.
     */
    agentDecisions: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
    agentPrecision: z.number().int().min(0).max(10_000).default(0),
    /**
     * Untrusted input about this customer was flagged as a possible prompt injection (a signal in the last 7 days,
     * src/trust): the action goes to a human (policy `flagged-input-needs-approval`). Absent means no.
     */
    inputFlagged: z.boolean().default(false),
  }),
});
export type PolicyRequestInput = z.input<typeof PolicyRequest>;
export type PolicyRequest = z.output<typeof PolicyRequest>;

/** The gate's answer, with everything needed to explain it later. */
export interface Decision {
  outcome: Outcome;
  /** The @id of each policy that determined the outcome, in policy-file order. Empty for a default deny. */
  policyIds: string[];
  /** Human-readable reasons, one per determining policy (or one for a default deny / an error). */
  reasons: string[];
  /** The agent's autonomy level for this action, as decided on. */
  autonomy: number;
  /** Cedar evaluation errors; any error makes the decision `deny`. */
  errors: string[];
}
