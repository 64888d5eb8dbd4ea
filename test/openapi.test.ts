import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type ResponseBody, type TestApp } from './helpers.ts';

/**
 * The routes whose success answers must carry a schema, by path prefix (a prefix covers its own path and the paths
 * below it). Extend the list as more route files document their bodies.
 */

type Operation = {
  operationId?: string;
  tags?: string[];
  responses: Record<string, { content?: Record<string, { schema?: { $ref?: string } }> }>;
};

let t: TestApp;
let doc: ResponseBody;
let operations: { path: string; method: string; op: Operation }[];
beforeAll(async () => {
  t = await createTestApp();
  doc = (await t.call('GET', '/api/openapi.json', { token: null })).body;
  operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ path, method, op })),
  );
});
afterAll(async () => t.close());

describe('the OpenAPI document', () => {
  it('names every operation with a unique operationId', () => {
    const missing = operations.filter((o) => !o.op.operationId).map((o) => `${o.method} ${o.path}`);
    expect(missing).toEqual([]);
    const ids = operations.map((o) => o.op.operationId);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toEqual([]);
  });

  it('declares every tag it uses at the top level, each with a description', () => {
    const declared = new Map((doc.tags as { name: string; description?: string }[]).map((tag) => [tag.name, tag.description]));
    const used = new Set(operations.flatMap((o) => o.op.tags ?? []));
    expect(used.size).toBeGreaterThan(0);
    for (const tag of used) expect(declared.get(tag), tag).toMatch(/\S/);
    expect(operations.filter((o) => !o.op.tags?.length).map((o) => `${o.method} ${o.path}`)).toEqual([]);
  });

  it('has servers and a license', () => {
    expect(doc.servers.length).toBeGreaterThan(0);
    expect(doc.servers[0].url).toEqual(expect.any(String));
    expect(doc.info.license.name).toMatch(/\S/);
  });

  it('gives every 2xx answer with a body, on every route, a JSON schema that is a component', () => {
    const schemas = doc.components.schemas as Record<string, unknown>;
    expect(operations.length).toBeGreaterThan(100);
    const untyped: string[] = [];
    for (const { path, method, op } of operations) {
      for (const [status, response] of Object.entries(op.responses)) {
        if (!/^2\d\d$/.test(status) || status === '204') continue;
        const ref = response.content?.['application/json']?.schema?.$ref;
        const name = ref?.match(/^#\/components\/schemas\/(.+)$/)?.[1];
        if (!name || !schemas[name]) untyped.push(`${method.toUpperCase()} ${path} ${status}`);
      }
    }
    expect(untyped).toEqual([]);
  });
});
