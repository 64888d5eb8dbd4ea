import { z } from 'zod';
import { apiSchemas } from '../contracts/api/index.ts';
import { allowedRoles, type RouteDef } from './router.ts';

const ref = (id: string) => `#/components/schemas/${id}`;

/** Request bodies and query parameters, inlined where they are used. */
const jsonSchema = (schema: z.ZodType) => {
  const { $schema: _drop, ...out } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return out;
};

/**
 * Response bodies become components, converted in one pass so a schema used in several places is one `$ref`:
 * the contract's named schemas keep their names, the others are named after their operation and status.
 */
function responseComponents(routes: RouteDef[]) {
  const registry = z.registry<{ id: string; description?: string }>();
  for (const c of apiSchemas) registry.add(c.schema, { id: c.id, ...(c.description ? { description: c.description } : {}) });
  const names = new Map<RouteDef, Record<string, string>>();
  for (const r of routes) {
    const byStatus: Record<string, string> = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      if (typeof spec === 'string') continue;
      if (!registry.has(spec.schema)) registry.add(spec.schema, { id: `${pascal(operationId(r))}${status}` });
      byStatus[status] = registry.get(spec.schema)!.id;
    }
    names.set(r, byStatus);
  }
  const { schemas } = z.toJSONSchema(registry, { io: 'output', unrepresentable: 'any', uri: ref }) as {
    schemas: Record<string, Record<string, unknown>>;
  };
  for (const s of Object.values(schemas)) {
    delete s.$schema;
    delete s.id;
  }
  return { schemas, names };
}

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const PROBLEM = 'application/problem+json';
const problemResponse = (description: string) => ({ description, content: { [PROBLEM]: { schema: { $ref: ref('Problem') } } } });

const header = (description: string, schema: Record<string, unknown> = { type: 'string' }) => ({ description, schema });
const IDEMPOTENCY_KEY = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes a retry safe: the same key (per token, for 24 hours) with the same request returns the first answer with Idempotent-Replayed: true; with another request, a 422',
  schema: { type: 'string', minLength: 1, maxLength: 255 },
};
const ETAG = header('the record version as an entity tag; send it back in If-Match or If-None-Match');
const REPLAYED = header('true when this is the kept answer of an earlier request with the same Idempotency-Key', {
  type: 'string',
  enum: ['true'],
});

/** The conventions every operation shares (docs/api.md): Idempotency-Key on POST, ETags, the rate limit. */
function addConventions(r: RouteDef, params: unknown[], responses: Record<string, Record<string, unknown>>) {
  responses['429'] = {
    ...problemResponse('over the rate limit of this token; wait Retry-After seconds'),
    headers: { 'Retry-After': header('seconds to wait before retrying', { type: 'integer', minimum: 1 }) },
  };
  if (r.method === 'post') {
    params.push(IDEMPOTENCY_KEY);
    for (const [status, res] of Object.entries(responses))
      if (Number(status) < 300) res.headers = { ...(res.headers as object), 'Idempotent-Replayed': REPLAYED };
    responses['422'] = problemResponse('the Idempotency-Key was already used for another request');
    const busy = 'a request with the same Idempotency-Key is still running';
    responses['409'] = problemResponse(responses['409'] ? `${String(responses['409'].description)}; or ${busy}` : busy);
  }
  if (r.conditional) {
    const name = r.method === 'get' ? 'If-None-Match' : 'If-Match';
    params.push({
      name,
      in: 'header',
      required: false,
      description:
        r.method === 'get' ? 'an ETag read before: 304 when the record is unchanged' : 'the ETag read: 412 when the record changed since',
      schema: { type: 'string' },
    });
    for (const status of ['200', '304'])
      if (responses[status]) responses[status].headers = { ...(responses[status].headers as object), ETag: ETAG };
  }
}

