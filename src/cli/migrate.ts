import type { Config } from '../config.ts';
import { openDatabase } from '../server.ts';

export async function migrateCommand(_args: string[], config: Config): Promise<number> {
  const db = await openDatabase(config);
  await db.close();
  console.log(`schema up to date (${db.kind})`);
  return 0;
}
