-- Data-subject erasure (src/records/erasure.ts): the personal fields of a customer are destroyed in place; the
-- rows stay, with their ids, times, types and numbers, so aggregates and the ledger's references survive.

-- When the customer was first erased; the erased profile is also soft-deleted.
ALTER TABLE accounts ADD COLUMN erased_at timestamptz;

-- The register of erasures: who erased whom, when, how many rows of each table, and why. The reason is free
-- text, so it lives here and the ledger only notes that one was given.
CREATE TABLE erasures (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  actor text NOT NULL,
  reason text,
  counts jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX erasures_account ON erasures(account_id);
