import { basename } from 'node:path';
import { AppError } from '../errors.ts';
import { appendToLedger, sha256 } from '../ledger/index.ts';
import type { Db } from '../store/index.ts';
import { selectDecisionsPage, type DecisionWithProposalRow } from './assure.repo.ts';
import { PolicyLoadError, PolicyRequestError, type PolicyProblem } from './errors.ts';
import { PolicyGate } from './gate.ts';
import {
  checkPolicySources,
  preparseCheckedPolicies,
  type CheckedPolicies,
  type LoadedPolicies,
  type PolicyInfo,
  type PolicySource,
} from './load.ts';
import type { Decision, Outcome } from './request.ts';

// Policy changes before they take effect: the set in force as people read it, a candidate set validated against
// the server's schema, and a candidate re-deciding recorded decisions in shadow mode (nothing is written but one
// ledger entry, nothing runs).

/** One policy as clients see it: where it is (file name without folders, line) and what it decides. */
export interface PolicySummary {
  id: string;
  effect: PolicyInfo['effect'];
  outcome: PolicyInfo['outcome'];
  reason: string;
  file: string;
  line: number | null;
}

const summary = (p: PolicyInfo): PolicySummary => ({
  id: p.id,
  effect: p.effect,
  outcome: p.outcome,
  reason: p.reason,
  file: basename(p.file),
  line: p.line ?? null,
});

/** The policy set a gate runs: its files' text, the schema, each policy, and the credit approval limit it decides with. */
export function describePolicySet(gate: PolicyGate): {
  files: PolicySource[];
  schema: PolicySource;
  policies: PolicySummary[];
  creditApprovalLimitCents: number;
  version: number;
} {
  const { loaded } = gate;
  return {
    files: loaded.sources.map((s) => ({ file: basename(s.file), text: s.text })),
    schema: { file: basename(loaded.schemaFile), text: loaded.schemaText },
    policies: loaded.policies.map(summary),
    creditApprovalLimitCents: gate.creditApprovalLimitCents,
    version: gate.version,
  };
}

const CANDIDATE_LABEL = 'candidate';

/** Checks a candidate set (it replaces every `.cedar` file) against the schema the server runs. Throws `PolicyLoadError`. */
function checkCandidate(running: LoadedPolicies, files: PolicySource[]): CheckedPolicies {
  return checkPolicySources(files, { file: basename(running.schemaFile), text: running.schemaText }, CANDIDATE_LABEL);
}

/**
 * Checks a candidate set as start-up would; an invalid one is a `validation_failed` error whose issues locate each
 * problem by file, line and column (`files.<i>.text`, "default.cedar:12:30: …"), with the problems themselves.
 */
export function checkCandidateOrRefuse(running: LoadedPolicies, files: PolicySource[]): CheckedPolicies {
  try {
    return checkCandidate(running, files);
  } catch (err) {
    if (!(err instanceof PolicyLoadError)) throw err;
    throw new AppError(
      'validation_failed',
      `the candidate policies are invalid: ${err.problems.length} problem(s)`,
      err.problems.map((p) => {
        const index = files.findIndex((f) => f.file === p.file);
        return {
          path: index >= 0 ? `files.${index}.text` : 'files',
          message: `${p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file}: ${p.message}`,
        };
      }),
      { problems: err.problems },
    );
  }
}

export interface CandidateValidation {
  ok: boolean;
  problems: PolicyProblem[];
  policies: PolicySummary[];
  warnings: string[];
}

/**
 * Validates a candidate policy set exactly as start-up would (parse, schema validation, annotations), without putting
 * anything into Cedar's cache. Invalid Cedar is an answer (`ok: false` with located problems), not an exception.
 */
export function validatePolicyCandidate(running: LoadedPolicies, files: PolicySource[]): CandidateValidation {
  try {
    const checked = checkCandidate(running, files);
    return { ok: true, problems: [], policies: checked.policies.map(summary), warnings: checked.warnings };
  } catch (err) {
    if (err instanceof PolicyLoadError) return { ok: false, problems: err.problems, policies: [], warnings: [] };
    throw err;
  }
}

