import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { serve, type ServerType } from '@hono/node-server';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/api/auth.ts';
import { createRecord } from '../src/records/index.ts';
import { ACS_BIN, cliEnv, openCliDb, type CliEnv } from './cli-helpers.ts';
import { createTestApp } from './helpers.ts';

// `acs mcp` over stdio, with the SDK's client spawning the real binary on the CLI's own database (embedded, or a
// PostgreSQL schema): stdout carries only the protocol, so the client's handshake and calls succeed as they are.

let cli: CliEnv;
let agentToken: string;
let accountId: string;

beforeAll(async () => {
  cli = await cliEnv();
  const db = await openCliDb(cli);
  agentToken = (await createToken(db, { role: 'agent', name: 'desk assistant' }, 'test')).token;
  accountId = String((await createRecord(db, 'accounts', { name: 'Umbrella' }, 'test')).id);
  await db.close();
});
afterAll(async () => cli.cleanup());

const text = (r: unknown) => (r as { content: { text: string }[] }).content[0]!.text;

describe('acs mcp over stdio', () => {
  it('lists the tools, reads a Customer 360 and proposes an action that waits for approval', async () => {
    const env = Object.fromEntries(Object.entries({ ...cli.env, ACS_TOKEN: agentToken }).filter(([, v]) => v !== undefined)) as Record<
      string,
      string
    >;
    const transport = new StdioClientTransport({ command: process.execPath, args: [ACS_BIN, 'mcp'], env, stderr: 'pipe' });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    try {
      await client.connect(transport);
      const { tools } = await client.listTools();
      expect(tools.map((x) => x.name)).toContain('propose_action');
      const profile = await client.callTool({ name: 'get_customer_360', arguments: { customerId: accountId } });
      expect(profile.isError, text(profile)).toBeFalsy();
      expect(JSON.parse(text(profile)).account.name).toBe('Umbrella');
      const proposed = await client.callTool({
        name: 'propose_action',
        arguments: {
          customerId: accountId,
          action: 'create_case',
          params: { subject: 'Billing error on the last invoice' },
          expectedValue: { pSuccess: 0.5, impactDollars: 200 },
          reason: 'The customer wrote twice about the same invoice.',
        },
      });
      expect(proposed.isError, text(proposed)).toBeFalsy();
      expect(JSON.parse(text(proposed))).toMatchObject({ agentId: 'external:desk assistant', status: 'approval' });
    } finally {
      await client.close();
    }
    expect(stderr).not.toMatch(/error/i);
    // What it wrote is in the database: the approval pending, the proposal ledgered.
    const db = await openCliDb(cli);
    try {
      const rows = await db.query<{ status: string; agent_id: string }>(
        `SELECT a.status, p.agent_id FROM approvals a JOIN decisions d ON d.id = a.decision_id JOIN proposals p ON p.id = d.proposal_id`,
      );
      expect(rows).toEqual([{ status: 'pending', agent_id: 'external:desk assistant' }]);
      const ledgered = await db.query<{ type: string }>(
        `SELECT type FROM ledger WHERE type IN ('proposal.created', 'policy.decided') ORDER BY id`,
      );
      expect(ledgered.map((r) => r.type)).toEqual(['proposal.created', 'policy.decided']);
    } finally {
      await db.close();
    }
  });

  it('refuses to start without a token, naming the field', async () => {
    const { runAcs } = await import('./cli-helpers.ts');
    const res = await runAcs(['mcp'], { ...cli.env, ACS_TOKEN: '', ACS_ADMIN_TOKEN: '' });
    expect(res.code).toBe(2);
    expect(res.stderr).toMatch(/token: give --token or ACS_TOKEN/);
    expect(res.stdout).toBe('');
  });
});

describe('acs mcp while a server holds the embedded database', () => {
  it('works through that server: its API for reads, its /mcp for proposals, as the same token', async () => {
    const t = await createTestApp();
    const server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'acs-mcp-remote-'));
    const client = new Client({ name: 'stdio-remote-test', version: '1.0.0' });
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
      writeFileSync(join(dataDir, 'server.json'), JSON.stringify({ pid: process.pid, url }));
      const made = await t.call('POST', '/api/v1/accounts', { body: { name: 'Stark' } });
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'DATABASE_URL') env[k] = v;
      Object.assign(env, { ACS_DATA_DIR: dataDir, ACS_LOG_LEVEL: 'warn', ACS_ADMIN_TOKEN: '', ACS_TOKEN: t.tokens.agent });
      await client.connect(new StdioClientTransport({ command: process.execPath, args: [ACS_BIN, 'mcp'], env, stderr: 'ignore' }));
      const profile = await client.callTool({ name: 'get_customer_360', arguments: { customerId: made.body.id } });
      expect(JSON.parse(text(profile)).account.name).toBe('Stark');
      const proposed = await client.callTool({
        name: 'propose_action',
        arguments: {
          customerId: made.body.id,
          action: 'create_task',
          params: { title: 'Welcome call' },
          expectedValue: { pSuccess: 0.3, impactDollars: 100 },
          reason: 'A new customer gets a welcome call.',
        },
      });
      expect(proposed.isError, text(proposed)).toBeFalsy();
      const answer = JSON.parse(text(proposed));
      expect(answer).toMatchObject({ agentId: 'external:test agent', status: 'approval' });
      const queue = await t.call('GET', '/api/v1/approvals');
      expect(queue.body.data.map((a: { id: string }) => a.id)).toContain(answer.approvalId);
      // A refusal from the server comes back worded as the server put it.
      const refused = await client.callTool({ name: 'search_customers', arguments: { q: 'Stark' } });
      expect(refused.isError).toBe(true);
      expect(text(refused)).toMatch(/^403 forbidden: role 'agent'/);
    } finally {
      await client.close();
      await new Promise((resolve) => server.close(resolve));
      await t.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
