-- Durable multi-step plays: each row is one run; its step and state survive restarts.
CREATE TABLE plays (
  id text PRIMARY KEY,
  kind text NOT NULL,
  account_id text REFERENCES accounts(id),
  step text NOT NULL,
  -- running (a worker may advance it), waiting (on a human), done, refused, gave_up (after compensating)
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'waiting', 'done', 'refused', 'gave_up')),
  state jsonb NOT NULL DEFAULT '{}',
  attempts int NOT NULL DEFAULT 0,
  next_run_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX plays_due ON plays(next_run_at) WHERE status = 'running';
