import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPglite, pgliteDb, type Db } from './db.ts';

const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Any fixed number: serialises concurrent starters on one PostgreSQL server.
const MIGRATION_LOCK = 730_001;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d+_[\w-]+\.sql$/.test(f))
    .sort()
    .map((file) => {
      const sql = readFileSync(dir + file, 'utf8');
      return {
        version: Number(file.split('_')[0]),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    });
}

/**
 * Applies pending migrations in order, each in its own transaction, and records them.
 * Re-running is a no-op. An applied migration whose file has since changed stops start-up.
 */
export async function migrate(db: Db, migrations = loadMigrations()): Promise<string[]> {
  await db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
  const applied: string[] = [];
  for (const m of migrations) {
    await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      const [row] = await tx.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = $1', [m.version]);
      if (row) {
        if (row.checksum !== m.checksum) {
          throw new Error(`migration ${m.name} was changed after it was applied; add a new migration instead of editing it`);
        }
        return;
      }
      for (const statement of splitSql(m.sql)) await tx.query(statement);
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
      applied.push(m.name);
    });
  }
  return applied;
}

/**
 * A migrated, empty embedded database as an image `openPglite` starts from (tests start hundreds of databases;
 * initdb and the migrations are most of each start). A copy shares the bus identity: see renewBusIdentity.
 */
export async function migratedPgliteImage(): Promise<Blob> {
  const lite = await createPglite();
  try {
    await migrate(pgliteDb(lite));
    return await lite.dumpDataDir('none');
  } finally {
    await lite.close();
  }
}

/**
 * Splits a migration script into statements at top-level semicolons. A small tokenizer skips what a semicolon
 * can hide in: 'strings' (with '' escapes, across lines), E'strings' (with backslash escapes), "identifiers",
 * -- and (nested) block comments, and $tag$ ... $tag$ bodies. Comments are dropped from the statements.
 */
export function splitSql(sql: string): string[] {
  const statements: string[] = [];
  let current = '';
  let i = 0;
  const flush = () => {
    if (current.trim()) statements.push(current.trim());
    current = '';
  };
  // Copies a quoted run that starts at i and ends at the next unescaped `quote`; an unterminated one runs to the end.
  const quoted = (quote: string, backslashEscapes: boolean) => {
    let j = i + 1;
    while (j < sql.length) {
      if (backslashEscapes && sql[j] === '\\') j += 2;
      else if (sql[j] === quote && sql[j + 1] === quote) j += 2;
      else if (sql[j] === quote) break;
      else j += 1;
    }
    current += sql.slice(i, j + 1);
    i = j + 1;
  };
  while (i < sql.length) {
    const ch = sql[i]!;
    const prev = i > 0 ? sql[i - 1]! : '';
    const identBefore = /[\w$]/.test(prev);
    if (ch === "'") quoted("'", (prev === 'E' || prev === 'e') && !/[\w$]/.test(sql[i - 2] ?? ''));
    else if (ch === '"') quoted('"', false);
    else if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end === -1 ? sql.length : end;
    } else if (ch === '/' && sql[i + 1] === '*') {
      let depth = 0;
      do {
        if (sql.startsWith('/*', i)) ((depth += 1), (i += 2));
        else if (sql.startsWith('*/', i)) ((depth -= 1), (i += 2));
        else i += 1;
      } while (depth > 0 && i < sql.length);
      current += ' ';
    } else if (ch === '$' && !identBefore && /^\$(?:[A-Za-z_][\w]*)?\$/.test(sql.slice(i, i + 64))) {
      const tag = /^\$(?:[A-Za-z_][\w]*)?\$/.exec(sql.slice(i, i + 64))![0];
      const close = sql.indexOf(tag, i + tag.length);
      const end = close === -1 ? sql.length : close + tag.length;
      current += sql.slice(i, end);
      i = end;
    } else if (ch === ';') {
      current += ';';
      i += 1;
      flush();
    } else {
      current += ch;
      i += 1;
    }
  }
  flush();
  return statements;
}
