-- Admin controls that show their effect (issue 16).
-- An autonomy change is made for a reason: the reason is free text, so it is kept here, beside the change, and the
-- ledger entry (agent.updated) names the row. Owned by reason (src/reason/settings.ts).
CREATE TABLE autonomy_changes (
  id text PRIMARY KEY,
  agent_id text NOT NULL,
  -- The levels set, by action, and the levels they replaced.
  levels jsonb NOT NULL,
  previous jsonb NOT NULL,
  reason text NOT NULL,
  changed_by text NOT NULL,
  changed_at timestamptz NOT NULL
);
CREATE INDEX autonomy_changes_agent ON autonomy_changes(agent_id, changed_at DESC);
