import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveConsole } from '../src/api/console.ts';
import type { AppEnv } from '../src/api/router.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// How the server hands out the built console; the console itself is tested in Chromium (console.browser.test.ts).
describe('serving the web console', () => {
  let dir: string;
  let t: TestApp;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'acs-console-dist-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>ACS console</title>');
    writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log(1)');
    writeFileSync(join(dir, 'favicon.svg'), '<svg/>');
    writeFileSync(join(dir, '..', 'outside-the-console.txt'), 'secret');
    t = await createTestApp({ consoleDir: dir });
  });
  afterAll(async () => {
    await t.close();
    rmSync(dir, { recursive: true, force: true });
    rmSync(join(dir, '..', 'outside-the-console.txt'), { force: true });
  });

  it('serves index.html at / with a strict content security policy, revalidated on every load', async () => {
    const res = await t.app.request('/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toContain('<title>ACS console</title>');
  });

  it('caches hashed assets for good and types them by extension', async () => {
    const js = await t.app.request('/assets/index-abc123.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const svg = await t.app.request('/favicon.svg');
    expect(svg.headers.get('content-type')).toBe('image/svg+xml');
    expect(svg.headers.get('cache-control')).toBe('no-cache');
  });

  it('answers a path that is no console file with the JSON 404 (the console routes by #hash, so every page is /)', async () => {
    for (const path of ['/queue', '/assets/gone-123.js', '/assets']) {
      const res = await t.app.request(path);
      expect(res.status, path).toBe(404);
      expect(((await res.json()) as { code: string }).code, path).toBe('not_found');
    }
  });

  it('never serves a file outside its folder', async () => {
    for (const path of ['/../outside-the-console.txt', '/%2e%2e/outside-the-console.txt', '/assets/..%2f..%2foutside-the-console.txt']) {
      const res = await t.app.request(path);
      expect(res.status, path).toBe(404);
      expect(await res.text(), path).not.toContain('secret');
    }
  });

  it('leaves the API to the API: unknown API paths are JSON 404s and routes still need a token', async () => {
    const unknown = await t.app.request('/api/v1/nothing-here');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { code: string }).code).toBe('not_found');
    expect((await t.app.request('/api/v1/approvals')).status).toBe(401);
    expect((await t.app.request('/healthz')).status).toBe(200);
  });

  it('says how to build the console when it is not built', async () => {
    const app = new Hono<AppEnv>();
    app.use('*', serveConsole(join(dir, 'not-built')));
    const res = await app.request('/');
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build:console');
    expect((await app.request('/assets/x.js')).status).toBe(404);
  });
});
