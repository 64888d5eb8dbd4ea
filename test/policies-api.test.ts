import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordDecision } from '../src/act/index.ts';
import { DEFAULT_POLICY_DIR, dryRunPolicies, recordProposal, type PolicyRequestInput } from '../src/assure/index.ts';
import { createTestApp, type TestApp } from './helpers.ts';

const SHIPPED = readFileSync(join(DEFAULT_POLICY_DIR, 'default.cedar'), 'utf8');
const SCHEMA = readFileSync(join(DEFAULT_POLICY_DIR, 'schema.cedarschema'), 'utf8');

/** The shipped set with one policy's text replaced (or removed, with ''), found by its @id. */
function edited(id: string, replacement: string): string {
  const start = SHIPPED.indexOf(`@id("${id}")`);
  expect(start, id).toBeGreaterThanOrEqual(0);
  const end = SHIPPED.indexOf('};', start) + 2;
  return SHIPPED.slice(0, start) + replacement + SHIPPED.slice(end);
}

// Two changes: low-risk service actions now wait for a human, and the consent forbid is gone.
const CANDIDATE = edited(
  'low-risk-service-l3',
  [
    '@id("low-risk-service-l3")',
    '@outcome("approval")',
    '@reason("low-risk service actions wait for a human for now")',
    'permit (principal, action in [Action::"service", Action::"sales", Action::"data"], resource)',
    'when { principal.autonomy >= 3 && context.risk == "low" };',
  ].join('\n'),
).replace(/@id\("outreach-requires-consent"\)[\s\S]*?unless \{[^}]*\};/, '');

let t: TestApp;
let accountId: string;
const HOUR = 3_600_000;
const recorded: Record<string, { decisionId: string; proposalId: string; outcome: string; at: Date }> = {};

/** A proposal and the running gate's real decision on it, recorded at `at`, as the loop records them. */
async function decide(
  name: string,
  action: PolicyRequestInput['action'],
  autonomy: number,
  context: PolicyRequestInput['context'],
  at: Date,
  params: Record<string, unknown>,
) {
  const request: PolicyRequestInput = {
    agent: { id: 'service-recovery', role: 'agent', autonomy },
    action,
    customer: { id: 'POL-1', segment: 'consumer', region: 'US', inHoldout: false },
    context,
  };
  const decision = t.gate.decide(request);
  const ids = await t.db.transaction(async (tx) => {
    const proposalId = await recordProposal(tx, {
      agentId: 'service-recovery',
      accountId,
      leadId: null,
      action,
      params,
      risk: context.risk,
      ev: { value: 1 },
      reason: `test ${name}`,
    });
    return { proposalId, ...(await recordDecision(tx, proposalId, request, decision, { now: at })) };
  });
  recorded[name] = { decisionId: ids.decisionId, proposalId: ids.proposalId, outcome: decision.outcome, at };
}

