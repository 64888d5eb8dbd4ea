import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACS_BIN, cliEnv, runAcs, type CliEnv } from './cli-helpers.ts';
import type { ResponseBody } from './helpers.ts';

// The main job as `npm start` runs it (serve --load-demo --world): a real server process on a free port, loading the
// Telco customers and running the demo world live, here at two seconds a simulated day.
let cli: CliEnv;
let server: ChildProcess;
let url = '';
let token = '';
let logs = '';

/** How the server ended, if it has: a server that dies early fails the wait with its last words, not a timeout. */
let ended: string | undefined;

function waitForLog(pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const fail = (why: string) => {
      clearTimeout(timer);
      server.stdout!.off('data', check);
      server.off('exit', onExit);
      reject(new Error(`no log line matching ${pattern}: ${why}:\n${logs.slice(-3000)}`));
    };
    const timer = setTimeout(() => fail(`not within ${timeoutMs} ms`), timeoutMs);
    const onExit = () => fail(`the server ${ended}`);
    const check = () => {
      const line = logs.split('\n').find((l) => pattern.test(l));
      if (line) {
        clearTimeout(timer);
        server.stdout!.off('data', check);
        server.off('exit', onExit);
        resolve(line);
      }
    };
    server.stdout!.on('data', check);
    server.once('exit', onExit);
    check();
    if (ended !== undefined) fail(`the server ${ended}`);
  });
}

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(url + path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as ResponseBody };
};

