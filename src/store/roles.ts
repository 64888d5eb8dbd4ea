import type { Queryable } from './db.ts';

/**
 * Role separation on PostgreSQL: migrations run as the schema's owner, the app as a role with DML only. Modules whose
 * tables need less (the ledger: no UPDATE of chained rows, no DELETE) narrow the grant afterwards.
 */

/** The role a connection runs as. */
export async function currentRole(db: Queryable): Promise<string> {
  const [row] = await db.query<{ role: string }>('SELECT current_user AS role');
  return row!.role;
}

/** Runs a statement built by format() with `role` as its %I (quoted as an identifier by the server). */
async function runForRole(db: Queryable, template: string, role: string): Promise<void> {
  const [row] = await db.query<{ sql: string }>('SELECT format($1::text, current_schema(), $2::text) AS sql', [template, role]);
  await db.query(row!.sql);
}

/**
 * Grants `role` the use of every table and sequence in the current schema: SELECT, INSERT, UPDATE and DELETE, no
 * TRUNCATE and no DDL. It owns nothing, so it cannot alter a table or switch off a trigger. Run it as the owner after
 * each migration (tables a migration adds are covered then).
 */
export async function grantSchemaDml(db: Queryable, role: string): Promise<void> {
  await runForRole(db, 'GRANT USAGE ON SCHEMA %I TO %I', role);
  await runForRole(db, 'GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO %I', role);
  await runForRole(db, 'GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA %I TO %I', role);
}

/** Revokes everything on one table from `role`, then grants `privileges` (SQL, e.g. 'SELECT, INSERT'). */
export async function regrantTable(db: Queryable, table: string, role: string, privileges: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(table) || !/^[A-Z, ()a-z_]+$/.test(privileges)) throw new Error('invalid table or privileges');
  await runForRole(db, `REVOKE ALL ON %I.${table} FROM %I`, role);
  await runForRole(db, `GRANT ${privileges} ON %I.${table} TO %I`, role);
}
