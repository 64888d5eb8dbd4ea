import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import type { Context } from 'hono';
import { z } from 'zod';
import { jsonHazards } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { ExternalProposalInput, proposeExternal, type ExternalProposalResult } from '../loop/index.ts';
import { EXTERNAL_ACTIONS, externalAgentId } from '../reason/index.ts';
import type { Principal } from './auth.ts';
import type { ApiDeps } from './deps.ts';
import type { AppEnv } from './router.ts';

// The MCP server: what an external agent (or a person's assistant) reaches ACS through. Its read tools call the REST
// API in process with the caller's own token, so they answer exactly what the API would (the same role checks,
// validation and masking); `propose_action` puts an action through the governed path under the caller's own
// registry entry (`external:<token name>`). No tool writes a record.

export const MCP_SERVER_NAME = 'acs';
/** Who may propose: agent tokens, each an external agent of its own. Staff act through the API and the console. */
export const PROPOSER_ROLES = ['agent'] as const;

/** How a tool reaches the REST API as its caller: method, path with query, and a body. */
export type ApiCall = (method: 'GET' | 'POST', path: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

export interface McpSession {
  principal: Principal;
  call: ApiCall;
  propose(input: unknown): Promise<ExternalProposalResult>;
}

/** A refusal already worded for the caller (a remote server's answer): passed on as it is. */
export class ToolRefusal extends Error {}

type ToolResult = { content: { type: 'text'; text: string }[]; isError?: boolean };

const ok = (body: unknown): ToolResult => ({ content: [{ type: 'text', text: JSON.stringify(body, null, 2) }] });

/** An error as the tool's result, so the model reads it: the message and, for bad input, each field with its problem. */
const failed = (message: string, issues: { path: string; message: string }[] = []): ToolResult => ({
  content: [{ type: 'text', text: [message, ...issues.map((i) => `${i.path}: ${i.message}`)].join('\n') }],
  isError: true,
});

/** An API answer as a tool result: the body, or its problem document's detail and field errors. */
function answered(res: { status: number; body: unknown }): ToolResult {
  if (res.status >= 200 && res.status < 300) return ok(res.body);
  const p = (res.body ?? {}) as { title?: string; detail?: string; code?: string; issues?: { path: string; message: string }[] };
  return failed(`${res.status} ${p.code ?? ''}: ${p.detail ?? p.title ?? 'failed'}`.replace(' :', ':'), p.issues ?? []);
}

/**
 * Arguments the tools' schemas pass but nothing downstream can take (a NUL, an unpaired surrogate, which no URL
 * encodes, deep nesting, a number too large in `params`) are refused naming the argument, as API bodies are.
 */
const checked =
  <A extends object>(run: (args: A) => Promise<ToolResult>) =>
  async (args: A): Promise<ToolResult> => {
    const issues = jsonHazards(args);
    return issues.length ? failed('400 validation_failed: invalid arguments', issues) : run(args);
  };

const query = (params: Record<string, unknown>) => {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
};

/** A fresh MCP server for one session (one HTTP request in stateless mode, or one stdio connection). */
export function createMcpServer(session: McpSession, version: string): McpServer {
  const server = new McpServer({ name: MCP_SERVER_NAME, version }, { capabilities: { tools: {} } });
  const get = async (path: string) => answered(await session.call('GET', path));

  server.registerTool(
    'search_customers',
    {
      title: 'Search customers',
      description:
        'Find customers by name, email, phone or customer or account id, whole or in part; best first (as GET /api/v1/search). Staff tokens only.',
      inputSchema: {
        q: z.string().trim().min(1, 'give the text to search for').max(200, 'at most 200 characters'),
        limit: z.number().int().min(1).max(100).optional(),
      },
      annotations: { readOnlyHint: true },
    },
    checked(async ({ q, limit }) => get(`/api/v1/search${query({ q, limit })}`)),
  );

  server.registerTool(
    'get_customer_360',
    {
      title: 'Customer 360',
      description:
        "One customer's unified view: identities, contacts, subscriptions, open cases, features, consents, recent signals and the agents' work (as GET /api/v1/customers/{id}/profile).",
      inputSchema: {
        customerId: z.string().trim().min(1).max(128).describe('the account id or the customer id'),
        timelineLimit: z.number().int().min(1).max(500).optional(),
      },
      annotations: { readOnlyHint: true },
    },
    checked(async ({ customerId, timelineLimit }) =>
      get(`/api/v1/customers/${encodeURIComponent(customerId)}/profile${query({ timelineLimit })}`),
    ),
  );

  server.registerTool(
    'search_knowledge',
    {
      title: 'Search the knowledge base',
      description:
        'Passages of the knowledge base for a question, best first, with their source and document (as GET /api/v1/knowledge/search). An agent token sees approved, current, customer-facing sources only.',
      inputSchema: {
        q: z.string().trim().min(1).max(500),
        k: z.number().int().min(1).max(50).optional(),
        use: z.enum(['customer', 'internal']).optional(),
      },
      annotations: { readOnlyHint: true },
    },
    checked(async ({ q, k, use }) => get(`/api/v1/knowledge/search${query({ q, k, use })}`)),
  );

  server.registerTool(
    'list_proposals',
    {
      title: 'Proposals',
      description:
        "Agents' proposals, newest first, each with its EV, reason, policy decision, approval and what ran (as GET /api/v1/proposals). Staff tokens only.",
      inputSchema: {
        agentId: z.string().max(100).optional(),
        status: z.enum(['suppressed', 'held_out', 'suggested', 'decided']).optional(),
        outcome: z.enum(['execute', 'approval', 'deny']).optional(),
        accountId: z.string().max(100).optional(),
        limit: z.number().int().min(1).max(500).optional(),
        cursor: z.string().max(200).optional(),
      },
      annotations: { readOnlyHint: true },
    },
    checked(async (args) => get(`/api/v1/proposals${query(args)}`)),
  );

  server.registerTool(
    'list_approvals',
    {
      title: 'Approval queue',
      description:
        'Approvals, pending by default, highest EV first, each with its explanation and customer context (as GET /api/v1/approvals). Staff tokens only.',
      inputSchema: {
        status: z.enum(['pending', 'approved', 'rejected', 'expired', 'decided']).optional(),
        agent: z.string().trim().min(1).max(100).optional(),
        action: z.string().trim().min(1).max(100).optional(),
        risk: z.enum(['low', 'medium', 'high']).optional(),
        sort: z.enum(['ev', 'expiry', 'newest']).optional(),
        limit: z.number().int().min(1).max(500).optional(),
        cursor: z.string().max(200).optional(),
      },
      annotations: { readOnlyHint: true },
    },
    checked(async (args) => get(`/api/v1/approvals${query(args)}`)),
  );

  server.registerTool(
    'propose_action',
    {
      title: 'Propose an action',
      description: `Propose an action for a customer (${EXTERNAL_ACTIONS.join(', ')}). It is never run directly: it goes through ACS's arbitration, Cedar policy at your own autonomy (your registry entry is external:<your token's name>; new entries wait for a person's approval), the approval queue and the ledger, like ACS's own agents. Agent tokens only. Answers the proposal's id and status (approval, executed, denied, suggested, suppressed or held_out) with the reasons.`,
      inputSchema: ExternalProposalInput.shape,
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false },
    },
    checked(async (args) => {
      const role = session.principal.role;
      if (!(PROPOSER_ROLES as readonly string[]).includes(role))
        return failed(
          `403 forbidden: role '${role}' may not propose; propose_action is for agent tokens (each proposes as external:<token name>). Staff act through the API and the console.`,
        );
      try {
        return ok(await session.propose(args));
      } catch (err) {
        if (err instanceof AppError) return failed(`${err.status} ${err.code}: ${err.message}`, err.issues ?? []);
        if (err instanceof ToolRefusal) return failed(err.message);
        throw err;
      }
    }),
  );
  return server;
}

