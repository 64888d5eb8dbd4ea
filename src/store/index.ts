export { openPglite, openPostgres, insertRows, analyze } from './db.ts';
export type { Db, Queryable, Tx } from './db.ts';
export { migrate, loadMigrations } from './migrate.ts';
export { newId } from './ids.ts';
