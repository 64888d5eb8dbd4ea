import { z } from 'zod';
import { AgentStatsSchema, BanditsSchema, KpisSchema, ReadinessSchema, UpliftModelSchema } from '../../contracts/api/index.ts';
import {
  agentStats,
  banditReport,
  kpis,
  measuresOf,
  upliftModelReport,
  OUTCOME_HORIZON_DAYS,
  OUTCOME_REWARD,
  TRACK_WINDOW_DAYS,
  trackRecords,
  type RegisteredAgent,
} from '../../learn/index.ts';
import { AGENTS, BANDITS, MESSAGE_CHANNELS, RETENTION_OFFERS } from '../../reason/index.ts';
import { readiness } from '../../learn/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery } from '../http.ts';
import { answers, NUL_IN_URL, type RouteDef } from '../router.ts';

const RangeQuery = z.strictObject({ days: z.coerce.number().int().min(1).max(365).default(30) });

/** Every agent in the registry, with how its value is measured when its manifest says. */
const registry = (): RegisteredAgent[] =>
  AGENTS.map((a) => ({ agentId: a.manifest.id, ...(a.manifest.measure ? { measure: a.manifest.measure } : {}) }));

/** KPIs over time and per-agent performance, for the console's charts and the agents view. */
export function insightRoutes(deps: ApiDeps): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/api/v1/kpis',
      tag: 'insights',
      query: RangeQuery,
      summary:
        'KPIs per UTC day over the last `days` days on the server clock: decisions by outcome, signal volume, approval latency, denials by policy, uplift against the holdout per agent and action (with p-value, MDE and power); and the operational, business and AI-quality KPIs, each with its definition and unit',
      responses: { 200: answers(KpisSchema, 'the KPIs over the range'), 400: 'bad days' },
      handler: async (c) => {
        const q = parseQuery(c, RangeQuery);
        return c.json(await kpis(deps.db, { now: deps.clock.now(), days: q.days, agents: registry() }));
      },
    },
    {
      method: 'get',
      path: '/api/v1/agents/stats',
      tag: 'insights',
      query: RangeQuery,
      summary:
        'Per agent, over the proposals it made in the last `days` days: counts by fate, approvals, precision, override rate and uplift; and per agent and action the track record policy sees (last 30 days of decisions, earned autonomy)',
      responses: { 200: answers(AgentStatsSchema, 'per-agent performance and track records'), 400: 'bad days' },
      handler: async (c) => {
        const q = parseQuery(c, RangeQuery);
        const now = deps.clock.now();
        const [data, track] = await Promise.all([
          agentStats(deps.db, { now, days: q.days, agents: registry() }),
          trackRecords(deps.db, { now }),
        ]);
        const byName = (a: { agentId: string; action: string }, b: { agentId: string; action: string }) =>
          a.agentId + a.action < b.agentId + b.action ? -1 : 1;
        return c.json({ data, trackRecord: { windowDays: TRACK_WINDOW_DAYS, data: [...track.values()].sort(byName) } });
      },
    },
    {
      method: 'get',
      path: '/api/v1/agents/uplift-model',
      tag: 'insights',
      summary:
        'The uplift model agents price p(success) with: per measured agent, action and segment, the treated (the action ran) and held-out outcome rates within horizonDays of the proposal over the last windowDays days, the observed incremental effect and its weight against the prior (n / (n + k)); and per agent its Qini coefficient and AUUC on customers a hash split held out of the fit',
      responses: { 200: answers(UpliftModelSchema, 'the uplift model and its ranking quality'), 400: NUL_IN_URL },
      handler: async (c) => c.json(await upliftModelReport(deps.db, measuresOf(registry()), deps.clock.now())),
    },
    {
      method: 'get',
      path: '/api/v1/bandits',
      tag: 'insights',
      summary:
        'The offer and channel bandits: per bandit and segment, each arm\u2019s Beta posterior (alpha = 1 + accepted, beta = 1 + not), its mean and pull counts',
      responses: { 200: answers(BanditsSchema, 'the bandits\u2019 posteriors'), 400: NUL_IN_URL },
      handler: async (c) =>
        c.json({
          data: await banditReport(deps.db),
          // What the bandits choose among (arms never played keep the uniform prior Beta(1, 1)) and what answers them.
          bandits: { [BANDITS.offer]: RETENTION_OFFERS.map((o) => o.arm), [BANDITS.channel]: [...MESSAGE_CHANNELS] },
          reward: OUTCOME_REWARD,
          horizonDays: OUTCOME_HORIZON_DAYS,
        }),
    },
    {
      method: 'get',
      path: '/api/v1/readiness',
      tag: 'insights',
      query: RangeQuery,
      summary:
        'The readiness scorecard over the last `days` days: eight dimensions scored 0–100 from this ACS\u2019s own data, each with its metrics (and their definitions), evidence and what to fix next; the maturity stage (1–5) and the top fixes',
      responses: { 200: answers(ReadinessSchema, 'the readiness scorecard'), 400: 'bad days' },
      handler: async (c) => {
        const q = parseQuery(c, RangeQuery);
        return c.json(await readiness(deps.db, { now: deps.clock.now(), days: q.days, agents: registry() }));
      },
    },
  ];
}
