-- The kill switch: an admin stops every agent at once. It is separate from each agent's own pause
-- (agent_settings.paused), so releasing it resumes only the agents that were not paused on their own.
CREATE TABLE agent_kill_switch (
  id int PRIMARY KEY CHECK (id = 1),
  engaged boolean NOT NULL DEFAULT false,
  reason text,
  changed_by text,
  changed_at timestamptz
);
INSERT INTO agent_kill_switch (id) VALUES (1);

-- Why an agent may not act now: 'kill_switch', 'paused', or NULL when it may. Every check that lets an
-- agent's proposal be approved or run (approvals, executions, plays) asks this, so there is one rule.
CREATE FUNCTION agent_stop_reason(agent text) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN (SELECT engaged FROM agent_kill_switch WHERE id = 1) THEN 'kill_switch'
    WHEN (SELECT paused FROM agent_settings WHERE agent_id = agent) THEN 'paused'
  END
$$;

-- Is this agent stopped (by the kill switch or its own pause)?
CREATE FUNCTION agent_stopped(agent text) RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT agent_stop_reason(agent) IS NOT NULL
$$;

-- A policy dry run reads recorded decisions newest first, a page at a time.
CREATE INDEX decisions_decided ON decisions(decided_at, id);
