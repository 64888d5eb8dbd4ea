import { z } from 'zod';
import { agentStats, kpis, type RegisteredAgent } from '../../learn/index.ts';
import { AGENTS } from '../../reason/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery } from '../http.ts';
import type { RouteDef } from '../router.ts';

const RangeQuery = z.strictObject({ days: z.coerce.number().int().min(1).max(365).default(30) });

/** Every agent in the registry, with how its value is measured when its manifest says. */
const registry = (): RegisteredAgent[] => AGENTS.map((a) => ({ agentId: a.manifest.id, ...(a.manifest.measure ? { measure: a.manifest.measure } : {}) }));

/** KPIs over time and per-agent performance, for the console's charts and the agents view. */
export function insightRoutes(deps: ApiDeps): RouteDef[] {
  return [
    {
      method: 'get', path: '/api/v1/kpis', tag: 'insights', query: RangeQuery,
      summary: 'KPIs per UTC day over the last `days` days on the server clock: decisions by outcome, signal volume, approval latency, denials by policy, uplift against the holdout',
      responses: { 200: '{ now, from, days, decisionsByOutcome, signalVolume, approvalLatency, approvalsPending, denialsByPolicy, uplift }', 400: 'bad days' },
      handler: async (c) => {
        const q = parseQuery(c, RangeQuery);
        return c.json(await kpis(deps.db, { now: deps.clock.now(), days: q.days, agents: registry() }));
      },
    },
    {
      method: 'get', path: '/api/v1/agents/stats', tag: 'insights', query: RangeQuery,
      summary: 'Per agent, over the proposals it made in the last `days` days: counts by fate, approvals, precision, override rate and uplift',
      responses: { 200: '{ data }', 400: 'bad days' },
      handler: async (c) => {
        const q = parseQuery(c, RangeQuery);
        return c.json({ data: await agentStats(deps.db, { now: deps.clock.now(), days: q.days, agents: registry() }) });
      },
    },
  ];
}
