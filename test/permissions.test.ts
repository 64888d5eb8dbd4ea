import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../src/api/app.ts';
import { createMetrics } from '../src/api/metrics.ts';
import { PERMISSIONS, ROLES } from '../src/api/permissions.ts';
import { RECORD_KINDS } from '../src/contracts/index.ts';
import { mount, routeKey, type AppEnv, type RouteDef } from '../src/api/router.ts';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
let mounted: RouteDef[];
beforeAll(async () => {
  t = await createTestApp();
  mounted = apiRoutes({
    db: t.db,
    bus: t.bus,
    auth: t.auth,
    gate: t.gate,
    clock: t.clock,
    log: t.log,
    config: { maxBodyBytes: 1 << 20 },
    metrics: createMetrics(),
  });
});
afterAll(async () => t.close());

const ENTRIES = Object.entries(PERMISSIONS).map(([key, roles]) => {
  const [method, path] = key.split(' ') as [string, string];
  return { key, method, path, url: path.replace(/:\w+/g, 'x'), roles };
});

/** Sends `{}` to routes that take a body, nothing to the rest. */
function bodyFor(key: string): { body?: unknown } {
  const route = mounted.find((r) => routeKey(r) === key);
  expect(route, `${key} is mounted`).toBeDefined();
  return route!.body ? { body: {} } : {};
}

