import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { claimIdempotencyKey } from '../src/api/idempotency.repo.ts';
import { TokenBuckets } from '../src/api/rate-limit.ts';
import { COMMANDS, runCli } from '../src/cli/main.ts';
import { cliEnv, runAcs, type CliEnv } from './cli-helpers.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// Issue 17, section 3: the conventions integrators expect (docs/api.md, "Conventions for integrators"; docs/cli.md).

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const paths = (res: { body: { issues?: { path: string }[] } }) => (res.body.issues ?? []).map((i) => i.path);
const tokenIdOf = async (name: string) => (await t.db.query<{ id: string }>('SELECT id FROM api_tokens WHERE name = $1', [name]))[0]!.id;
const accountsNamed = async (name: string) =>
  (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM accounts WHERE name = $1', [name]))[0]!.n;

describe('Idempotency-Key on POST', () => {
  it('without a key, the same POST twice creates two accounts (the behaviour a key exists to avoid)', async () => {
    for (let i = 0; i < 2; i++) expect((await t.call('POST', '/api/v1/accounts', { body: { name: 'Keyless Pty' } })).status).toBe(201);
    expect(await accountsNamed('Keyless Pty')).toBe(2);
  });

  it('the same key and body twice create one account; the second answer is the first, marked replayed', async () => {
    const headers = { 'idempotency-key': 'create-acme-1' };
    const first = await t.call('POST', '/api/v1/accounts', { body: { name: 'Acme Idem' }, headers });
    const second = await t.call('POST', '/api/v1/accounts', { body: { name: 'Acme Idem' }, headers });
    expect(first.status).toBe(201);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(second.status).toBe(201);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.body).toEqual(first.body);
    expect(await accountsNamed('Acme Idem')).toBe(1);
  });

  it('the same key with another body is refused with a 422 naming Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'create-acme-2' };
    expect((await t.call('POST', '/api/v1/accounts', { body: { name: 'Acme Two' }, headers })).status).toBe(201);
    const other = await t.call('POST', '/api/v1/accounts', { body: { name: 'Acme Other' }, headers });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency.key_reused');
    expect(paths(other)).toEqual(['Idempotency-Key']);
    expect(await accountsNamed('Acme Other')).toBe(0);
    // Another route with the same key is another request too.
    const elsewhere = await t.call('POST', '/api/v1/products', { body: { sku: 'IDEM-1', name: 'Acme Two' }, headers });
    expect(elsewhere.status).toBe(422);
  });

  it('keys belong to a token: another token may use the same key for its own request', async () => {
    const headers = { 'idempotency-key': 'shared-key' };
    const admin = await t.call('POST', '/api/v1/accounts', { body: { name: 'Per Token' }, headers });
    const reviewer = await t.call('POST', '/api/v1/accounts', { body: { name: 'Per Token' }, headers, role: 'reviewer' });
    expect([admin.status, reviewer.status]).toEqual([201, 201]);
    expect(reviewer.headers.get('idempotent-replayed')).toBeNull();
    expect(reviewer.body.id).not.toBe(admin.body.id);
    expect(await accountsNamed('Per Token')).toBe(2);
  });

  it('a key whose first request is still running is a 409', async () => {
    const body = JSON.stringify({ name: 'In Flight' });
    const { createHash } = await import('node:crypto');
    const claim = await claimIdempotencyKey(t.db, {
      principal: await tokenIdOf('test admin'),
      key: 'in-flight-1',
      method: 'POST',
      path: '/api/v1/accounts',
      bodyHash: createHash('sha256').update(body).digest('hex'),
      abandonSeconds: 600,
    });
    expect(claim.claimed).toBe(true);
    const res = await t.call('POST', '/api/v1/accounts', { raw: body, headers: { 'idempotency-key': 'in-flight-1' } });
    expect(res.status).toBe(409);
    expect(res.body.code).toBe('idempotency.in_flight');
    expect(paths(res)).toEqual(['Idempotency-Key']);
    expect(await accountsNamed('In Flight')).toBe(0);
  });

  it('a refused body is not kept: the corrected request may reuse the key', async () => {
    const headers = { 'idempotency-key': 'fix-and-retry' };
    const bad = await t.call('POST', '/api/v1/accounts', { body: { name: 'Fixed', rating: 'not a field' }, headers });
    expect(bad.status).toBe(400);
    const good = await t.call('POST', '/api/v1/accounts', { body: { name: 'Fixed' }, headers });
    expect(good.status).toBe(201);
    expect(good.headers.get('idempotent-replayed')).toBeNull();
  });

  it('a key is kept for 24 hours, then forgotten', async () => {
    const headers = { 'idempotency-key': 'day-old' };
    expect((await t.call('POST', '/api/v1/accounts', { body: { name: 'Day One' }, headers })).status).toBe(201);
    expect((await t.call('POST', '/api/v1/accounts', { body: { name: 'Day Two' }, headers })).status).toBe(422);
    await t.db.query("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'day-old'");
    const later = await t.call('POST', '/api/v1/accounts', { body: { name: 'Day Two' }, headers });
    expect(later.status).toBe(201);
    expect(await accountsNamed('Day Two')).toBe(1);
  });

  it('an unusable key is a 400 naming Idempotency-Key', async () => {
    const res = await t.call('POST', '/api/v1/accounts', { body: { name: 'Bad Key' }, headers: { 'idempotency-key': 'x'.repeat(256) } });
    expect(res.status).toBe(400);
    expect(paths(res)).toEqual(['Idempotency-Key']);
    expect(await accountsNamed('Bad Key')).toBe(0);
  });

  it('holds on other POST routes too: a signal sent twice with one key is taken once', async () => {
    const headers = { 'idempotency-key': 'signal-1' };
    const body = { type: 'nps', subject: { customerId: 'C-IDEM-1' }, data: { score: 3 } };
    const first = await t.call('POST', '/api/v1/signals', { body, headers });
    const second = await t.call('POST', '/api/v1/signals', { body, headers });
    expect(first.status).toBeLessThan(300);
    expect(second.status).toBe(first.status);
    expect(second.body).toEqual(first.body);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
  });
});

