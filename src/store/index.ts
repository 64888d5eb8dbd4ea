/**
 * store: the database. PGlite or PostgreSQL behind one interface, migrations, batched inserts and ids. Owns the
 * schema (src/store/migrations), and the tables processes coordinate through: leases and job_runs (leases.repo.ts).
 */
export { openPglite, openPostgres, insertRows, analyze, freshHandle, ping, notify } from './db.ts';
export type { Db, Queryable, Tx } from './db.ts';
export { migrate, loadMigrations, migratedPgliteImage } from './migrate.ts';
export { newId } from './ids.ts';
export { currentRole, grantSchemaDml, regrantTable } from './roles.ts';
export { dumpPglite, restoreDump, dumpProblem, publicTableCount, schemaLevel, currentSchema } from './dump.ts';
export { Lease, PROCESS_ID } from './leases.ts';
export { claimJobRun, leaseHolder } from './leases.repo.ts';
