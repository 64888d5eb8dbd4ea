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

-- The policy set an admin adopted through the API (POST /api/v1/policies/adopt), one row per version: the complete
-- set of .cedar files (the schema stays the server's). The newest row is the set in force in every process; with no
-- row, the files in ACS_POLICY_DIR are. A rollback adopts an older version's files again as a new version (restores).
-- Owned by assure (src/assure/versions.ts).
CREATE TABLE policy_versions (
  version integer PRIMARY KEY,
  files jsonb NOT NULL,
  sha256 text NOT NULL,
  reason text NOT NULL,
  restores integer,
  adopted_by text NOT NULL,
  adopted_at timestamptz NOT NULL
);
