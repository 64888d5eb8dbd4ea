import { randomUUID } from 'node:crypto';
import { Hono } from 'hono';
import { storableText } from '../contracts/index.ts';
import { AppError } from '../errors.ts';
import { inSpan, incomingTraceContext, SpanKind } from '../lib/index.ts';
import { ping } from '../store/index.ts';
import { maskForRole } from './analyst-masking.ts';
import { conventionsGuard } from './conventions.ts';
import { mcpHandler } from './mcp.ts';
import { serveConsole } from './console.ts';
import type { ApiDeps } from './deps.ts';
import { buildOpenApi } from './openapi.ts';
import { problem, problemOfAppError, respondProblem } from './problem.ts';
import { mount, NUL_IN_URL, type AppEnv, type RouteDef } from './router.ts';
import { adminRoutes } from './routes/admin.ts';
import { agentRoutes } from './routes/agents.ts';
import { approvalRoutes } from './routes/approvals.ts';
import { assistRoutes } from './routes/assist.ts';
import { consentRoutes } from './routes/consents.ts';
import { customerRoutes } from './routes/customers.ts';
import { identityRoutes } from './routes/identity.ts';
import { insightRoutes } from './routes/insights.ts';
import { knowledgeRoutes } from './routes/knowledge.ts';
import { modelRoutes } from './routes/models.ts';
import { outboxRoutes } from './routes/outbox.ts';
import { policyRoutes } from './routes/policies.ts';
import { qualityRoutes } from './routes/quality.ts';
import { recordRoutes } from './routes/records.ts';
import { signalRoutes } from './routes/signals.ts';
import { trustRoutes } from './routes/trust.ts';
import { workRoutes } from './routes/work.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export const API_VERSION = '0.1.0';

/** The one metrics label for a request no route matched: labels come from the route table, never from a client's path. */
export const UNMATCHED_ROUTE = '(unmatched)';
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The header a request's id travels in, both ways. */
export const REQUEST_ID_HEADER = 'x-request-id';
/** A client's request id is kept when it is short and plain (it lands in logs and headers); otherwise one is made. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:\/+=-]{1,128}$/;

export const requestIdOf = (incoming: string | undefined): string =>
  incoming !== undefined && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();

export function apiRoutes(deps: ApiDeps): RouteDef[] {
  return [
    ...adminRoutes(deps),
    ...signalRoutes(deps),
    ...customerRoutes(deps),
    ...consentRoutes(deps),
    ...identityRoutes(deps),
    ...approvalRoutes(deps),
    ...workRoutes(deps),
    ...agentRoutes(deps),
    ...policyRoutes(deps),
    ...insightRoutes(deps),
    ...modelRoutes(deps),
    ...qualityRoutes(deps),
    ...recordRoutes(deps),
    ...outboxRoutes(deps),
    ...webhookRoutes(deps),
    ...trustRoutes(deps),
    ...knowledgeRoutes(deps),
    ...assistRoutes(deps),
  ];
}

/**
 * The OpenAPI document without a server or database: route definitions take their dependencies but only their
 * handlers use them, so the table is built with stand-ins that fail loudly if a definition ever reaches for one.
 */
export function openApiDocument(): Record<string, unknown> {
  const standIn = (name: string): unknown =>
    new Proxy(() => undefined, {
      get: (_t, key) => {
        throw new Error(`building the route table used deps.${name}.${String(key)}; only handlers may use dependencies`);
      },
      apply: () => {
        throw new Error(`building the route table called deps.${name}; only handlers may use dependencies`);
      },
    });
  const deps = new Proxy({}, { get: (_t, key) => standIn(String(key)) }) as ApiDeps;
  return buildOpenApi(apiRoutes(deps), API_VERSION);
}