/**
 * The one slot in Cedar's cache that candidate sets are preparsed into. Cedar has no call to release a preparsed set
 * (cedar-wasm 4.13 exports only preparsePolicySet/preparseSchema), so a new id per dry run would grow the WASM heap for
 * good; reusing one id replaces the previous candidate instead. The running set's id is never used for a candidate.
 */
const CANDIDATE_SLOT = 'acs-policies-candidate';

export interface DryRunOptions {
  /** How far back to look, in days, from `now`. */
  days: number;
  now: Date;
  actor: string;
  /** Decisions read per query (default 500), so a long history is never loaded at once. */
  pageSize?: number;
  /** Changed decisions listed at most (default 500); the counts cover all of them. */
  maxChanges?: number;
}

export interface DryRunChange {
  decisionId: string;
  proposalId: string;
  agentId: string;
  action: string;
  accountId: string | null;
  leadId: string | null;
  decidedAt: string;
  before: { outcome: Outcome; policyIds: string[] };
  after: { outcome: Outcome; policyIds: string[]; reasons: string[] };
}

/** Decisions that a candidate newly lets happen (added) or newly stops (removed); for credits, with their dollars. */
export interface ImpactCount {
  added: { count: number; cents: number };
  removed: { count: number; cents: number };
}

/**
 * What a candidate changes in money and contacts over the replayed decisions, against the policies in force:
 * `allowed` counts decisions that go between deny and not deny (a credit may be given, a message may go, with or
 * without a human); `withoutHuman` those that go between execute and not execute (it happens with nobody approving).
 * Credits are offer_credit and apply_credit, at the amount the request carried; contacts are send_message.
 */
export interface DryRunImpact {
  credits: { allowed: ImpactCount; withoutHuman: ImpactCount };
  contacts: { allowed: ImpactCount; withoutHuman: ImpactCount };
}

const MONEY_ACTIONS: ReadonlySet<string> = new Set(['offer_credit', 'apply_credit']);
const CONTACT_ACTIONS: ReadonlySet<string> = new Set(['send_message']);
const noImpact = (): ImpactCount => ({ added: { count: 0, cents: 0 }, removed: { count: 0, cents: 0 } });

/** Adds one changed decision to `impact`. */
function countImpact(impact: DryRunImpact, action: string, request: unknown, before: Outcome, after: Outcome): void {
  const kind = MONEY_ACTIONS.has(action) ? impact.credits : CONTACT_ACTIONS.has(action) ? impact.contacts : null;
  if (!kind) return;
  const amount = (request as { context?: { amountCents?: unknown } } | null)?.context?.amountCents;
  const cents = MONEY_ACTIONS.has(action) && typeof amount === 'number' && Number.isSafeInteger(amount) ? amount : 0;
  const tally = (c: ImpactCount, was: boolean, is: boolean) => {
    if (was === is) return;
    const side = is ? c.added : c.removed;
    side.count++;
    side.cents += cents;
  };
  tally(kind.allowed, before !== 'deny', after !== 'deny');
  tally(kind.withoutHuman, before === 'execute', after === 'execute');
}

export interface DryRunReport {
  days: number;
  from: string;
  to: string;
  considered: number;
  changed: number;
  /** Changed decisions by `before→after` outcome (a change of deciding policies alone counts as e.g. `deny→deny`). */
  transitions: Record<string, number>;
  /** Money and contacts the candidate adds or removes over all changed decisions (listed or not). */
  impact: DryRunImpact;
  /** Newest first, at most `maxChanges`. */
  changes: DryRunChange[];
  truncated: boolean;
}

const sameIds = (a: string[], b: string[]) => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

/**
 * Shadow mode: re-decides every decision recorded in the last `days` with a candidate policy set (and the running
 * gate's credit approval limit) and reports which would have come out differently. It reads decisions in pages,
 * writes nothing but one `policy.dry_run` ledger entry with the counts, and runs nothing.
 * An invalid candidate is a `validation_failed` error whose issues locate each problem.
 */
