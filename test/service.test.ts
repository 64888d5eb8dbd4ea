import { SIGNAL_CONTRACTS, SIGNAL_TYPES } from '../src/contracts/index.ts';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapAdminToken } from '../src/api/auth.ts';
import { ConfigError, loadConfig } from '../src/config.ts';
import { createServices, type Services } from '../src/server.ts';
import type { Db } from '../src/store/index.ts';
import { createTestApp, openTestDb, type TestApp, type ResponseBody } from './helpers.ts';

const silentLogger = pino({ level: 'silent' });
const MAX_BODY = 2048;

/** The app under test: the real HTTP app with a small body limit, so the 413 path is reachable. */
let t: TestApp;
/** A second, empty database: no tokens yet, for the bootstrap and ACS_ADMIN_TOKEN checks. */
let bare: Db;
let tmpDir: string;

beforeAll(async () => {
  t = await createTestApp({ maxBodyBytes: MAX_BODY });
  bare = await openTestDb();
  tmpDir = mkdtempSync(join(tmpdir(), 'acs-service-test-'));
});
afterAll(async () => {
  await t.close();
  await bare.close();
  rmSync(tmpDir, { recursive: true, force: true });
});

async function request(services: Services, path: string, token?: string) {
  const res = await services.app.request(path, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  return { status: res.status, body: (await res.json()) as ResponseBody };
}

describe('service endpoints', () => {
  it('GET /healthz is 200 without auth and names the database kind', async () => {
    const res = await t.call('GET', '/healthz', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: t.db.kind });
    expect(['pglite', 'postgres']).toContain(res.body.database);
    expect(res.body.database).toBe(process.env.DATABASE_URL ? 'postgres' : 'pglite');
  });

  it('GET /api/openapi.json is OpenAPI 3.1 with every mounted route', async () => {
    const res = await t.call('GET', '/api/openapi.json', { token: null });
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\.1\.\d+$/);
    const paths = res.body.paths as Record<string, Record<string, any>>;
    const mounted = t.app.routes.filter((r) => r.path.startsWith('/api/v1'));
    expect(mounted.length).toBeGreaterThan(50);
    for (const r of mounted) {
      const op = paths[r.path.replace(/:(\w+)/g, '{$1}')]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op.responses['401'], `${r.method} ${r.path}`).toBeDefined();
      for (const name of [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1])) {
        expect(
          op.parameters.some((p: { name: string; in: string }) => p.name === name && p.in === 'path'),
          `${r.path} documents :${name}`,
        ).toBe(true);
      }
    }
    const documented = Object.values(paths).reduce((n, methods) => n + Object.keys(methods).length, 0);
    expect(documented).toBe(mounted.length);

    const signalBody = paths['/api/v1/signals']!.post.requestBody.content;
    const oneSignal = signalBody['application/json'].schema.anyOf[0].anyOf as { properties: { type: { const: string } } }[];
    // One schema per type and contract version.
    expect([...new Set(oneSignal.map((v) => v.properties.type.const))].sort()).toEqual([...SIGNAL_TYPES].sort());
    expect(oneSignal.length).toBe(Object.values(SIGNAL_CONTRACTS).reduce((n, versions) => n + Object.keys(versions).length, 0));
    expect(signalBody['application/x-ndjson']).toBeDefined();

    const create = paths['/api/v1/accounts']!.post;
    const schema = create.requestBody.content['application/json'].schema;
    expect(schema.required).toContain('name');
    expect(schema.properties.name).toBeDefined();
    expect(schema.additionalProperties).toBe(false);
    const list = paths['/api/v1/accounts']!.get;
    expect(list.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['limit', 'cursor', 'customerId']));
  });

  it('GET /metrics is Prometheus text counting requests by route template and status', async () => {
    await t.call('GET', '/healthz', { token: null });
    await t.call('GET', '/api/v1/me', { token: null });
    await t.call('GET', '/api/v1/accounts/acc_missing');
    const res = await t.call('GET', '/metrics', { token: null });
    expect(res.status).toBe(200);
    expect(res.body).toBeUndefined(); // not JSON
    expect(res.text).toContain('# TYPE acs_http_requests_total counter');
    expect(res.text).toMatch(/acs_http_requests_total\{method="GET",route="\/healthz",status="200"\} [1-9]/);
    expect(res.text).toMatch(/acs_http_requests_total\{method="GET",route="\/api\/v1\/me",status="401"\} [1-9]/);
    expect(res.text).toMatch(/acs_http_requests_total\{method="GET",route="\/api\/v1\/accounts\/:id",status="404"\} [1-9]/);
    expect(res.text).not.toContain('acc_missing');
    expect(res.text).toContain('acs_http_request_duration_seconds_bucket');
  });

  it('an unknown route is a JSON 404', async () => {
    for (const [method, path] of [
      ['GET', '/api/v1/nothing-here'],
      ['GET', '/nope'],
      ['PUT', '/api/v1/accounts'],
    ] as const) {
      const res = await t.call(method, path);
      expect(res.status, `${method} ${path}`).toBe(404);
      expect(res.body.code).toBe('not_found');
    }
  });

  it('an oversized body is a 413 payload_too_large, not a 500, and creates nothing', async () => {
    const before = (await t.call('GET', '/api/v1/accounts?limit=500')).body.data.length;
    const big = await t.call('POST', '/api/v1/accounts', { body: { name: 'Big', attributes: { blob: 'x'.repeat(MAX_BODY * 4) } } });
    expect(big.status, big.text).toBe(413);
    expect(big.body.code).toBe('payload_too_large');
    expect(big.text).not.toContain('xxxxxxxx'); // the body is not echoed back
    const patch = await t.call('PATCH', '/api/v1/accounts/acc_any', { body: { name: 'y'.repeat(MAX_BODY + 1) } });
    expect(patch.status).toBe(413);
    const small = await t.call('POST', '/api/v1/accounts', { body: { name: 'Small', attributes: { blob: 'x'.repeat(MAX_BODY - 200) } } });
    expect(small.status).toBe(201);
    expect((await t.call('GET', '/api/v1/accounts?limit=500')).body.data.length).toBe(before + 1);
  });
});

