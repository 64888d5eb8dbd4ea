import { pgDump } from '@electric-sql/pglite-tools/pg_dump';
import { createPglite, type Db, type Queryable } from './db.ts';
import { loadMigrations, splitSql, type Migration } from './migrate.ts';

/**
 * pg_dump of PostgreSQL 17+ sets transaction_timeout, which older servers refuse; the dump turns it into a
 * statement that sets it where it exists, so `psql -f` loads the file into PostgreSQL 15 or 16 without an error.
 */
const TRANSACTION_TIMEOUT = /^SET transaction_timeout = 0;$/m;
const PORTABLE_TRANSACTION_TIMEOUT = `DO $$ BEGIN PERFORM pg_catalog.set_config('transaction_timeout', '0', false);
EXCEPTION WHEN undefined_object THEN NULL; END $$;`;

/**
 * PGlite has pgvector (migration 027); a PostgreSQL server may not. No column uses its types (embeddings are real[]),
 * so the dump creates it where it can and otherwise goes on, as the migration does: search then ranks in JS.
 */
const VECTOR_EXTENSION = /^CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;\n(?:(?:--.*)?\n)*COMMENT ON EXTENSION vector IS .*;$/m;
const PORTABLE_VECTOR_EXTENSION = `DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public;
EXCEPTION WHEN OTHERS THEN RAISE NOTICE 'pgvector is not available (%); knowledge search computes cosine similarity in JS', SQLERRM; END $$;`;

/** The newest migration recorded in a database, or null when it has no ACS schema. */
export async function schemaLevel(q: Queryable): Promise<string | null> {
  const [t] = await q.query<{ t: string | null }>(`SELECT to_regclass('public.schema_migrations')::text AS t`);
  if (!t?.t) return null;
  const [row] = await q.query<{ name: string }>('SELECT name FROM public.schema_migrations ORDER BY version DESC LIMIT 1');
  return row?.name ?? null;
}

/**
 * A plain-SQL dump of the embedded database in `pgdata` (pg_dump compiled to WebAssembly): multi-row INSERTs, no
 * owners or grants, so PGlite or any PostgreSQL server can load it as whoever restores it. Nothing is migrated or
 * written first: the dump is the schema as it is on disk. The caller makes sure no other process holds the files.
 */
export async function dumpPglite(pgdata: string, now: Date): Promise<{ sql: string; migration: string; engine: string }> {
  const lite = await createPglite(pgdata);
  try {
    const level = await schemaLevel({ query: async (sql, params) => (await lite.query(sql, params)).rows as never });
    if (!level) throw new Error(`${pgdata} holds no ACS database (no schema_migrations table): nothing to dump`);
    const engine = (await lite.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const file = await pgDump({ pg: lite, args: ['--no-owner', '--no-privileges', '--rows-per-insert=1000'] });
    const body = (await file.text())
      .replace(TRANSACTION_TIMEOUT, () => PORTABLE_TRANSACTION_TIMEOUT)
      .replace(VECTOR_EXTENSION, () => PORTABLE_VECTOR_EXTENSION);
    const header =
      `-- ACS dump of the embedded database (PGlite, PostgreSQL ${engine}), schema at migration ${level}, ` +
      `written ${now.toISOString()}.\n-- Restore with \`acs restore FILE\` (embedded, or PostgreSQL when DATABASE_URL is set), ` +
      `or load into an empty PostgreSQL database with psql -f FILE.\n`;
    return { sql: header + body, migration: level, engine };
  } finally {
    await lite.close();
  }
}

/** The schema unqualified names resolve to on this connection: where ACS looks for its tables. */
export async function currentSchema(q: Queryable): Promise<string | null> {
  const [row] = await q.query<{ schema: string | null }>('SELECT current_schema() AS schema');
  return row?.schema ?? null;
}

/** Tables in schema public, where a dump restores: any at all means the target is not empty. */
export async function publicTableCount(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_catalog.pg_tables WHERE schemaname = 'public'`);
  return row!.n;
}

/**
 * Why `sql` cannot be restored by `restoreDump`, or null: it must be a plain pg_dump script (so arbitrary SQL is
 * not run by mistake) and use INSERTs, since COPY's inline data needs psql.
 */
export function dumpProblem(sql: string): string | null {
  if (!/^-- PostgreSQL database dump$/m.test(sql.slice(0, 4096))) return 'it is not a PostgreSQL plain-SQL dump (no pg_dump header)';
  if (/^COPY .* FROM stdin;$/m.test(sql))
    return 'it holds COPY data, which only psql can load: dump with pg_dump --inserts, or load it with psql';
  if (!/^CREATE TABLE public\.schema_migrations /m.test(sql)) return 'it is not an ACS database (no schema_migrations table)';
  return null;
}

/**
 * Loads a dump into `db` in one transaction: all of it or nothing. Afterwards schema_migrations must match this
 * ACS's migrations (same checksums, none unknown), so the next start applies only the ones the dump predates.
 * Reports progress as bytes of the script done.
 */
export async function restoreDump(
  db: Db,
  sql: string,
  onProgress: (done: number, total: number) => void = () => undefined,
  migrations: Migration[] = loadMigrations(),
): Promise<{ statements: number; migration: string; pending: number }> {
  const statements = splitSql(sql);
  const total = statements.reduce((n, s) => n + s.length, 0);
  return db.transaction(async (tx) => {
    let done = 0;
    for (const statement of statements) {
      await tx.query(statement);
      done += statement.length;
      onProgress(done, total);
    }
    // The dump emptied search_path for its own statements; the session goes back to its defaults.
    await tx.query('RESET ALL');
    const applied = await tx.query<{ version: number; name: string; checksum: string }>(
      'SELECT version, name, checksum FROM public.schema_migrations ORDER BY version',
    );
    const known = new Map(migrations.map((m) => [m.version, m]));
    for (const row of applied) {
      const m = known.get(row.version);
      if (!m)
        throw new Error(`the dump is from a newer ACS (migration ${row.name} is unknown here): restore it with that version or later`);
      if (m.checksum !== row.checksum)
        throw new Error(`the dump's migration ${row.name} differs from this ACS's: it comes from another build`);
    }
    const last = applied.at(-1);
    if (!last) throw new Error('the dump records no migrations: it is not an ACS database');
    return { statements: statements.length, migration: last.name, pending: migrations.filter((m) => m.version > last.version).length };
  });
}