export async function dryRunPolicies(db: Db, running: PolicyGate, files: PolicySource[], opts: DryRunOptions): Promise<DryRunReport> {
  const checked = checkCandidateOrRefuse(running.loaded, files);
  const candidate = new PolicyGate(
    {
      dir: CANDIDATE_LABEL,
      files: checked.sources.map((s) => s.file),
      sources: checked.sources,
      schemaFile: running.loaded.schemaFile,
      schemaText: running.loaded.schemaText,
      policies: checked.policies,
      actions: checked.actions,
      warnings: checked.warnings,
      // The schema is the server's own, already preparsed under the running gate's name.
      policySetId: CANDIDATE_SLOT,
      schemaName: running.loaded.schemaName,
    },
    { creditApprovalLimitCents: running.creditApprovalLimitCents },
  );

  // Deciding a page holds the event loop (about 0.1 ms a decision), so pages stay small.
  const pageSize = opts.pageSize ?? 500;
  const maxChanges = opts.maxChanges ?? 500;
  const to = opts.now;
  const from = new Date(to.getTime() - opts.days * 86_400_000);
  const report: DryRunReport = {
    days: opts.days,
    from: from.toISOString(),
    to: to.toISOString(),
    considered: 0,
    changed: 0,
    transitions: {},
    impact: {
      credits: { allowed: noImpact(), withoutHuman: noImpact() },
      contacts: { allowed: noImpact(), withoutHuman: noImpact() },
    },
    changes: [],
    truncated: false,
  };
  let cursor: { at: string; id: string } | null = null;
  for (;;) {
    const rows: DecisionWithProposalRow[] = await selectDecisionsPage(db, {
      from: from.toISOString(),
      to: to.toISOString(),
      cursorAt: cursor?.at ?? null,
      cursorId: cursor?.id ?? null,
      limit: pageSize,
    });
    if (rows.length === 0) break;
    // From here to the end of the page nothing awaits, so no other dry run can preparse into the slot meanwhile.
    preparseCheckedPolicies(CANDIDATE_SLOT, checked);
    for (const row of rows) {
      report.considered++;
      const after = redecide(candidate, row.request);
      if (after.outcome === row.outcome && sameIds(after.policyIds, row.policy_ids)) continue;
      report.changed++;
      const transition = `${row.outcome}→${after.outcome}`;
      report.transitions[transition] = (report.transitions[transition] ?? 0) + 1;
      countImpact(report.impact, row.action, row.request, row.outcome, after.outcome);
      if (report.changes.length < maxChanges) {
        report.changes.push({
          decisionId: row.id,
          proposalId: row.proposal_id,
          agentId: row.agent_id,
          action: row.action,
          accountId: row.account_id,
          leadId: row.lead_id,
          decidedAt: new Date(row.decided_at).toISOString(),
          before: { outcome: row.outcome, policyIds: row.policy_ids },
          after: { outcome: after.outcome, policyIds: after.policyIds, reasons: after.reasons },
        });
      } else {
        report.truncated = true;
      }
    }
    if (rows.length < pageSize) break;
    const last = rows[rows.length - 1]!;
    cursor = { at: last.at_key, id: last.id };
  }

  const candidateHash = sha256(JSON.stringify([...files].sort((a, b) => (a.file < b.file ? -1 : 1)).map((f) => [f.file, f.text])));
  await db.transaction((tx) =>
    appendToLedger(tx, [
      {
        type: 'policy.dry_run',
        actor: opts.actor,
        subjectType: 'policies',
        subjectId: `sha256:${candidateHash}`,
        data: {
          files: files.map((f) => f.file),
          days: report.days,
          from: report.from,
          to: report.to,
          considered: report.considered,
          changed: report.changed,
          transitions: report.transitions,
          impact: report.impact,
          truncated: report.truncated,
        },
        at: opts.now,
      },
    ]),
  );
  return report;
}

/** The candidate's decision on a recorded request; a request the contract no longer accepts is denied, saying why. */
function redecide(gate: PolicyGate, request: unknown): Pick<Decision, 'outcome' | 'policyIds' | 'reasons'> {
  try {
    return gate.decide(request);
  } catch (err) {
    if (err instanceof PolicyRequestError)
      return { outcome: 'deny', policyIds: [], reasons: [`the recorded request is not valid now: ${err.message}`] };
    throw err;
  }
}
