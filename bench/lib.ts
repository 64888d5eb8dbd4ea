/**
 * Pieces the benchmarks share: number formatting, tables, percentiles, reaching PostgreSQL, and child processes
 * that are killed when the bench exits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { openPostgres, type Db } from '../src/store/index.ts';

export const progress = (msg: string) => process.stderr.write(`[bench] ${msg}\n`);

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export const pct = (r: number) => `${(r * 100).toFixed(1)}%`;

export const round = (x: number, digits = 1) => +x.toFixed(digits);

/** The p-th percentile of an ascending array (nearest rank). */
export const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => '  ' + cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(headers), '  ' + widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable DATABASE_URL)';
  }
}

export const postgresUrl = () => process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/test';

/** Connects once with a short timeout, so an absent server is reported rather than waited on. */
export async function probePostgres(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || err.name : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A fresh database on the server of `url`, for processes that cannot share a schema on the search path; `drop` removes it. */
export async function freshDatabase(url: string, prefix: string): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const u = new URL(url);
  u.pathname = `/${name}`;
  u.search = '';
  return { url: u.toString(), name, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

// ---------------------------------------------------------------------------------------------
// Child processes

export const ACS_BIN = fileURLToPath(new URL('../bin/acs.js', import.meta.url));

export interface Child {
  name: string;
  child: ChildProcess;
  /** pino's JSON lines, parsed. */
  lines: Record<string, unknown>[];
  /** Resolves with the line whose msg starts with `prefix` (bounded by `ms`). */
  waitFor(prefix: string, ms: number): Promise<Record<string, unknown>>;
}

const children = new Set<ChildProcess>();
let exitHook = false;

/** Kills every child still running (SIGKILL: the bench is over, nothing of theirs is kept). */
export function killChildren(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}

/** Runs `acs ARGS` with `env` added (a key set to undefined is removed); every child is killed when the bench exits, whatever the way. */
export function spawnAcs(name: string, args: string[], env: NodeJS.ProcessEnv): Child {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', killChildren);
    for (const sig of ['SIGINT', 'SIGTERM'] as const)
      process.on(sig, () => {
        killChildren();
        process.exit(130);
      });
  }
  const full: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete full[k];
  const child = spawn(process.execPath, [ACS_BIN, ...args], { env: full, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  const lines: Record<string, unknown>[] = [];
  const waiters: { prefix: string; resolve: (l: Record<string, unknown>) => void }[] = [];
  let rest = '';
  const take = (line: Record<string, unknown>) => {
    lines.push(line);
    for (const w of [...waiters])
      if (typeof line.msg === 'string' && line.msg.startsWith(w.prefix)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
  };
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    for (const text of parts) {
      try {
        take({ ...(JSON.parse(text) as Record<string, unknown>), at: performance.now() });
      } catch {
        take({ msg: text, at: performance.now() });
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => lines.push({ msg: d.toString(), stderr: true, at: performance.now() }));
  return {
    name,
    child,
    lines,
    waitFor: (prefix, ms) =>
      new Promise((resolve, reject) => {
        const found = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith(prefix));
        if (found) return resolve(found);
        const timer = setTimeout(
          () => reject(new Error(`${name}: no "${prefix}" within ${ms} ms; last lines: ${JSON.stringify(lines.slice(-5))}`)),
          ms,
        );
        const onExit = () =>
          reject(new Error(`${name} exited (${child.exitCode ?? child.signalCode}): ${JSON.stringify(lines.slice(-5))}`));
        child.once('exit', onExit);
        waiters.push({
          prefix,
          resolve: (l) => {
            clearTimeout(timer);
            child.off('exit', onExit);
            resolve(l);
          },
        });
      }),
  };
}

/** Stops a child with SIGTERM and waits (bounded) for it to exit; SIGKILL after `ms`. */
export async function stopChild(c: Child, ms = 10_000): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  const exited = new Promise<void>((r) => c.child.once('exit', () => r()));
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

/** CPU seconds (user + system) a process has used, from /proc; null where /proc does not show it. */
export function cpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, in clock ticks (100 per second on Linux).
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/** The whole machine's busy and total CPU seconds since boot, from /proc/stat. */
export function machineCpu(): { busy: number; total: number } | null {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = cpu.reduce((a, b) => a + b, 0) / 100;
    const idle = ((cpu[3] ?? 0) + (cpu[4] ?? 0)) / 100;
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/** Runs `fn` on PostgreSQL at `url` in a fresh schema `bench_<hex>`, dropped afterwards whatever happens. */
export async function withPostgresSchema<T>(url: string, fn: (db: Db, label: string, version: string | null) => Promise<T>): Promise<T> {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  progress(`postgres: using schema ${schema} on ${redact(url)}`);
  const db = await openPostgres(url, { schema });
  try {
    const [version] = await db.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    return await fn(db, `PostgreSQL ${version?.v ?? '(unknown version)'} (${redact(url)}, schema ${schema})`, version?.v ?? null);
  } finally {
    await db
      .exec(`DROP SCHEMA ${schema} CASCADE`)
      .catch((err: unknown) => progress(`postgres: could not drop schema ${schema}: ${String(err)}`));
    await db.close();
    progress(`postgres: dropped schema ${schema}`);
  }
}
