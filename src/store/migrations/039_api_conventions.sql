-- Idempotency-Key on POST (src/api/idempotency.ts): the first answer to a key, per token, kept for 24 hours so a
-- retried request gets it back instead of acting twice. `status` is null while the first request is still running.
CREATE TABLE idempotency_keys (
  principal text NOT NULL,
  key text NOT NULL,
  method text NOT NULL,
  path text NOT NULL,
  body_hash text NOT NULL,
  status integer,
  content_type text,
  response_body text,
  response_headers jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (principal, key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys(created_at);

-- Record lists are ordered by (updated_at, id) for incremental sync (`updatedSince`).
CREATE INDEX accounts_updated ON accounts(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX contacts_updated ON contacts(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX leads_updated ON leads(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX opportunities_updated ON opportunities(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX cases_updated ON cases(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX interactions_updated ON interactions(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX products_updated ON products(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX subscriptions_updated ON subscriptions(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX partners_updated ON partners(updated_at, id) WHERE deleted_at IS NULL;
CREATE INDEX consents_updated ON consents(updated_at, id) WHERE deleted_at IS NULL;