describe('the permission table matches the mounted routes', () => {
  it('every PERMISSIONS entry names a valid method, path and only known roles', () => {
    expect(ENTRIES.length).toBeGreaterThan(50);
    for (const e of ENTRIES) {
      expect(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], e.key).toContain(e.method);
      expect(e.path, e.key).toMatch(/^\/api\/v1\//);
      expect(e.roles.length, e.key).toBeGreaterThan(0);
      for (const r of e.roles) expect(ROLES, e.key).toContain(r);
      expect(e.roles, `${e.key}: admin may call everything`).toContain('admin');
    }
  });

  it('apiRoutes(deps) and PERMISSIONS have exactly the same keys, without duplicates', () => {
    const keys = mounted.map(routeKey);
    expect(new Set(keys).size).toBe(keys.length);
    expect([...keys].sort()).toEqual(Object.keys(PERMISSIONS).sort());
  });

  it('the Hono app registers exactly those routes under /api/v1', () => {
    const registered = t.app.routes.filter((r) => r.path.startsWith('/api/v1')).map((r) => `${r.method} ${r.path}`);
    expect(new Set(registered).size).toBe(registered.length);
    expect([...registered].sort()).toEqual(Object.keys(PERMISSIONS).sort());
  });

  it('the OpenAPI document lists the same routes, each with its x-roles', async () => {
    const res = await t.call('GET', '/api/openapi.json', { token: null });
    expect(res.status).toBe(200);
    const documented: string[] = [];
    for (const [path, methods] of Object.entries(res.body.paths as Record<string, Record<string, { 'x-roles': string[] }>>)) {
      for (const [method, op] of Object.entries(methods)) {
        const key = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`;
        documented.push(key);
        expect(op['x-roles'], key).toEqual(PERMISSIONS[key]);
      }
    }
    expect(documented.sort()).toEqual(Object.keys(PERMISSIONS).sort());
  });

  it('mount() refuses a route missing from PERMISSIONS, naming it', () => {
    const app = new Hono<AppEnv>();
    const stray: RouteDef = {
      method: 'post',
      path: '/api/v1/secret-backdoor',
      tag: 'test',
      summary: 'not in the table',
      responses: { 200: 'ok' },
      handler: async (c) => c.json({ ok: true }),
    };
    expect(() => mount(app, [stray], t.auth)).toThrow(/POST \/api\/v1\/secret-backdoor.*PERMISSIONS/);
    // A method the table does not give for a known path is refused too.
    expect(() => mount(app, [{ ...stray, method: 'delete', path: '/api/v1/me' }], t.auth)).toThrow(/DELETE \/api\/v1\/me/);
    expect(app.routes.filter((r) => r.path.startsWith('/api/v1'))).toEqual([]);
  });
});

describe('every route, every role', () => {
  for (const e of ENTRIES) {
    it(`${e.key}: ${e.roles.join(', ')} get through; the others get 403`, async () => {
      for (const role of ROLES) {
        const res = await t.call(e.method, e.url, { role, ...bodyFor(e.key) });
        const label = `${e.method} ${e.url} as ${role}: ${res.status} ${res.text}`;
        if (e.roles.includes(role)) {
          expect(res.status, label).not.toBe(401);
          expect(res.status, label).not.toBe(403);
          expect(res.status, label).toBeLessThan(500);
        } else {
          expect(res.status, label).toBe(403);
          expect(res.body.code, label).toBe('forbidden');
        }
      }
    });
  }

  it('at least one route refuses each non-admin role, so the 403 branch is exercised', () => {
    for (const role of ROLES.filter((r) => r !== 'admin')) {
      expect(
        ENTRIES.some((e) => !e.roles.includes(role)),
        role,
      ).toBe(true);
    }
  });
});

describe('the agent role writes no record directly', () => {
  // Record kinds only: webhooks, too, are POST /x with PATCH /x/:id, but they are admin settings, not CRM records.
  const kinds = ENTRIES.filter(
    (e) =>
      /^POST \/api\/v1\/\w+$/.test(e.key) &&
      ENTRIES.some((g) => g.key === `PATCH ${e.path}/:id`) &&
      (RECORD_KINDS as readonly string[]).includes(e.path.replace('/api/v1/', '')),
  );
  it('every record kind refuses an agent token POST and PATCH with a 403 naming propose_action, and nothing is written', async () => {
    expect(kinds.map((k) => k.path).sort()).toEqual(RECORD_KINDS.map((k) => `/api/v1/${k}`).sort());
    const before = await t.call('GET', '/api/v1/accounts', { role: 'admin' });
    for (const e of kinds) {
      for (const [method, url] of [
        ['POST', e.path],
        ['PATCH', `${e.path}/x`],
      ] as const) {
        const res = await t.call(method, url, { role: 'agent', body: { name: 'Written directly' } });
        expect(res.status, `${method} ${url}: ${res.text}`).toBe(403);
        expect(res.body.detail, url).toMatch(/propose_action/);
      }
    }
    const created = await t.call('POST', '/api/v1/accounts', { role: 'agent', body: { name: 'Acme by an agent' } });
    expect(created.status).toBe(403);
    const after = await t.call('GET', '/api/v1/accounts', { role: 'admin' });
    expect(after.body.data.length).toBe(before.body.data.length);
    // A reviewer, the data steward, still writes.
    expect((await t.call('POST', '/api/v1/accounts', { role: 'reviewer', body: { name: 'Acme by a steward' } })).status).toBe(201);
  });
});

describe('authentication', () => {
  for (const e of ENTRIES) {
    it(`${e.key}: no token, a garbage token or a non-bearer scheme is 401`, async () => {
      const cases: { token?: string | null; headers?: Record<string, string> }[] = [
        { token: null },
        { token: 'acs_not-a-real-token' },
        { token: null, headers: { authorization: `Basic ${Buffer.from('admin:admin').toString('base64')}` } },
        { token: null, headers: { authorization: 'Bearer' } },
      ];
      for (const c of cases) {
        const res = await t.call(e.method, e.url, { ...c, ...bodyFor(e.key) });
        expect(res.status, `${e.key} ${JSON.stringify(c)}: ${res.text}`).toBe(401);
        expect(res.body.code).toBe('unauthorized');
      }
    });
  }

  it('a 401 does not depend on the body: a huge or malformed body without a token is still 401', async () => {
    const res = await t.call('POST', '/api/v1/accounts', { token: null, raw: '{"name":', contentType: 'text/plain' });
    expect(res.status).toBe(401);
  });
});
