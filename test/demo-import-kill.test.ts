import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../src/ledger/index.ts';
import { ACS_BIN, cliEnv, openCliDb, type CliEnv } from './cli-helpers.ts';

// A kill -9 of `acs serve --load-demo` (what `npm start` runs, less the live world, which starts only after the load)
// during the first start's demo import, then a start on the same data dir (or schema): the import must finish.
let cli: CliEnv;
const runs: { child: ChildProcess; logs: string }[] = [];

function serve(): { child: ChildProcess; logs: string } {
  const child = spawn(process.execPath, [ACS_BIN, 'serve', '--load-demo'], {
    env: { ...cli.env, ACS_PORT: '0', ACS_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run = { child, logs: '' };
  child.stdout!.on('data', (d: Buffer) => (run.logs += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.logs += d.toString()));
  runs.push(run);
  return run;
}

/** The first log line matching `pattern`, parsed; rejects after `timeoutMs` or when the process exits first. */
function waitForLog(
  run: { child: ChildProcess; logs: string },
  pattern: RegExp,
  timeoutMs: number,
  accept: (line: Record<string, unknown>) => boolean = () => true,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const done = (fn: () => void) => {
      clearInterval(poll);
      clearTimeout(timer);
      fn();
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`no log line matching ${pattern} within ${timeoutMs} ms:\n${run.logs.slice(-3000)}`))),
      timeoutMs,
    );
    const poll = setInterval(() => {
      const line = run.logs
        .split('\n')
        .filter((l) => pattern.test(l))
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find(accept);
      if (line) done(() => resolve(line));
      else if (run.child.exitCode !== null)
        done(() => reject(new Error(`acs serve exited (${run.child.exitCode}):\n${run.logs.slice(-3000)}`)));
    }, 20);
  });
}

const exited = (child: ChildProcess, timeoutMs: number) =>
  new Promise<void>((resolve, reject) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => reject(new Error(`acs serve did not exit within ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });

let killedAt = 0;
let second: { child: ChildProcess; logs: string };

beforeAll(async () => {
  cli = await cliEnv();
  const first = serve();
  // The import logs each tenth of the rows; the kill lands at 30% or more, before the end.
  const progress = await waitForLog(first, /loading demo customers: \d+ of 7043/, 240_000, (l) => (l.done as number) >= 0.3 * 7043);
  killedAt = progress.done as number;
  first.child.kill('SIGKILL');
  await exited(first.child, 10_000);
  expect(first.child.signalCode).toBe('SIGKILL');
  second = serve();
  await waitForLog(second, /demo knowledge base 'telco-agent-playbook'/, 300_000);
}, 600_000);

afterAll(async () => {
  for (const r of runs) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
  await cli?.cleanup();
});

describe('kill -9 during the first start’s demo import', () => {
  it('was killed partway through the import, not before or after it', () => {
    expect(killedAt).toBeGreaterThanOrEqual(0.3 * 7043);
    expect(killedAt).toBeLessThan(7043);
    expect(runs[0]!.logs).not.toMatch(/loaded \d+ demo customers/);
  });

  it('the restart says the import was interrupted and how far it got, then finishes it', async () => {
    const resumed = await waitForLog(second, /demo import was interrupted at \d+ of 7043 customers; resuming/, 1_000);
    // Progress is reported after a batch commits: what the first run reported done is there; the rest was not.
    expect(resumed.present as number).toBeGreaterThanOrEqual(killedAt);
    expect(resumed.present as number).toBeLessThan(7043);
    const finished = await waitForLog(second, /finished the interrupted demo import/, 1_000);
    expect(finished.imported).toBe(7043 - (resumed.present as number));
    expect(second.logs).not.toContain('demo customers already loaded');
  });

  it('serves every demo customer through the API', async () => {
    const listening = await waitForLog(second, /ACS listening/, 1_000);
    const token = readFileSync(join(cli.dataDir, 'admin-token'), 'utf8').trim();
    for (const id of ['CUST-000001', 'CUST-003000', 'CUST-007043']) {
      const res = await fetch(`${listening.url as string}/api/v1/customers/${id}/profile`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status, id).toBe(200);
      expect(((await res.json()) as { subscriptions: unknown[] }).subscriptions, id).toHaveLength(1);
    }
  });

  it('holds each of the 7,043 customers once, with one subscription and one ledger entry each, a verifying ledger and the demo knowledge base', async () => {
    second.child.kill('SIGTERM');
    await exited(second.child, 30_000);
    const db = await openCliDb(cli);
    try {
      const one = async (sql: string) => (await db.query<{ n: number }>(sql))[0]!.n;
      expect(await one('SELECT count(*)::int AS n FROM accounts')).toBe(7043);
      expect(await one('SELECT count(DISTINCT customer_id)::int AS n FROM accounts')).toBe(7043);
      expect(await one('SELECT count(*)::int AS n FROM subscriptions')).toBe(7043);
      expect(await one('SELECT count(DISTINCT account_id)::int AS n FROM subscriptions')).toBe(7043);
      expect(await one(`SELECT count(*)::int AS n FROM ledger WHERE type = 'record.created' AND subject_type = 'accounts'`)).toBe(7043);
      expect(await one(`SELECT count(*)::int AS n FROM ledger WHERE type = 'record.updated'`)).toBe(0);
      // The kill left no half-written chain: every entry links to the one before.
      expect((await verifyLedger(db)).ok).toBe(true);
      expect(await one('SELECT count(*)::int AS n FROM demo_loads WHERE completed_at IS NOT NULL')).toBe(1);
      expect(await one(`SELECT count(*)::int AS n FROM knowledge_sources WHERE name = 'telco-agent-playbook'`)).toBe(1);
      expect(await one('SELECT count(*)::int AS n FROM knowledge_chunks')).toBeGreaterThan(0);
    } finally {
      await db.close();
    }
  });
});
