import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, createMetrics } from '../src/api/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// The request id through the real HTTP app: every answer carries it, problem bodies name it, and every log line
// written while handling the request has it.
describe('request ids', () => {
  let t: TestApp;
  let app: ReturnType<typeof createApp>;
  let dir: string;
  const lines: Record<string, unknown>[] = [];
  const admin = () => ({ authorization: `Bearer ${t.tokens.admin}` });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acs-request-id-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>ACS console</title>');
    t = await createTestApp({ maxBodyBytes: 2048 });
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        for (const line of chunk.toString().split('\n')) if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
        done();
      },
    });
    // The same app as the test app's, logging to lines the test reads.
    app = createApp({
      db: t.db,
      bus: t.bus,
      auth: t.auth,
      gate: t.gate,
      clock: t.clock,
      log: pino({ level: 'info' }, sink),
      metrics: createMetrics(),
      config: { maxBodyBytes: 2048 },
      consoleDir: dir,
    });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const linesOf = (requestId: string) => lines.filter((l) => l.requestId === requestId);

  it('keeps a sane incoming X-Request-Id and returns it on a success, with its log line', async () => {
    const res = await app.request('/api/v1/accounts?limit=1', { headers: { ...admin(), 'x-request-id': 'client-abc.123' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-request-id')).toBe('client-abc.123');
    const logged = linesOf('client-abc.123');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ msg: 'request', route: '/api/v1/accounts', status: 200 });
  });

  it('replaces an incoming id that is too long or holds unsafe characters with one of its own', async () => {
    for (const bad of ['x'.repeat(129), 'has space', 'quote"d', 'caf\u00e9', 'ann@example.com', '<script>', '']) {
      const res = await app.request('/healthz', { headers: { 'x-request-id': bad } });
      const id = res.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      expect(id).not.toBe(bad);
    }
    const a = (await app.request('/healthz')).headers.get('x-request-id');
    const b = (await app.request('/healthz')).headers.get('x-request-id');
    expect(a).toMatch(/^[0-9a-f-]{36}$/);
    expect(a).not.toBe(b);
  });

  it('puts the id in the header and the problem body of errors: 400, 401, 404 and 413', async () => {
    const answers = [
      await app.request('/api/v1/accounts', {
        method: 'POST',
        headers: { ...admin(), 'content-type': 'application/json', 'x-request-id': 'r-400' },
        body: '{"name": 5}',
      }),
      await app.request('/api/v1/accounts', { headers: { 'x-request-id': 'r-401' } }),
      await app.request('/no/such/route', { headers: { 'x-request-id': 'r-404' } }),
      await app.request('/api/v1/signals', {
        method: 'POST',
        headers: { ...admin(), 'content-type': 'application/json', 'x-request-id': 'r-413' },
        body: JSON.stringify({ pad: 'x'.repeat(4096) }),
      }),
    ];
    expect(answers.map((r) => r.status)).toEqual([400, 401, 404, 413]);
    for (const [i, res] of answers.entries()) {
      const id = ['r-400', 'r-401', 'r-404', 'r-413'][i]!;
      expect(res.headers.get('x-request-id')).toBe(id);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(((await res.json()) as { requestId: string }).requestId).toBe(id);
      expect(linesOf(id).map((l) => l.status)).toContain(res.status);
    }
  });

  it('answers the console, /metrics and /healthz with the id too', async () => {
    for (const path of ['/', '/metrics', '/healthz', '/api/openapi.json']) {
      const res = await app.request(path, { headers: { 'x-request-id': `r-${path}` } });
      expect(res.status).toBe(200);
      expect(res.headers.get('x-request-id')).toBe(`r-${path}`);
    }
  });

  it('carries the id on lines logged inside a handler, not only the access line', async () => {
    // A 500 from an unexpected error: the handler's error line and the access line both name the request.
    const broken = createApp({
      db: {
        ...t.db,
        query: () => Promise.reject(new Error('database gone')),
        transaction: () => Promise.reject(new Error('database gone')),
      } as typeof t.db,
      bus: t.bus,
      auth: t.auth,
      gate: t.gate,
      clock: t.clock,
      log: pino({ level: 'info' }, { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) }),
      metrics: createMetrics(),
      config: { maxBodyBytes: 2048 },
    });
    const res = await broken.request('/healthz', { headers: { 'x-request-id': 'r-health-down' } });
    expect(res.status).toBe(503);
    expect(linesOf('r-health-down').map((l) => l.msg)).toEqual(['health check failed', 'request']);
  });
});
