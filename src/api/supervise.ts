import type { Logger } from 'pino';
import type { PolicyGate } from '../assure/index.ts';
import type { Db } from '../store/index.ts';
import { superviseAgents, type AutoPause } from '../supervisor/index.ts';
import type { Metrics } from './metrics.ts';

/**
 * One supervisor round with its alerts: each agent it paused counts in `acs_agent_auto_pauses_total{agent,trigger}`
 * and gets a warning log line (the console shows a banner from the agent's `pausedBy`). The maintenance rounds and
 * POST /api/v1/supervisor/run call it.
 */
export async function superviseAndAlert(
  deps: { db: Db; metrics: Metrics; log: Logger; gate: Pick<PolicyGate, 'dailyCreditBudgetCents'> },
  now: Date,
): Promise<AutoPause[]> {
  const paused = await superviseAgents(deps.db, now, { dailyCreditBudgetCents: deps.gate.dailyCreditBudgetCents });
  for (const p of paused) {
    deps.metrics.autoPauses.inc({ agent: p.agentId, trigger: p.trigger });
    deps.log.warn(
      { agent: p.agentId, trigger: p.trigger, window: p.window, baseline: p.baseline, threshold: p.threshold },
      `agent auto-paused: ${p.reason}`,
    );
  }
  return paused;
}
