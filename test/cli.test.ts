import { cpSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliEnv, openCliDb, runAcs, type CliEnv } from './cli-helpers.ts';

let cli: CliEnv;
beforeAll(async () => {
  cli = await cliEnv();
});
afterAll(async () => cli.cleanup());

const openDb = () => openCliDb(cli);

describe('acs CLI', () => {
  it('explains usage mistakes with exit code 2', async () => {
    const none = await runAcs([], cli.env);
    expect(none.code).toBe(2);
    expect(none.stdout).toContain('acs ledger verify');
    const unknown = await runAcs(['frobnicate'], cli.env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const missing = await runAcs(['token', 'create', '--name', 'x'], cli.env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--role');
  });

  it('names a bad configuration variable', async () => {
    const res = await runAcs(['migrate'], { ...cli.env, ACS_PORT: 'not-a-port' });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('ACS_PORT');
  });

  it('creates tokens, refuses unknown roles, and verifies the ledger', async () => {
    const created = await runAcs(['token', 'create', '--role', 'analyst', '--name', 'ci'], cli.env);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/created analyst token tok_\w+\nacs_[\w-]{43}\n/);
    const bad = await runAcs(['token', 'create', '--role', 'overlord', '--name', 'x'], cli.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('role: must be one of admin, reviewer, analyst, agent');
    const verify = await runAcs(['ledger', 'verify'], cli.env);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toMatch(/^ledger ok: 1 entries, head [0-9a-f]{64}/);
  });

  it('ledger verify fails and names the entry after one byte of it is flipped in the database', async () => {
    await runAcs(['token', 'create', '--role', 'agent', '--name', 'second'], cli.env);
    await runAcs(['token', 'create', '--role', 'reviewer', '--name', 'third'], cli.env);
    const db = await openDb();
    try {
      await db.transaction(async (tx) => {
        await tx.query('SET LOCAL session_replication_role = replica');
        await tx.query(`UPDATE ledger SET body = replace(body, '"agent"', '"agenT"') WHERE seq = 2`);
      });
    } finally {
      await db.close();
    }
    const res = await runAcs(['ledger', 'verify', '--json'], cli.env);
    expect(res.code).toBe(1);
    expect(JSON.parse(res.stdout)).toMatchObject({ ok: false, firstBadSeq: 2, entries: 1 });
  });

  it('serve refuses to start on a policy that does not validate, showing where', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'acs-bad-policy-'));
    cpSync(fileURLToPath(new URL('../policies/', import.meta.url)), dir, { recursive: true });
    writeFileSync(
      join(dir, 'zz-broken.cedar'),
      '@id("broken")\n@outcome("execute")\npermit(principal, action, resource) when { resource.noSuchAttribute == 1 };\n',
    );
    const res = await runAcs(['serve'], { ...cli.env, ACS_POLICY_DIR: dir, ACS_PORT: '0' });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toMatch(/zz-broken\.cedar:3:\d+/);
  });
});
