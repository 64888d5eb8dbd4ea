import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createToken } from '../src/api/auth.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// The console's session cookie, through the real app: a link opened in a new tab sends the cookie, not the token.
let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

async function send(method: string, path: string, headers: Record<string, string>, body?: unknown) {
  const res = await t.app.request(path, {
    method,
    headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    setCookie: res.headers.getSetCookie()[0] ?? null,
    hint: res.headers.getSetCookie()[1] ?? null,
    body: text ? JSON.parse(text) : undefined,
  };
}

/** What a browser would send back: the cookie's name=value, from a Set-Cookie header. */
const cookieFrom = (setCookie: string | null) => {
  expect(setCookie).toBeTruthy();
  return setCookie!.split(';')[0]!;
};

async function signIn(token: string) {
  const res = await send('POST', '/api/v1/auth/login', { authorization: `Bearer ${token}` });
  expect(res.status).toBe(200);
  return { res, cookie: cookieFrom(res.setCookie) };
}

describe('console session cookie', () => {
  it('signing in sets an HttpOnly, SameSite=Strict cookie scoped to the API, with which a new tab is signed in', async () => {
    const { res, cookie } = await signIn(t.tokens.reviewer);
    expect(res.setCookie).toMatch(/^acs_session=[^;]+; Path=\/api; HttpOnly; SameSite=Strict; Max-Age=43200$/);
    // Its hint holds no secret and is what lets the console skip asking the server when nobody signed in.
    expect(res.hint).toBe('acs_signed_in=1; Path=/; SameSite=Strict; Max-Age=43200');
    const me = await send('GET', '/api/v1/me', { cookie });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ role: 'reviewer', name: 'test reviewer' });
    // A request with no token and no cookie is still refused.
    expect((await send('GET', '/api/v1/me', {})).status).toBe(401);
  });

  it('a write signed in by the cookie alone needs the console header, so another site cannot forge one', async () => {
    const { cookie } = await signIn(t.tokens.admin);
    const forged = await send('POST', '/api/v1/accounts', { cookie }, { name: 'Forged Co' });
    expect(forged.status).toBe(403);
    expect(forged.body.detail).toContain('x-acs-console: 1');
    const list = await send('GET', '/api/v1/accounts?limit=100', { cookie });
    expect(list.body.data.map((a: { name: string }) => a.name)).not.toContain('Forged Co');
    const made = await send('POST', '/api/v1/accounts', { cookie, 'x-acs-console': '1' }, { name: 'Console Co' });
    expect(made.status).toBe(201);
  });

  it('the bearer token wins over the cookie, and the role check applies to either', async () => {
    const { cookie } = await signIn(t.tokens.analyst);
    expect((await send('GET', '/api/v1/me', { cookie, authorization: `Bearer ${t.tokens.admin}` })).body.role).toBe('admin');
    const denied = await send('POST', '/api/v1/tokens', { cookie, 'x-acs-console': '1' }, { role: 'admin', name: 'x' });
    expect(denied.status).toBe(403);
    expect(denied.body.code).toBe('forbidden');
  });

  it('a revoked token ends the cookie session at once, and the answer clears the cookie', async () => {
    const made = await createToken(t.db, { role: 'reviewer', name: 'short-lived' }, 'test');
    const { cookie } = await signIn(made.token);
    expect((await send('GET', '/api/v1/me', { cookie })).status).toBe(200);
    const revoked = await send('DELETE', `/api/v1/tokens/${made.id}`, { authorization: `Bearer ${t.tokens.admin}` });
    expect(revoked.status).toBe(204);
    const after = await send('GET', '/api/v1/me', { cookie });
    expect(after.status).toBe(401);
    expect(after.setCookie).toMatch(/^acs_session=; .*Max-Age=0/);
  });

  it('signing out clears the cookie and is ledgered; the token itself still works for API clients', async () => {
    const { cookie } = await signIn(t.tokens.reviewer);
    const out = await send('POST', '/api/v1/auth/logout', { cookie, 'x-acs-console': '1' });
    expect(out.status).toBe(204);
    expect(out.setCookie).toMatch(/^acs_session=; Path=\/api; HttpOnly; SameSite=Strict; Max-Age=0$/);
    expect(out.hint).toBe('acs_signed_in=; Path=/; SameSite=Strict; Max-Age=0');
    const entries = await send('GET', '/api/v1/ledger?type=auth.logout', { authorization: `Bearer ${t.tokens.admin}` });
    expect(entries.status).toBe(200);
    expect(entries.body.data.map((e: { type: string }) => e.type)).toEqual(['auth.logout']);
    expect((await send('GET', '/api/v1/me', { authorization: `Bearer ${t.tokens.reviewer}` })).status).toBe(200);
  });
});
