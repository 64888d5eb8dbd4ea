-- Changes an admin made to an agent: a pause, or an autonomy level per action that overrides the manifest.
CREATE TABLE agent_settings (
  agent_id text PRIMARY KEY,
  paused boolean NOT NULL DEFAULT false,
  autonomy jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text
);
