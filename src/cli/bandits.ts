import type { Config } from '../config.ts';
import { banditReport } from '../learn/index.ts';
import { readThroughServerOrDb } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

type Report = Awaited<ReturnType<typeof banditReport>>;

function render(report: Report): string {
  if (report.length === 0) return 'No bandit has been played yet: every arm keeps the uniform prior Beta(1, 1).';
  const lines: string[] = [];
  for (const b of report) {
    lines.push(`${b.bandit} / ${b.segment}`);
    for (const a of b.arms) {
      lines.push(
        `  ${a.arm.padEnd(16)} Beta(${a.alpha}, ${a.beta})  mean ${(a.mean * 100).toFixed(1).padStart(5)}%  pulls ${a.pulls}  accepted ${a.accepted}  declined ${a.declined}  open ${a.open}`,
      );
    }
  }
  return lines.join('\n');
}

/** `acs bandits [--json]`: the offer and channel bandits' posteriors, through a running server's API or from the database. */
export async function banditsCommand(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`acs bandits takes no arguments, got '${positionals[0]}'`);
  const report = await readThroughServerOrDb(
    config,
    '/api/v1/bandits',
    (body) => body.data as Report,
    (db) => banditReport(db),
  );
  console.log(values.json ? JSON.stringify(report) : render(report));
  return 0;
}
