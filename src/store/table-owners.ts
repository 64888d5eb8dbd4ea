/**
 * Which module owns each table. A table's SQL lives only in its owner's `*.repo.ts` files; other modules call those
 * functions. Read models that join tables of several modules live in src/views and only read. The check is
 * scripts/check-tables.ts (`npm run check:tables`, run by `npm test`); docs/architecture.md explains it.
 */
export const TABLE_OWNERS = {
  // Coordination between processes: named leases and the periods once-per-period jobs have done (src/store/leases.ts).
  store: ['leases', 'job_runs'],
  ledger: ['ledger'],
  bus: ['outbox', 'bus_identity'],
  // Webhooks out: the endpoints, their deliveries (an outbox) and the reader's place in the ledger.
  webhooks: ['webhook_endpoints', 'webhook_deliveries', 'webhook_cursor'],
  records: [
    'accounts',
    'contacts',
    'leads',
    'opportunities',
    // The stages of each opportunity pipeline, with the outcome each stands for (migration 038).
    'pipeline_stages',
    'cases',
    'tasks',
    'products',
    'partners',
    'subscriptions',
    'interactions',
    'identities',
    'deletion_reasons',
    // A record kind: written through the records API like the others; sense reads it to decide consent in effect.
    'consents',
  ],
  sense: [
    'signals',
    'quarantine',
    'customer_features',
    'identity_people',
    'identity_blocks',
    'identity_merges',
    'identity_reviews',
    'identity_settings',
    'identity_models',
    'demo_loads',
  ],
  knowledge: ['knowledge_sources', 'knowledge_documents', 'knowledge_chunks'],
  reason: ['agent_settings', 'agent_kill_switch', 'autonomy_changes'],
  assure: ['proposals', 'decisions', 'policy_versions'],
  learn: ['bandit_arms', 'bandit_pulls', 'models', 'model_versions', 'model_drift_checks', 'model_retrains'],
  act: ['approvals', 'executions', 'plays', 'messages', 'credits'],
  privacy: ['erasures'],
  supervisor: ['supervisor_settings'],
  api: ['api_tokens', 'idempotency_keys'],
  world: ['world_clock'],
} as const satisfies Record<string, readonly string[]>;

/**
 * Writers allowed to reach past the owners, each with its reason. Keep it short.
 * - Erasure destroys a customer's personal data in every table in one transaction, from one list a reviewer can
 *   read column by column (src/privacy/erasure.repo.ts); spreading that list over eleven modules would hide a
 *   forgotten column.
 */
export const CROSS_OWNER_WRITERS = ['src/privacy/erasure.repo.ts'] as const;