const count = async (table: string) => (await t.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`))[0]!.n;
const TABLES = ['proposals', 'decisions', 'approvals', 'executions', 'credits', 'tasks', 'cases', 'messages', 'plays'];

beforeAll(async () => {
  t = await createTestApp();
  accountId = (await t.call('POST', '/api/v1/accounts', { body: { name: 'Policy Co', customerId: 'POL-1' } })).body.id;
  const now = t.clock.now().getTime();
  await decide('case-l3', 'create_case', 3, { risk: 'low' }, new Date(now - 1 * HOUR), { subject: 'check in' });
  await decide('case-l2', 'create_case', 2, { risk: 'low' }, new Date(now - 2 * HOUR), { subject: 'draft' });
  await decide('credit-l4', 'offer_credit', 4, { risk: 'low', amountCents: 2000 }, new Date(now - 3 * HOUR), { amountCents: 2000 });
  await decide(
    'email-no-consent',
    'send_message',
    4,
    { risk: 'low', channel: 'email', purpose: 'service', hasConsent: false },
    new Date(now - 4 * HOUR),
    { channel: 'email', purpose: 'service', template: 'x' },
  );
  await decide('big-credit', 'offer_credit', 4, { risk: 'low', amountCents: 9000 }, new Date(now - 5 * HOUR), { amountCents: 9000 });
  await decide('old-case-l3', 'create_case', 3, { risk: 'low' }, new Date(now - 10 * 24 * HOUR), { subject: 'old' });
  expect(Object.fromEntries(Object.entries(recorded).map(([k, v]) => [k, v.outcome]))).toEqual({
    'case-l3': 'execute',
    'case-l2': 'approval',
    'credit-l4': 'execute',
    'email-no-consent': 'deny',
    'big-credit': 'approval',
    'old-case-l3': 'execute',
  });
});
afterAll(async () => t.close());

describe('GET /api/v1/policies', () => {
  it('lists the set the server runs: files, schema, each policy with its file and line, and the credit limit', async () => {
    const res = await t.call('GET', '/api/v1/policies', { role: 'analyst' });
    expect(res.status).toBe(200);
    expect(res.body.files).toEqual([{ file: 'default.cedar', text: SHIPPED }]);
    expect(res.body.schema).toEqual({ file: 'schema.cedarschema', text: SCHEMA });
    expect(res.body.creditApprovalLimitCents).toBe(5000);
    expect(res.body.policies).toHaveLength(17);
    expect(res.body.policies[0]).toEqual({
      id: 'autonomy-l0-off',
      effect: 'forbid',
      outcome: 'deny',
      reason: "the agent's autonomy for this action is L0 (off)",
      file: 'default.cedar',
      line: SHIPPED.split('\n').findIndex((l) => l.startsWith('@id("autonomy-l0-off")')) + 1,
    });
    expect(res.body.policies.find((p: { id: string }) => p.id === 'credit-within-limit-l4')).toMatchObject({
      effect: 'permit',
      outcome: 'execute',
    });
    expect(res.body.policies.filter((p: { outcome: string }) => p.outcome === 'approval')).toHaveLength(7);
  });

  it('is refused to the agent role, on every policy route', async () => {
    expect((await t.call('GET', '/api/v1/policies', { role: 'agent' })).status).toBe(403);
    expect(
      (await t.call('POST', '/api/v1/policies/validate', { role: 'agent', body: { files: [{ file: 'a.cedar', text: SHIPPED }] } })).status,
    ).toBe(403);
    const before = await count('ledger');
    const dry = await t.call('POST', '/api/v1/policies/dry-run', { role: 'agent', body: { files: [{ file: 'a.cedar', text: SHIPPED }] } });
    expect(dry.status).toBe(403);
    expect(dry.body.code).toBe('forbidden');
    expect(await count('ledger')).toBe(before);
  });
});

describe('POST /api/v1/policies/validate', () => {
  it('accepts the shipped set, with its policies and no problems', async () => {
    const res = await t.call('POST', '/api/v1/policies/validate', {
      role: 'reviewer',
      body: { files: [{ file: 'default.cedar', text: SHIPPED }] },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ ok: true, problems: [], warnings: [] });
    expect(res.body.policies.map((p: { id: string }) => p.id)).toEqual(
      (await t.call('GET', '/api/v1/policies')).body.policies.map((p: { id: string }) => p.id),
    );
  });

  it('reports a syntax error in its own file with line and column, as ok:false (not a 400)', async () => {
    const res = await t.call('POST', '/api/v1/policies/validate', {
      body: {
        files: [
          { file: 'default.cedar', text: SHIPPED },
          {
            file: 'extra.cedar',
            text: '// broken\n@id("half") @outcome("execute")\npermit (principal, action, resource) when { principal.autonomy >= };\n',
          },
        ],
      },
    });
    expect(res.status).toBe(200);
    expect(res.body.ok).toBe(false);
    expect(res.body.policies).toEqual([]);
    expect(res.body.problems).toEqual([{ file: 'extra.cedar', line: 3, column: 67, message: expect.stringContaining('unexpected token') }]);
  });

  it('reports schema validation and annotation problems located in the candidate files', async () => {
    const vip = await t.call('POST', '/api/v1/policies/validate', {
      body: {
        files: [
          { file: 'a.cedar', text: '@id("ok") @outcome("execute") permit (principal, action, resource);' },
          {
            file: 'vip.cedar',
            text: '@id("vip") @outcome("execute")\npermit (principal, action, resource)\nwhen { resource.vipTier == 3 };',
          },
        ],
      },
    });
    expect(vip.body).toMatchObject({
      ok: false,
      problems: [{ file: 'vip.cedar', line: 3, column: 8, message: expect.stringContaining('vipTier') }],
    });
    const dup = await t.call('POST', '/api/v1/policies/validate', {
      body: {
        files: [
          {
            file: 'd.cedar',
            text: '@id("x") @outcome("execute") permit (principal, action, resource);\n@id("x") forbid (principal, action, resource);',
          },
        ],
      },
    });
    expect(dup.body.problems).toEqual([{ file: 'd.cedar', line: 2, column: 1, message: 'duplicate @id("x")' }]);
  });

  it('a malformed body is a 400 naming the field', async () => {
    const issue = async (body: unknown) => {
      const res = await t.call('POST', '/api/v1/policies/validate', { body });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      return res.body.issues.map((i: { path: string }) => i.path);
    };
    expect(await issue({})).toEqual(['files']);
    expect(await issue({ files: [] })).toEqual(['files']);
    expect(await issue({ files: [{ file: 'policy.txt', text: SHIPPED }] })).toEqual(['files.0.file']);
    expect(await issue({ files: [{ file: '../etc/x.cedar', text: SHIPPED }] })).toEqual(['files.0.file']);
    expect(
      await issue({
        files: [
          { file: 'a.cedar', text: SHIPPED },
          { file: 'a.cedar', text: '' },
        ],
      }),
    ).toEqual(['files.1.file']);
    expect(await issue({ files: [{ file: 'a.cedar', text: `// ${'x'.repeat(200 * 1024)}` }] })).toEqual(['files.0.text']);
    expect(await issue({ files: [{ file: 'a.cedar' }] })).toEqual(['files.0.text']);
  });
});

