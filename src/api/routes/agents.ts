import { z } from 'zod';
import { toFieldIssues } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import { listAgents, updateAgent } from '../../reason/index.ts';
import type { ApiDeps } from '../deps.ts';
import { readJson } from '../http.ts';
import { actorOf, type RouteDef } from '../router.ts';

const Level = z.number().int().min(0).max(5);
const AgentPatch = z
  .strictObject({ paused: z.boolean().optional(), autonomy: z.record(z.string(), Level).optional() })
  .refine((p) => p.paused !== undefined || p.autonomy !== undefined, { message: 'name paused or autonomy' });

export function agentRoutes(deps: ApiDeps): RouteDef[] {
  return [
    {
      method: 'get', path: '/api/v1/agents', tag: 'agents', summary: 'The agent registry: manifests, autonomy in force per action, paused or not',
      responses: { 200: '{ data }' },
      handler: async (c) => c.json({ data: await listAgents(deps.db) }),
    },
    {
      method: 'patch', path: '/api/v1/agents/:id', tag: 'agents', body: AgentPatch,
      summary: 'Pause or resume an agent, or set its autonomy level (0–5) per action; recorded in the ledger',
      responses: { 200: 'the agent', 400: 'bad level or unknown action', 404: 'no such agent' },
      handler: async (c) => {
        const body = AgentPatch.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid agent change', toFieldIssues(body.error));
        const change = body.data as Parameters<typeof updateAgent>[2];
        return c.json(await deps.db.transaction((tx) => updateAgent(tx, c.req.param('id')!, change, actorOf(c))));
      },
    },
  ];
}
