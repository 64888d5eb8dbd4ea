import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { toFieldIssues } from '../contracts/index.ts';
import { inSpanSync, tracingEnabled } from '../lib/index.ts';
import { PolicyRequestError } from './errors.ts';
import { loadPolicies, preparseCheckedPolicies, type CheckedPolicies, type LoadedPolicies, type PolicyInfo } from './load.ts';
import { PolicyRequest, type Decision } from './request.ts';

/** Credits above this many cents need approval unless configured otherwise ($50). */
export const DEFAULT_CREDIT_APPROVAL_LIMIT_CENTS = 5000;
/** Credits applied in one UTC day stay within this many cents unless configured otherwise ($1,000). */
export const DEFAULT_DAILY_CREDIT_BUDGET_CENTS = 100_000;

export interface PolicyGateOptions {
  /** Credits above this amount (cents) need approval; handed to the policies as `context.creditApprovalLimit`. */
  creditApprovalLimitCents?: number;
  /** Credits applied per UTC day, in cents: arbitration, an approver's edit and the credit tool all keep within it. */
  dailyCreditBudgetCents?: number;
}

/** The Cedar request the gate sends, built from a validated `PolicyRequest`. */
export function toCedarCall(
  req: PolicyRequest,
  loaded: Pick<LoadedPolicies, 'policySetId' | 'schemaName'>,
  creditApprovalLimitCents: number,
): cedar.StatefulAuthorizationCall {
  const { agent, customer, context: c } = req;
  const context: cedar.Context = {
    hasConsent: c.hasConsent,
    doubleOptIn: c.doubleOptIn,
    planAutonomy: c.planAutonomy,
    region: customer.region,
    segment: customer.segment,
    inHoldout: customer.inHoldout,
    amount: c.amountCents,
    risk: c.risk,
    creditApprovalLimit: creditApprovalLimitCents,
    agentDecisions: c.agentDecisions,
    agentPrecision: c.agentPrecision,
    inputFlagged: c.inputFlagged,
  };
  if (c.channel !== undefined) context.channel = c.channel;
  if (c.purpose !== undefined) context.purpose = c.purpose;
  return {
    principal: { type: 'Agent', id: agent.id },
    action: { type: 'Action', id: req.action },
    resource: { type: 'Customer', id: customer.id },
    context,
    entities: [
      { uid: { type: 'Agent', id: agent.id }, attrs: { role: agent.role, autonomy: agent.autonomy }, parents: [] },
      {
        uid: { type: 'Customer', id: customer.id },
        attrs: { segment: customer.segment, region: customer.region, inHoldout: customer.inHoldout },
        parents: [],
      },
    ],
    preparsedPolicySetId: loaded.policySetId,
    // With the schema, Cedar checks the request's types and knows the action groups (`action in Action::"outreach"`).
    preparsedSchemaName: loaded.schemaName,
    validateRequest: true,
  };
}

/**
 * Decides every proposed action with Cedar. Outcomes, strongest first: a determining forbid, an evaluation error, or
 * no matching permit → `deny`; any determining `@outcome("approval")` permit → `approval`; otherwise `execute`.
 */
export class PolicyGate {
  readonly creditApprovalLimitCents: number;
  readonly dailyCreditBudgetCents: number;
  private byId: Map<string, PolicyInfo & { order: number }>;
  private actions: Set<string>;
  private current: LoadedPolicies;
  /** The adopted version in force (policy_versions), or 0 while the set loaded at start is. */
  version = 0;

  constructor(loaded: LoadedPolicies, options: PolicyGateOptions = {}) {
    this.current = loaded;
    const limit = options.creditApprovalLimitCents ?? DEFAULT_CREDIT_APPROVAL_LIMIT_CENTS;
    if (!Number.isSafeInteger(limit) || limit < 0)
      throw new RangeError(`creditApprovalLimitCents must be a whole number of cents >= 0, got ${limit}`);
    this.creditApprovalLimitCents = limit;
    const budget = options.dailyCreditBudgetCents ?? DEFAULT_DAILY_CREDIT_BUDGET_CENTS;
    if (!Number.isSafeInteger(budget) || budget < 0)
      throw new RangeError(`dailyCreditBudgetCents must be a whole number of cents >= 0, got ${budget}`);
    this.dailyCreditBudgetCents = budget;
    this.byId = new Map(loaded.policies.map((p, order) => [p.id, { ...p, order }]));
    this.actions = new Set(loaded.actions);
  }

