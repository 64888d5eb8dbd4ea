import { RECORD_KINDS } from '../contracts/index.ts';

export const ROLES = ['admin', 'reviewer', 'analyst', 'agent'] as const;
export type Role = (typeof ROLES)[number];

const ALL: Role[] = [...ROLES];
const STAFF: Role[] = ['admin', 'reviewer', 'analyst'];

/**
 * Which roles may call which route: the one place this is declared. The router refuses to register a
 * route missing from this table, and a test walks every entry for every role.
 * Keys are `METHOD path` with the path as registered.
 */
export const PERMISSIONS: Record<string, readonly Role[]> = {
  'GET /api/v1/me': ALL,
  'POST /api/v1/auth/login': ALL,
  'POST /api/v1/auth/logout': ALL,
  'GET /api/v1/tokens': ['admin'],
  'POST /api/v1/tokens': ['admin'],
  'DELETE /api/v1/tokens/:id': ['admin'],

  'POST /api/v1/signals': ['admin', 'agent'],
  'GET /api/v1/signals/:id': ALL,
  'GET /api/v1/quarantine': STAFF,
  'GET /api/v1/quarantine/:id': STAFF,
  'POST /api/v1/quarantine/:id/resubmit': ['admin', 'reviewer'],
  'POST /api/v1/quarantine/:id/discard': ['admin', 'reviewer'],
  // Customer search: staff find customers; the analyst by ids only (src/views/customer-search.ts). Agents work from
  // the customer a signal names and never browse.
  'GET /api/v1/search': STAFF,
  'GET /api/v1/customers/:id/profile': ALL,
  'GET /api/v1/customers/:id/consents': ALL,
  'GET /api/v1/customers/:id/features/history': ALL,
  // A data subject export holds everything about a person: admins only.
  'GET /api/v1/customers/:id/export': ['admin'],
  // Erasure destroys a person's data for good: admins only.
  'POST /api/v1/customers/:id/erase': ['admin'],
  // Compaction after erasure rewrites tables under exclusive locks: admins only.
  'POST /api/v1/privacy/compact': ['admin'],
  'GET /api/v1/contacts/:id/consents/effective': ALL,
  // Confirming a double opt-in records the person's word, as recording a consent does: never an agent.
  'POST /api/v1/consents/:id/confirm': ['admin', 'reviewer'],

  // Identity resolution (src/api/routes/identity.ts): reviewers are the data stewards.
  'GET /api/v1/identity/reviews': STAFF,
  'GET /api/v1/identity/reviews/:id': STAFF,
  'POST /api/v1/identity/reviews/:id/merge': ['admin', 'reviewer'],
  'POST /api/v1/identity/reviews/:id/keep-apart': ['admin', 'reviewer'],
  'GET /api/v1/identity/merges': STAFF,
  'POST /api/v1/identity/merges': ['admin', 'reviewer'],
  'POST /api/v1/identity/merges/:id/unmerge': ['admin', 'reviewer'],
  'GET /api/v1/customers/:id/lineage': STAFF,
  'POST /api/v1/identity/match': STAFF,
  'GET /api/v1/identity/settings': STAFF,
  'PUT /api/v1/identity/settings': ['admin'],
  'POST /api/v1/identity/model/fit': ['admin'],

  'GET /api/v1/approvals': STAFF,
  'POST /api/v1/approvals/:id/approve': ['admin', 'reviewer'],
  'POST /api/v1/approvals/:id/check-edit': ['admin', 'reviewer'],
  'POST /api/v1/approvals/:id/reject': ['admin', 'reviewer'],
  'POST /api/v1/approvals/bulk-approve': ['admin', 'reviewer'],

  // The agents' work items (src/api/routes/work.ts): staff read them; reviewers and admins work tasks; retrying or
  // cancelling a play changes what the agents do next, so it is an admin's call.
  'GET /api/v1/tasks': STAFF,
  'POST /api/v1/tasks/:id/assign': ['admin', 'reviewer'],
  'POST /api/v1/tasks/:id/complete': ['admin', 'reviewer'],
  'GET /api/v1/messages': STAFF,
  'GET /api/v1/credits': STAFF,
  'GET /api/v1/plays': STAFF,
  'POST /api/v1/plays/:id/retry': ['admin'],
  'POST /api/v1/plays/:id/cancel': ['admin'],

  'GET /api/v1/agents': ALL,
  'PATCH /api/v1/agents/:id': ['admin'],
  // Previewing an autonomy change replays the agent's recorded decisions: it is part of making the change.
  'POST /api/v1/agents/:id/autonomy-preview': ['admin'],
  'GET /api/v1/agents/:id/autonomy-changes': STAFF,
  'POST /api/v1/agents/kill-switch': ['admin'],
  // The supervisor (src/supervisor): staff read its thresholds; setting them or running a round is an admin's call.
  'GET /api/v1/supervisor/settings': STAFF,
  'PUT /api/v1/supervisor/settings': ['admin'],
  'POST /api/v1/supervisor/run': ['admin'],
  'GET /api/v1/proposals': STAFF,
  'GET /api/v1/world': ALL,

  // Policies (src/api/routes/policies.ts)
  'GET /api/v1/policies': STAFF,
  'POST /api/v1/policies/validate': STAFF,
  'POST /api/v1/policies/dry-run': STAFF,
  // Adopting or rolling back changes what every agent may do, in every process: an admin's call.
  'GET /api/v1/policies/versions': STAFF,
  'GET /api/v1/policies/versions/:version': STAFF,
  'POST /api/v1/policies/adopt': ['admin'],
  'POST /api/v1/policies/versions/:version/restore': ['admin'],

  // KPIs and agent performance (src/api/routes/insights.ts)
  'GET /api/v1/kpis': STAFF,
  'GET /api/v1/agents/stats': STAFF,
  // The uplift model p(success) comes from: segment rates and its ranking quality (aggregates, no customer data).
  'GET /api/v1/agents/uplift-model': STAFF,
  // The readiness scorecard (src/learn/readiness.ts)
  'GET /api/v1/readiness': STAFF,
  // Learning from outcomes: the offer and channel bandits' posteriors.
  'GET /api/v1/bandits': STAFF,

  // Data quality and feature lineage (src/api/routes/quality.ts)
  'GET /api/v1/customers/:id/quality': STAFF,
  'GET /api/v1/quality/sources': STAFF,
  'GET /api/v1/customers/:id/features/lineage': STAFF,

  // The model registry (src/api/routes/models.ts): staff read; what serves and how it is checked is an admin's call.
  'GET /api/v1/models': STAFF,
  'GET /api/v1/models/:name': STAFF,
  'POST /api/v1/models/:name/train': ['admin'],
  'POST /api/v1/models/:name/versions/:version/promote': ['admin'],
  'POST /api/v1/models/:name/rollback': ['admin'],
  'POST /api/v1/models/:name/drift': ['admin'],
  'POST /api/v1/models/:name/retrain': ['admin'],
  'PUT /api/v1/models/:name/settings': ['admin'],

  // The event bus's parked events (src/api/routes/outbox.ts): operating the pipeline is an admin's job.
  'GET /api/v1/outbox/parked': ['admin'],
  'POST /api/v1/outbox/parked/:id/retry': ['admin'],
  'POST /api/v1/outbox/parked/:id/discard': ['admin'],
  // Webhooks out (src/api/routes/webhooks.ts): where events go, signed with secrets, is an admin's call.
  'GET /api/v1/webhooks': ['admin'],
  'POST /api/v1/webhooks': ['admin'],
  'GET /api/v1/webhooks/:id': ['admin'],
  'PATCH /api/v1/webhooks/:id': ['admin'],
  'DELETE /api/v1/webhooks/:id': ['admin'],
  'GET /api/v1/webhooks/:id/deliveries': ['admin'],
  'POST /api/v1/webhooks/:id/deliveries/:deliveryId/replay': ['admin'],

  // Masking personal data (src/api/routes/trust.ts): every role may, agents included. It stores nothing and
  // answers only with what the caller sent, less the personal data.
  'POST /api/v1/pii/mask': ALL,
  // The knowledge base (src/api/routes/knowledge.ts): everyone searches (filtered by role and intended use) and reads
  // the sources; what may ground customer-facing text (sources, their approval, imports) is an admin's call.
  'GET /api/v1/knowledge/search': ALL,
  'GET /api/v1/knowledge/sources': ALL,
  'GET /api/v1/knowledge/sources/:id': ALL,
  'GET /api/v1/knowledge/sources/:id/documents': ALL,
  'POST /api/v1/knowledge/sources': ['admin'],
  'POST /api/v1/knowledge/sources/:id/approve': ['admin'],
  'POST /api/v1/knowledge/sources/:id/retire': ['admin'],
  'POST /api/v1/knowledge/documents': ['admin'],
  // Agent assist and answers (src/api/routes/assist.ts). A suggested reply and an answer are text for a customer:
  // the roles that answer customers ask for them (agents, reviewers, admins), never the read-only analyst. A case
  // summary is for any staff reading the case, agents included; the analyst's is masked.
  'POST /api/v1/cases/:id/suggest-reply': ['admin', 'reviewer', 'agent'],
  'POST /api/v1/cases/:id/summary': ALL,
  'POST /api/v1/answer': ['admin', 'reviewer', 'agent'],

  'GET /api/v1/ledger': STAFF,
  'GET /api/v1/ledger/verify': STAFF,
  'POST /api/v1/ledger/checkpoint': ['admin'],

  // CRM records: everyone reads; reviewers (data stewards) and admins write; only admins delete. Agents never write
  // a record directly: they propose the change (MCP's propose_action), and policy, approval and the ledger govern it.
  ...Object.fromEntries(
    RECORD_KINDS.flatMap((kind) => {
      const writers: Role[] = ['admin', 'reviewer'];
      return [
        [`GET /api/v1/${kind}`, ALL],
        [`POST /api/v1/${kind}`, writers],
        [`GET /api/v1/${kind}/:id`, ALL],
        [`PATCH /api/v1/${kind}/:id`, writers],
        [`DELETE /api/v1/${kind}/:id`, ['admin']],
      ];
    }),
  ),
};

/** Record kinds' write routes, which the agent role is refused with the way it may take instead. */
const RECORD_WRITE = new RegExp(`^(POST|PATCH|DELETE) /api/v1/(${RECORD_KINDS.join('|')})(/:id)?$`);

/** What a refused role may do instead, when there is a governed way; appended to the 403's detail. */
export function refusalHint(routeKey: string, role: Role): string | null {
  if (role === 'agent' && RECORD_WRITE.test(routeKey))
    return 'agents do not write CRM records directly: propose the change with the MCP tool propose_action (POST /mcp), and policy, approval and the ledger take it from there';
  return null;
}