beforeAll(async () => {
  cli = await cliEnv();
  const scripts = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts as Record<string, string>;
  // `npm ci` builds the console once (the prepare script); `npm start` only serves it.
  expect(scripts.prepare).toBe('npm run build:console');
  // `exec` hands the shell's process to the server, so a SIGTERM to `npm start` reaches it.
  expect(scripts.start).toMatch(/^exec node bin\/acs\.js /);
  const args = scripts.start!.replace(/^exec node bin\/acs\.js /, '').split(' ');
  expect(args).toEqual(['serve', '--load-demo', '--world']);
  const built = spawnSync('npm', ['run', 'prepare'], { cwd: fileURLToPath(new URL('..', import.meta.url)), encoding: 'utf8' });
  expect(built.status, built.stderr).toBe(0);
  server = spawn(process.execPath, [ACS_BIN, ...args], {
    env: { ...cli.env, ACS_PORT: '0', ACS_LOG_LEVEL: 'info', ACS_WORLD_DAY_SECONDS: '2' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.once('exit', (code, signal) => (ended = `exited (code ${code}, signal ${signal})`));
  server.stdout!.on('data', (d: Buffer) => (logs += d.toString()));
  server.stderr!.on('data', (d: Buffer) => (logs += d.toString()));
  const listening = JSON.parse(await waitForLog(/ACS listening/, 60_000)) as { url: string };
  url = listening.url;
  await waitForLog(/loaded \d+ demo customers from the Telco dataset/, 240_000);
  token = readFileSync(join(cli.dataDir, 'admin-token'), 'utf8').trim();
}, 300_000);

afterAll(async () => {
  if (server.exitCode === null) server.kill('SIGKILL');
  await cli.cleanup();
});

describe('npm start', () => {
  it('writes the admin token file with mode 0600 and says where it is', () => {
    expect(logs).toContain(join(cli.dataDir, 'admin-token'));
    expect(token).toMatch(/^acs_/);
  });

  it('serves the web console at / with its scripts, and says where it is', async () => {
    expect(await waitForLog(/web console:/, 60_000)).toContain(`web console: ${url}/`);
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root"></div>');
    const script = html.match(/src="(\/assets\/[^"]+\.js)"/)?.[1];
    expect(script).toBeDefined();
    const js = await fetch(url + script);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('javascript');
  });

  it('serves the 7,043 Telco customers', async () => {
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const [first, last] = await Promise.all([
      api('GET', '/api/v1/customers/CUST-000001/profile'),
      api('GET', '/api/v1/customers/CUST-007043/profile'),
    ]);
    expect(first.status).toBe(200);
    expect(last.status).toBe(200);
    expect(first.body.subscriptions).toHaveLength(1);
    expect((await api('GET', '/api/v1/customers/CUST-007044/profile')).status).toBe(404);
  });

  it('loads the demo knowledge base, and acs kb search goes through the running server', async () => {
    await waitForLog(/demo knowledge base 'telco-agent-playbook'/, 60_000);
    const found = await api('GET', `/api/v1/knowledge/search?q=${encodeURIComponent('What does FIBER-500 cost?')}&k=5&use=customer`);
    expect(found.status).toBe(200);
    expect(found.body.results[0]).toMatchObject({ path: 'plans.md', headingPath: ['Plans and prices', 'Fiber 500 (FIBER-500)'] });
    const viaCli = await runAcs(['kb', 'search', 'late payment fee', '--k', '1', '--json'], cli.env);
    expect(viaCli.code, viaCli.stderr).toBe(0);
    expect(JSON.parse(viaCli.stdout).results[0]).toMatchObject({
      path: 'billing.md',
      headingPath: ['Billing and payments', 'Late payments'],
    });
  });

  it('a posted signal shows up in the profile and the ledger, and verify reports ok through the running server', async () => {
    const posted = await api('POST', '/api/v1/signals', {
      type: 'payment_failed',
      subject: { customerId: 'CUST-000042' },
      data: { amount: 70.7, currency: 'USD' },
    });
    expect(posted.status).toBe(202);
    const signalId = posted.body.accepted[0].id;
    let profile = await api('GET', '/api/v1/customers/CUST-000042/profile');
    for (let i = 0; i < 50 && !(profile.body.features?.values.paymentFailures30d >= 1); i++) {
      await new Promise((r) => setTimeout(r, 100));
      profile = await api('GET', '/api/v1/customers/CUST-000042/profile');
    }
    // The live world keeps adding signals, so this one is somewhere in the timeline, and counted.
    expect(profile.body.timeline.map((s: { id: string }) => s.id)).toContain(signalId);
    expect(profile.body.features.values.paymentFailures30d).toBeGreaterThanOrEqual(1);
    const ledger = await api('GET', `/api/v1/ledger?subjectId=${signalId}`);
    expect(ledger.body.data[0].type).toBe('signal.accepted');

    const verify = await runAcs(['ledger', 'verify', '--json'], cli.env);
    expect(verify.code).toBe(0);
    const report = JSON.parse(verify.stdout);
    expect(report.ok).toBe(true);
    expect(report.entries).toBeGreaterThan(7043);
  });

  it('runs the world live: simulated days go through the agents, and the API shows what they did', async () => {
    await waitForLog(/simulated day 0 done/, 120_000);
    const world = await api('GET', '/api/v1/world');
    expect(world.body.world.daysDone).toBeGreaterThanOrEqual(1);
    // The server's clock is the world's: ahead of real time.
    expect(Date.parse(world.body.now)).toBeGreaterThan(Date.now());
    const proposals = await api('GET', '/api/v1/proposals?limit=500');
    expect(proposals.status).toBe(200);
    expect(proposals.body.data.length).toBeGreaterThan(0);
    const agents = new Set(proposals.body.data.map((p: { agentId: string }) => p.agentId));
    expect([...agents].some((a) => a === 'retention' || a === 'service-recovery')).toBe(true);
  });

  it('in the live world, a message that went out carries a body citing the demo knowledge base, and the outbox holds exactly it', async () => {
    type Sent = { id: string; params: { body?: string; citations?: { path?: string }[] }; executions: { result: unknown }[] };
    const outbox = join(cli.dataDir, 'outbox', 'messages.jsonl');
    const delivered = () =>
      existsSync(outbox)
        ? readFileSync(outbox, 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l) as { id: string; body: string | null })
        : [];
    // Bounded: at most 120 polls a second apart for a message the agents sent and the transport handed on.
    let match: { proposal: Sent; line: { id: string; body: string | null } } | undefined;
    for (let i = 0; i < 120 && !match; i++) {
      const page = await api('GET', '/api/v1/proposals?limit=500&status=decided');
      const lines = delivered();
      for (const p of page.body.data as (Sent & { action: string })[]) {
        if (p.action !== 'send_message' || typeof p.params.body !== 'string') continue;
        const messageId = p.executions.map((e) => (e.result as { messageId?: string } | null)?.messageId).find(Boolean);
        const line = lines.find((l) => l.id === messageId);
        if (line) match = { proposal: p, line };
      }
      if (!match) await new Promise((r) => setTimeout(r, 1000));
    }
    expect(match, 'a sent message with a generated body').toBeDefined();
    expect(match!.line.body).toBe(match!.proposal.params.body);
    expect(match!.proposal.params.citations!.some((c) => typeof c.path === 'string' && c.path.endsWith('.md'))).toBe(true);
  });

  it('stops cleanly on SIGTERM and releases the data dir', async () => {
    const exited = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    server.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(existsSync(join(cli.dataDir, 'server.json'))).toBe(false);
  });
});
