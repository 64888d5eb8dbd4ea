import { AppError } from '../errors.ts';
import { appendToLedger } from '../ledger/index.ts';
import { newId, type Db, type Queryable, type Tx } from '../store/index.ts';
import {
  insertAgentSettingsIfMissing,
  insertAutonomyChange,
  selectAutonomyChanges,
  selectAgentSettings,
  selectKillSwitch,
  selectStoppedAgentIds,
  updateKillSwitch,
  upsertAgentSettings,
} from './reason.repo.ts';
import {
  AGENTS,
  agentById,
  externalAgent,
  isExternalAgentId,
  type Agent,
  type AgentAction,
  type AutonomyLevel,
  type EligibilityRule,
} from './agents/index.ts';

/** An agent as it runs: its manifest, whether it is paused, and the autonomy in force per action. */
export interface AgentView {
  id: string;
  owner: string;
  objective: string;
  riskClass: string;
  paused: boolean;
  /** Who paused it (an admin's token name, or `supervisor`) and why; null while it runs. */
  pausedBy: string | null;
  pauseReason: string | null;
  triggers: Agent['manifest']['triggers'];
  actions: Record<string, { autonomy: number; defaultAutonomy: number; risk: string; eligibility: EligibilityRule[] }>;
}

export async function loadAgentSettings(
  q: Queryable,
): Promise<
  Map<
    string,
    { paused: boolean; autonomy: Record<string, number>; pausedBy: string | null; pauseReason: string | null; resumedAt: Date | null }
  >
> {
  const rows = await selectAgentSettings(q);
  return new Map(
    rows.map((r) => [
      r.agent_id,
      {
        paused: r.paused,
        autonomy: r.autonomy,
        pausedBy: r.paused_by,
        pauseReason: r.pause_reason,
        resumedAt: r.resumed_at ? new Date(r.resumed_at) : null,
      },
    ]),
  );
}

/** An agent's autonomy for an action: an admin's setting, else the manifest's default, else L0 (off). */
export function autonomyInForce(settings: AgentSettings, agentId: string, action: string): number {
  return settings.get(agentId)?.autonomy[action] ?? agentById(agentId)?.manifest.actions[action as AgentAction]?.autonomy ?? 0;
}

export type AgentSettings = Awaited<ReturnType<typeof loadAgentSettings>>;

export async function listAgents(q: Queryable): Promise<AgentView[]> {
  const settings = await loadAgentSettings(q);
  // External agents are listed once they have an entry (their first proposal makes it), after the built-in ones.
  const external = [...settings.keys()].filter(isExternalAgentId).sort().map(externalAgent);
  return [...AGENTS, ...external].map(({ manifest: m }) => {
    const s = settings.get(m.id);
    return {
      id: m.id,
      owner: m.owner,
      objective: m.objective,
      riskClass: m.riskClass,
      triggers: m.triggers,
      paused: s?.paused ?? false,
      pausedBy: s?.paused ? s.pausedBy : null,
      pauseReason: s?.paused ? s.pauseReason : null,
      actions: Object.fromEntries(
        Object.entries(m.actions).map(([a, spec]) => [
          a,
          {
            autonomy: autonomyInForce(settings, m.id, a),
            defaultAutonomy: spec!.autonomy,
            risk: spec!.risk,
            eligibility: spec!.eligibility ?? [],
          },
        ]),
      ),
    };
  });
}

/**
 * Gives an external agent its registry entry on its first proposal (running, at the default autonomy: every action
 * waits for a person), ledgered as `agent.registered`; later calls change nothing.
 */
export async function registerExternalAgent(tx: Tx, id: string, actor: string, at: Date): Promise<void> {
  if (!isExternalAgentId(id)) throw new Error(`${id} is not an external agent id`);
  if (await insertAgentSettingsIfMissing(tx, id, actor))
    await appendToLedger(tx, [{ type: 'agent.registered', actor, subjectType: 'agents', subjectId: id, data: { external: true }, at }]);
}

/** Pauses or resumes an agent, or sets its autonomy for some of its actions; each change goes to the ledger. */
export async function updateAgent(db: Db, id: string, change: AgentChange, actor: string, now = new Date()): Promise<AgentView> {
  return db.transaction((tx) => updateInTransaction(tx, id, change, actor, now));
}

/** `reason` goes with a pause (why it was paused; the supervisor names its trigger and figures), and is required with an autonomy change. */
export type AgentChange = { paused?: boolean; reason?: string; autonomy?: Partial<Record<AgentAction, AutonomyLevel>> };