describe('ETag, If-Match and If-None-Match on single records', () => {
  it('GET and PATCH answer with the version as ETag; If-None-Match gets a 304; a stale If-Match a 412', async () => {
    const acc = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Tagged' } })).body;
    const read = await t.call('GET', `/api/v1/accounts/${acc.id}`);
    expect(read.headers.get('etag')).toBe('"1"');
    const unchanged = await t.call('GET', `/api/v1/accounts/${acc.id}`, { headers: { 'if-none-match': '"1"' } });
    expect(unchanged.status).toBe(304);
    expect(unchanged.text).toBe('');
    expect(unchanged.headers.get('etag')).toBe('"1"');
    const patched = await t.call('PATCH', `/api/v1/accounts/${acc.id}`, {
      body: { industry: 'Rope' },
      headers: { 'if-match': read.headers.get('etag')! },
    });
    expect(patched.status).toBe(200);
    expect(patched.headers.get('etag')).toBe('"2"');
    const stale = await t.call('PATCH', `/api/v1/accounts/${acc.id}`, { body: { industry: 'Twine' }, headers: { 'if-match': '"1"' } });
    expect(stale.status).toBe(412);
    expect(stale.headers.get('content-type')).toBe('application/problem+json');
    expect(stale.body.code).toBe('precondition_failed');
    expect(paths(stale)).toEqual(['If-Match']);
    expect((await t.call('GET', `/api/v1/accounts/${acc.id}`, { headers: { 'if-none-match': '"1"' } })).status).toBe(200);
    expect((await t.call('PATCH', `/api/v1/accounts/${acc.id}`, { body: { industry: 'Cord' }, headers: { 'if-match': '*' } })).status).toBe(
      200,
    );
  });
});

