import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICY_DIR, followPolicyVersions, PolicyGate, syncPolicyVersion, type PolicyRequestInput } from '../src/assure/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

// Adopting a validated policy change without a restart: versioned, ledgered, in force at once (and in every other
// process through the NOTIFY on PostgreSQL), and rolled back to an earlier version. Through the real HTTP app.

const SHIPPED = readFileSync(join(DEFAULT_POLICY_DIR, 'default.cedar'), 'utf8');
// Low-risk service actions wait for a human.
const CANDIDATE = SHIPPED.replace(
  /@id\("low-risk-service-l3"\)\n@outcome\("execute"\)/,
  '@id("low-risk-service-l3")\n@outcome("approval")',
);

const caseAtL3: PolicyRequestInput = {
  agent: { id: 'service-recovery', role: 'agent', autonomy: 3 },
  action: 'create_case',
  customer: { id: 'ADOPT-1', segment: 'consumer', region: 'US', inHoldout: false },
  context: { risk: 'low' },
};

let t: TestApp;
const count = async (table: string) => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;

beforeAll(async () => {
  expect(CANDIDATE).not.toBe(SHIPPED);
  t = await createTestApp();
});
afterAll(async () => t.close());

describe('POST /api/v1/policies/adopt', () => {
  it('refuses an invalid set with a 400 naming file:line:column, and stores and ledgers nothing', async () => {
    const broken = SHIPPED.split('\n');
    broken[11] = 'when { principal.autonomy <= };';
    const ledgerBefore = await count('ledger');
    const res = await t.call('POST', '/api/v1/policies/adopt', {
      body: { files: [{ file: 'default.cedar', text: broken.join('\n') }], reason: 'broken on purpose' },
    });
    expect(res.status).toBe(400);
    expect(res.body.issues[0].path).toBe('files.0.text');
    expect(res.body.issues[0].message).toMatch(/^default\.cedar:12:\d+: /);
    expect(await count('policy_versions')).toBe(0);
    expect(await count('ledger')).toBe(ledgerBefore);
    expect(t.gate.version).toBe(0);
  });

  it('needs a reason, and is an admin’s', async () => {
    const noReason = await t.call('POST', '/api/v1/policies/adopt', { body: { files: [{ file: 'default.cedar', text: CANDIDATE }] } });
    expect(noReason.status).toBe(400);
    expect(noReason.body.issues.map((i: { path: string }) => i.path)).toContain('reason');
    for (const role of ['reviewer', 'analyst', 'agent'] as const)
      expect(
        (
          await t.call('POST', '/api/v1/policies/adopt', {
            role,
            body: { files: [{ file: 'default.cedar', text: CANDIDATE }], reason: 'x' },
          })
        ).status,
      ).toBe(403);
    expect(await count('policy_versions')).toBe(0);
  });

  it('puts a valid set in force at once: versioned (the starting files are version 1), ledgered, decided by it', async () => {
    expect(t.gate.decide(caseAtL3)).toMatchObject({ outcome: 'execute', policyIds: ['low-risk-service-l3'] });
    const res = await t.call('POST', '/api/v1/policies/adopt', {
      body: { files: [{ file: 'default.cedar', text: CANDIDATE }], reason: 'cases wait for a human this week' },
    });
    expect(res.status, res.text).toBe(200);
    expect(res.body.version).toBe(2);
    expect(res.body.files).toEqual([{ file: 'default.cedar', text: CANDIDATE }]);
    expect(res.body.policies.find((p: { id: string }) => p.id === 'low-risk-service-l3').outcome).toBe('approval');
    // The running gate decides with it, no restart.
    expect(t.gate.decide(caseAtL3)).toMatchObject({ outcome: 'approval', policyIds: ['low-risk-service-l3'] });
    expect((await t.call('GET', '/api/v1/policies', { role: 'analyst' })).body.version).toBe(2);
    // And the agents' view of autonomy follows it.
    const agents = await t.call('GET', '/api/v1/agents');
    expect(agents.body.data.find((a: { id: string }) => a.id === 'service-recovery').actions.create_case.effective.inForce).toBe(
      'approval',
    );

    const versions = await t.call('GET', '/api/v1/policies/versions', { role: 'reviewer' });
    expect(versions.status).toBe(200);
    expect(versions.body.inForce).toBe(2);
    expect(
      versions.body.data.map((v: { version: number; reason: string; restores: number | null }) => [v.version, v.reason, v.restores]),
    ).toEqual([
      [2, 'cases wait for a human this week', null],
      [1, 'the policy files the server started from', null],
    ]);
    const one = await t.call('GET', '/api/v1/policies/versions/1', { role: 'analyst' });
    expect(one.body.files).toEqual([{ file: 'default.cedar', text: SHIPPED }]);
    expect((await t.call('GET', '/api/v1/policies/versions/9')).status).toBe(404);
    expect((await t.call('GET', '/api/v1/policies/versions/x')).status).toBe(400);

    const ledger = await t.call('GET', '/api/v1/ledger?type=policy.adopted');
    expect(ledger.body.data.map((e: { subjectId: string; data: Record<string, unknown> }) => [e.subjectId, e.data])).toEqual([
      ['2', { version: 2, sha256: versions.body.data[0].sha256, files: ['default.cedar'], reasonGiven: true }],
      ['1', { version: 1, sha256: versions.body.data[1].sha256, files: ['default.cedar'], fromFiles: true }],
    ]);
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
  });

  it('a process that starts, or hears the NOTIFY, puts the newest version in force', async () => {
    const other = PolicyGate.load();
    expect(other.decide(caseAtL3).outcome).toBe('execute');
    expect(await syncPolicyVersion(t.db, other)).toBe(2);
    expect(other.decide(caseAtL3).outcome).toBe('approval');
  });
});