/** updateAgent inside the caller's transaction (the supervisor pauses and ledgers its finding in one). */
export async function updateInTransaction(tx: Tx, id: string, change: AgentChange, actor: string, now = new Date()): Promise<AgentView> {
  const agent = agentById(id);
  if (!agent) throw new AppError('agent.not_found', `no agent ${id}; known: ${AGENTS.map((a) => a.manifest.id).join(', ')}`);
  for (const action of Object.keys(change.autonomy ?? {})) {
    if (!agent.manifest.actions[action as AgentAction]) {
      throw new AppError('validation_failed', `${id} does not propose ${action}`, [
        { path: `autonomy.${action}`, message: `not one of ${Object.keys(agent.manifest.actions).join(', ')}` },
      ]);
    }
  }
  const reason = change.reason?.trim() || undefined;
  // An autonomy change is made for a reason, kept with it (autonomy_changes), so whoever reads the ledger can ask why.
  let autonomyChange: { id: string; previous: Record<string, number> } | null = null;
  if (change.autonomy && Object.keys(change.autonomy).length) {
    if (!reason)
      throw new AppError('validation_failed', 'an autonomy change needs a reason', [
        { path: 'reason', message: 'required when autonomy changes, 1 to 500 characters' },
      ]);
    const settings = await loadAgentSettings(tx);
    const previous = Object.fromEntries(Object.keys(change.autonomy).map((a) => [a, autonomyInForce(settings, id, a)]));
    autonomyChange = { id: newId('auto'), previous };
    await insertAutonomyChange(tx, {
      id: autonomyChange.id,
      agentId: id,
      levels: change.autonomy,
      previous,
      reason,
      actor,
      at: now.toISOString(),
    });
  }
  await upsertAgentSettings(
    tx,
    id,
    { paused: change.paused ?? null, autonomy: change.autonomy ? JSON.stringify(change.autonomy) : null, reason: reason ?? null },
    actor,
    now.toISOString(),
  );
  // The reason stays in the tables (a pause's in agent_settings, an autonomy change's in autonomy_changes, named by
  // autonomyChangeId); the ledger keeps no free text (the supervisor ledgers its figures on their own).
  const { reason: _given, ...ledgered } = change;
  await appendToLedger(tx, [
    {
      type: 'agent.updated',
      actor,
      subjectType: 'agents',
      subjectId: id,
      data: {
        ...ledgered,
        ...(autonomyChange ? { previous: autonomyChange.previous, autonomyChangeId: autonomyChange.id } : {}),
        ...(reason ? { reasonGiven: true } : {}),
      },
      at: now,
    },
  ]);
  return (await listAgents(tx)).find((a) => a.id === id)!;
}

/** The kill switch: while engaged, no agent proposes, no approval of theirs can be granted, nothing they proposed runs. */
export interface KillSwitch {
  engaged: boolean;
  /** Who last engaged or released it (the token, as the ledger names it), and when. */
  by: string | null;
  at: string | null;
  /** Why it was last engaged (kept after a release, unless the release gave its own). */
  reason: string | null;
}

export async function loadKillSwitch(q: Queryable): Promise<KillSwitch> {
  const row = await selectKillSwitch(q);
  return {
    engaged: row?.engaged ?? false,
    by: row?.changed_by ?? null,
    at: row?.changed_at ? new Date(row.changed_at).toISOString() : null,
    reason: row?.reason ?? null,
  };
}

/**
 * Engages (a reason is required) or releases the kill switch; ledgered as `agents.kill_switch`. Each agent's own pause
 * is left as it is, so releasing resumes only the agents that were not paused on their own.
 */
export async function setKillSwitch(
  db: Db,
  change: { engaged: boolean; reason?: string },
  actor: string,
  now = new Date(),
): Promise<KillSwitch> {
  return db.transaction((tx) => setKillSwitchInTransaction(tx, change, actor, now));
}

async function setKillSwitchInTransaction(
  tx: Tx,
  change: { engaged: boolean; reason?: string },
  actor: string,
  now: Date,
): Promise<KillSwitch> {
  const reason = change.reason?.trim() || null;
  if (change.engaged && !reason)
    throw new AppError('validation_failed', 'engaging the kill switch needs a reason', [
      { path: 'reason', message: 'required when engaging, 1 to 500 characters' },
    ]);
  if (reason && reason.length > 500)
    throw new AppError('validation_failed', 'the reason is too long', [{ path: 'reason', message: 'at most 500 characters' }]);
  // Releasing keeps the reason it was engaged for (unless a new one is given), so nobody has to wonder why it was.
  await updateKillSwitch(tx, change.engaged, reason, actor, now.toISOString());
  // The reason stays in the table; the ledger keeps no free text.
  await appendToLedger(tx, [
    {
      type: 'agents.kill_switch',
      actor,
      subjectType: 'agents',
      subjectId: '*',
      data: { engaged: change.engaged, reasonGiven: reason !== null },
      at: now,
    },
  ]);
  return loadKillSwitch(tx);
}

/**
 * The agents among `agentIds` that may not act now, because the kill switch is engaged or they are paused. Asks SQL's
 * `agent_stopped()`, the same rule approvals, executions and plays check, so the loop and the database never disagree.
 */
export async function stoppedAgents(q: Queryable, agentIds: readonly string[] = AGENTS.map((a) => a.manifest.id)): Promise<Set<string>> {
  return new Set(await selectStoppedAgentIds(q, [...agentIds]));
}

/** An agent's autonomy changes with their reasons, newest first. */
export async function listAutonomyChanges(
  q: Queryable,
  agentId: string,
  limit = 20,
): Promise<{ id: string; levels: Record<string, number>; previous: Record<string, number>; reason: string; by: string; at: string }[]> {
  const rows = await selectAutonomyChanges(q, agentId, limit);
  return rows.map((r) => ({
    id: r.id,
    levels: r.levels,
    previous: r.previous,
    reason: r.reason,
    by: r.changed_by,
    at: new Date(r.changed_at).toISOString(),
  }));
}
