import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_POLICY_DIR,
  PolicyGate,
  PolicyLoadError,
  PolicyRequestError,
  loadPolicies,
  type Outcome,
  type PolicyRequestInput,
} from '../src/assure/index.ts';
import { runAcs } from './cli-helpers.ts';

const SCHEMA = readFileSync(join(DEFAULT_POLICY_DIR, 'schema.cedarschema'), 'utf8');
const CASES_FILE = join(DEFAULT_POLICY_DIR, 'cases.json');
const cases = JSON.parse(readFileSync(CASES_FILE, 'utf8')) as { name: string; request: PolicyRequestInput; expect: Outcome }[];

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'acs-policy-'));
  tmpDirs.push(dir);
  return dir;
}

/** A policy dir with the shipped schema (unless replaced) and the given policy files. */
function policyDir(files: Record<string, string>, schema = SCHEMA): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'schema.cedarschema'), schema);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

function loadError(dir: string): PolicyLoadError {
  try {
    loadPolicies(dir);
  } catch (err) {
    expect(err).toBeInstanceOf(PolicyLoadError);
    return err as PolicyLoadError;
  }
  throw new Error(`expected ${dir} to fail loading`);
}

function request(
  action: string,
  autonomy: number,
  context: Record<string, unknown> = {},
  customer: Partial<{ inHoldout: boolean }> = {},
): PolicyRequestInput {
  return {
    agent: { id: 'retention', role: 'retention', autonomy },
    action,
    customer: { id: 'c-1', segment: 'consumer', region: 'US-CA', inHoldout: false, ...customer },
    context: { risk: 'low', ...context },
  } as PolicyRequestInput;
}

const consented = { channel: 'email', purpose: 'service', hasConsent: true };
const gate = PolicyGate.load();

describe('default policies', () => {
  it('load with every policy annotated', () => {
    expect(gate.loaded.policies.length).toBeGreaterThanOrEqual(10);
    expect(gate.loaded.warnings).toEqual([]);
    expect(gate.loaded.actions).toEqual(
      expect.arrayContaining([
        'offer_credit',
        'create_case',
        'create_task',
        'send_message',
        'route_lead',
        'update_record',
        'priority_routing',
      ]),
    );
    for (const p of gate.loaded.policies) expect(p.reason).not.toBe(p.id);
  });

  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(gate.decide(c.request).outcome).toBe(c.expect);
  });

  it('the shipped cases exercise every default policy as a determining policy', () => {
    const seen = new Set(cases.flatMap((c) => gate.decide(c.request).policyIds));
    expect(gate.loaded.policies.map((p) => p.id).filter((id) => !seen.has(id))).toEqual([]);
  });

  it('L0 and L1 never execute or wait for approval, whatever the action and risk', () => {
    for (const autonomy of [0, 1]) {
      for (const action of gate.loaded.actions) {
        for (const risk of ['low', 'medium', 'high']) {
          const d = gate.decide(request(action, autonomy, { risk, amountCents: 100, ...consented }));
          expect(d.outcome).toBe('deny');
          expect(d.policyIds).toContain(autonomy === 0 ? 'autonomy-l0-off' : 'autonomy-l1-suggest-only');
        }
      }
    }
  });

  it('high risk never executes, at any level and for any action', () => {
    for (const autonomy of [2, 3, 4, 5]) {
      for (const action of gate.loaded.actions) {
        const d = gate.decide(request(action, autonomy, { risk: 'high', amountCents: 100, ...consented }));
        expect(d.outcome).toBe('approval');
      }
    }
  });

  it('records the determining policy ids, readable reasons and the autonomy level', () => {
    const d = gate.decide(request('create_case', 3));
    expect(d).toEqual({
      outcome: 'execute',
      policyIds: ['low-risk-service-l3'],
      reasons: ['low-risk service, sales and data actions run at L3 and above'],
      autonomy: 3,
      errors: [],
    });
    const approval = gate.decide(request('offer_credit', 3, { amountCents: 9000 }));
    expect(approval.outcome).toBe('approval');
    expect(approval.policyIds).toEqual(['credit-above-limit-needs-approval', 'credit-l3-needs-approval']);
    expect(approval.reasons).toHaveLength(2);
  });

  it('forbid beats a matching permit: consent and holdout', () => {
    const noConsent = gate.decide(request('send_message', 5, { channel: 'sms', purpose: 'service', hasConsent: false }));
    expect(noConsent).toMatchObject({ outcome: 'deny', policyIds: ['outreach-requires-consent'] });
    const holdout = gate.decide(request('send_message', 4, { ...consented, purpose: 'marketing' }, { inHoldout: true }));
    expect(holdout).toMatchObject({ outcome: 'deny', policyIds: ['holdout-no-marketing'] });
  });

  it('takes the credit approval limit from configuration, not from the policy text', () => {
    const credit = request('offer_credit', 4, { amountCents: 20_000 });
    expect(gate.decide(credit).outcome).toBe('approval');
    const generous = new PolicyGate(gate.loaded, { creditApprovalLimitCents: 50_000 });
    expect(generous.decide(credit)).toMatchObject({ outcome: 'execute', policyIds: ['credit-within-limit-l4'] });
    const strict = new PolicyGate(gate.loaded, { creditApprovalLimitCents: 0 });
    expect(strict.decide(request('offer_credit', 5, { amountCents: 1 })).outcome).toBe('approval');
    expect(() => new PolicyGate(gate.loaded, { creditApprovalLimitCents: -1 })).toThrow(/creditApprovalLimitCents/);
  });
});

