import type { Config } from '../config.ts';
import { importCsv, isImportEntity, progressBar, IMPORT_ENTITIES } from '../sense/index.ts';
import { openDatabase } from '../server.ts';
import { parseCommandArgs, UsageError } from './args.ts';
import { serverNow } from './client.ts';

export async function importCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { map: { type: 'string', multiple: true }, json: { type: 'boolean' } });
  const [entity, file] = positionals;
  if (!entity || !file) throw new UsageError('import needs an entity and a CSV file');
  if (!isImportEntity(entity)) throw new UsageError(`unknown entity '${entity}'; expected one of ${IMPORT_ENTITIES.join(', ')}`);
  const map: Record<string, string> = {};
  for (const pair of values.map ?? []) {
    const [from, to] = pair.split('=');
    if (!from || !to) throw new UsageError(`--map takes column=field, not '${pair}'`);
    map[from] = to;
  }
  const db = await openDatabase(config);
  try {
    // Dated on the server's clock (the live world's, when one ran here), as the rest of the data is.
    const now = await serverNow(db);
    const summary = await importCsv(db, entity, file, {
      map,
      actor: 'cli:import',
      clock: { now: () => now },
      onProgress: values.json ? undefined : progressBar(process.stderr, `importing ${entity}`),
    });
    if (values.json) console.log(JSON.stringify(summary));
    else {
      console.log(
        `${summary.entity}: ${summary.imported} imported, ${summary.updated} updated, ${summary.rejected} rejected of ${summary.total} rows in ${(summary.ms / 1000).toFixed(1)} s`,
      );
      if (summary.attached)
        console.log(
          `${summary.attached} contacts without a customer were matched to one by identity resolution (lineage: GET /api/v1/customers/{id}/lineage)`,
        );
      if (summary.rejectedFile) console.log(`rejected rows, each with its reason: ${summary.rejectedFile}`);
      if (summary.ignoredColumns.length) console.log(`columns not imported: ${summary.ignoredColumns.join(', ')}`);
    }
    return summary.rejected > 0 ? 1 : 0;
  } finally {
    await db.close();
  }
}
