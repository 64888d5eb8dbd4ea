import { z } from 'zod';
import { AppError } from '../errors.ts';

/** The query every list route takes: a page size and the cursor a previous page returned. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z.string().max(200).optional(),
});

/**
 * What a cursor holds: the id of the last row seen (ids are `<prefix>_<ULID>`; the kind is the prefix, so a cursor
 * of another list is refused too), `sequence`, the last row's integer id (the outbox), or `offset`, a position in an
 * ordering that has no unique key to resume from.
 */
export type CursorKind = string;

const invalid = () =>
  new AppError('validation_failed', 'cursor is not one this API returned', [
    { path: 'cursor', message: 'invalid cursor: pass the nextCursor of the previous page unchanged' },
  ]);

export const encodeCursor = (value: string | number) => Buffer.from(String(value), 'utf8').toString('base64url');

/**
 * Decodes a cursor of `kind`; a cursor this API did not hand out is a 400 naming `cursor` (never a database error:
 * a decoded cursor goes into a query, so only the shape this API writes may pass).
 */
export function decodeCursor(kind: 'offset'): (cursor: string | undefined) => number;
export function decodeCursor(kind: 'sequence'): (cursor: string | undefined) => number | undefined;
export function decodeCursor(kind: CursorKind): (cursor: string | undefined) => string | undefined;
export function decodeCursor(kind: CursorKind): (cursor: string | undefined) => string | number | undefined {
  return (cursor) => {
    if (cursor === undefined) return kind === 'offset' ? 0 : undefined;
    const value = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
    if (kind === 'offset' || kind === 'sequence') {
      if (!/^\d{1,15}$/.test(value)) throw invalid();
      return Number(value);
    }
    if (!new RegExp(`^${kind}_[0-9A-Z]{26}$`).test(value)) throw invalid();
    return value;
  };
}

/**
 * Decodes the cursor of a list in (updated_at, id) order, whose ids are `<kind>_<ULID>`: the position of the last
 * row seen, its updated_at to the microsecond in UTC and its id. Anything else is a 400 naming `cursor`.
 */
export function decodePositionCursor(kind: string): (cursor: string | undefined) => { updatedAt: string; id: string } | undefined {
  const shape = new RegExp(`^(\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{6}Z)\\|(${kind}_[0-9A-Z]{26})$`);
  return (cursor) => {
    if (cursor === undefined) return undefined;
    const value = /^[A-Za-z0-9_-]+$/.test(cursor) ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
    const m = value.match(shape);
    // Year 0000 parses here but not in PostgreSQL; no row this API wrote is dated in it.
    if (!m || m[1]!.startsWith('0000') || Number.isNaN(Date.parse(m[1]!))) throw invalid();
    return { updatedAt: m[1]!, id: m[2]! };
  };
}

/** The cursor of a position in an (updated_at, id) order. */
export const positionCursor = (p: { updatedAt: string; id: string }) => `${p.updatedAt}|${p.id}`;

/**
 * One page from `rows`, fetched with `limit + 1` so the extra row tells whether another page follows; the next
 * cursor is made from the last row kept.
 */
export function pageOf<T, U = T>(
  rows: T[],
  limit: number,
  cursorOf: (last: T) => string | number,
  map?: (row: T) => U,
): { data: U[]; nextCursor: string | null } {
  const kept = rows.slice(0, limit);
  const last = kept[kept.length - 1];
  return {
    data: map ? kept.map(map) : (kept as unknown as U[]),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(cursorOf(last)) : null,
  };
}