describe('bad requests are errors, never decisions', () => {
  function requestError(input: unknown): PolicyRequestError {
    try {
      gate.decide(input);
    } catch (err) {
      expect(err).toBeInstanceOf(PolicyRequestError);
      return err as PolicyRequestError;
    }
    throw new Error('expected decide() to throw');
  }

  it('an unknown action names the action field', () => {
    const err = requestError(request('delete_everything', 5));
    expect(err.issues).toEqual([{ path: 'action', message: expect.stringContaining('unknown action "delete_everything"') }]);
    expect(err.status).toBe(400);
  });

  it('a malformed request names each bad field', () => {
    const err = requestError({
      agent: { id: 'a', role: 'r', autonomy: 9 },
      action: 'create_case',
      customer: { id: 'c', segment: 's', region: 'r' },
      context: { risk: 'extreme', amountCents: -5, channel: 'fax', sneaky: true },
    });
    const paths = err.issues.map((i) => i.path).sort();
    expect(paths).toEqual([
      'agent.autonomy',
      'context.amountCents',
      'context.channel',
      'context.risk',
      'context.sneaky',
      'customer.inHoldout',
    ]);
    expect(err.message).toContain('agent.autonomy');
    expect(() => gate.decide(null)).toThrow(PolicyRequestError);
    expect(() => gate.decide(request('create_case', 2.5))).toThrow(/agent\.autonomy/);
  });

  it('an action the loaded schema does not declare is an error', () => {
    const dir = policyDir(
      { 'p.cedar': '@id("cases") @outcome("execute") permit (principal, action == Action::"create_case", resource);' },
      SCHEMA.replace(/^action update_record .*$/m, ''),
    );
    const small = PolicyGate.load(dir);
    expect(small.loaded.actions).not.toContain('update_record');
    expect(() => small.decide(request('update_record', 5))).toThrow(/action "update_record" is not declared in the policy schema/);
  });
});

describe('decision model on custom policy sets', () => {
  it('denies by default when no permit covers the action', () => {
    const dir = policyDir({
      'p.cedar': '@id("cases-only") @outcome("execute")\npermit (principal, action == Action::"create_case", resource);\n',
    });
    const g = PolicyGate.load(dir);
    expect(g.decide(request('create_case', 3)).outcome).toBe('execute');
    expect(g.decide(request('create_task', 5))).toEqual({
      outcome: 'deny',
      policyIds: [],
      reasons: ['no policy permits create_task here (default deny)'],
      autonomy: 5,
      errors: [],
    });
  });

  it('a forbid beats any number of permits, and one approval-permit beats execute-permits', () => {
    const dir = policyDir({
      'a.cedar': [
        '@id("all-execute") @outcome("execute") permit (principal, action, resource);',
        '@id("risky-approval") @outcome("approval") permit (principal, action, resource) when { context.risk != "low" };',
      ].join('\n'),
      'b.cedar': '@id("no-tasks") @reason("tasks are off") forbid (principal, action == Action::"create_task", resource);',
    });
    const g = PolicyGate.load(dir);
    expect(g.loaded.files).toHaveLength(2);
    expect(g.decide(request('create_case', 3))).toMatchObject({ outcome: 'execute', policyIds: ['all-execute'] });
    expect(g.decide(request('create_case', 3, { risk: 'medium' }))).toMatchObject({ outcome: 'approval', policyIds: ['risky-approval'] });
    expect(g.decide(request('create_task', 5, { risk: 'medium' }))).toMatchObject({
      outcome: 'deny',
      policyIds: ['no-tasks'],
      reasons: ['tasks are off'],
    });
  });

  it('a policy that errors at evaluation denies, even if that lets a permit through in Cedar', () => {
    const dir = policyDir({
      'p.cedar': [
        '@id("all-execute") @outcome("execute") permit (principal, action, resource);',
        // Long overflow at run time: Cedar skips an erroring policy, so this forbid alone would not stop the permit.
        '@id("overflowing-forbid") forbid (principal, action, resource) when { context.amount * 9223372036854775807 > 1 };',
      ].join('\n'),
    });
    const g = PolicyGate.load(dir);
    expect(g.decide(request('create_case', 3, { amountCents: 0 })).outcome).toBe('execute');
    const d = g.decide(request('create_case', 3, { amountCents: 2 }));
    expect(d.outcome).toBe('deny');
    expect(d.policyIds).toEqual(['overflowing-forbid']);
    expect(d.errors.join('\n')).toMatch(/overflow/i);
  });
});