describe('tokens', () => {
  it('POST /api/v1/tokens makes a working token whose secret is stored only as a hash; DELETE revokes it', async () => {
    const created = await t.call('POST', '/api/v1/tokens', { body: { role: 'analyst', name: 'reporting job' } });
    expect(created.status).toBe(201);
    const { id, token } = created.body as { id: string; token: string };
    expect(created.body).toMatchObject({ role: 'analyst', name: 'reporting job' });
    expect(token).toMatch(/^acs_[A-Za-z0-9_-]{43}$/);

    const me = await t.call('GET', '/api/v1/me', { token });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ tokenId: id, name: 'reporting job', role: 'analyst' });
    // An analyst may not create tokens.
    expect((await t.call('POST', '/api/v1/tokens', { token, body: { role: 'admin', name: 'escalate' } })).status).toBe(403);

    const rows = await t.db.query<Record<string, unknown>>('SELECT * FROM api_tokens WHERE id = $1', [id]);
    expect(rows).toHaveLength(1);
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain(token);
    expect(stored).not.toContain(token.slice(4));
    expect(rows[0]!.token_hash).toBe(createHash('sha256').update(token).digest('hex'));

    const listed = await t.call('GET', '/api/v1/tokens');
    expect(listed.status).toBe(200);
    expect(listed.body.data.map((r: { id: string }) => r.id)).toContain(id);
    expect(listed.text).not.toContain(token.slice(4));
    expect(listed.text).not.toContain(rows[0]!.token_hash as string);

    const revoked = await t.call('DELETE', `/api/v1/tokens/${id}`);
    expect(revoked.status).toBe(204);
    const after = await t.call('GET', '/api/v1/me', { token });
    expect(after.status).toBe(401);
    expect(after.body.code).toBe('unauthorized');
    expect((await t.call('DELETE', `/api/v1/tokens/${id}`)).status).toBe(404);
    const row = (await t.call('GET', '/api/v1/tokens')).body.data.find((r: { id: string }) => r.id === id);
    expect(row.revokedAt).toEqual(expect.any(String));
    expect(row.lastUsedAt).toEqual(expect.any(String));

    const ledger = await t.call('GET', `/api/v1/ledger?subjectId=${id}`);
    expect(ledger.body.data.map((e: { type: string }) => e.type)).toEqual(['token.revoked', 'token.created']);
    expect(ledger.body.data[1].data).toEqual({ role: 'analyst' });
    expect(ledger.text).not.toContain(token.slice(4));
    expect(ledger.text).not.toContain(rows[0]!.token_hash as string);
  });

  it('an invalid role or name on token create is a 400 naming it', async () => {
    const role = await t.call('POST', '/api/v1/tokens', { body: { role: 'superuser', name: 'x' } });
    expect(role.status).toBe(400);
    expect(role.body.issues.map((i: { path: string }) => i.path)).toEqual(['role']);
    const name = await t.call('POST', '/api/v1/tokens', { body: { role: 'agent', name: '   ' } });
    expect(name.status).toBe(400);
    expect(name.body.issues.map((i: { path: string }) => i.path)).toEqual(['name']);
    const extra = await t.call('POST', '/api/v1/tokens', { body: { role: 'agent', name: 'bot', expires: 'never' } });
    expect(extra.status).toBe(400);
    expect(extra.body.issues.map((i: { path: string }) => i.path)).toEqual(['expires']);
  });

  it('POST /api/v1/auth/login answers who the token is and writes an auth.login ledger entry', async () => {
    const me = (await t.call('GET', '/api/v1/me', { role: 'reviewer' })).body;
    const login = await t.call('POST', '/api/v1/auth/login', { role: 'reviewer' });
    expect(login.status).toBe(200);
    expect(login.body).toEqual(me);
    const ledger = await t.call('GET', `/api/v1/ledger?type=auth.login&subjectId=${me.tokenId}`);
    expect(ledger.body.data).toHaveLength(1);
    expect(ledger.body.data[0]).toMatchObject({
      type: 'auth.login',
      actor: `token:${me.tokenId}`,
      subjectType: 'token',
      data: { role: 'reviewer' },
    });
    expect(ledger.text).not.toContain(t.tokens.reviewer);
  });

  it('bootstrapAdminToken writes a working admin token to <dir>/admin-token with mode 0600, once', async () => {
    const dir = join(tmpDir, 'data');
    const file = await bootstrapAdminToken(bare, dir);
    expect(file).toBe(join(dir, 'admin-token'));
    expect(statSync(file!).mode & 0o777).toBe(0o600);
    const token = readFileSync(file!, 'utf8').trim();
    expect(token).toMatch(/^acs_/);
    const services = createServices(bare, { maxBodyBytes: 1 << 20 }, silentLogger);
    try {
      const me = await request(services, '/api/v1/me', token);
      expect(me.status).toBe(200);
      expect(me.body.role).toBe('admin');
      expect(await bootstrapAdminToken(bare, dir)).toBeNull();
      expect(readFileSync(file!, 'utf8').trim()).toBe(token);
      const [row] = await bare.query<{ n: number }>("SELECT count(*)::int AS n FROM api_tokens WHERE role = 'admin'");
      expect(row!.n).toBe(1);
    } finally {
      await services.bus.stop();
    }
  });

  it('ACS_ADMIN_TOKEN is an admin; a wrong token is 401', async () => {
    const adminToken = 'x'.repeat(32);
    const services = createServices(bare, { adminToken, maxBodyBytes: 1 << 20 }, silentLogger);
    try {
      const me = await request(services, '/api/v1/me', adminToken);
      expect(me.status).toBe(200);
      expect(me.body).toMatchObject({ role: 'admin', tokenId: 'env' });
      expect((await request(services, '/api/v1/tokens', adminToken)).status).toBe(200);
      for (const wrong of ['x'.repeat(31), 'x'.repeat(33), 'y'.repeat(32)]) {
        const res = await request(services, '/api/v1/me', wrong);
        expect(res.status, wrong).toBe(401);
      }
      // The same token means nothing to an app configured without it.
      expect((await t.call('GET', '/api/v1/me', { token: adminToken })).status).toBe(401);
    } finally {
      await services.bus.stop();
    }
  });
});

