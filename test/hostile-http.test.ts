import { serve, type ServerType } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ maxBodyBytes: 16 * 1024 });
});
afterAll(async () => t.close());

/** Series in a Prometheus text exposition: every line that is not a comment. */
async function scrape(): Promise<{ series: string[]; bytes: number }> {
  const text = await (await t.app.request('/metrics')).text();
  return { series: text.split('\n').filter((l) => l && !l.startsWith('#')), bytes: text.length };
}

describe('/metrics labels', () => {
  const unknown = (i: number): [string, string] =>
    [
      ['GET', `/api/x${i}%00`],
      ['GET', `/api/v1/nope-${i}`],
      ['POST', `/nowhere/${i}`],
      ['DELETE', `/api/v1/accounts/a/b/${i}`],
    ][i % 4] as [string, string];

  it('1,000 distinct unknown paths add no series: unmatched requests share one label', async () => {
    // One of each first, so the fixed label's series for each method and status exist before counting.
    for (let i = 0; i < 4; i++) await t.app.request(unknown(i)[1], { method: unknown(i)[0] });
    await t.app.request('/healthz');
    await scrape();
    const before = await scrape();
    for (let i = 4; i < 1004; i++) {
      const [method, path] = unknown(i);
      const res = await t.app.request(path, { method });
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
    await t.app.request('/healthz');
    const after = await scrape();
    // Node's own gauges (a first major GC, say) may add series of their own while the loop runs: only ACS's count.
    const names = (s: string[]) => s.filter((l) => !/^acs_(nodejs|process)_/.test(l)).map((l) => l.replace(/\s\S+$/, ''));
    expect(names(after.series)).toEqual(names(before.series));
    expect(after.series.some((l) => /x1003|nope-|nowhere/.test(l))).toBe(false);
    expect(after.series.some((l) => l.includes('route="(unmatched)"'))).toBe(true);
  });
});

describe('oversized bodies beside small requests, on a real server', () => {
  let server: ServerType;
  let base: string;
  beforeAll(async () => {
    server = await new Promise<ServerType>((resolve) => {
      const s = serve({ fetch: t.app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise<void>((resolve) => server.close(() => resolve())));

  type Outcome = { status: number } | { error: string };
  const outcome = (p: Promise<Response>): Promise<Outcome> =>
    p.then(
      async (r) => (await r.arrayBuffer(), { status: r.status }),
      (err: Error) => ({ error: String((err.cause as Error | undefined)?.message ?? err.message) }),
    );

  /** Bounded: 20 waves, each with two oversized uploads and ten small writes in flight together. */
  async function flood(bigBytes: number, token = t.tokens.admin): Promise<{ small: Outcome[]; large: Outcome[] }> {
    const auth = { authorization: `Bearer ${t.tokens.admin}`, 'content-type': 'application/json' };
    const bigAuth = { ...auth, authorization: `Bearer ${token}` };
    const big = Buffer.alloc(bigBytes, 'x');
    const small: Promise<Outcome>[] = [];
    const large: Promise<Outcome>[] = [];
    for (let wave = 0; wave < 20; wave++) {
      for (let j = 0; j < 2; j++) large.push(outcome(fetch(`${base}/api/v1/accounts`, { method: 'POST', headers: bigAuth, body: big })));
      for (let j = 0; j < 10; j++) {
        small.push(
          outcome(
            fetch(`${base}/api/v1/accounts`, {
              method: 'POST',
              headers: auth,
              body: JSON.stringify({ name: `Small ${bigBytes} ${wave}-${j}` }),
            }),
          ),
        );
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    return { small: await Promise.all(small), large: await Promise.all(large) };
  }

  it('every small request gets its answer, and the oversized ones get a 413 on a connection still usable', async () => {
    const { small, large } = await flood(512 * 1024);
    expect(small.filter((o) => !('status' in o) || o.status !== 201)).toEqual([]);
    expect(large.filter((o) => !('status' in o) || o.status !== 413)).toEqual([]);
    const res = await fetch(`${base}/api/v1/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.admin}`, 'content-type': 'application/json' },
      body: Buffer.alloc(512 * 1024, 'x'),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('keep-alive');
    await res.arrayBuffer();
  });

  it('past the drain bound the 413 closes its connection, and still every small request gets its answer', async () => {
    const { small, large } = await flood(2 * 1024 * 1024);
    expect(small.filter((o) => !('status' in o) || o.status !== 201)).toEqual([]);
    expect(large.filter((o) => !('status' in o) || o.status !== 413)).toEqual([]);
    const res = await fetch(`${base}/api/v1/accounts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${t.tokens.admin}`, 'content-type': 'application/json' },
      body: Buffer.alloc(2 * 1024 * 1024, 'x'),
    });
    expect(res.status).toBe(413);
    expect(res.headers.get('connection')).toBe('close');
    await res.arrayBuffer();
  });

  it('big bodies the server never reads (refused before the handler) leave no small request unanswered', async () => {
    const { small, large } = await flood(512 * 1024, 'not-a-token');
    expect(small.filter((o) => !('status' in o) || o.status !== 201)).toEqual([]);
    expect(large.filter((o) => !('status' in o) || o.status !== 401)).toEqual([]);
    const res = await fetch(`${base}/api/v1/accounts`, {
      method: 'POST',
      headers: { authorization: 'Bearer not-a-token', 'content-type': 'application/json' },
      body: Buffer.alloc(512 * 1024, 'x'),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('connection')).toBe('close');
    await res.arrayBuffer();
  });
});