describe('POST /api/v1/policies/versions/{version}/restore', () => {
  it('rolls back: adopts version 1 again as version 3 naming it, in force at once, ledgered', async () => {
    const noReason = await t.call('POST', '/api/v1/policies/versions/1/restore', { body: {} });
    expect(noReason.status).toBe(400);
    expect(noReason.body.issues[0].path).toBe('reason');
    expect((await t.call('POST', '/api/v1/policies/versions/1/restore', { role: 'reviewer', body: { reason: 'x' } })).status).toBe(403);
    expect((await t.call('POST', '/api/v1/policies/versions/42/restore', { body: { reason: 'x' } })).status).toBe(404);

    const res = await t.call('POST', '/api/v1/policies/versions/1/restore', { body: { reason: 'the queue grew too long' } });
    expect(res.status, res.text).toBe(200);
    expect(res.body).toMatchObject({ version: 3, files: [{ file: 'default.cedar', text: SHIPPED }] });
    expect(t.gate.decide(caseAtL3)).toMatchObject({ outcome: 'execute', policyIds: ['low-risk-service-l3'] });
    const versions = await t.call('GET', '/api/v1/policies/versions');
    expect(versions.body.data[0]).toMatchObject({ version: 3, restores: 1, reason: 'the queue grew too long' });
    expect(versions.body.data[0].sha256).toBe(versions.body.data[2].sha256);
    const [entry] = (await t.call('GET', '/api/v1/ledger?type=policy.adopted')).body.data;
    expect(entry.data).toMatchObject({ version: 3, restores: 1, reasonGiven: true });
  });
});

if (process.env.DATABASE_URL) {
  describe('on PostgreSQL, another process follows an adoption through the NOTIFY', () => {
    it('a second gate listening on the same database decides with the adopted set without being asked', async () => {
      const other = PolicyGate.load();
      const stop = await followPolicyVersions(t.db, other, (err) => {
        throw err;
      });
      expect(stop).not.toBeNull();
      expect(other.version).toBe(3);
      const res = await t.call('POST', '/api/v1/policies/adopt', {
        body: { files: [{ file: 'default.cedar', text: CANDIDATE }], reason: 'again' },
      });
      expect(res.status, res.text).toBe(200);
      for (let i = 0; i < 100 && other.version < 4; i++) await new Promise((r) => setTimeout(r, 50));
      expect(other.version).toBe(4);
      expect(other.decide(caseAtL3).outcome).toBe('approval');
      await stop!();
    });
  });
}
