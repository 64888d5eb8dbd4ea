import { z } from 'zod';
import { allowedRoles, type RouteDef } from './router.ts';

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

const ErrorBody = {
  type: 'object',
  description: 'RFC 9457 problem details with the ACS error code and field issues',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    code: { type: 'string' },
    issues: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
    quarantineId: { type: 'string' },
  },
  required: ['type', 'title', 'status', 'detail', 'code'],
};

/** OpenAPI 3.1 for every mounted route, built from the same definitions the router serves. */
export function buildOpenApi(routes: RouteDef[], version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
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
    const responses: Record<string, unknown> = {};
    for (const [status, description] of Object.entries(r.responses)) {
      responses[status] = Number(status) >= 400 ? { description, content: { 'application/problem+json': { schema: ErrorBody } } } : { description };
    }
    responses['401'] = { description: 'missing or invalid bearer token', content: { 'application/problem+json': { schema: ErrorBody } } };
    responses['403'] = { description: 'role not allowed', content: { 'application/problem+json': { schema: ErrorBody } } };
    (paths[path] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      'x-roles': allowedRoles(r),
      security: [{ bearer: [] }],
      parameters: params,
      ...(Object.keys(content).length ? { requestBody: { required: true, content } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'ACS API', version, description: 'ACS, the Autonomous CRM System. Every /api/v1 route takes a bearer token.' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}
