-- Who paused an agent and why (an admin, or the supervisor naming its trigger); cleared when it is resumed.
ALTER TABLE agent_settings ADD COLUMN paused_by text;
ALTER TABLE agent_settings ADD COLUMN pause_reason text;
-- When it was last resumed, on the server's clock: the supervisor leaves a resumed agent alone for one window.
ALTER TABLE agent_settings ADD COLUMN resumed_at timestamptz;

-- The supervisor's thresholds (src/supervisor): one row, changed by an admin; an empty object means the defaults.
CREATE TABLE supervisor_settings (
  id int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
  thresholds jsonb NOT NULL DEFAULT '{}',
  updated_at timestamptz NOT NULL DEFAULT now(),
  updated_by text
);
