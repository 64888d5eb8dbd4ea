import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

/** Anything that can run a parameterised SQL statement: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

/** The system of record. Both backends speak the same PostgreSQL dialect. */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

// int8 and numeric come back as JS numbers on both backends, so repositories see one shape.
const INT8 = 20;
const NUMERIC = 1700;
const toNumber = (v: string) => Number(v);

export async function openPglite(dataDir?: string): Promise<Db> {
  // One options object: PGlite ignores a second argument when the first (the data dir) is undefined.
  const lite = new PGlite({ dataDir, parsers: { [INT8]: toNumber, [NUMERIC]: toNumber } });
  await lite.waitReady;
  const run = async <T>(q: { query: PGlite['query'] }, sql: string, params?: unknown[]) =>
    (await q.query<T>(sql, params as unknown[])).rows;
  return {
    kind: 'pglite',
    query: (sql, params) => run(lite, sql, params),
    transaction: (fn) => lite.transaction((tx) => fn({ query: (sql, params) => run(tx, sql, params) })),
    exec: async (sql) => {
      await lite.exec(sql);
    },
    close: () => lite.close(),
  };
}

pg.types.setTypeParser(INT8, toNumber);
pg.types.setTypeParser(NUMERIC, toNumber);
// A date is a day, not an instant: midnight UTC, as PGlite reads it. pg's default (local midnight) moves it a day on a server east of UTC.
const DATE = 1082;
// Anything else PostgreSQL prints for a date (infinity, BC years) stays as its text.
pg.types.setTypeParser(DATE, (v: string) => (/^\d{4}-\d{2}-\d{2}$/.test(v) ? new Date(`${v}T00:00:00Z`) : v));

/**
 * Connects to a PostgreSQL server. `schema`, when given, is created if missing and put first on the
 * search path of every pooled connection; tests use it to get an isolated database per file.
 */
export async function openPostgres(url: string, opts: { schema?: string; max?: number } = {}): Promise<Db> {
  if (opts.schema && !/^[a-z_][a-z0-9_]*$/.test(opts.schema)) throw new Error(`invalid schema name: ${opts.schema}`);
  if (opts.schema) {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${opts.schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    ...(opts.schema ? { options: `-c search_path=${opts.schema},public` } : {}),
  });
  // Fail fast with the server's own message when the URL is wrong.
  await pool.query('SELECT 1');
  const run = async <T>(c: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]) =>
    (await c.query(sql, params)).rows as T[];
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    transaction: async (fn) => {
      const client = await pool.connect();
      try {
        await client.query('BEGIN');
        const result = await fn({ query: (sql, params) => run(client, sql, params) });
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    close: () => pool.end(),
  };
}

/** Inserts many rows in one statement by shipping them as one JSON parameter; fast on both backends. */
export async function insertRows<T = Record<string, unknown>>(
  q: Queryable,
  table: string,
  columns: Record<string, string>,
  rows: readonly object[],
  suffix = '',
): Promise<T[]> {
  if (rows.length === 0) return [];
  const names = Object.keys(columns);
  const recordType = names.map((n) => `${n} ${columns[n]}`).join(', ');
  const sql =
    `INSERT INTO ${table} (${names.join(', ')}) ` +
    `SELECT ${names.join(', ')} FROM jsonb_to_recordset($1::jsonb) AS t(${recordType}) ${suffix}`;
  return q.query<T>(sql, [JSON.stringify(rows)]);
}

/**
 * Refreshes the planner's statistics. PostgreSQL's autovacuum does this on its own; the embedded PGlite has
 * no background workers, so without it the planner guesses table sizes and may scan instead of using an index.
 */
export async function analyze(db: Db): Promise<void> {
  await db.exec('ANALYZE');
}
