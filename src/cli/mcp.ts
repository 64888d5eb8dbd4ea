import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import pino from 'pino';
import { API_VERSION, createMcpServer, mcpSession, readAdminTokenFile, ToolRefusal, type McpSession } from '../api/index.ts';
import { PolicyGate, syncPolicyVersion } from '../assure/index.ts';
import type { Config } from '../config.ts';
import { AppError } from '../errors.ts';
import { createLogger, createServices, openDatabase, readServerLock } from '../server.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const USAGE = `acs mcp [--token TOKEN]
  The MCP server on stdin and stdout (docs/mcp.md). The token (or ACS_TOKEN; default the admin token) decides what
  its tools may do, as on the API: an agent token proposes as external:<token name>.`;

/**
 * `acs mcp`: the MCP server over stdio, for an assistant that starts it as a subprocess. Stdout carries only the
 * protocol; logs go to stderr. On the embedded database it opens the files itself, or, when a server holds them, talks
 * to that server (its API and its /mcp), as other commands do.
 */
export async function mcpCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { token: { type: 'string' } });
  if (positionals.length) throw new UsageError(`mcp: unexpected argument '${positionals.join(' ')}'\n${USAGE}`);
  const token = values.token ?? process.env.ACS_TOKEN ?? config.adminToken ?? readAdminTokenFile(config.dataDir);
  if (!token)
    throw new AppError('validation_failed', 'no token for the MCP session', [
      { path: 'token', message: 'give --token or ACS_TOKEN (an agent token to propose), or set ACS_ADMIN_TOKEN' },
    ]);
  const authorization = `Bearer ${token}`;
  const log = createLogger(config, pino.destination(2));
  const running = config.databaseUrl ? null : readServerLock(config.dataDir);

  let session: McpSession;
  let close: () => Promise<void>;
  if (running && running.pid !== process.pid) {
    log.info({ url: running.url }, 'mcp: a server holds the embedded database; working through it');
    session = await remoteSession(running.url, authorization);
    close = async () => undefined;
  } else {
    const gate = PolicyGate.load(config.policyDir, {
      creditApprovalLimitCents: config.creditApprovalLimitCents,
      dailyCreditBudgetCents: config.dailyCreditBudgetCents,
    });
    const db = await openDatabase(config, log);
    await syncPolicyVersion(db, gate);
    const loop = config.agents
      ? {
          churn: () => undefined,
          holdout: config.holdout,
          dailyCreditBudgetCents: config.dailyCreditBudgetCents,
          approvalTtlMs: config.approvalTtlMs,
        }
      : undefined;
    const services = createServices(db, config, log, { gate, loop, stages: false, relay: false });
    const principal = await services.auth.authenticate(authorization);
    session = mcpSession(
      { db, gate, clock: services.clock, holdout: loop?.holdout, approvalTtlMs: loop?.approvalTtlMs },
      (path, init) => services.app.request(path, init),
      principal,
      authorization,
    );
    close = async () => {
      await services.bus.stop();
      await db.close();
    };
  }

  const server = createMcpServer(session, API_VERSION);
  const transport = new StdioServerTransport();
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    process.stdin.once('end', () => resolve());
  });
  await server.connect(transport);
  log.info({ role: session.principal.role }, 'mcp: serving on stdio');
  await closed;
  await server.close().catch(() => undefined);
  await close();
  return 0;
}

/** A session through a running server: its API for the reads, its /mcp for proposals, with the same token. */
async function remoteSession(url: string, authorization: string): Promise<McpSession> {
  const me = await fetch(`${url}/api/v1/me`, { headers: { authorization } });
  if (me.status !== 200) throw new AppError('unauthorized', `the server refused the token (${me.status})`);
  const principal = (await me.json()) as McpSession['principal'];
  return {
    principal,
    call: async (method, path, body) => {
      const res = await fetch(url + path, {
        method,
        headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        body: body !== undefined ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: the text as it is
      }
      return { status: res.status, body: parsed };
    },
    propose: async (input) => {
      const client = new Client({ name: 'acs-mcp-stdio', version: API_VERSION });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization } } }));
      try {
        const res = (await client.callTool({ name: 'propose_action', arguments: input as Record<string, unknown> })) as {
          content: { text: string }[];
          isError?: boolean;
        };
        if (res.isError) throw new ToolRefusal(res.content[0]?.text ?? 'the server refused the proposal');
        return JSON.parse(res.content[0]!.text);
      } finally {
        await client.close();
      }
    },
  };
}
