import type { Config } from '../config.ts';
import { readiness, type Readiness, type ReadinessMetric } from '../learn/index.ts';
import { AGENTS } from '../reason/index.ts';
import { readThroughServerOrDb, serverNow } from './client.ts';
import { parseCommandArgs, UsageError } from './args.ts';

const bar = (score: number) => '█'.repeat(Math.round(score / 10)).padEnd(10, '·');
const value = (m: ReadinessMetric) =>
  m.value === null ? 'n/a' : m.unit === 'share' ? `${(m.value * 100).toFixed(1)}%` : m.unit === 'hours' ? `${m.value} h` : String(m.value);

function render(r: Readiness): string {
  const lines = [
    `ACS readiness over the last ${r.days} days (${r.from.slice(0, 10)} to ${r.now.slice(0, 16).replace('T', ' ')} UTC, server clock)`,
    `Stage ${r.stage.stage} of 5, ${r.stage.name}: ${r.stage.description}. Overall ${r.overall}/100; weakest: ${r.dimensions.find((d) => d.key === r.stage.weakest)!.name}.`,
    '',
    ...r.dimensions.map((d) => `  ${d.name.padEnd(25)} ${String(d.score).padStart(3)}  ${bar(d.score)}`),
  ];
  for (const d of r.dimensions) {
    lines.push('', `${d.name}: ${d.score}/100. ${d.question}`);
    for (const m of d.metrics) lines.push(`  ${m.key.padEnd(26)} ${value(m).padStart(8)}  ${m.definition}`);
    for (const f of d.fixNext.slice(0, 3)) lines.push(`  fix: ${f}`);
  }
  lines.push('', 'Top fixes:', ...r.topFixes.map((f, i) => `  ${i + 1}. ${f.name} (${f.score}): ${f.fix}`), '', `Stages: ${r.stageRule}.`);
  return lines.join('\n');
}

/** `acs readiness [--days N] [--json]`: the scorecard, through a running server's API or from the database. */
export async function readinessCommand(args: string[], config: Config): Promise<number> {
  const { values, positionals } = parseCommandArgs(args, { days: { type: 'string' }, json: { type: 'boolean' } });
  if (positionals.length) throw new UsageError(`acs readiness takes no arguments, got '${positionals[0]}'`);
  const days = values.days === undefined ? 30 : Number(values.days);
  if (!Number.isInteger(days) || days < 1 || days > 365)
    throw new UsageError(`--days must be a whole number from 1 to 365, not '${values.days}'`);
  const agents = AGENTS.map((a) => ({ agentId: a.manifest.id, ...(a.manifest.measure ? { measure: a.manifest.measure } : {}) }));
  const report = await readThroughServerOrDb(
    config,
    `/api/v1/readiness?days=${days}`,
    (body) => body as Readiness,
    async (db) => readiness(db, { now: await serverNow(db), days, agents }),
  );
  console.log(values.json ? JSON.stringify(report) : render(report));
  return 0;
}