describe('loading policies', () => {
  it('a syntax error fails with the Cedar message, the file and line:column', () => {
    const dir = tempDir();
    cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
    writeFileSync(
      join(dir, 'extra.cedar'),
      '// broken\n@id("half") @outcome("execute")\npermit (principal, action, resource) when { principal.autonomy >= };\n',
    );
    const err = loadError(dir);
    expect(err.message).toContain('unexpected token');
    expect(err.message).toContain(`${join(dir, 'extra.cedar')}:3:67`);
    expect(err.problems[0]).toMatchObject({ file: join(dir, 'extra.cedar'), line: 3, column: 67 });
  });

  it('a policy using an attribute the schema lacks fails validation with the location', () => {
    const dir = tempDir();
    cpSync(DEFAULT_POLICY_DIR, dir, { recursive: true });
    writeFileSync(
      join(dir, 'extra.cedar'),
      '@id("vip") @outcome("execute")\npermit (principal, action, resource)\nwhen { resource.vipTier == 3 };\n',
    );
    const err = loadError(dir);
    expect(err.message).toMatch(/attribute `vipTier` on entity type `Customer` not found/);
    expect(err.problems).toEqual([expect.objectContaining({ file: join(dir, 'extra.cedar'), line: 3, column: 8 })]);
  });

  it('a type error and a wrong action are validation errors too', () => {
    const err = loadError(
      policyDir({ 'p.cedar': '@id("t") @outcome("execute")\npermit (principal, action, resource) when { context.risk > 2 };' }),
    );
    expect(err.problems[0]).toMatchObject({ line: 2 });
    const unknown = loadError(
      policyDir({ 'p.cedar': '@id("t") @outcome("execute")\npermit (principal, action == Action::"launch_rocket", resource);' }),
    );
    expect(unknown.message).toContain('launch_rocket');
  });

  it('a broken schema fails with its own location, counting characters after non-ASCII text', () => {
    const err = loadError(
      policyDir(
        { 'p.cedar': '@id("t") @outcome("execute") permit (principal, action, resource);' },
        `// café…\n${SCHEMA}entity Extra = { a: Nowhere };\n`,
      ),
    );
    const line = SCHEMA.split('\n').length + 1;
    expect(err.problems).toEqual([
      expect.objectContaining({
        file: expect.stringMatching(/schema\.cedarschema$/),
        line,
        column: 21,
        message: expect.stringContaining('Nowhere'),
      }),
    ]);
  });

  it('enforces the annotations the gate relies on', () => {
    const missingId = loadError(policyDir({ 'p.cedar': '\n@outcome("execute") permit (principal, action, resource);' }));
    expect(missingId.message).toMatch(/p\.cedar:2:1: policy has no @id/);
    const dup = loadError(
      policyDir({
        'p.cedar': '@id("x") @outcome("execute") permit (principal, action, resource);\n@id("x") forbid (principal, action, resource);',
      }),
    );
    expect(dup.message).toMatch(/p\.cedar:2:1: duplicate @id\("x"\)/);
    const noOutcome = loadError(policyDir({ 'p.cedar': '@id("x") permit (principal, action, resource);' }));
    expect(noOutcome.message).toContain('needs @outcome("execute") or @outcome("approval")');
    const badOutcome = loadError(policyDir({ 'p.cedar': '@id("x") @outcome("yes") permit (principal, action, resource);' }));
    expect(badOutcome.message).toContain('not "yes"');
    const forbidOutcome = loadError(policyDir({ 'p.cedar': '@id("x") @outcome("execute") forbid (principal, action, resource);' }));
    expect(forbidOutcome.message).toContain('must not carry @outcome');
  });

  it('a missing directory, schema or policy file is a load error', () => {
    expect(loadError(join(tempDir(), 'nope')).message).toContain('cannot read policy directory');
    const noSchema = tempDir();
    writeFileSync(join(noSchema, 'p.cedar'), '');
    expect(loadError(noSchema).message).toContain('schema file missing');
    expect(loadError(policyDir({})).message).toContain('no *.cedar policy files');
    expect(loadError(policyDir({ 'p.cedar': '// nothing yet\n' })).message).toContain('hold no policies');
  });
});

