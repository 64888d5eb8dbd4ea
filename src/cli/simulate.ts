import { fileURLToPath } from 'node:url';
import type { Config } from '../config.ts';
import { progressBar } from '../sense/index.ts';
import { runSimulation } from '../world/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const TELCO = fileURLToPath(new URL('../../data/telco_churn.csv', import.meta.url));

function positiveInt(name: string, raw: string | undefined, fallback: number, max: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}, not '${raw}'`);
  return n;
}

/** `acs simulate`: the demo world, headless, on a fresh embedded database. */
export async function simulateCommand(args: string[], _config: Config): Promise<number> {
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
    onDay: values.json ? undefined : progressBar(process.stderr, 'simulating days'),
  });
  if (values.json) console.log(JSON.stringify(report));
  else console.log(JSON.stringify(report, null, 2));
  return report.ledger.verified ? 0 : 1;
}
