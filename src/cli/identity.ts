import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { febrlTruth, pairwiseScores, readPeopleCsv, resolvePeople, type PersonRecord } from '../sense/index.ts';
import { parseCommandArgs, UsageError } from './args.ts';

/**
 * `acs identity resolve FILE [FILE2] [--id-column COL] [--map col=field,...] [--truth COL] [--threshold P] [--out F] [--json]`:
 * deduplicates one file of people, or links two, and writes `record_id,entity_id`. Needs no database.
 */
export async function identityCommand(args: string[]): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, {
    'id-column': { type: 'string' },
    map: { type: 'string', multiple: true },
    truth: { type: 'string' },
    threshold: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'boolean' },
  });
  const [sub, ...files] = positionals;
  if (sub !== 'resolve') throw new UsageError(`unknown identity command '${sub ?? ''}'; try 'acs identity resolve FILE [FILE2]'`);
  if (files.length < 1 || files.length > 2) throw new UsageError('identity resolve takes one file (to deduplicate) or two (to link)');
  const threshold = values.threshold === undefined ? undefined : Number(values.threshold);
  if (threshold !== undefined && !(threshold > 0 && threshold < 1))
    throw new UsageError(`--threshold must be a probability between 0 and 1, got '${values.threshold}'`);
  const map = parseMap(values.map ?? []);

  const started = performance.now();
  const inputs = files.map((file, source) =>
    readPeopleCsv(file, { source, idColumn: values['id-column'], map, truthColumn: values.truth }),
  );
  const records: PersonRecord[] = inputs.flatMap((f) => f.records);
  const ids = new Set<string>();
  for (const r of records) {
    if (ids.has(r.id))
      throw new UsageError(
        `record id '${r.id}' appears twice${files.length > 1 ? ' across the two files' : ''}; name a unique id column with --id-column`,
      );
    ids.add(r.id);
  }
  const readMs = performance.now() - started;
  const result = resolvePeople(records, { link: files.length === 2, threshold });
  const out = resolve(values.out ?? 'clusters.csv');
  writeFileSync(
    out,
    ['record_id,entity_id', ...records.map((r) => `${csvCell(r.id)},${csvCell(result.entityOf.get(r.id)!)}`)].join('\n') + '\n',
  );

  const truth = values.truth ? new Map(inputs.flatMap((f) => [...f.truth!])) : febrlTruth(records);
  const scores = truth ? pairwiseScores(records, result.entityOf, truth, files.length === 2) : null;
  const summary = {
    mode: files.length === 2 ? 'link' : 'deduplicate',
    files: inputs.map((f, i) => ({
      file: files[i],
      records: f.records.length,
      columns: f.columns,
      idColumn: f.idColumn,
      ignored: f.ignored,
    })),
    records: records.length,
    pairsCompared: result.pairsCompared,
    pairsMatched: result.pairsMatched,
    entities: result.clusters,
    out,
    ms: { read: Math.round(readMs), ...result.timings, total: Math.round(performance.now() - started) },
    ...(scores
      ? {
          pairwise: {
            precision: round(scores.precision),
            recall: round(scores.recall),
            f1: round(scores.f1),
            truePairs: scores.actual,
            predictedPairs: scores.predicted,
            truthFrom: values.truth ? `column ${values.truth}` : 'FEBRL record ids',
          },
        }
      : {}),
    em: { matchShare: round(result.lambda), parameters: result.parameters },
  };
  if (values.json) {
    console.log(JSON.stringify(summary, null, 2));
    return 0;
  }
  for (const f of summary.files) {
    console.log(
      `${f.file}: ${f.records} records; columns ${Object.entries(f.columns)
        .map(([c, field]) => `${c}→${field}`)
        .join(', ')}${f.ignored.length ? `; ignored ${f.ignored.join(', ')}` : ''}`,
    );
  }
  console.log(
    `${summary.mode}: ${summary.pairsCompared} pairs compared after blocking, ${summary.pairsMatched} matched, ${summary.entities} entities from ${summary.records} records`,
  );
  console.log(
    `time: ${Object.entries(summary.ms)
      .map(([k, v]) => `${k} ${v} ms`)
      .join(', ')}`,
  );
  if (summary.pairwise) {
    const p = summary.pairwise;
    console.log(
      `pairwise (truth from ${p.truthFrom}): precision ${p.precision}, recall ${p.recall}, F1 ${p.f1} (${p.truePairs} true pairs, ${p.predictedPairs} predicted)`,
    );
  }
  console.log(`wrote ${out}`);
  return 0;
}

/** `--map "Given Name=givenName,DOB=dateOfBirth"`, repeatable. */
function parseMap(entries: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const part of entries.flatMap((e) => e.split(','))) {
    const eq = part.lastIndexOf('=');
    if (eq <= 0 || eq === part.length - 1) throw new UsageError(`--map takes column=field pairs, got '${part}'`);
    map[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return map;
}

const csvCell = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
const round = (x: number) => Math.round(x * 1e4) / 1e4;
