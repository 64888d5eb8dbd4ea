-- The governed loop's records: what agents proposed, what policy decided, what humans approved, and
-- what ran. An execution exists only for a decision that allowed it.

CREATE TABLE proposals (
  id text PRIMARY KEY,
  agent_id text NOT NULL,
  account_id text REFERENCES accounts(id),
  lead_id text REFERENCES leads(id),
  action text NOT NULL,
  params jsonb NOT NULL,
  channel text,
  purpose text,
  risk text NOT NULL,
  ev jsonb NOT NULL,
  ev_value numeric NOT NULL,
  reason text NOT NULL,
  -- proposed, suppressed (by arbitration), held_out (customer in the holdout), decided
  status text NOT NULL DEFAULT 'proposed',
  status_reason text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX proposals_account ON proposals(account_id, created_at DESC);

CREATE TABLE decisions (
  id text PRIMARY KEY,
  proposal_id text NOT NULL UNIQUE REFERENCES proposals(id),
  outcome text NOT NULL CHECK (outcome IN ('execute', 'approval', 'deny')),
  policy_ids jsonb NOT NULL,
  reasons jsonb NOT NULL,
  autonomy int NOT NULL,
  request jsonb NOT NULL,
  decided_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE approvals (
  id text PRIMARY KEY,
  decision_id text NOT NULL UNIQUE REFERENCES decisions(id),
  status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
  expires_at timestamptz NOT NULL,
  decided_by text,
  reason text,
  edited_params jsonb,
  decided_at timestamptz
);
CREATE INDEX approvals_pending ON approvals(status, expires_at);

-- One row per idempotency key: a retry, restart or duplicate delivery finds it and does not repeat the effect.
CREATE TABLE executions (
  idempotency_key text PRIMARY KEY,
  decision_id text NOT NULL REFERENCES decisions(id),
  action text NOT NULL,
  params jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('succeeded', 'compensated')),
  result jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tasks (
  id text PRIMARY KEY,
  account_id text REFERENCES accounts(id),
  lead_id text REFERENCES leads(id),
  title text NOT NULL,
  details text,
  assignee text,
  status text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'cancelled')),
  due_at timestamptz,
  execution_key text,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE credits (
  id text PRIMARY KEY,
  account_id text NOT NULL REFERENCES accounts(id),
  amount_cents int NOT NULL CHECK (amount_cents > 0),
  currency text NOT NULL DEFAULT 'USD',
  reason text,
  status text NOT NULL DEFAULT 'applied' CHECK (status IN ('applied', 'reversed')),
  execution_key text,
  created_at timestamptz NOT NULL DEFAULT now(),
  reversed_at timestamptz
);

-- Messages wait here until a transport delivers them (the default writes them to a file; no email is sent).
CREATE TABLE messages (
  id text PRIMARY KEY,
  account_id text REFERENCES accounts(id),
  lead_id text REFERENCES leads(id),
  channel text NOT NULL,
  purpose text NOT NULL,
  template text NOT NULL,
  body text,
  status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
  transport text,
  execution_key text,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at timestamptz
);
CREATE INDEX messages_queued ON messages(id) WHERE status = 'queued';