describe('acs policy', () => {
  const env = { ...process.env, ACS_LOG_LEVEL: 'warn' };

  it('validate passes on the shipped policies and prints the counts', async () => {
    const res = await runAcs(['policy', 'validate'], env);
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toMatch(/policies ok: \d+ policies in 1 file\(s\) \(6 forbid/);
    expect((await runAcs(['policy', 'validate', DEFAULT_POLICY_DIR], env)).code).toBe(0);
  });

  it('validate exits 2 with the Cedar error and its location on a broken dir', async () => {
    const dir = policyDir({
      'p.cedar': '@id("x") @outcome("execute")\npermit (principal, action, resource) when { resource.vipTier == 3 };',
    });
    const res = await runAcs(['policy', 'validate', dir], env);
    expect(res.code).toBe(2);
    expect(res.stderr).toContain(`${join(dir, 'p.cedar')}:2:45`);
    expect(res.stderr).toContain('vipTier');
  });

  it('test passes on the shipped cases', async () => {
    const res = await runAcs(['policy', 'test', CASES_FILE, '--dir', DEFAULT_POLICY_DIR], env);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain(`${cases.length} of ${cases.length} cases passed`);
    expect(res.stdout).toMatch(/pass {2}L2 draft: a low-risk case at L2 needs approval: approval \[l2-draft-needs-approval\]/);
  });

  it('test exits 1 on a wrong expectation or an invalid request, and shows the decision', async () => {
    const dir = tempDir();
    const file = join(dir, 'cases.json');
    const wrong = [
      { name: 'right', request: request('create_case', 3), expect: 'execute' },
      { name: 'wrong', request: request('create_case', 2), expect: 'execute' },
      { name: 'invalid', request: request('teleport', 3), expect: 'deny' },
    ];
    writeFileSync(file, JSON.stringify(wrong));
    const res = await runAcs(['policy', 'test', file], env);
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('pass  right: execute [low-risk-service-l3]');
    expect(res.stdout).toContain('FAIL  wrong: expected execute, got approval [l2-draft-needs-approval]');
    expect(res.stdout).toMatch(/FAIL {2}invalid: expected deny, got an error: .*unknown action "teleport"/);
    expect(res.stdout).toContain('1 of 3 cases passed, 2 failed');
  });

  it('test honours --credit-limit, and usage mistakes exit 2', async () => {
    const dir = tempDir();
    const file = join(dir, 'cases.json');
    writeFileSync(
      file,
      JSON.stringify([{ name: 'big credit', request: request('offer_credit', 4, { amountCents: 20_000 }), expect: 'execute' }]),
    );
    expect((await runAcs(['policy', 'test', file], env)).code).toBe(1);
    expect((await runAcs(['policy', 'test', file, '--credit-limit', '20000'], env)).code).toBe(0);
    const bad = await runAcs(['policy', 'test', file, '--credit-limit', '12.5'], env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--credit-limit');
    writeFileSync(file, JSON.stringify([{ name: 'x', expect: 'maybe' }]));
    const badCases = await runAcs(['policy', 'test', file], env);
    expect(badCases.code).toBe(2);
    expect(badCases.stderr).toContain('0.expect');
    expect((await runAcs(['policy', 'test'], env)).code).toBe(2);
    expect((await runAcs(['policy', 'frob'], env)).code).toBe(2);
  });
});