describe('POST /api/v1/policies/dry-run', () => {
  it('re-decides the recorded decisions of the window with the candidate and lists what changes, newest first', async () => {
    const res = await t.call('POST', '/api/v1/policies/dry-run', {
      role: 'analyst',
      body: { files: [{ file: 'default.cedar', text: CANDIDATE }] },
    });
    expect(res.status).toBe(200);
    const now = t.clock.now().getTime();
    expect(res.body).toMatchObject({
      days: 7,
      considered: 5,
      changed: 2,
      truncated: false,
      transitions: { 'execute→approval': 1, 'deny→execute': 1 },
    });
    expect(Object.keys(res.body.transitions)).toHaveLength(2);
    expect(Math.abs(Date.parse(res.body.to) - now)).toBeLessThan(60_000);
    expect(Date.parse(res.body.to) - Date.parse(res.body.from)).toBe(7 * 24 * HOUR);
    expect(res.body.changes).toEqual([
      {
        decisionId: recorded['case-l3']!.decisionId,
        proposalId: recorded['case-l3']!.proposalId,
        agentId: 'service-recovery',
        action: 'create_case',
        accountId,
        leadId: null,
        decidedAt: recorded['case-l3']!.at.toISOString(),
        before: { outcome: 'execute', policyIds: ['low-risk-service-l3'] },
        after: { outcome: 'approval', policyIds: ['low-risk-service-l3'], reasons: ['low-risk service actions wait for a human for now'] },
      },
      {
        decisionId: recorded['email-no-consent']!.decisionId,
        proposalId: recorded['email-no-consent']!.proposalId,
        agentId: 'service-recovery',
        action: 'send_message',
        accountId,
        leadId: null,
        decidedAt: recorded['email-no-consent']!.at.toISOString(),
        before: { outcome: 'deny', policyIds: ['outreach-requires-consent'] },
        after: { outcome: 'execute', policyIds: ['low-risk-outreach-l3'], reasons: ['low-risk, consented outreach runs at L3 and above'] },
      },
    ]);
  });

  it('shows the money and contacts a candidate adds or removes against the policies in force', async () => {
    const none = { added: { count: 0, cents: 0 }, removed: { count: 0, cents: 0 } };
    // The consent forbid gone: the message that was denied now goes, with nobody approving.
    const contacts = await t.call('POST', '/api/v1/policies/dry-run', { body: { files: [{ file: 'default.cedar', text: CANDIDATE }] } });
    expect(contacts.status, contacts.text).toBe(200);
    const one = { added: { count: 1, cents: 0 }, removed: { count: 0, cents: 0 } };
    expect(contacts.body.impact).toEqual({ credits: { allowed: none, withoutHuman: none }, contacts: { allowed: one, withoutHuman: one } });

    // Without the L4 credit rule, the $20.00 credit that ran is denied by default; the $90.00 one still waits.
    const noL4 = edited('credit-within-limit-l4', '');
    const credits = await t.call('POST', '/api/v1/policies/dry-run', { body: { files: [{ file: 'default.cedar', text: noL4 }] } });
    expect(credits.status, credits.text).toBe(200);
    const lost = { added: { count: 0, cents: 0 }, removed: { count: 1, cents: 2000 } };
    expect(credits.body.transitions).toEqual({ 'execute→deny': 1 });
    expect(credits.body.impact).toEqual({
      credits: { allowed: lost, withoutHuman: lost },
      contacts: { allowed: none, withoutHuman: none },
    });
  });

  it('looks back `days`: a longer window takes in older decisions', async () => {
    const res = await t.call('POST', '/api/v1/policies/dry-run', {
      body: { files: [{ file: 'default.cedar', text: CANDIDATE }], days: 30 },
    });
    expect(res.body).toMatchObject({ days: 30, considered: 6, changed: 3, transitions: { 'execute→approval': 2, 'deny→execute': 1 } });
    expect(res.body.changes.at(-1).decisionId).toBe(recorded['old-case-l3']!.decisionId);
    expect(
      (await t.call('POST', '/api/v1/policies/dry-run', { body: { files: [{ file: 'default.cedar', text: CANDIDATE }], days: 91 } })).body
        .issues[0].path,
    ).toBe('days');
    expect(
      (await t.call('POST', '/api/v1/policies/dry-run', { body: { files: [{ file: 'default.cedar', text: CANDIDATE }], days: 0 } })).status,
    ).toBe(400);
  });

  it('runs one dry-run at a time on a server: one sent while another runs is a 429, and the next goes through', async () => {
    const send = () =>
      t.call('POST', '/api/v1/policies/dry-run', { body: { files: [{ file: 'default.cedar', text: CANDIDATE }], days: 30 } });
    const together = await Promise.all([send(), send(), send()]);
    const statuses = together.map((r) => r.status).sort();
    expect(statuses[0]).toBe(200);
    expect(statuses).toContain(429);
    expect(together.find((r) => r.status === 429)!.body).toMatchObject({
      code: 'policy.dry_run_busy',
      detail: expect.stringContaining('already running'),
    });
    expect((await send()).status).toBe(200);
  });

  it('the set in force changes nothing', async () => {
    const res = await t.call('POST', '/api/v1/policies/dry-run', { body: { files: [{ file: 'default.cedar', text: SHIPPED }], days: 30 } });
    expect(res.body).toMatchObject({ considered: 6, changed: 0, transitions: {}, changes: [], truncated: false });
  });

  it('writes nothing but one policy.dry_run ledger entry, runs nothing, and leaves the running policies in force', async () => {
    const before = await Promise.all(TABLES.map(count));
    const ledgerBefore = await count('ledger');
    const res = await t.call('POST', '/api/v1/policies/dry-run', {
      role: 'reviewer',
      body: { files: [{ file: 'default.cedar', text: CANDIDATE }] },
    });
    expect(res.status).toBe(200);
    expect(await Promise.all(TABLES.map(count))).toEqual(before);
    expect(await count('ledger')).toBe(ledgerBefore + 1);
    const [entry] = await t.db.query<{ type: string; actor: string; subject_type: string; body: string }>(
      'SELECT type, actor, subject_type, body FROM ledger ORDER BY id DESC LIMIT 1',
    );
    expect(entry).toMatchObject({ type: 'policy.dry_run', subject_type: 'policies', actor: expect.stringMatching(/^token:/) });
    expect(JSON.parse(entry!.body).data).toMatchObject({
      files: ['default.cedar'],
      days: 7,
      considered: 5,
      changed: 2,
      transitions: { 'execute→approval': 1, 'deny→execute': 1 },
    });
    expect((await t.call('GET', '/api/v1/ledger/verify')).body.ok).toBe(true);
    // The candidate was preparsed beside the running set, never over it.
    const request: PolicyRequestInput = {
      agent: { id: 'a', role: 'agent', autonomy: 3 },
      action: 'create_case',
      customer: { id: 'c', segment: 's', region: 'r', inHoldout: false },
      context: { risk: 'low' },
    };
    expect(t.gate.decide(request)).toMatchObject({ outcome: 'execute', policyIds: ['low-risk-service-l3'] });
    const email: PolicyRequestInput = {
      ...request,
      action: 'send_message',
      agent: { ...request.agent, autonomy: 4 },
      context: { risk: 'low', channel: 'email', purpose: 'service', hasConsent: false },
    };
    expect(t.gate.decide(email)).toMatchObject({ outcome: 'deny', policyIds: ['outreach-requires-consent'] });
  });

  it('an invalid candidate is a 400 whose issues locate each problem, and is not ledgered', async () => {
    const ledgerBefore = await count('ledger');
    const res = await t.call('POST', '/api/v1/policies/dry-run', {
      body: {
        files: [
          { file: 'default.cedar', text: SHIPPED },
          {
            file: 'extra.cedar',
            text: '// broken\n@id("half") @outcome("execute")\npermit (principal, action, resource) when { principal.autonomy >= };\n',
          },
        ],
      },
    });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.issues).toEqual([{ path: 'files.1.text', message: expect.stringMatching(/^extra\.cedar:3:67: .*unexpected token/) }]);
    expect(res.body.problems).toEqual([{ file: 'extra.cedar', line: 3, column: 67, message: expect.stringContaining('unexpected token') }]);
    expect(await count('ledger')).toBe(ledgerBefore);
  });

  it('reads in pages and keeps each candidate apart, even when dry runs interleave page by page', async () => {
    const opts = { days: 30, now: t.clock.now(), actor: 'test' };
    const whole = await dryRunPolicies(t.db, t.gate, [{ file: 'default.cedar', text: CANDIDATE }], opts);
    // Page size 1: a query (and a fresh preparse of the candidate) per decision, with the two runs taking turns.
    const [paged, unchanged] = await Promise.all([
      dryRunPolicies(t.db, t.gate, [{ file: 'default.cedar', text: CANDIDATE }], { ...opts, pageSize: 1 }),
      dryRunPolicies(t.db, t.gate, [{ file: 'default.cedar', text: SHIPPED }], { ...opts, pageSize: 1 }),
    ]);
    expect(paged).toEqual(whole);
    expect(unchanged).toMatchObject({ considered: 6, changed: 0 });
    const truncated = await dryRunPolicies(t.db, t.gate, [{ file: 'default.cedar', text: CANDIDATE }], {
      ...opts,
      pageSize: 2,
      maxChanges: 1,
    });
    expect(truncated).toMatchObject({ considered: 6, changed: 3, truncated: true });
    expect(truncated.changes).toEqual(whole.changes.slice(0, 1));
  });
});
