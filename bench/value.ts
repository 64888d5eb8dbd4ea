/**
 * Policy-value benchmark (issue 13, §6; docs/simulation.md, "Policy-value benchmark"): no action, static rules,
 * random with ACS's budget, ACS as shipped and an oracle, on the same seeded world, customers and days.
 *
 *   npm run bench:value [-- --customers N --days D --seed S --json]   (defaults: all 7,043 customers, 90 days, seed 7)
 *   npm run bench:value -- --quick                                   (300 customers × 14 days, for CI)
 *
 * --json prints one JSON document in the pinned shape; otherwise a table and the machine. Progress on stderr.
 */
import { UsageError } from '../src/cli/args.ts';
import { valueCommand } from '../src/cli/simulate.ts';

try {
  process.exitCode = await valueCommand(process.argv.slice(2), { customers: 7043, days: 90 });
} catch (err) {
  if (!(err instanceof UsageError)) throw err;
  console.error(`bench:value: ${err.message}`);
  console.error('usage: npm run bench:value -- [--customers N] [--days D] [--seed S] [--holdout 0.1] [--quick] [--json]');
  process.exitCode = 2;
}
