import { serve, type ServerType } from '@hono/node-server';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/api/auth.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// The MCP server with the SDK's own client over streamable HTTP, against the real app on a loopback port: an external
// agent reads a customer and proposes an action; the action waits in the approval queue, is ledgered, and runs only
// once a person approves it. An agent token cannot write the record itself.

let t: TestApp;
let server: ServerType;
let url: URL;
let accountId: string;
const open: Client[] = [];

type ToolAnswer = { content: { type: string; text: string }[]; isError?: boolean };

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'acs-test-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  open.push(client);
  return client;
}

const call = async (client: Client, name: string, args: Record<string, unknown>) =>
  (await client.callTool({ name, arguments: args })) as ToolAnswer;
const json = (a: ToolAnswer) => JSON.parse(a.content[0]!.text);

const TASK = {
  action: 'create_task',
  params: { title: 'Call about the renewal', dueInDays: 2 },
  expectedValue: { pSuccess: 0.4, impactDollars: 300, costDollars: 10 },
  reason: 'The renewal is due in three weeks and usage fell by half.',
};

beforeAll(async () => {
  t = await createTestApp();
  server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  url = new URL(`http://127.0.0.1:${(server.address() as { port: number }).port}/mcp`);
  const made = await t.call('POST', '/api/v1/accounts', { body: { name: 'Initech' } });
  expect(made.status).toBe(201);
  accountId = made.body.id;
});

afterAll(async () => {
  for (const c of open) await c.close();
  await new Promise((resolve) => server.close(resolve));
  await t.close();
});

