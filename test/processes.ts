import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ACS_BIN } from './cli-helpers.ts';
import type { ResponseBody, TestApp } from './helpers.ts';

// Spawning `acs` processes (serve, worker) and fresh PostgreSQL databases for tests and the fault bench.

export interface AcsProcess {
  name: string;
  child: ChildProcess;
  /** Its log lines, parsed (pino's JSON); stderr chunks as `{ msg, stderr: true }`. */
  lines: Record<string, unknown>[];
  url?: string;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` every 100 ms until it returns something truthy; fails after `ms`, saying what it waited for. */
export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, ms: number): Promise<T> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    const got = await probe();
    if (got) return got;
    await sleep(100);
  }
  throw new Error(`timed out after ${ms} ms waiting for ${what}`);
}

/** Starts `node bin/acs.js ...args` with exactly `env`, collecting its log lines. */
export function spawnAcs(name: string, args: string[], env: NodeJS.ProcessEnv): AcsProcess {
  const child = spawn(process.execPath, [ACS_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: AcsProcess = { name, child, lines: [] };
  let rest = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const line of parts) {
      try {
        proc.lines.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        proc.lines.push({ msg: line });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => proc.lines.push({ msg: d.toString(), stderr: true }));
  return proc;
}

export const running = (p: AcsProcess) => p.child.exitCode === null && p.child.signalCode === null;

/** Waits (bounded) for a process started by `acs serve` to listen, or by `acs worker` or `acs relay` to run; sets `url` for a server. */
export async function ready(p: AcsProcess, ms: number): Promise<AcsProcess> {
  const line = await until(
    `${p.name} to start\n${JSON.stringify(p.lines.slice(-5))}`,
    async () => {
      if (!running(p))
        throw new Error(`${p.name} exited (${p.child.exitCode ?? p.child.signalCode}): ${JSON.stringify(p.lines.slice(-5))}`);
      return p.lines.find((l) => /^ACS (listening on|worker running|relay running)/.test(String(l.msg)));
    },
    ms,
  );
  if (typeof line.url === 'string') p.url = line.url;
  return p;
}

/** Sends `signal` and waits (bounded) for the exit; a process that outlives a SIGTERM by `ms` gets a SIGKILL. */
export async function stop(p: AcsProcess, signal: NodeJS.Signals = 'SIGKILL', ms = 15_000): Promise<void> {
  if (!running(p)) return;
  const exited = new Promise((r) => p.child.once('exit', r));
  p.child.kill(signal);
  if (await Promise.race([exited.then(() => true), sleep(ms).then(() => false)])) return;
  p.child.kill('SIGKILL');
  await Promise.race([exited, sleep(5_000)]);
}

/** Runs `fn` with a client of the server `url` names (as a superuser, for CREATE/DROP DATABASE). */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** A new, empty database on the server of `url`; `drop()` removes it, ending any connection left to it. */
export async function freshDatabase(url: string, prefix: string): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const fresh = new URL(url);
  fresh.pathname = `/${name}`;
  fresh.search = '';
  await withClient(url, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    url: fresh.toString(),
    name,
    drop: () => withClient(url, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A TestApp-shaped client of one server over HTTP, so the shared helpers that make customers work on it. */
export const remoteApp = (base: () => string, token: string) =>
  ({
    call: async (method: string, path: string, opts: { body?: unknown } = {}) => {
      const res = await fetch(base() + path, {
        method,
        headers: { authorization: `Bearer ${token}`, ...(opts.body ? { 'content-type': 'application/json' } : {}) },
        body: opts.body ? JSON.stringify(opts.body) : undefined,
        signal: AbortSignal.timeout(10_000),
      });
      const text = await res.text();
      return { status: res.status, text, body: (text ? JSON.parse(text) : null) as ResponseBody };
    },
  }) as unknown as TestApp;
