import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkTables, type TableViolation } from '../scripts/check-tables.ts';
import { CROSS_OWNER_WRITERS, TABLE_OWNERS } from '../src/store/table-owners.ts';

// Tables with owners (docs/architecture.md): the rules hold for src/, and each of them can fail on a fixture that
// breaks it on purpose.

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const FIXTURE = fileURLToPath(new URL('fixtures/table-owners', import.meta.url));
const key = (v: TableViolation) => `${v.rule} ${v.file}:${v.line}`;

describe('tables with owners', () => {
  it('src: every table has an owner and its SQL lives in the owner’s repo files or a read model', () => {
    expect(checkTables({ root: ROOT, owners: TABLE_OWNERS, crossOwnerWriters: CROSS_OWNER_WRITERS }).map(key)).toEqual([]);
  });

  it('reports each broken rule in the fixture, and nothing for what the rules allow', () => {
    const found = checkTables({
      root: FIXTURE,
      owners: { records: ['accounts'], sense: ['signals', 'ghost'] },
      crossOwnerWriters: ['src/privacy/erasure.repo.ts'],
    });
    expect(found.map(key).sort()).toEqual([
      'foreign-table src/records/records.repo.ts:4',
      'foreign-table src/records/records.repo.ts:6',
      'owner-lists-unknown-table src/store/table-owners.ts:0',
      'query-outside-repo src/sense/intake.ts:5',
      'sql-outside-repo src/sense/intake.ts:5',
      'unowned-table src/store/migrations/001_fixture.sql:0',
      'view-writes src/views/profile.ts:4',
    ]);
    expect(found.find((v) => v.rule === 'foreign-table')?.detail).toMatch(/^signals belongs to sense/);
    expect(found.find((v) => v.rule === 'unowned-table')?.detail).toBe('orphan');
    expect(found.find((v) => v.rule === 'owner-lists-unknown-table')?.detail).toBe('ghost');
  });
});
