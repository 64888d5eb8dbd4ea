import { createWriteStream } from 'node:fs';
import type { Config } from '../config.ts';
import { EXPORT_ENTITIES, exportCsv, isExportEntity } from '../sense/index.ts';
import { openDatabase } from '../server.ts';
import { parseCommandArgs, UsageError } from './args.ts';

/** `acs export <entity> [--out file]`: the entity's records as CSV that `acs import` reads back; stdout by default. */
export async function exportCommand(args: string[], config: Config): Promise<number> {
  const { positionals, values } = parseCommandArgs(args, { out: { type: 'string' } });
  const [entity] = positionals;
  if (!entity) throw new UsageError(`export needs an entity: one of ${EXPORT_ENTITIES.join(', ')}`);
  if (!isExportEntity(entity)) throw new UsageError(`unknown entity '${entity}'; expected one of ${EXPORT_ENTITIES.join(', ')}`);
  const db = await openDatabase(config);
  try {
    const out = values.out ? createWriteStream(values.out) : process.stdout;
    const n = await exportCsv(db, entity, out);
    if (values.out) {
      await new Promise<void>((resolve, reject) => out.on('error', reject).end(resolve));
      console.error(`${entity}: ${n} records written to ${values.out}`);
    }
    return 0;
  } finally {
    await db.close();
  }
}
