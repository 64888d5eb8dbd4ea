import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { vector } from '@electric-sql/pglite-pgvector';
import pg from 'pg';

/** Anything that can run a parameterised SQL statement: the database itself or an open transaction. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
}

declare const inTransaction: unique symbol;

/**
 * A Queryable that is an open transaction. Only `Db.transaction` makes one, so a function that must run
 * atomically (ledger appends, approve-and-run, merges, erasure) asks for a `Tx`, and
 * passing the pool is a type error.
 */
export interface Tx extends Queryable {
  readonly [inTransaction]: true;
}

/** Marks a transaction's handle as a Tx; used by the backends below only. */
const asTx = (q: Queryable) => q as Tx;

/**
 * A second handle on the same open transaction. What callers cache per handle starts afresh
 * with it: the bus uses one per savepoint, so a rolled-back event leaves no stale cache behind.
 */
export const freshHandle = (tx: Tx): Tx => asTx({ query: (sql, params) => tx.query(sql, params) });

/** The system of record. Both backends speak the same PostgreSQL dialect. */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction; it commits when `fn` resolves and rolls back when it throws. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  /**
   * PostgreSQL only: calls `fn` on each NOTIFY on `channel`, from one dedicated connection (shared by all channels)
   * that reconnects when lost (and calls `fn` then, since notifications may have been missed). Resolves to an
   * unlisten function.
   */
  listen?(channel: string, fn: (payload: string | undefined) => void): Promise<() => Promise<void>>;
  close(): Promise<void>;
}

// int8 and numeric come back as JS numbers on both backends, so repositories see one shape.
const INT8 = 20;
const NUMERIC = 1700;
const toNumber = (v: string) => Number(v);

/** The embedded engine itself, for what needs PGlite's own API (pg_dump); everything else goes through `openPglite`. */
export async function createPglite(dataDir?: string, image?: Blob): Promise<PGlite> {
  // One options object: PGlite ignores a second argument when the first (the data dir) is undefined. pg_trgm and
  // pgvector are made available (knowledge search's trigram and semantic rankings); migrations 023 and 027 create
  // them in the database. An image (another instance's dumpDataDir) replaces initdb, which is most of a start.
  const lite = new PGlite({
    dataDir,
    loadDataDir: image,
    parsers: { [INT8]: toNumber, [NUMERIC]: toNumber },
    extensions: { pg_trgm, vector },
  });
  await lite.waitReady;
  return lite;
}

/** The longest stretch of embedded-database work before the event loop gets a turn. */
const PGLITE_YIELD_MS = 10;

/**
 * PGlite runs each query synchronously in WASM on this thread and resolves it as a microtask, so a chain of awaited
 * queries (a day of the live world, a delivery of the bus) never lets the event loop read a socket: requests, even
 * for static files, waited for the whole chain (seconds). Before a query, the event loop gets a turn once the
 * thread has been busy this long.
 */
function eventLoopTurns(everyMs: number): () => Promise<void> | undefined {
  let since = performance.now();
  return () => {
    if (performance.now() - since < everyMs) return undefined;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        since = performance.now();
        resolve();
      }),
    );
  };
}

/** An embedded database in `dataDir` (in memory without one), started from `image` when given instead of empty. */
export async function openPglite(dataDir?: string, image?: Blob): Promise<Db> {
  return pgliteDb(await createPglite(dataDir, image));
}

/** A started embedded engine as a Db. */
export function pgliteDb(lite: PGlite): Db {
  const turn = eventLoopTurns(PGLITE_YIELD_MS);
  const run = async <T>(q: { query: PGlite['query'] }, sql: string, params?: unknown[]) => {
    await turn();
    return (await q.query<T>(sql, params as unknown[])).rows;
  };
  return {
    kind: 'pglite',
    query: (sql, params) => run(lite, sql, params),
    transaction: (fn) => lite.transaction((tx) => fn(asTx({ query: (sql, params) => run(tx, sql, params) }))),
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
  // A connection the server ends (a restart, pg_terminate_backend) while idle in the pool: the pool drops it and the
  // next query opens another. Without a listener the 'error' event would end the process.
  pool.on('error', () => undefined);
  // Fail fast with the server's own message when the URL is wrong.
  await pool.query('SELECT 1');
  const run = async <T>(c: pg.Pool | pg.PoolClient, sql: string, params?: unknown[]) => (await c.query(sql, params)).rows as T[];
  const listener = sharedListener(url);
  return {
    kind: 'postgres',
    query: (sql, params) => run(pool, sql, params),
    transaction: async (fn) => {
      const client = await pool.connect();
      // Ended by the server between two queries of the transaction: the next query fails (the transaction rolls back)
      // and the client is released as broken, not handed out again.
      let lost: Error | undefined;
      const onError = (err: Error) => (lost = err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const result = await fn(asTx({ query: (sql, params) => run(client, sql, params) }));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => (lost ??= e));
        throw err;
      } finally {
        client.off('error', onError);
        client.release(lost);
      }
    },
    exec: async (sql) => {
      await pool.query(sql);
    },
    listen: (channel, fn) => listener.listen(channel, fn),
    close: async () => {
      await listener.close();
      await pool.end();
    },
  };
}

