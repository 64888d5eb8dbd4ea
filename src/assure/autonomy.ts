import type { Db } from '../store/index.ts';
import { selectDecisionsPage, type DecisionWithProposalRow } from './assure.repo.ts';
import { PolicyRequestError } from './errors.ts';
import type { PolicyGate } from './gate.ts';
import type { Decision, Outcome, PolicyAction, PolicyRequestInput } from './request.ts';

// The autonomy in force after policy. An agent's level (L0–L5) is only half of what happens to its proposals: the
// policy set decides the rest (credits at L3 wait for a human, medium risk waits, a poor track record waits). So the
// effect of a level is read off the running gate itself, by deciding representative requests: the most favourable
// customer (consent given by double opt-in, not in the holdout, no flagged input) at the action's own risk, with the
// agent's real track record. What the gate answers there is the best the level can do; a real customer can only fare
// the same or worse (no consent, the holdout, flagged input, a higher risk).

/** One representative request and what the running policies decide for it. */
export interface AutonomyCase {
  /** What the request stands for, e.g. "a low-risk credit of $50.00 or less". */
  label: string;
  outcome: Outcome;
  policyIds: string[];
  reasons: string[];
}

/** The behaviour a configured level has under the policies in force, for one agent and action. */
export interface EffectiveAutonomy {
  configured: number;
  /** The outcome every case shares, or `varies` when they differ (a credit within the limit runs, above it waits). */
  inForce: Outcome | 'varies';
  /** One sentence: what happens, and which policy makes it so. */
  summary: string;
  cases: AutonomyCase[];
}

export interface AutonomySubject {
  agentId: string;
  action: string;
  /** The level to judge (configured, or proposed in a preview). */
  level: number;
  /** The action's risk as the agent's manifest declares it. */
  risk: 'low' | 'medium' | 'high';
  /** The agent's track record for the action (src/learn/track-record.ts); none: 0 and 0. */
  track?: { agentDecisions: number; agentPrecision: number };
}

const MONEY: ReadonlySet<string> = new Set(['offer_credit', 'apply_credit']);
const NOUN: Record<string, string> = {
  send_message: 'message',
  create_case: 'case',
  create_task: 'task',
  priority_routing: 'priority routing',
  route_lead: 'lead routing',
  update_record: 'record update',
  offer_credit: 'credit offer',
  apply_credit: 'credit',
};

const dollars = (cents: number) => `$${(cents / 100).toFixed(2)}`;

/** Decides the representative requests for one agent, action and level with `gate`. */
export function effectiveAutonomy(gate: PolicyGate, s: AutonomySubject): EffectiveAutonomy {
  const noun = NOUN[s.action] ?? s.action;
  const request = (amountCents: number): PolicyRequestInput => ({
    agent: { id: s.agentId, role: 'agent', autonomy: s.level },
    action: s.action as PolicyAction,
    customer: { id: 'representative', segment: 'any', region: 'US', inHoldout: false },
    context: {
      ...(s.action === 'send_message' ? { channel: 'email' as const, purpose: 'service' as const } : {}),
      hasConsent: true,
      doubleOptIn: true,
      amountCents,
      risk: s.risk,
      agentDecisions: s.track?.agentDecisions ?? 0,
      agentPrecision: s.track?.agentPrecision ?? 0,
    },
  });
  const limit = gate.creditApprovalLimitCents;
  const wanted = MONEY.has(s.action)
    ? [
        { label: `a ${s.risk}-risk ${noun} of ${dollars(limit)} or less`, amount: Math.max(1, limit) },
        { label: `a ${s.risk}-risk ${noun} above ${dollars(limit)}`, amount: limit + 1 },
      ]
    : [{ label: `a ${s.risk}-risk ${noun}${s.action === 'send_message' ? ' to a consenting customer' : ''}`, amount: 0 }];
  const cases = wanted.map(({ label, amount }): AutonomyCase => {
    const d = decideSafely(gate, request(amount));
    return { label, outcome: d.outcome, policyIds: d.policyIds, reasons: d.reasons };
  });
  const first = cases[0]!;
  const same = cases.every((c) => c.outcome === first.outcome);
  const inForce = same ? first.outcome : 'varies';
  const verb = (o: Outcome) => (o === 'execute' ? 'runs without a human' : o === 'approval' ? 'needs approval' : 'is denied');
  const because = (c: AutonomyCase) =>
    c.policyIds.length ? ` because of ${c.policyIds.join(', ')} (${c.reasons.join('; ')})` : ` (${c.reasons.join('; ')})`;
  const summary = same
    ? `every ${noun} ${verb(first.outcome)}${because(first)}`
    : cases.map((c) => `${c.label} ${verb(c.outcome)}${because(c)}`).join('; ');
  return { configured: s.level, inForce, summary, cases };
}

function decideSafely(gate: PolicyGate, input: PolicyRequestInput): Pick<Decision, 'outcome' | 'policyIds' | 'reasons'> {
  try {
    return gate.decide(input);
  } catch (err) {
    if (err instanceof PolicyRequestError)
      return { outcome: 'deny', policyIds: [], reasons: [`the policy schema does not accept this action: ${err.message}`] };
    throw err;
  }
}

export interface AutonomyReplay {
  days: number;
  from: string;
  to: string;
  /** Recorded decisions of the agent for the changed actions in the period. */
  considered: number;
  /** Those the new levels would have decided differently, by `before→after` outcome. */
  changed: number;
  transitions: Record<string, number>;
}

/**
 * What an autonomy change would have changed: the agent's recorded decisions of the last `days` for the changed
 * actions, decided again by the running gate with the new level in the request. Reads pages, writes nothing.
 */
export async function replayAutonomyChange(
  db: Db,
  gate: PolicyGate,
  agentId: string,
  levels: Record<string, number>,
  opts: { days: number; now: Date; pageSize?: number },
): Promise<AutonomyReplay> {
  const to = opts.now;
  const from = new Date(to.getTime() - opts.days * 86_400_000);
  const out: AutonomyReplay = {
    days: opts.days,
    from: from.toISOString(),
    to: to.toISOString(),
    considered: 0,
    changed: 0,
    transitions: {},
  };
  const pageSize = opts.pageSize ?? 500;
  let cursor: { at: string; id: string } | null = null;
  for (;;) {
    const rows: DecisionWithProposalRow[] = await selectDecisionsPage(db, {
      from: out.from,
      to: out.to,
      cursorAt: cursor?.at ?? null,
      cursorId: cursor?.id ?? null,
      limit: pageSize,
      agentId,
    });
    if (rows.length === 0) break;
    for (const row of rows) {
      const level = levels[row.action];
      if (level === undefined) continue;
      const req = row.request as { agent?: { autonomy?: number } } | null;
      if (!req?.agent) continue;
      out.considered++;
      const after = decideSafely(gate, { ...req, agent: { ...req.agent, autonomy: level } } as PolicyRequestInput);
      if (after.outcome === row.outcome) continue;
      out.changed++;
      const t = `${row.outcome}→${after.outcome}`;
      out.transitions[t] = (out.transitions[t] ?? 0) + 1;
    }
    if (rows.length < pageSize) break;
    const last = rows[rows.length - 1]!;
    cursor = { at: last.at_key, id: last.id };
  }
  return out;
}
