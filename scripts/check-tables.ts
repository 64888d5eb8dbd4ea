/**
 * Tables with owners: every table belongs to one module (src/store/table-owners.ts), its SQL lives only in that
 * module's `*.repo.ts` files, and read models that join several modules' tables live in src/views and only read.
 * `npm run check:tables` prints each violation with its file and line and exits 1 when there is any;
 * test/table-owners.test.ts runs it on src and on a fixture that breaks every rule.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import ts from 'typescript';

export interface TableViolation {
  rule: 'unowned-table' | 'owner-lists-unknown-table' | 'sql-outside-repo' | 'query-outside-repo' | 'foreign-table' | 'view-writes';
  file: string;
  line: number;
  detail: string;
}

export interface TableCheckInput {
  /** The folder holding src/ (the repository, or a fixture). */
  root: string;
  owners: Record<string, readonly string[]>;
  crossOwnerWriters: readonly string[];
}

const MIGRATIONS = 'src/store/migrations';
const SQL_HOME = /(\.repo\.ts$|^src\/views\/|^src\/store\/)/;
const TABLE_REF = /\b(?:from|join|into|update|table|lock)\s+(?:only\s+)?([a-z_][a-z0-9_]*)/gi;
const LOOKS_LIKE_SQL = [
  /^\s*\(?\s*(select|insert|update|delete|with|from|join|left join|where|lock|values|on conflict)\b/i,
  /\bselect\b[\s\S]*\bfrom\b/i,
  /\binsert\s+into\b/i,
  /\bdelete\s+from\b/i,
  /\bupdate\s+[a-z_]+\s+set\b/i,
];
const WRITES =
  /\b(insert\s+into|update\s+[a-z_]+\s+set|delete\s+from|truncate|create\s+(table|index)|alter\s+table|drop\s+table|for\s+(no\s+key\s+)?update|for\s+share|lock\s+table)\b/i;
// A call of a database handle's query or exec (Hono's `c.req.query()` is the one other `.query(` in src), or of the
// store's bulk insert, whose table is its second argument.
const QUERY_CALL = /(?<!req)\.(query|exec)(<[^(]*>)?\(|\binsertRows(<[^(]*>)?\(/g;
const BULK_INSERT = /\binsertRows(?:<[^(]*>)?\(\s*[\w.]+\s*,\s*'([a-z_]+)'/g;

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** The text of every string and template literal in a file (a template's holes become `?`), with its line. */
function literals(path: string, text: string): { text: string; line: number }[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: { text: string; line: number }[] = [];
  const lineOf = (node: ts.Node) => source.getLineAndCharacterOfPosition(node.getStart(source)).line + 1;
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) found.push({ text: node.text, line: lineOf(node) });
    else if (ts.isTemplateExpression(node)) {
      found.push({ text: [node.head.text, ...node.templateSpans.map((s) => s.literal.text)].join(' ? '), line: lineOf(node) });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const moduleOf = (rel: string) => rel.split('/')[1]?.replace(/\.ts$/, '') ?? '';

export function checkTables({ root, owners, crossOwnerWriters }: TableCheckInput): TableViolation[] {
  const violations: TableViolation[] = [];
  const ownerOf = new Map<string, string>();
  for (const [module, tables] of Object.entries(owners)) for (const t of tables) ownerOf.set(t, module);

  const created = new Map<string, string>();
  for (const name of readdirSync(join(root, MIGRATIONS))
    .filter((f) => f.endsWith('.sql'))
    .sort()) {
    const sql = readFileSync(join(root, MIGRATIONS, name), 'utf8');
    for (const m of sql.matchAll(/create\s+table\s+(?:if\s+not\s+exists\s+)?([a-z_][a-z0-9_]*)/gi)) created.set(m[1]!.toLowerCase(), name);
  }
  for (const [table, migration] of created) {
    if (!ownerOf.has(table)) violations.push({ rule: 'unowned-table', file: `${MIGRATIONS}/${migration}`, line: 0, detail: table });
  }
  for (const table of ownerOf.keys()) {
    if (!created.has(table))
      violations.push({ rule: 'owner-lists-unknown-table', file: 'src/store/table-owners.ts', line: 0, detail: table });
  }

  for (const path of tsFiles(join(root, 'src'))) {
    const rel = relative(root, path).split(sep).join('/');
    if (rel.startsWith('src/store/')) continue;
    const text = readFileSync(path, 'utf8');
    const home = SQL_HOME.test(rel);
    const isView = rel.startsWith('src/views/');
    const module = moduleOf(rel);

    if (!home) {
      for (const m of text.matchAll(QUERY_CALL)) {
        const line = text.slice(0, m.index).split('\n').length;
        violations.push({ rule: 'query-outside-repo', file: rel, line, detail: m[0] });
      }
    }
    const bulk = [...text.matchAll(BULK_INSERT)].map((m) => ({
      text: `INSERT INTO ${m[1]}`,
      line: text.slice(0, m.index).split('\n').length,
    }));
    for (const lit of [...literals(path, text), ...bulk]) {
      if (!LOOKS_LIKE_SQL.some((re) => re.test(lit.text))) continue;
      const tables = [...new Set([...lit.text.matchAll(TABLE_REF)].map((m) => m[1]!.toLowerCase()).filter((t) => ownerOf.has(t)))];
      if (tables.length === 0) continue;
      const snippet = lit.text.replace(/\s+/g, ' ').trim().slice(0, 80);
      if (!home) {
        violations.push({ rule: 'sql-outside-repo', file: rel, line: lit.line, detail: `${tables.join(', ')}: ${snippet}` });
      } else if (isView) {
        if (WRITES.test(lit.text)) violations.push({ rule: 'view-writes', file: rel, line: lit.line, detail: snippet });
      } else if (!crossOwnerWriters.includes(rel)) {
        for (const t of tables.filter((t) => ownerOf.get(t) !== module)) {
          violations.push({ rule: 'foreign-table', file: rel, line: lit.line, detail: `${t} belongs to ${ownerOf.get(t)}: ${snippet}` });
        }
      }
    }
  }
  return violations;
}

// `npm run check:tables`
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const { TABLE_OWNERS, CROSS_OWNER_WRITERS } = await import('../src/store/table-owners.ts');
  const root = new URL('..', import.meta.url).pathname;
  const found = checkTables({ root, owners: TABLE_OWNERS, crossOwnerWriters: CROSS_OWNER_WRITERS });
  for (const v of found) console.log(`${v.rule}  ${v.file}:${v.line}  ${v.detail}`);
  const perRule = new Map<string, number>();
  for (const v of found) perRule.set(v.rule, (perRule.get(v.rule) ?? 0) + 1);
  const byRule = [...perRule].map(([rule, n]) => `${rule} ${n}`);
  console.log(
    found.length === 0
      ? 'tables: every table has an owner, and its SQL is in the owner’s repo files'
      : `\n${found.length} violations (${byRule.join(', ')})`,
  );
  process.exitCode = found.length === 0 ? 0 : 1;
}
