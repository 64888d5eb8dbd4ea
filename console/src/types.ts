// The shapes the console reads from the API (see GET /api/openapi.json for the routes). Where the server declares a
// response type, it is imported from there (types only: nothing of the server is bundled).
export type { ExpectedValue, Term } from '../../src/reason/agents/types.ts';
export type { AgentStats, AgentUplift as Uplift, Kpis } from '../../src/learn/kpis.ts';
export type { Profile, TimelineItem } from '../../src/sense/profile.ts';
export type { RejectionCategory } from '../../src/act/approvals.ts';
export type { IdentityReview } from '../../src/sense/identity/merges.ts';
import type { ExpectedValue } from '../../src/reason/agents/types.ts';

export interface Approval {
  id: string;
  status: 'pending' | 'approved' | 'rejected' | 'expired';
  expiresAt: string;
  decidedBy: string | null;
  reason: string | null;
  editedParams: Record<string, unknown> | null;
  /** Why the last attempt to approve and run failed (the approval stayed pending). */
  lastError: { code: string; message: string; at: string } | null;
  proposal: {
    id: string; agentId: string; action: string; params: Record<string, unknown>; channel: string | null; purpose: string | null;
    risk: 'low' | 'medium' | 'high'; ev: ExpectedValue; reason: string;
  };
  decision: { id: string; outcome: string; policyIds: string[]; reasons: string[]; autonomy: number };
  customer: { accountId: string | null; customerId: string | null; leadId: string | null; features: Record<string, unknown> | null };
}

export interface Page<T> {
  data: T[];
  nextCursor: string | null;
}

export interface Proposal {
  id: string; agentId: string; accountId: string | null; customerId: string | null; leadId: string | null; action: string; params: Record<string, unknown>;
  channel: string | null; purpose: string | null; risk: string; ev: ExpectedValue; reason: string; status: string; statusReason: string | null; createdAt: string;
  decision: { id: string; outcome: string; policyIds: string[]; reasons: string[]; autonomy: number; decidedAt: string } | null;
  approval: { id: string; status: string } | null;
  executions: { idempotencyKey: string; status: string; result: unknown }[];
}

export interface LedgerEntry {
  seq: number; ts: string; type: string; actor: string; subjectType: string | null; subjectId: string | null; data: Record<string, unknown>; hash: string; prevHash: string;
}

export interface VerifyReport {
  ok: boolean; entries: number; head: string | null; firstBadSeq: number | null; problem?: string;
}

export interface AgentView {
  id: string; owner: string; objective: string; riskClass: string; paused: boolean;
  triggers: { signalTypes: string[]; schedule?: string };
  actions: Record<string, { autonomy: number; defaultAutonomy: number; risk: string }>;
}

export interface KillSwitch {
  engaged: boolean; by: string | null; at: string | null; reason: string | null;
}

export interface PolicyInfo {
  id: string; effect: 'permit' | 'forbid'; outcome: string | null; reason: string; file: string; line?: number;
}

export interface PolicySet {
  files: { file: string; text: string }[];
  schema: { file: string; text: string };
  policies: PolicyInfo[];
  creditApprovalLimitCents: number;
}

export interface PolicyProblem {
  file: string; line?: number; column?: number; message: string;
}

export interface DryRun {
  days: number; from: string; to: string; considered: number; changed: number; transitions: Record<string, number>; truncated: boolean;
  changes: {
    decisionId: string; proposalId: string; agentId: string; action: string; accountId: string | null; leadId: string | null; decidedAt: string;
    before: { outcome: string; policyIds: string[] }; after: { outcome: string; policyIds: string[]; reasons: string[] };
  }[];
}

export type RecordRow = Record<string, unknown> & { id: string };

/** GET /customers/{id}/consents: what consent allows now, and every record behind it. */
export interface ConsentOverview {
  effective: {
    contactPoint: string | null; channel: string; purpose: string; brand: string | null; status: string; grants: boolean;
    consentId: string; contactId: string; capturedAt: string;
  }[];
  data: (RecordRow & { contactId: string; inEffect: boolean; state: 'in_effect' | 'superseded' | 'awaiting_confirmation' | 'scheduled' | 'expired' })[];
}

export interface FeaturePoint {
  asOf: string; features: Record<string, number | string | null>; churn: { probability: number; modelId: string; modelVersion: string } | null;
}

export interface QuarantineItem {
  id: string; source: string; reason: string; issues: { path: string; message: string }[]; raw: string;
  status: 'open' | 'resubmitted' | 'discarded'; receivedAt: string; resolvedAt: string | null; resolution: Record<string, unknown> | null;
}
