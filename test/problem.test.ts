import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_STATUS } from '../src/errors.ts';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('error bodies are RFC 9457 problem documents', () => {
  it('a 401 is a problem document and says how to authenticate', async () => {
    const res = await t.app.request('/api/v1/accounts');
    expect(res.status).toBe(401);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="acs"');
    const body = await res.json();
    expect(body).toMatchObject({
      type: 'urn:acs:problem:unauthorized',
      title: 'Unauthorized',
      status: 401,
      code: 'unauthorized',
      instance: '/api/v1/accounts',
    });
    expect(body.detail).toMatch(/bearer token/);
  });

  it('a validation error keeps its field issues, and a refused signal its quarantine id', async () => {
    const bad = await t.call('POST', '/api/v1/accounts', { body: { name: '' } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 400, code: 'validation_failed' });
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toContain('name');
    const sig = await t.call('POST', '/api/v1/signals', { body: { type: 'nps', subject: { customerId: 'C-9' }, data: { score: 99 } } });
    expect(sig.status).toBe(400);
    expect(sig.body.code).toBe('validation_failed');
    expect(sig.body.quarantineId).toEqual(expect.any(String));
    expect(sig.body.issues.length).toBeGreaterThan(0);
  });

  // The contract check in t.call already requires application/problem+json for the 400.
  it('a batch of signals that is wholly refused is a problem document that still reports each item', async () => {
    const res = await t.call('POST', '/api/v1/signals', {
      body: [{ type: 'nps', subject: { customerId: 'C-1' }, data: { score: 99 } }, { type: 'nope' }],
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'validation_failed', counts: { accepted: 0, duplicates: 0, rejected: 2 } });
    expect(res.body.rejected.map((r: { quarantineId: string | null }) => typeof r.quarantineId)).toEqual(['string', 'string']);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['0.data.score', '1.type']));
  });

  it('an unknown route is a 404 problem, not a bare body', async () => {
    const res = await t.app.request('/api/v1/nothing-here', { headers: { authorization: `Bearer ${t.tokens.admin}` } });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    expect((await res.json()).code).toBe('not_found');
  });
});

describe('error codes', () => {
  it('each code is documented in docs/errors.md with its status, and nothing else is', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| `([\w.]+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]);
    expect(Object.fromEntries(rows)).toEqual(ERROR_STATUS);
    expect(rows).toHaveLength(Object.keys(ERROR_STATUS).length);
  });
});