describe('updatedSince and the (updatedAt, id) order of record lists', () => {
  type Page = { data: { id: string; sku: string; updatedAt: string }[]; nextCursor: string | null };
  const skus = ['SYNC-A', 'SYNC-B', 'SYNC-C', 'SYNC-D', 'SYNC-E'];

  it('lists in (updatedAt, id) order, a changed record moving to the end; pages cover every record once', async () => {
    const made = [];
    for (const sku of skus) made.push((await t.call('POST', '/api/v1/products', { body: { sku, name: sku } })).body);
    const changed = (await t.call('PATCH', `/api/v1/products/${made[0].id}`, { body: { name: 'changed' } })).body;
    const all: Page = (await t.call('GET', '/api/v1/products?limit=500')).body;
    const ours = all.data.filter((p) => skus.includes(p.sku));
    expect(ours.map((p) => p.sku)).toEqual([...skus.slice(1), 'SYNC-A']);
    for (let i = 1; i < all.data.length; i++) {
      const [a, b] = [all.data[i - 1]!, all.data[i]!];
      expect(a.updatedAt < b.updatedAt || (a.updatedAt === b.updatedAt && a.id < b.id)).toBe(true);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const res: { status: number; body: Page } = await t.call('GET', `/api/v1/products?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.data.map((p) => p.id));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    expect(seen).toEqual(all.data.map((p) => p.id));
    // Only what changed since: the changed record, and anything later.
    const since: Page = (await t.call('GET', `/api/v1/products?updatedSince=${encodeURIComponent(changed.updatedAt)}`)).body;
    expect(since.data.map((p) => p.id)).toContain(made[0].id);
    for (const p of since.data) expect(p.updatedAt >= changed.updatedAt).toBe(true);
    expect((await t.call('GET', '/api/v1/products?updatedSince=2999-01-01T00:00:00Z')).body.data).toEqual([]);
    const past: Page = (await t.call('GET', '/api/v1/products?updatedSince=2000-01-01T00:00:00%2B10:00&limit=500')).body;
    expect(past.data.map((p) => p.id)).toEqual(all.data.map((p) => p.id));
  });

  it('a bad updatedSince is a 400 naming it, on every record list', async () => {
    for (const kind of ['accounts', 'contacts', 'products', 'consents']) {
      for (const bad of ['yesterday', '2026-01-01', '2026-13-01T00:00:00Z']) {
        const res = await t.call('GET', `/api/v1/${kind}?updatedSince=${bad}`);
        expect(res.status, `${kind} ${bad}`).toBe(400);
        expect(paths(res).join(' '), `${kind} ${bad}`).toMatch(/updatedSince/);
      }
    }
  });
});

describe('the rate limit per token', () => {
  let limited: TestApp;
  beforeAll(async () => {
    // A bucket of three that (for this test's purposes) never refills.
    limited = await createTestApp({ rateLimit: { perSecond: 0.001, burst: 3 } });
  });
  afterAll(async () => limited.close());

  it('past the burst, a 429 problem with Retry-After; another token keeps its own bucket', async () => {
    for (let i = 0; i < 3; i++) expect((await limited.call('GET', '/api/v1/accounts')).status).toBe(200);
    const over = await limited.call('GET', '/api/v1/accounts');
    expect(over.status).toBe(429);
    expect(over.body.code).toBe('rate_limited');
    expect(over.headers.get('content-type')).toBe('application/problem+json');
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(Number.isInteger(Number(over.headers.get('retry-after')))).toBe(true);
    expect((await limited.call('GET', '/api/v1/accounts', { role: 'reviewer' })).status).toBe(200);
  });

  it('a bucket refills at its rate, up to its burst, per key (on a clock of its own)', () => {
    let now = 0;
    const buckets = new TokenBuckets({ perSecond: 2, burst: 2 }, () => now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 1]);
    expect(buckets.take('b')).toBe(0);
    now += 500; // one token back
    expect([buckets.take('a'), buckets.take('a')]).toEqual([0, 1]);
    now += 60_000; // never more than the burst
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 1]);
    expect(new TokenBuckets({ perSecond: 0, burst: 1 }).take('a')).toBe(0);
  });

  it('the default limit is on and far above what the suite sends', async () => {
    const { loadConfig } = await import('../src/config.ts');
    const { rateLimit } = loadConfig({});
    expect(rateLimit.perSecond).toBeGreaterThanOrEqual(1000);
    expect(rateLimit.burst).toBeGreaterThanOrEqual(10_000);
    expect(loadConfig({ ACS_RATE_LIMIT_PER_SECOND: '5', ACS_RATE_LIMIT_BURST: '7' }).rateLimit).toEqual({ perSecond: 5, burst: 7 });
    expect(() => loadConfig({ ACS_RATE_LIMIT_BURST: '0' })).toThrow(/ACS_RATE_LIMIT_BURST/);
  });
});

describe('the OpenAPI document states the conventions', () => {
  it('POSTs take Idempotency-Key and may answer 422; PATCH takes If-Match and may answer 412; every operation may answer 429', async () => {
    const doc = (await t.call('GET', '/api/openapi.json')).body as {
      paths: Record<
        string,
        Record<string, { parameters: { name: string }[]; responses: Record<string, { headers?: Record<string, unknown> }> }>
      >;
    };
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) => Object.entries(methods).map(([m, op]) => ({ path, m, op })));
    for (const { m, op } of ops) {
      expect(op.responses['429']?.headers?.['Retry-After']).toBeDefined();
      if (m === 'post') {
        expect(op.parameters.map((p) => p.name)).toContain('Idempotency-Key');
        expect(op.responses['422']).toBeDefined();
      }
    }
    const patch = doc.paths['/api/v1/accounts/{id}']!.patch!;
    expect(patch.parameters.map((p) => p.name)).toContain('If-Match');
    expect(patch.responses['412']).toBeDefined();
    expect(patch.responses['200']!.headers!.ETag).toBeDefined();
    expect(doc.paths['/api/v1/accounts/{id}']!.get!.responses['304']).toBeDefined();
  });
});

describe('CLI: --help on every command, and --version', () => {
  it('every command in the command table answers --help with its usage on stdout and exit 0', async () => {
    const names = Object.keys(COMMANDS);
    expect(names.length).toBeGreaterThanOrEqual(19);
    for (const name of names) {
      const out: string[] = [];
      const log = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(a.join(' ')));
      const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
      try {
        expect(await runCli([name, '--help']), name).toBe(0);
        expect(await runCli([name, '-h']), name).toBe(0);
      } finally {
        log.mockRestore();
        err.mockRestore();
      }
      expect(out.join('\n'), name).toMatch(new RegExp(`^usage:[\\s\\S]*\\n  acs ${name}\\b`));
    }
  });

  describe('the real binary', () => {
    let cli: CliEnv;
    beforeAll(async () => {
      cli = await cliEnv();
    });
    afterAll(async () => cli.cleanup());

    it('`acs ledger --help` exits 0 with the ledger usage; `acs ledger verify --help` too', async () => {
      for (const args of [
        ['ledger', '--help'],
        ['ledger', 'verify', '--help'],
      ]) {
        const res = await runAcs(args, cli.env);
        expect(res.code, args.join(' ')).toBe(0);
        expect(res.stdout).toMatch(/acs ledger verify/);
        expect(res.stderr).not.toMatch(/Unknown option/);
      }
    });

    it('`acs --version` prints the package version', async () => {
      const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
      const res = await runAcs(['--version'], cli.env);
      expect(res.code).toBe(0);
      expect(res.stdout.trim()).toBe(version);
    });
  });
});