  /** The policy set in force. */
  get loaded(): LoadedPolicies {
    return this.current;
  }

  /**
   * Puts a checked set (validated against this gate's schema) in force as `version`, without a restart. It is
   * preparsed under the running set's own id, which replaces the old set in Cedar's cache (adoptions do not grow it),
   * and the rest is swapped in the same synchronous step, so no decision ever sees half of each.
   */
  adopt(checked: CheckedPolicies, version: number, label = `version ${version}`): void {
    preparseCheckedPolicies(this.current.policySetId, checked);
    this.current = {
      ...this.current,
      dir: label,
      files: checked.sources.map((s) => s.file),
      sources: checked.sources,
      policies: checked.policies,
      actions: checked.actions,
      warnings: checked.warnings,
    };
    this.byId = new Map(checked.policies.map((p, order) => [p.id, { ...p, order }]));
    this.actions = new Set(checked.actions);
    this.version = version;
  }

  /** Loads, validates and preparses the policies in `dir` (default: the shipped `policies/`). */
  static load(dir?: string, options?: PolicyGateOptions): PolicyGate {
    return new PolicyGate(loadPolicies(dir), options);
  }

  /** Validates `input` (throws `PolicyRequestError` naming the field) and decides it. Never throws for a valid request. */
  decide(input: unknown): Decision {
    return inSpanSync('policy decide', {}, (span) => {
      const decision = this.decideUntraced(input);
      if (tracingEnabled()) {
        const req = input as { action?: unknown; agent?: { id?: unknown } };
        span.setAttributes({
          'acs.policy.action': String(req.action),
          'acs.agent.id': String(req.agent?.id),
          'acs.policy.outcome': decision.outcome,
          'acs.policy.ids': decision.policyIds,
        });
      }
      return decision;
    });
  }

  private decideUntraced(input: unknown): Decision {
    const parsed = PolicyRequest.safeParse(input);
    if (!parsed.success) throw new PolicyRequestError(toFieldIssues(parsed.error));
    const req = parsed.data;
    if (!this.actions.has(req.action)) {
      throw new PolicyRequestError([{ path: 'action', message: `action "${req.action}" is not declared in the policy schema` }]);
    }
    const autonomy = req.agent.autonomy;
    let answer: cedar.AuthorizationAnswer;
    try {
      answer = cedar.statefulIsAuthorized(toCedarCall(req, this.loaded, this.creditApprovalLimitCents));
    } catch (err) {
      return failed(autonomy, [], [`cedar threw: ${(err as Error).message}`]);
    }
    if (answer.type === 'failure')
      return failed(
        autonomy,
        [],
        answer.errors.map((e) => e.message),
      );

    const { decision, diagnostics } = answer.response;
    if (diagnostics.errors.length) {
      // A policy that errors is skipped by Cedar, which could turn a forbid into an allow: deny instead.
      return failed(
        autonomy,
        this.ordered(diagnostics.errors.map((e) => e.policyId)).map((p) => p.id),
        diagnostics.errors.map((e) => `${e.policyId}: ${e.error.message}`),
      );
    }
    const determining = this.ordered(diagnostics.reason);
    if (decision === 'deny') {
      if (determining.length === 0) {
        return { outcome: 'deny', policyIds: [], reasons: [`no policy permits ${req.action} here (default deny)`], autonomy, errors: [] };
      }
      return { outcome: 'deny', policyIds: ids(determining), reasons: reasons(determining), autonomy, errors: [] };
    }
    const approvals = determining.filter((p) => p.outcome === 'approval');
    const decided = approvals.length ? approvals : determining;
    return { outcome: approvals.length ? 'approval' : 'execute', policyIds: ids(decided), reasons: reasons(decided), autonomy, errors: [] };
  }

  private ordered(policyIds: string[]): PolicyInfo[] {
    return policyIds
      .map(
        (id) => this.byId.get(id) ?? { id, effect: 'permit' as const, outcome: 'approval' as const, reason: id, file: '', order: Infinity },
      )
      .sort((a, b) => a.order - b.order);
  }
}

function ids(ps: PolicyInfo[]): string[] {
  return ps.map((p) => p.id);
}

function reasons(ps: PolicyInfo[]): string[] {
  return ps.map((p) => p.reason);
}

function failed(autonomy: number, policyIds: string[], errors: string[]): Decision {
  return {
    outcome: 'deny',
    policyIds,
    reasons: ['the policies could not be evaluated for this request; denied to be safe'],
    autonomy,
    errors,
  };
}