describe('MCP over streamable HTTP, with the SDK client', () => {
  it('lists the read tools and propose_action, each with an input schema', async () => {
    const client = await connect(t.tokens.agent);
    const { tools } = await client.listTools();
    const names = tools.map((x) => x.name).sort();
    expect(names).toEqual([
      'get_customer_360',
      'list_approvals',
      'list_proposals',
      'propose_action',
      'search_customers',
      'search_knowledge',
    ]);
    const propose = tools.find((x) => x.name === 'propose_action')!;
    expect(propose.inputSchema.required).toEqual(expect.arrayContaining(['customerId', 'action', 'params', 'expectedValue', 'reason']));
  });

  it('reads a Customer 360 as the API answers it, and a missing customer is an error naming it', async () => {
    const client = await connect(t.tokens.agent);
    const got = await call(client, 'get_customer_360', { customerId: accountId });
    expect(got.isError).toBeFalsy();
    const viaRest = await t.call('GET', `/api/v1/customers/${accountId}/profile`, { role: 'agent' });
    expect(json(got).account.id).toBe(accountId);
    expect(json(got).account.name).toBe(viaRest.body.account.name);
    const missing = await call(client, 'get_customer_360', { customerId: 'acc_nobody' });
    expect(missing.isError).toBe(true);
    expect(missing.content[0]!.text).toMatch(/404 customer\.not_found: no customer acc_nobody/);
  });

  it('keeps the API roles: an agent token may not search customers or read the queue; a staff token may', async () => {
    const agent = await connect(t.tokens.agent);
    const refused = await call(agent, 'search_customers', { q: 'Initech' });
    expect(refused.isError).toBe(true);
    expect(refused.content[0]!.text).toMatch(/403 forbidden: role 'agent' may not call GET \/api\/v1\/search/);
    expect((await call(agent, 'list_approvals', {})).isError).toBe(true);
    const reviewer = await connect(t.tokens.reviewer);
    const found = await call(reviewer, 'search_customers', { q: 'Initech' });
    expect(found.isError).toBeFalsy();
    expect(json(found).data.map((d: { accountId: string }) => d.accountId)).toContain(accountId);
    // Staff do not propose as external agents.
    const notAgent = await call(reviewer, 'propose_action', { customerId: accountId, ...TASK });
    expect(notAgent.isError).toBe(true);
    expect(notAgent.content[0]!.text).toMatch(/role 'reviewer' may not propose/);
  });

  it('refuses a bad proposal naming the field, and writes nothing', async () => {
    const client = await connect(t.tokens.agent);
    const noReason = await call(client, 'propose_action', { customerId: accountId, ...TASK, reason: undefined });
    expect(noReason.isError).toBe(true);
    expect(noReason.content[0]!.text).toMatch(/reason/);
    const badParams = await call(client, 'propose_action', { customerId: accountId, ...TASK, params: { title: 'x', dueInDays: 'soon' } });
    expect(badParams.isError).toBe(true);
    expect(badParams.content[0]!.text).toMatch(/params\.dueInDays/);
    const proposals = await t.call('GET', `/api/v1/proposals?accountId=${accountId}`);
    expect(proposals.body.data).toEqual([]);
  });

  it('proposes an action: it waits in the approval queue under the agent’s own entry, is ledgered, and runs once approved', async () => {
    const client = await connect(t.tokens.agent);
    const answer = await call(client, 'propose_action', { customerId: accountId, ...TASK });
    expect(answer.isError, answer.content[0]!.text).toBeFalsy();
    const proposed = json(answer);
    expect(proposed).toMatchObject({ agentId: 'external:test agent', accountId, status: 'approval' });
    expect(proposed.approvalId).toMatch(/\S/);

    // Nothing ran: no task yet.
    expect((await t.call('GET', '/api/v1/tasks')).body.data).toEqual([]);

    // The approval queue, over REST, and through MCP for a reviewer.
    const queue = await t.call('GET', '/api/v1/approvals?agent=external:test%20agent');
    expect(queue.status).toBe(200);
    const item = queue.body.data.find((a: { id: string }) => a.id === proposed.approvalId);
    expect(item.proposal).toMatchObject({ id: proposed.proposalId, agentId: 'external:test agent', action: 'create_task' });
    expect(item.proposal.reason).toBe(TASK.reason);
    const viaMcp = json(await call(await connect(t.tokens.reviewer), 'list_approvals', { agent: 'external:test agent' }));
    expect(viaMcp.data.map((a: { id: string }) => a.id)).toContain(proposed.approvalId);

    // The ledger: the agent's entry, the proposal and policy's decision.
    const ledger = await t.call('GET', '/api/v1/ledger?limit=1000');
    const entries = ledger.body.data as { type: string; subjectId: string; actor: string; data: Record<string, unknown> }[];
    expect(entries.find((e) => e.type === 'agent.registered' && e.subjectId === 'external:test agent')).toBeDefined();
    const created = entries.find((e) => e.type === 'proposal.created' && e.subjectId === proposed.proposalId);
    expect(created?.actor).toBe('agent:external:test agent');
    const decided = entries.find((e) => e.type === 'policy.decided' && e.subjectId === proposed.decisionId);
    expect(decided?.data).toMatchObject({ outcome: 'approval', autonomy: 2, approvalId: proposed.approvalId });
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);

    // A person approves: the task is created by the tool, for the decision.
    const approved = await t.call('POST', `/api/v1/approvals/${proposed.approvalId}/approve`, { role: 'reviewer' });
    expect(approved.status, approved.text).toBe(200);
    const tasks = (await t.call('GET', '/api/v1/tasks')).body.data;
    expect(tasks.map((x: { title: string }) => x.title)).toEqual(['Call about the renewal']);
    expect(tasks[0]).toMatchObject({ accountId, status: 'open' });
    expect(tasks[0].origin).toMatchObject({ agentId: 'external:test agent', action: 'create_task', proposalId: proposed.proposalId });
  });

  it('the external agent has its own registry entry: listed, and its autonomy and pause are an admin’s to set', async () => {
    const agents = (await t.call('GET', '/api/v1/agents')).body.data;
    const entry = (agents as { id: string; owner: string; actions: Record<string, { autonomy: number }> }[]).find(
      (a) => a.id === 'external:test agent',
    );
    expect(entry?.owner).toBe('external');
    expect(entry?.actions.create_task?.autonomy).toBe(2);

    const other = await createToken(t.db, { role: 'agent', name: 'partner bot' }, 'test');
    const partner = await connect(other.token);
    const id = encodeURIComponent('external:partner bot');
    // Arbitration holds for it as for ACS's agents: the customer just had an action (the approved task), so cooldown.
    const cooled = json(
      await call(partner, 'propose_action', { customerId: accountId, ...TASK, action: 'create_case', params: { subject: 'Outage' } }),
    );
    expect(cooled.status).toBe('suppressed');
    expect(cooled.reasons.join(' ')).toMatch(/cooldown/);
    // Its entry's autonomy decides: L2 by default (approval); an admin sets its create_case to L1, suggestions only.
    const first = json(
      await call(partner, 'propose_action', {
        customerId: await createTestCustomer(),
        ...TASK,
        action: 'create_case',
        params: { subject: 'Outage' },
      }),
    );
    expect(first.status).toBe('approval');
    const lowered = await t.call('PATCH', `/api/v1/agents/${id}`, { body: { autonomy: { create_case: 1 }, reason: 'trial period' } });
    expect(lowered.status, lowered.text).toBe(200);
    const other2 = await createTestCustomer();
    const suggested = json(
      await call(partner, 'propose_action', { customerId: other2, ...TASK, action: 'create_case', params: { subject: 'Outage' } }),
    );
    expect(suggested.status).toBe('suggested');
    expect(suggested.approvalId).toBeNull();
    // Paused, it may not propose at all; the other external agent is unaffected.
    expect((await t.call('PATCH', `/api/v1/agents/${id}`, { body: { paused: true, reason: 'review' } })).status).toBe(200);
    const paused = await call(partner, 'propose_action', { customerId: other2, ...TASK });
    expect(paused.isError).toBe(true);
    expect(paused.content[0]!.text).toMatch(/409 agent\.paused: external:partner bot is paused/);
  });

  it('raised to L3 by an admin, a low-risk action runs through its tool; it cannot lower an action’s risk to run it', async () => {
    const third = await createToken(t.db, { role: 'agent', name: 'ops bot' }, 'test');
    const ops = await connect(third.token);
    const c1 = await createTestCustomer();
    // The entry exists after its first proposal; then an admin raises create_task and update_record to L3.
    expect(json(await call(ops, 'propose_action', { customerId: c1, ...TASK })).status).toBe('approval');
    const raised = await t.call('PATCH', `/api/v1/agents/${encodeURIComponent('external:ops bot')}`, {
      body: { autonomy: { create_task: 3, update_record: 3 }, reason: 'proven on tasks' },
    });
    expect(raised.status, raised.text).toBe(200);
    const c2 = await createTestCustomer();
    const ran = json(await call(ops, 'propose_action', { customerId: c2, ...TASK, params: { title: 'Send the contract' } }));
    expect(ran.status).toBe('executed');
    const tasks = (await t.call('GET', '/api/v1/tasks')).body.data as { title: string; accountId: string }[];
    expect(tasks.find((x) => x.title === 'Send the contract')?.accountId).toBe(c2);
    // A record change is medium risk: stating "low" does not make it run without a person.
    const c3 = await createTestCustomer();
    const change = json(
      await call(ops, 'propose_action', {
        customerId: c3,
        ...TASK,
        action: 'update_record',
        risk: 'low',
        params: { kind: 'accounts', id: c3, fields: { name: 'Renamed by a bot' } },
      }),
    );
    expect(change.status).toBe('approval');
    expect((await t.call('GET', `/api/v1/accounts/${c3}`)).body.name).not.toBe('Renamed by a bot');
  });

  it('answers /mcp only with a valid bearer token, and only to POST', async () => {
    const noToken = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(noToken.status).toBe(401);
    expect(((await noToken.json()) as { code: string }).code).toBe('unauthorized');
    const badClient = new Client({ name: 'x', version: '1' });
    await expect(
      badClient.connect(new StreamableHTTPClientTransport(url, { requestInit: { headers: { authorization: 'Bearer acs_nope' } } })),
    ).rejects.toThrow();
    const get = await fetch(url, { headers: { authorization: `Bearer ${t.tokens.agent}`, accept: 'text/event-stream' } });
    expect(get.status).toBe(405);
  });
});

describe('the direct path is closed', () => {
  it('an agent token cannot create or change a record; the 403 names the governed way', async () => {
    const created = await t.call('POST', '/api/v1/accounts', { role: 'agent', body: { name: 'Direct Co' } });
    expect(created.status).toBe(403);
    expect(created.body.detail).toMatch(/propose_action/);
    const patched = await t.call('PATCH', `/api/v1/accounts/${accountId}`, { role: 'agent', body: { name: 'Renamed' } });
    expect(patched.status).toBe(403);
    expect((await t.call('GET', `/api/v1/accounts/${accountId}`)).body.name).toBe('Initech');
  });
});

async function createTestCustomer(): Promise<string> {
  const made = await t.call('POST', '/api/v1/accounts', { body: { name: `Globex ${open.length}` } });
  expect(made.status).toBe(201);
  return made.body.id;
}