const LISTEN_RETRY_MS = 1000;

type Notified = (payload: string | undefined) => void;

/**
 * One connection outside the pool (a pooled one would be handed to other work) that LISTENs on every channel a
 * caller asked for, so a process holds one such connection however many listen (the bus, the token cache).
 */
function sharedListener(url: string) {
  const channels = new Map<string, Set<Notified>>();
  let client: Promise<pg.Client> | null = null;
  let retry: NodeJS.Timeout | null = null;
  let closed = false;
  /** Clients this process ended on purpose: their 'end' must not touch the current connection. */
  const ended = new WeakSet<pg.Client>();
  const notifyAll = () => {
    for (const fns of channels.values()) for (const fn of fns) fn(undefined);
  };
  const connect = async (): Promise<pg.Client> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => channels.get(n.channel)?.forEach((fn) => fn(n.payload)));
    // A lost connection ends the client; 'end' below reconnects.
    c.on('error', () => undefined);
    try {
      await c.connect();
      for (const channel of channels.keys()) await c.query(`LISTEN ${channel}`);
    } catch (err) {
      await c.end().catch(() => undefined);
      throw err;
    }
    c.on('end', () => {
      if (ended.has(c)) return;
      client = null;
      if (!closed && channels.size) reconnect();
    });
    return c;
  };
  const open = () => {
    const next = connect();
    client = next;
    next.catch(() => {
      if (client === next) client = null;
    });
    return next;
  };
  // Notifications sent while the connection was down are lost: every listener is called once it is back.
  const reconnect = () => {
    retry = setTimeout(() => {
      retry = null;
      if (closed || client) return;
      open().then(notifyAll, () => !closed && reconnect());
    }, LISTEN_RETRY_MS);
    retry.unref();
  };
  const end = async () => {
    const c = client;
    client = null;
    if (retry) clearTimeout(retry);
    const live = await c?.catch(() => null);
    if (!live) return;
    ended.add(live);
    await live.end().catch(() => undefined);
  };
  return {
    async listen(channel: string, fn: Notified): Promise<() => Promise<void>> {
      if (!/^[a-z_][a-z0-9_]*$/.test(channel)) throw new Error(`invalid channel name: ${channel}`);
      if (closed) throw new Error('the database is closed');
      const known = channels.get(channel);
      try {
        if (known) known.add(fn);
        else {
          channels.set(channel, new Set([fn]));
          if (client) await (await client).query(`LISTEN ${channel}`);
        }
        // A new connection LISTENs on every channel in the map, this one included.
        await (client ?? open());
      } catch (err) {
        channels.get(channel)?.delete(fn);
        if (channels.get(channel)?.size === 0) channels.delete(channel);
        if (!channels.size) await end();
        throw err;
      }
      return async () => {
        const fns = channels.get(channel);
        if (!fns?.delete(fn) || fns.size) return;
        channels.delete(channel);
        if (!channels.size) return end();
        const c = await client?.catch(() => null);
        await c?.query(`UNLISTEN ${channel}`).catch(() => undefined);
      };
    },
    async close(): Promise<void> {
      closed = true;
      channels.clear();
      await end();
    },
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
 * Tells every process LISTENing on `channel` (PostgreSQL; on PGlite there is no other process), on commit when `q` is
 * a transaction.
 */
export async function notify(q: Queryable & { kind?: Db['kind'] }, channel: string, payload = ''): Promise<void> {
  if (q.kind !== 'pglite') await q.query('SELECT pg_notify($1, $2)', [channel, payload]);
}

/** The health probe: one trivial round trip to the database; rejects when it cannot answer. */
export async function ping(db: Queryable): Promise<void> {
  await db.query('SELECT 1');
}

/**
 * Refreshes the planner's statistics. PostgreSQL's autovacuum does this on its own; the embedded PGlite has
 * no background workers, so without it the planner guesses table sizes and may scan instead of using an index.
 */
export async function analyze(db: Db): Promise<void> {
  await db.exec('ANALYZE');
}
