import { z } from 'zod';
import { component, IsoTime } from './core.ts';

// The Cedar policy set's answers: the set in force, a candidate's validation, and a shadow-mode dry run.

const Outcome = z.enum(['execute', 'approval', 'deny']);
const PolicyFileText = z.object({ file: z.string(), text: z.string() });

export const PolicySummarySchema = component(
  'PolicySummary',
  z.object({
    id: z.string(),
    effect: z.enum(['permit', 'forbid']),
    /** For permits: what an allow through this policy means. Forbids deny. */
    outcome: Outcome,
    reason: z.string(),
    /** The file name, without folders, and the 1-based line when known. */
    file: z.string(),
    line: z.number().int().nullable(),
  }),
  'one policy: where it is and what it decides',
);

export const PolicySetSchema = component(
  'PolicySet',
  z.object({
    files: z.array(PolicyFileText),
    schema: PolicyFileText,
    policies: z.array(PolicySummarySchema),
    creditApprovalLimitCents: z.number().int(),
    /** The adopted version in force (GET /api/v1/policies/versions), or 0 while the files the server started from are. */
    version: z.number().int().min(0),
  }),
  'the policy set the server runs',
);

const PolicyVersionFields = {
  version: z.number().int().min(1),
  sha256: z.string(),
  reason: z.string(),
  /** The older version whose files this one adopted again (a rollback), or null. */
  restores: z.number().int().nullable(),
  adoptedBy: z.string(),
  adoptedAt: IsoTime,
};

export const PolicyVersionList = component(
  'PolicyVersionList',
  z.object({ inForce: z.number().int().min(0), data: z.array(z.object(PolicyVersionFields)) }),
  'the adopted policy versions, newest first, and the one in force here',
);

export const PolicyVersionSchema = component(
  'PolicyVersion',
  z.object({ ...PolicyVersionFields, files: z.array(PolicyFileText) }),
  'one adopted policy version with its files',
);

const PolicyProblem = z.object({
  file: z.string(),
  line: z.number().int().optional(),
  column: z.number().int().optional(),
  message: z.string(),
});

export const PolicyValidationSchema = component(
  'PolicyValidation',
  z.object({
    ok: z.boolean(),
    /** Where each problem is: file, and line and column when known. Empty when ok. */
    problems: z.array(PolicyProblem),
    policies: z.array(PolicySummarySchema),
    warnings: z.array(z.string()),
  }),
  'a candidate policy set, validated as start-up would',
);

const Tally = z.object({ count: z.number().int().min(0), cents: z.number().int().min(0) });
const ImpactCount = z.object({ added: Tally, removed: Tally });

export const PolicyDryRunSchema = component(
  'PolicyDryRun',
  z.object({
    days: z.number().int(),
    from: IsoTime,
    to: IsoTime,
    considered: z.number().int().min(0),
    changed: z.number().int().min(0),
    /** Changed decisions by `before→after` outcome. */
    transitions: z.record(z.string(), z.number().int()),
    /**
     * Money and contacts the candidate adds or removes against the policies in force, over every changed decision:
     * `allowed` between deny and not deny, `withoutHuman` between execute and not; credits with their cents.
     */
    impact: z.object({
      credits: z.object({ allowed: ImpactCount, withoutHuman: ImpactCount }),
      contacts: z.object({ allowed: ImpactCount, withoutHuman: ImpactCount }),
    }),
    /** Newest first, at most 500; `truncated` says there were more. */
    changes: z.array(
      z.object({
        decisionId: z.string(),
        proposalId: z.string(),
        agentId: z.string(),
        action: z.string(),
        accountId: z.string().nullable(),
        leadId: z.string().nullable(),
        decidedAt: IsoTime,
        before: z.object({ outcome: Outcome, policyIds: z.array(z.string()) }),
        after: z.object({ outcome: Outcome, policyIds: z.array(z.string()), reasons: z.array(z.string()) }),
      }),
    ),
    truncated: z.boolean(),
  }),
  'recorded decisions re-decided with a candidate policy set: what would change',
);
