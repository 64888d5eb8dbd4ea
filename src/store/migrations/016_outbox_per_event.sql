-- The outbox delivers, retries and acknowledges each event on its own (src/bus/outbox-bus.ts). An event whose
-- handler keeps failing is parked after a number of attempts, with its last error, until an operator retries
-- or discards it; the others flow on. Delivered events are pruned after a retention window.

-- Existing rows take the column default without a rewrite, so they read as delivered; the few still pending are
-- set below, through the pending index.
ALTER TABLE outbox ADD COLUMN state text NOT NULL DEFAULT 'delivered';
ALTER TABLE outbox ALTER COLUMN state SET DEFAULT 'pending';
UPDATE outbox SET state = 'pending' WHERE delivered_at IS NULL;
ALTER TABLE outbox ADD CONSTRAINT outbox_state CHECK (state IN ('pending', 'delivered', 'parked', 'discarded'));

ALTER TABLE outbox ADD COLUMN attempts int NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error text;
ALTER TABLE outbox ADD COLUMN last_attempt_at timestamptz;
-- A failed event waits until then (backoff); NULL means due now.
ALTER TABLE outbox ADD COLUMN next_attempt_at timestamptz;
ALTER TABLE outbox ADD COLUMN parked_at timestamptz;
-- A discard's reason is free text and stays here; the ledger notes only that one was given.
ALTER TABLE outbox ADD COLUMN discarded_at timestamptz;
ALTER TABLE outbox ADD COLUMN discarded_by text;
ALTER TABLE outbox ADD COLUMN discard_reason text;

DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox(id) WHERE state = 'pending';
CREATE INDEX outbox_parked ON outbox(id) WHERE state = 'parked';
-- Pruning finds delivered rows past the retention window without scanning the table.
CREATE INDEX outbox_delivered ON outbox(delivered_at) WHERE state = 'delivered';
