import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import {
  DEFAULT_CREDIT_APPROVAL_LIMIT_CENTS,
  DEFAULT_POLICY_DIR,
  OUTCOMES,
  PolicyGate,
  PolicyLoadError,
  type Decision,
} from '../assure/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const Cases = z.array(
  z.strictObject({
    name: z.string().min(1),
    request: z.unknown(),
    expect: z.enum(OUTCOMES),
  }),
);

/** `acs policy validate [dir]` and `acs policy test <cases.json> [--dir d] [--credit-limit cents]`. Needs no database. */
export async function policyCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, {
    dir: { type: 'string' },
    'credit-limit': { type: 'string' },
  });
  const [sub, target, ...extra] = positionals;
  if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
  if (sub === 'validate') {
    if (values['credit-limit'] !== undefined) throw new UsageError('--credit-limit applies to `acs policy test` only');
    if (target && values.dir) throw new UsageError('give the policy directory once: as an argument or with --dir');
    return validate(target ?? values.dir);
  }
  if (sub === 'test') {
    if (!target) throw new UsageError('policy test needs a cases file: acs policy test <cases.json> [--dir policies]');
    return test(target, values.dir, creditLimit(values['credit-limit']));
  }
  throw new UsageError(`unknown policy command '${sub ?? ''}'; try 'acs policy validate' or 'acs policy test <cases.json>'`);
}

function creditLimit(raw: string | undefined): number {
  if (raw === undefined) return DEFAULT_CREDIT_APPROVAL_LIMIT_CENTS;
  if (!/^\d+$/.test(raw)) throw new UsageError(`--credit-limit must be a whole number of cents, got '${raw}'`);
  return Number(raw);
}

/** Loads the gate; a bad policy set prints Cedar's error with file:line:col and yields exit code 2. */
function load(dir: string | undefined, creditApprovalLimitCents?: number): PolicyGate | number {
  try {
    return PolicyGate.load(dir ? resolve(dir) : DEFAULT_POLICY_DIR, { creditApprovalLimitCents });
  } catch (err) {
    if (err instanceof PolicyLoadError) {
      console.error(`acs: ${err.message}`);
      return 2;
    }
    throw err;
  }
}

function validate(dir: string | undefined): number {
  const gate = load(dir);
  if (typeof gate === 'number') return gate;
  const { policies, actions, files, warnings } = gate.loaded;
  const count = (pred: (p: (typeof policies)[number]) => boolean) => policies.filter(pred).length;
  for (const w of warnings) console.error(`warning: ${w}`);
  console.log(
    `policies ok: ${policies.length} policies in ${files.length} file(s) ` +
      `(${count((p) => p.effect === 'forbid')} forbid, ${count((p) => p.outcome === 'approval')} permit→approval, ` +
      `${count((p) => p.outcome === 'execute')} permit→execute), ${actions.length} actions, validated against ${gate.loaded.schemaFile}`,
  );
  return 0;
}

function test(casesFile: string, dir: string | undefined, creditApprovalLimitCents: number): number {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(casesFile, 'utf8'));
  } catch (err) {
    throw new UsageError(`cannot read cases from ${casesFile}: ${(err as Error).message}`);
  }
  const parsed = Cases.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`).join('\n');
    throw new UsageError(`${casesFile} must be a JSON array of { name, request, expect: execute|approval|deny }:\n${issues}`);
  }
  const gate = load(dir, creditApprovalLimitCents);
  if (typeof gate === 'number') return gate;

  let failed = 0;
  for (const c of parsed.data) {
    let decision: Decision;
    try {
      decision = gate.decide(c.request);
    } catch (err) {
      failed++;
      console.log(`FAIL  ${c.name}: expected ${c.expect}, got an error: ${(err as Error).message}`);
      continue;
    }
    const ok = decision.outcome === c.expect;
    if (!ok) failed++;
    const ids = decision.policyIds.length ? decision.policyIds.join(', ') : 'default deny';
    const why = ok
      ? ''
      : `\n      reasons: ${decision.reasons.join('; ')}${decision.errors.length ? `\n      errors: ${decision.errors.join('; ')}` : ''}`;
    console.log(
      `${ok ? 'pass' : 'FAIL'}  ${c.name}: ${ok ? decision.outcome : `expected ${c.expect}, got ${decision.outcome}`} [${ids}]${why}`,
    );
  }
  const total = parsed.data.length;
  console.log(
    `\n${total - failed} of ${total} cases passed${failed ? `, ${failed} failed` : ''} (credit approval limit ${creditApprovalLimitCents} cents)`,
  );
  return failed ? 1 : 0;
}