describe('configuration', () => {
  const configError = (env: Record<string, string>): ConfigError => {
    try {
      loadConfig(env);
    } catch (err) {
      return err as ConfigError;
    }
    throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
  };

  it('rejects bad values with a ConfigError naming the variable', () => {
    for (const [name, value] of [
      ['ACS_PORT', 'abc'],
      ['ACS_PORT', '70000'],
      ['DATABASE_URL', 'mysql://x'],
      ['ACS_MAX_BODY_BYTES', '10'],
      ['ACS_LOG_LEVEL', 'loud'],
    ] as const) {
      const err = configError({ [name]: value });
      expect(err, `${name}=${value}`).toBeInstanceOf(ConfigError);
      expect(err.message, `${name}=${value}`).toContain(name);
    }
  });

  it('gives defaults for an empty environment, and treats empty strings as unset', () => {
    const defaults = loadConfig({});
    expect(defaults).toMatchObject({
      port: 7300,
      host: '127.0.0.1',
      maxBodyBytes: 1024 * 1024,
      logLevel: 'info',
      databaseUrl: undefined,
      adminToken: undefined,
    });
    expect(defaults.dataDir).toBe(join(process.cwd(), '.acs'));
    expect(loadConfig({ ACS_PORT: '', DATABASE_URL: '' })).toMatchObject({ port: 7300, databaseUrl: undefined });
  });

  it('reads valid values', () => {
    const c = loadConfig({
      ACS_PORT: '8080',
      DATABASE_URL: 'postgresql://u@h/db',
      ACS_MAX_BODY_BYTES: '4096',
      ACS_ADMIN_TOKEN: 'a'.repeat(20),
    });
    expect(c).toMatchObject({ port: 8080, databaseUrl: 'postgresql://u@h/db', maxBodyBytes: 4096, adminToken: 'a'.repeat(20) });
  });
});