/** One line per tag, shown by API browsers beside the group of operations. */
const TAG_DESCRIPTIONS: Record<string, string> = {
  auth: 'API tokens and who is signed in',
  ledger: 'the hash-chained ledger: browse and verify',
  signals: 'customer signals: intake under data contracts',
  quarantine: 'refused inputs, kept with their reasons: correct and resubmit, or discard',
  customers: 'the unified customer: profile, features, lineage, export and erasure',
  consents: 'consent per contact point, channel, purpose and brand',
  identity: 'identity resolution: matching, steward reviews, merges and settings',
  approvals: 'the human approval queue',
  work: 'the agents\u2019 work items: tasks to assign and complete, messages and their delivery, credits, and plays to retry or cancel',
  agents: 'the agents: registry, autonomy, pause, kill switch and their proposals',
  policies: 'the Cedar policy set: validation and dry-runs',
  insights: 'KPIs, uplift against the holdout, readiness and bandits',
  models: 'the model registry: training, promotion, rollback and drift',
  quality: 'data-quality scores per profile and per source',
  trust: 'the trust layer: masking personal data before text leaves for a model',
  knowledge: 'the knowledge base: sources and their approval, document import, and hybrid search',
  webhooks: 'signed webhooks out: endpoints, the event types they receive, delivery logs and replay',
  assist: 'agent assist and customer answers: suggested case replies, case summaries and answers, grounded with citations or abstaining',
};

/** `GET /api/v1/customers/:id/profile` → `getCustomersByIdProfile`: stable, unique, derived from the route. */
export function operationId(r: Pick<RouteDef, 'method' | 'path'>): string {
  const words = r.path
    .replace(/^\/api\/v1\//, '')
    .split(/[/-]/)
    .filter(Boolean)
    .map((w) => (w.startsWith(':') ? `By${w.charAt(1).toUpperCase()}${w.slice(2)}` : w.charAt(0).toUpperCase() + w.slice(1)));
  return r.method + words.join('');
}

/** OpenAPI 3.1 for every mounted route, built from the same definitions the router serves. */
export function buildOpenApi(routes: RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  const { schemas, names } = responseComponents(routes);
  for (const r of routes) {
    const path = r.path.replace(/:(\w+)/g, '{$1}');
    const params = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (r.query) {
      const q = jsonSchema(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(q.properties ?? {})) {
        params.push({ name, in: 'query', required: (q.required ?? []).includes(name), schema } as never);
      }
    }
    const content: Record<string, unknown> = {};
    if (r.body) content['application/json'] = { schema: jsonSchema(r.body) };
    for (const t of r.bodyTypes ?? []) content[t] = { schema: { type: 'string' } };
    const responses: Record<string, Record<string, unknown>> = {};
    for (const [status, spec] of Object.entries(r.responses)) {
      const description = typeof spec === 'string' ? spec : spec.description;
      if (Number(status) >= 400) responses[status] = problemResponse(description);
      else if (typeof spec === 'string') responses[status] = { description };
      else responses[status] = { description, content: { 'application/json': { schema: { $ref: ref(names.get(r)![status]!) } } } };
    }
    responses['401'] = problemResponse('missing or invalid bearer token');
    responses['403'] = problemResponse('role not allowed');
    addConventions(r, params, responses);
    (paths[path] ??= {})[r.method] = {
      operationId: operationId(r),
      summary: r.summary,
      tags: [r.tag],
      'x-roles': allowedRoles(r),
      security: [{ bearer: [] }],
      parameters: params,
      ...(Object.keys(content).length ? { requestBody: { required: true, content } } : {}),
      responses,
    };
  }
  const tags = [...new Set(routes.map((r) => r.tag))]
    .sort()
    .map((name) => ({ name, description: TAG_DESCRIPTIONS[name] ?? `${name} records: create, read, update, list and soft-delete` }));
  return {
    openapi: '3.1.0',
    info: {
      title: 'ACS API',
      version,
      description:
        'ACS, the Autonomous CRM System. Every /api/v1 route takes a bearer token. Errors are RFC 9457 problem documents. ' +
        "Every answer carries an X-Request-Id header (the caller's own when it sends a sane one); problem documents repeat it as requestId.",
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/', description: 'the server that serves this document' }],
    tags,
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } }, schemas },
    paths,
  };
}
