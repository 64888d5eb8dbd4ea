/**
 * reason's tables: agent_settings and agent_kill_switch, and SQL's `agent_stopped()` that reads them. Their SQL lives
 * here; src/reason/settings.ts keeps the rules.
 */
import type { Queryable, Tx } from '../store/index.ts';

export interface AgentSettingsRow {
  agent_id: string;
  paused: boolean;
  autonomy: Record<string, number>;
  paused_by: string | null;
  pause_reason: string | null;
  resumed_at: Date | null;
}

export async function selectAgentSettings(q: Queryable): Promise<AgentSettingsRow[]> {
  return q.query<AgentSettingsRow>('SELECT agent_id, paused, autonomy, paused_by, pause_reason, resumed_at FROM agent_settings');
}

/** Creates an agent's settings row (running, the manifest's autonomy) unless it has one; true when it made it. */
export async function insertAgentSettingsIfMissing(tx: Tx, id: string, actor: string): Promise<boolean> {
  const rows = await tx.query<{ agent_id: string }>(
    `INSERT INTO agent_settings (agent_id, paused, autonomy, updated_by) VALUES ($1, false, '{}', $2)
     ON CONFLICT (agent_id) DO NOTHING RETURNING agent_id`,
    [id, actor],
  );
  return rows.length > 0;
}

/**
 * Creates or changes an agent's settings; a null `paused` or `autonomy` leaves that part as it is. A pause records who
 * paused it and why (`reason`); a resume clears both and records when (`at`).
 */
export async function upsertAgentSettings(
  tx: Tx,
  id: string,
  change: { paused: boolean | null; autonomy: string | null; reason?: string | null },
  actor: string,
  at: string,
): Promise<void> {
  await tx.query(
    `INSERT INTO agent_settings (agent_id, paused, autonomy, updated_by, paused_by, pause_reason)
       VALUES ($1, coalesce($2, false), coalesce($3::jsonb, '{}'), $4, CASE WHEN $2 THEN $4 END, CASE WHEN $2 THEN $5 END)
     ON CONFLICT (agent_id) DO UPDATE SET paused = coalesce($2, agent_settings.paused), autonomy = agent_settings.autonomy || coalesce($3::jsonb, '{}'),
       paused_by = CASE WHEN $2 IS NULL THEN agent_settings.paused_by WHEN $2 THEN $4 END,
       pause_reason = CASE WHEN $2 IS NULL THEN agent_settings.pause_reason WHEN $2 THEN $5 END,
       resumed_at = CASE WHEN NOT $2 AND agent_settings.paused THEN $6::timestamptz ELSE agent_settings.resumed_at END,
       updated_at = now(), updated_by = $4`,
    [id, change.paused, change.autonomy, actor, change.reason ?? null, at],
  );
}

export async function selectKillSwitch(
  q: Queryable,
): Promise<{ engaged: boolean; reason: string | null; changed_by: string | null; changed_at: Date | null } | undefined> {
  const [row] = await q.query<{ engaged: boolean; reason: string | null; changed_by: string | null; changed_at: Date | null }>(
    'SELECT engaged, reason, changed_by, changed_at FROM agent_kill_switch WHERE id = 1',
  );
  return row;
}

/** Releasing keeps the reason it was engaged for (unless a new one is given), so nobody has to wonder why it was. */
export async function updateKillSwitch(tx: Tx, engaged: boolean, reason: string | null, actor: string, at: string): Promise<void> {
  await tx.query(
    'UPDATE agent_kill_switch SET engaged = $1, reason = coalesce($2, reason), changed_by = $3, changed_at = $4 WHERE id = 1',
    [engaged, reason, actor, at],
  );
}

/** The ids among `agentIds` SQL's `agent_stopped()` stops (the kill switch is engaged, or the agent is paused). */
export async function selectStoppedAgentIds(q: Queryable, agentIds: string[]): Promise<string[]> {
  const rows = await q.query<{ id: string }>('SELECT id FROM unnest($1::text[]) AS a(id) WHERE agent_stopped(id)', [agentIds]);
  return rows.map((r) => r.id);
}

/** SQL's `agent_stopped()` for one agent: whether it may not act now. */
export async function isAgentStopped(q: Queryable, agentId: string): Promise<boolean> {
  const [row] = await q.query<{ stopped: boolean }>('SELECT agent_stopped($1) AS stopped', [agentId]);
  return row!.stopped;
}

/** An autonomy change and why it was made (the reason is free text: kept here, the ledger names the row). */
export async function insertAutonomyChange(
  tx: Tx,
  row: { id: string; agentId: string; levels: object; previous: object; reason: string; actor: string; at: string },
): Promise<void> {
  await tx.query(
    `INSERT INTO autonomy_changes (id, agent_id, levels, previous, reason, changed_by, changed_at)
       VALUES ($1, $2, $3::jsonb, $4::jsonb, $5, $6, $7::timestamptz)`,
    [row.id, row.agentId, JSON.stringify(row.levels), JSON.stringify(row.previous), row.reason, row.actor, row.at],
  );
}

export interface AutonomyChangeRow {
  id: string;
  agent_id: string;
  levels: Record<string, number>;
  previous: Record<string, number>;
  reason: string;
  changed_by: string;
  changed_at: Date;
}

/** An agent's autonomy changes, newest first. */
export async function selectAutonomyChanges(q: Queryable, agentId: string, limit: number): Promise<AutonomyChangeRow[]> {
  return q.query<AutonomyChangeRow>(
    `SELECT id, agent_id, levels, previous, reason, changed_by, changed_at FROM autonomy_changes
      WHERE agent_id = $1 ORDER BY changed_at DESC, id DESC LIMIT $2`,
    [agentId, limit],
  );
}
