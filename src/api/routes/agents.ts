import { z } from 'zod';
import { effectiveAutonomy, replayAutonomyChange, type PolicyGate } from '../../assure/index.ts';
import {
  AgentRegistry,
  AutonomyChangeList,
  AutonomyPreviewSchema,
  AgentSchema,
  KillSwitchSchema,
  ProposalPage,
  ServerClock,
  SupervisorRunSchema,
  SupervisorThresholdsSchema,
} from '../../contracts/api/index.ts';
import { toFieldIssues } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import { trackContext, trackRecords, type TrackRecord } from '../../learn/index.ts';
import {
  agentById,
  autonomyInForce,
  listAgents,
  listAutonomyChanges,
  loadAgentSettings,
  loadKillSwitch,
  setKillSwitch,
  updateAgent,
  type AgentView,
} from '../../reason/index.ts';
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
  .refine((p) => p.paused !== undefined || p.autonomy !== undefined, { message: 'name paused or autonomy' })
  .refine((p) => p.autonomy === undefined || Object.keys(p.autonomy).length === 0 || p.reason !== undefined, {
    path: ['reason'],
    message: 'required when autonomy changes: say why (kept with the change, named in the ledger)',
  });

const AutonomyPreviewBody = z.strictObject({
  autonomy: z.record(z.string(), Level).refine((a) => Object.keys(a).length > 0, 'name at least one action'),
  days: z.number().int().min(1).max(90).default(30),
});

/** Each action's behaviour after policy, beside its configured level. */
function withEffective(gate: PolicyGate, agents: AgentView[], track: Map<string, TrackRecord>) {
  return agents.map((a) => ({
    ...a,
    actions: Object.fromEntries(
      Object.entries(a.actions).map(([action, spec]) => [
        action,
        {
          ...spec,
          effective: effectiveAutonomy(gate, {
            agentId: a.id,
            action,
            level: spec.autonomy,
            risk: spec.risk as 'low' | 'medium' | 'high',
            track: trackContext(track, a.id, action),
          }),
        },
      ]),
    ),
  }));
}

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
      summary:
        'The agent registry: manifests, the autonomy level configured per action and the behaviour in force after policy (the running policies decide representative requests), paused or not; and the kill switch',
      responses: { 200: answers(AgentRegistry, 'the agents and the kill switch'), 400: NUL_IN_URL },
      handler: async (c) => {
        const [data, killSwitch, track] = await Promise.all([
          listAgents(deps.db),
          loadKillSwitch(deps.db),
          trackRecords(deps.db, { now: deps.clock.now() }),
        ]);
        return c.json({ data: withEffective(deps.gate, data, track), killSwitch });
      },
    },
    {
      method: 'post',
      path: '/api/v1/agents/:id/autonomy-preview',
      tag: 'agents',
      body: AutonomyPreviewBody,
      summary:
        'What an autonomy change would change, before it is made: per action the behaviour in force now and after (the running policies decide), and the agent\u2019s recorded decisions of the last `days` (default 30) decided again with the new levels; writes nothing',
      responses: {
        200: answers(AutonomyPreviewSchema, 'the preview'),
        400: 'bad level, unknown action, or no action named',
        404: 'no such agent',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = AutonomyPreviewBody.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid autonomy preview', toFieldIssues(body.error));
        const id = c.req.param('id')!;
        const agent = agentById(id);
        if (!agent) throw new AppError('agent.not_found', `no agent ${id}`);
        const now = deps.clock.now();
        const levels = body.data.autonomy;
        for (const action of Object.keys(levels))
          if (!agent.manifest.actions[action as keyof typeof agent.manifest.actions])
            throw new AppError('validation_failed', `${id} does not propose ${action}`, [
              { path: `autonomy.${action}`, message: `not one of ${Object.keys(agent.manifest.actions).join(', ')}` },
            ]);
        const [settings, track] = await Promise.all([loadAgentSettings(deps.db), trackRecords(deps.db, { now, agentIds: [id] })]);
        const judge = (action: string, level: number) =>
          effectiveAutonomy(deps.gate, {
            agentId: id,
            action,
            level,
            risk: agent.manifest.actions[action as keyof typeof agent.manifest.actions]!.risk,
            track: trackContext(track, id, action),
          });
        const actions = Object.fromEntries(
          Object.entries(levels).map(([action, level]) => [
            action,
            { before: judge(action, autonomyInForce(settings, id, action)), after: judge(action, level) },
          ]),
        );
        const replay = await replayAutonomyChange(deps.db, deps.gate, id, levels, { days: body.data.days, now });
        return c.json({ agentId: id, actions, replay });
      },
    },
    {
      method: 'get',
      path: '/api/v1/agents/:id/autonomy-changes',
      tag: 'agents',
      summary: 'An agent\u2019s autonomy changes, newest first (at most 20): the levels set, those they replaced, who, when and why',
      responses: { 200: answers(AutonomyChangeList, 'the changes'), 400: NUL_IN_URL, 404: 'no such agent' },
      handler: async (c) => {
        const id = c.req.param('id')!;
        if (!agentById(id)) throw new AppError('agent.not_found', `no agent ${id}`);
        return c.json({ data: await listAutonomyChanges(deps.db, id) });
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
      summary:
        'Pause or resume an agent, or set its autonomy level (0–5) per action (a `reason` is required then; preview the change with POST /api/v1/agents/{id}/autonomy-preview); recorded in the ledger',
      responses: {
        200: answers(AgentSchema, 'the agent'),
        400: 'bad level, unknown action, or an autonomy change without a reason',
        404: 'no such agent',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = AgentPatch.safeParse(await readJson(c, deps.config.maxBodyBytes));
        if (!body.success) throw new AppError('validation_failed', 'invalid agent change', toFieldIssues(body.error));
        const change = body.data as Parameters<typeof updateAgent>[2];
        const now = deps.clock.now();
        const agent = await updateAgent(deps.db, c.req.param('id')!, change, actorOf(c), now);
        const [withPolicy] = withEffective(deps.gate, [agent], await trackRecords(deps.db, { now, agentIds: [agent.id] }));
        return c.json(withPolicy);
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
      handler: async (c) =>
        c.json(await updateThresholds(deps.db, await readJson(c, deps.config.maxBodyBytes), actorOf(c), deps.clock.now())),
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