/** The session of a principal: the API in process with its token, and proposals under its registry entry. */
export function mcpSession(
  deps: Pick<ApiDeps, 'db' | 'gate' | 'clock' | 'holdout' | 'approvalTtlMs'>,
  request: (path: string, init: RequestInit) => Response | Promise<Response>,
  principal: Principal,
  authorization: string,
): McpSession {
  return {
    principal,
    call: async (method, path, body) => {
      const headers: Record<string, string> = { authorization };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await request(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : null;
      } catch {
        // not JSON: the text as it is
      }
      return { status: res.status, body: parsed };
    },
    propose: (input) =>
      proposeExternal(deps.db, externalAgentId(principal.name), input, {
        gate: deps.gate,
        holdout: deps.holdout,
        approvalTtlMs: deps.approvalTtlMs,
        now: deps.clock.now(),
        actor: `token:${principal.tokenId}`,
      }),
  };
}

/**
 * `/mcp`: MCP's streamable HTTP transport, stateless (a fresh server and transport per request, JSON answers, no
 * sessions), behind the same bearer tokens as the API. GET and DELETE (a server-sent stream, a session's end) are not
 * offered in stateless mode: 405, as the transport's specification allows.
 */
export function mcpHandler(deps: ApiDeps, version: string, request: (path: string, init: RequestInit) => Response | Promise<Response>) {
  return async (c: Context<AppEnv>): Promise<Response> => {
    c.set('route', '/mcp');
    const authorization = c.req.header('authorization');
    const principal = await deps.auth.authenticate(authorization);
    c.set('principal', principal);
    if (c.req.method !== 'POST')
      return c.json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed: POST JSON-RPC to /mcp' }, id: null }, 405, {
        allow: 'POST',
      });
    const server = createMcpServer(mcpSession(deps, request, principal, authorization!), version);
    const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    await server.connect(transport);
    try {
      return await transport.handleRequest(c.req.raw);
    } finally {
      await server.close();
    }
  };
}
