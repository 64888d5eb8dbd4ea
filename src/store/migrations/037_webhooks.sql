-- Webhooks out (issue 17): endpoints an admin registers, and the deliveries to them. Owned by webhooks
-- (src/webhooks/webhooks.repo.ts); docs/webhooks.md explains the design.

-- An endpoint: where to send, which event types, and the signing secret (`whsec_` + base64). The secret is kept as it
-- is, because signing each delivery needs it; the API shows it once, when the endpoint is created.
CREATE TABLE webhook_endpoints (
  id text PRIMARY KEY,
  url text NOT NULL,
  event_types text[] NOT NULL,
  description text NOT NULL DEFAULT '',
  secret text NOT NULL,
  enabled boolean NOT NULL DEFAULT true,
  -- The ledger entry that was the head when the endpoint was made: it gets the events after it, none from before.
  from_seq bigint NOT NULL,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);

-- The outbox of webhooks: one row per event and endpoint, written in the same transaction that moves the cursor
-- past the event, so an event is never lost or doubled when a process dies. The body is kept as it was signed first,
-- so a retry or a replay sends the same bytes under the same webhook-id (the row's id).
CREATE TABLE webhook_deliveries (
  id text PRIMARY KEY,
  endpoint_id text NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  event_type text NOT NULL,
  ledger_seq bigint NOT NULL,
  body text NOT NULL,
  status text NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  next_attempt_at timestamptz,
  last_attempt_at timestamptz,
  last_status_code integer,
  last_error text,
  created_at timestamptz NOT NULL,
  delivered_at timestamptz,
  UNIQUE (endpoint_id, ledger_seq, event_type)
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id DESC);

-- How far the ledger has been read for webhooks: one row, the last sequence number turned into deliveries.
CREATE TABLE webhook_cursor (
  id integer PRIMARY KEY CHECK (id = 1),
  last_seq bigint NOT NULL
);
