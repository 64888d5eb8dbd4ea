import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { progressBar } from '../sense/index.ts';
import { cpus } from 'node:os';
import { referenceLines, runSimulation, runValueBenchDetailed, spendLines, valueTable, type PolicyName } from '../world/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { loadDemoKnowledge } from './demo-knowledge.ts';

const TELCO = fileURLToPath(new URL('../../data/telco_churn.csv', import.meta.url));

function positiveInt(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}, not '${raw}'`);
  return n;
}

/** `acs simulate`: the demo world, headless, on a fresh embedded database. With --compare, the policy-value benchmark. */
export async function simulateCommand(args: string[], _config: Config): Promise<number> {
  if (args.includes('--compare'))
    return valueCommand(
      args.filter((a) => a !== '--compare'),
      { customers: 2000, days: 30 },
    );
  const { values } = parseCommandArgs(args, {
    customers: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string' },
    holdout: { type: 'string' },
    json: { type: 'boolean' },
  });
  const holdout = values.holdout === undefined ? 0.1 : Number(values.holdout);
  if (!(holdout >= 0 && holdout <= 1)) throw new UsageError(`--holdout must be a share from 0 to 1, not '${values.holdout}'`);
  const report = await runSimulation({
    csvFile: TELCO,
    customers: positiveInt('customers', values.customers, 2000, 7043),
    days: positiveInt('days', values.days, 30, 365),
    seed: positiveInt('seed', values.seed, 7, 2 ** 31 - 1),
    holdout,
    // The demo knowledge base, as `serve --load-demo` loads it: message bodies are grounded and cited.
    loadKnowledge: (db, now) => loadDemoKnowledge(db, now, 'sim'),
    onDay: values.json ? undefined : progressBar(process.stderr, 'simulating days'),
  });
  if (values.json) console.log(JSON.stringify(report));
  else console.log(JSON.stringify(report, null, 2));
  return report.ledger.verified ? 0 : 1;
}

/** Defaults of the policy-value benchmark, and the small run of --quick (for CI). */
export const VALUE_QUICK = { customers: 300, days: 14 };

/** The machine a benchmark ran on. */
export function machine(): string {
  const cpu = cpus();
  return `${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${cpu.length} cores, Node ${process.version}`;
}

/**
 * The policy-value benchmark (`npm run bench:value`, `acs simulate --compare`): five policies on one seeded world.
 * --json prints the one pinned JSON document; otherwise a table and the machine. Progress goes to stderr.
 */
export async function valueCommand(args: string[], defaults: { customers: number; days: number }): Promise<number> {
  const { values } = parseCommandArgs(args, {
    customers: { type: 'string' },
    days: { type: 'string' },
    seed: { type: 'string' },
    holdout: { type: 'string' },
    quick: { type: 'boolean' },
    json: { type: 'boolean' },
  });
  const base = values.quick ? VALUE_QUICK : defaults;
  const holdout = values.holdout === undefined ? 0.1 : Number(values.holdout);
  if (!(holdout > 0 && holdout < 1)) throw new UsageError(`--holdout must be a share between 0 and 1, not '${values.holdout}'`);
  const options = {
    csvFile: TELCO,
    customers: positiveInt('customers', values.customers, base.customers, 7043),
    days: positiveInt('days', values.days, base.days, 365),
    seed: positiveInt('seed', values.seed, 7, 2 ** 31 - 1),
    holdout,
  };
  const began = Date.now();
  let policyStart = began;
  const { report, spend, reference } = await runValueBenchDetailed({
    ...options,
    onProgress: (policy: PolicyName, done: number, total: number) => {
      if (done === 1) policyStart = Date.now();
      if (done === total || done % 10 === 0)
        process.stderr.write(`bench:value ${policy}: ${done}/${total} days (${((Date.now() - policyStart) / 1000).toFixed(0)} s)\n`);
    },
  });
  const seconds = (Date.now() - began) / 1000;
  const spent = `Actions that reached a customer, by policy:\n${spendLines(spend)
    .map((l) => `  ${l}`)
    .join('\n')}\n\n${referenceLines(reference).join('\n')}`;
  if (values.json) {
    console.log(JSON.stringify(report));
    process.stderr.write(`${spent}\n`);
  } else console.log(`${valueTable(report)}\n\n${spent}\n\nMachine: ${machine()}; ${seconds.toFixed(0)} s in all.`);
  process.stderr.write(`bench:value done in ${seconds.toFixed(0)} s on ${machine()}\n`);
  return 0;
}
