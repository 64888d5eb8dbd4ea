-- The outbox on NATS JetStream (ACS_NATS_URL, src/bus/nats-bus.ts): a relay hands each committed event to the broker
-- and notes it here; a retried event is handed over again under a new message id (its count of publications).
ALTER TABLE outbox ADD COLUMN published_at timestamptz;
ALTER TABLE outbox ADD COLUMN publications int NOT NULL DEFAULT 0;

-- This database's name on the broker: its streams and their message ids are this database's alone, so databases
-- sharing a NATS server (tests, staging beside production) never take each other's events.
CREATE TABLE bus_identity (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  id text NOT NULL CHECK (id ~ '^[0-9a-f]{12}$')
);
INSERT INTO bus_identity (id) VALUES (substr(md5(random()::text || clock_timestamp()::text), 1, 12));
