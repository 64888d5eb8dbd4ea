import { z } from 'zod';
import {
  AgentRegistry,
  AgentSchema,
  KillSwitchSchema,
  ProposalPage,
  ServerClock,
  SupervisorRunSchema,
  SupervisorThresholdsSchema,
} from '../../contracts/api/index.ts';
import { toFieldIssues } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import { listAgents, loadKillSwitch, setKillSwitch, updateAgent } from '../../reason/index.ts';
import { loadThresholds, SupervisorThresholds, updateThresholds } from '../../supervisor/index.ts';
import { listProposalsFeed, readWorldClock } from '../../views/index.ts';
import { superviseAndAlert } from '../supervise.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery, readJson } from '../http.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { actorOf, answers, NUL_IN_URL, type RouteDef } from '../router.ts';

const Level = z.number().int().min(0).max(5);
const AgentPatch = z
  .strictObject({
    paused: z.boolean().optional(),
    reason: z.string().trim().min(1).max(500).optional(),
    autonomy: z.record(z.string(), Level).optional(),
  })
  .refine((p) => p.paused !== undefined || p.autonomy !== undefined, { message: 'name paused or autonomy' });

const KillSwitchBody = z.strictObject({ engaged: z.boolean(), reason: z.string().trim().min(1).max(500).optional() });

const ProposalQuery = PageQuery.extend({
  agentId: z.string().max(100).optional(),
  status: z.enum(['suppressed', 'held_out', 'suggested', 'decided']).optional(),
  outcome: z.enum(['execute', 'approval', 'deny']).optional(),
  accountId: z.string().max(100).optional(),
  leadId: z.string().max(100).optional(),
}).strict();

const proposalCursor = decodeCursor('prop');

const toProposal = (r: Record<string, unknown>) => ({
  id: r.id,
  agentId: r.agent_id,
  accountId: r.account_id,
  customerId: r.customer_id ?? null,
  leadId: r.lead_id,
  action: r.action,
  params: r.params,
  channel: r.channel,
  purpose: r.purpose,
  risk: r.risk,
  ev: r.ev,
  reason: r.reason,
  status: r.status,
  statusReason: r.status_reason,
  followsDecisionId: r.follows_decision_id ?? null,
  createdAt: new Date(r.created_at as string).toISOString(),
  decision: r.decision_id
    ? {
        id: r.decision_id,
        outcome: r.outcome,
        policyIds: r.policy_ids,
        reasons: r.reasons,
        autonomy: r.autonomy,
        decidedAt: new Date(r.decided_at as string).toISOString(),
      }
    : null,
  approval: r.approval_id ? { id: r.approval_id, status: r.approval_status } : null,
  executions: (r.executions as unknown[] | null) ?? [],
});

export function agentRoutes(deps: ApiDeps): RouteDef[] {
  return [
    {
      method: 'get',
      path: '/api/v1/proposals',
      tag: 'agents',
      query: ProposalQuery,
      summary:
        'What agents proposed, newest first: the explanation, why it was suppressed or held out, what policy decided, the approval and what ran',
      responses: { 200: answers(ProposalPage, 'a page of proposals'), 400: 'bad filter or cursor' },
      handler: async (c) => {
        const q = parseQuery(c, ProposalQuery);
        const before = proposalCursor(q.cursor) ?? null;
        const rows = await listProposalsFeed(deps.db, {
          agentId: q.agentId ?? null,
          status: q.status ?? null,
          outcome: q.outcome ?? null,
          accountId: q.accountId ?? null,
          leadId: q.leadId ?? null,
          before,
          limit: q.limit + 1,
        });
        return c.json(pageOf(rows, q.limit, (r) => String(r.id), toProposal));
      },
    },
    {
      method: 'get',
      path: '/api/v1/world',
      tag: 'agents',
      summary: 'The server clock, and the live demo world\u2019s calendar when it runs (acs serve --world)',
      responses: { 200: answers(ServerClock, 'the clock'), 400: NUL_IN_URL },
      handler: async (c) => {
        const row = await readWorldClock(deps.db);
        return c.json({
          now: deps.clock.now().toISOString(),
          world: row ? { seed: row.seed, startDay: new Date(row.start_day).toISOString(), daysDone: row.next_day } : null,
        });
      },
    },
    {
      method: 'get',
      path: '/api/v1/agents',
      tag: 'agents',
      summary: 'The agent registry: manifests, autonomy in force per action, paused or not; and the kill switch',
      responses: { 200: answers(AgentRegistry, 'the agents and the kill switch'), 400: NUL_IN_URL },
      handler: async (c) => {
        const [data, killSwitch] = await Promise.all([listAgents(deps.db), loadKillSwitch(deps.db)]);
        return c.json({ data, killSwitch });
      },
    },
    {
      method: 'post',
      path: '/api/v1/agents/kill-switch',
      tag: 'agents',
      body: KillSwitchBody,
      summary:
        'Stop every agent at once (a reason is required), or release the stop; each agent\u2019s own pause is left as it was; recorded in the ledger',
      responses: {
        200: answers(KillSwitchSchema, 'the kill switch as it now stands'),
        400: 'engaged missing, or no reason when engaging',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = KillSwitchBody.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid kill switch change', toFieldIssues(body.error));
        const change = { engaged: body.data.engaged, ...(body.data.reason !== undefined ? { reason: body.data.reason } : {}) };
        return c.json(await setKillSwitch(deps.db, change, actorOf(c), deps.clock.now()));
      },
    },
    {
      method: 'patch',
      path: '/api/v1/agents/:id',
      tag: 'agents',
      body: AgentPatch,
      summary: 'Pause or resume an agent, or set its autonomy level (0–5) per action; recorded in the ledger',
      responses: {
        200: answers(AgentSchema, 'the agent'),
        400: 'bad level or unknown action',
        404: 'no such agent',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = AgentPatch.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid agent change', toFieldIssues(body.error));
        const change = body.data as Parameters<typeof updateAgent>[2];
        return c.json(await updateAgent(deps.db, c.req.param('id')!, change, actorOf(c), deps.clock.now()));
      },
    },
    {
      method: 'get',
      path: '/api/v1/supervisor/settings',
      tag: 'agents',
      summary: 'The supervisor\u2019s thresholds: when it pauses an agent on its own',
      responses: { 200: answers(SupervisorThresholdsSchema, 'the thresholds in force'), 400: NUL_IN_URL },
      handler: async (c) => c.json(await loadThresholds(deps.db)),
    },
    {
      method: 'put',
      path: '/api/v1/supervisor/settings',
      tag: 'agents',
      body: SupervisorThresholds.partial(),
      summary: 'Change some of the supervisor\u2019s thresholds (the others keep their value); recorded in the ledger',
      responses: {
        200: answers(SupervisorThresholdsSchema, 'the thresholds now in force'),
        400: 'a threshold out of range or unknown, named in the problem',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => c.json(await updateThresholds(deps.db, await readJson(c, deps.config.maxBodyBytes), actorOf(c))),
    },
    {
      method: 'post',
      path: '/api/v1/supervisor/run',
      tag: 'agents',
      summary:
        'Run one supervisor round now (the maintenance rounds run it every hour of the server clock): pauses the agents that trip a threshold',
      responses: { 200: answers(SupervisorRunSchema, 'the agents it paused'), 400: NUL_IN_URL },
      handler: async (c) => {
        const now = deps.clock.now();
        return c.json({ at: now.toISOString(), paused: await superviseAndAlert({ ...deps, log: c.get('log') }, now) });
      },
    },
  ];
}