/** The HTTP application. It opens no port: the server or a test calls it. */
export function createApp(deps: ApiDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const routes = apiRoutes(deps);
  const openapi = buildOpenApi(routes, API_VERSION);

  app.use('*', async (c, next) => {
    const started = performance.now();
    const requestId = requestIdOf(c.req.header(REQUEST_ID_HEADER));
    const log = deps.log.child({ requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    // The request's span (a no-op without a tracer provider) continues a caller's W3C traceparent, if it sent one.
    await inSpan(
      `${c.req.method} request`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': c.req.method, 'url.path': c.req.path, 'acs.request_id': requestId },
      },
      async (span) => {
        await next();
        const route = c.get('route') ?? UNMATCHED_ROUTE;
        span.updateName(`${c.req.method} ${route}`);
        span.setAttributes({ 'http.route': route, 'http.response.status_code': c.res.status });
      },
      incomingTraceContext(c.req.header('traceparent'), c.req.header('tracestate')),
    );
    c.res.headers.set(REQUEST_ID_HEADER, requestId);
    // A body left unread on a kept-alive connection gets it closed later, under requests the client has sent
    // on it since (their answers lost after commit). Closing it with this answer tells the client not to reuse it.
    if ((c.req.header('content-length') ?? '0') !== '0' || c.req.header('transfer-encoding')) {
      if (!c.req.raw.bodyUsed) c.header('connection', 'close');
    }
    const route = c.get('route') ?? UNMATCHED_ROUTE;
    const method = METHODS.has(c.req.method) ? c.req.method : 'OTHER';
    const seconds = (performance.now() - started) / 1000;
    deps.metrics.httpRequests.inc({ method, route, status: String(c.res.status) });
    deps.metrics.httpDuration.observe({ method, route }, seconds);
    log.info(
      {
        method: c.req.method,
        route,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round(seconds * 1000),
        principal: c.get('principal')?.tokenId,
      },
      'request',
    );
  });

  // A NUL in a path or query cannot reach a PostgreSQL text parameter; refuse it up front, naming where it is.
  app.use('/api/*', async (c, next) => {
    if (/%00/.test(c.req.url)) {
      const inQuery = [...new URL(c.req.url).searchParams]
        .filter(([k, v]) => `${k}${v}`.includes('\0'))
        .map(([k]) => ({ path: `query.${storableText(k)}`, message: 'contains a NUL character' }));
      throw new AppError('bad_request', NUL_IN_URL, inQuery.length ? inQuery : [{ path: '(path)', message: 'contains a NUL character' }]);
    }
    await next();
  });

  // Personal data masked for the analyst role, on every route's answer (errors too): src/api/analyst-masking.ts.
  app.use('/api/*', maskForRole(deps.db));

  app.get('/healthz', async (c) => {
    c.set('route', '/healthz');
    try {
      await ping(deps.db);
      return c.json({ status: 'ok', database: deps.db.kind });
    } catch (err) {
      c.get('log').error({ err }, 'health check failed');
      return c.json({ status: 'unavailable', database: deps.db.kind }, 503);
    }
  });
  app.get('/api/openapi.json', (c) => (c.set('route', '/api/openapi.json'), c.json(openapi)));
  app.get(
    '/metrics',
    async (c) => (
      c.set('route', '/metrics'),
      c.text(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType })
    ),
  );

  mount(app, routes, deps.auth, conventionsGuard(deps));
  // MCP over streamable HTTP (src/api/mcp.ts): its tools call the routes above in process, as the caller, so the
  // rate limit counts each tool's API call against the caller's token.
  app.all(
    '/mcp',
    mcpHandler(deps, API_VERSION, (path, init) => app.request(path, init)),
  );
  app.use('*', serveConsole(deps.consoleDir));

  app.notFound((c) => respondProblem(c, problem(404, 'not_found', `no route ${c.req.method} ${c.req.path}`, c.req.path)));
  app.onError((err, c) => {
    if (err instanceof AppError) return respondProblem(c, problemOfAppError(err, c.req.path));
    (c.get('log') ?? deps.log).error({ err, path: c.req.path }, 'unhandled error');
    return respondProblem(c, problem(500, 'internal', 'internal error; see the server log', c.req.path));
  });
  return app;
}
