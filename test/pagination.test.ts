import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, pageOf } from '../src/api/pagination.ts';
import { AppError } from '../src/errors.ts';
import { createTestApp, type TestApp } from './helpers.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

/** Every list route that pages with a cursor. */
const LIST_ROUTES = [
  '/api/v1/quarantine',
  '/api/v1/approvals',
  '/api/v1/identity/reviews',
  '/api/v1/proposals',
  '/api/v1/accounts',
  '/api/v1/consents',
];

// NUL once decoded; not base64url at all; garbage once decoded; SQL once decoded; a number; too long; an id of another list.
const MALFORMED = [
  'AA',
  '!!',
  'not-a-cursor',
  encodeCursor("' OR 1=1 --"),
  encodeCursor(-5),
  'x'.repeat(300),
  encodeCursor('tok_01JABCDEFGHJKMNPQRSTVWXYZ0'),
];

describe('cursor pagination', () => {
  it('GET /quarantine with a malformed cursor is a 400 naming cursor, not a 500', async () => {
    const res = await t.call('GET', '/api/v1/quarantine?cursor=AA');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(res.body.issues.map((i: { path: string }) => i.path)).toContain('cursor');
  });

  it.each(LIST_ROUTES)('%s refuses every malformed cursor with a 400 naming cursor', async (route) => {
    for (const bad of MALFORMED) {
      const res = await t.call('GET', `${route}?cursor=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.code, bad).toBe('validation_failed');
      expect(res.body.issues.map((i: { path: string }) => i.path).join(' '), bad).toMatch(/cursor/);
    }
  });

  it('a cursor of one list is refused by another', async () => {
    for (let i = 0; i < 2; i++)
      await t.call('POST', '/api/v1/signals', { body: { type: 'nps', subject: { customerId: `C-P${i}` }, data: { score: 99 } } });
    const first = await t.call('GET', '/api/v1/quarantine?limit=1');
    expect(first.body.nextCursor).toEqual(expect.any(String));
    for (const route of ['/api/v1/identity/reviews', '/api/v1/accounts', '/api/v1/approvals']) {
      const res = await t.call('GET', `${route}?cursor=${first.body.nextCursor}`);
      expect(res.status, route).toBe(400);
      expect(res.body.issues[0].path, route).toBe('cursor');
    }
  });

  it('pages of the quarantine list cover every item once and end with a null cursor', async () => {
    for (let i = 0; i < 3; i++)
      await t.call('POST', '/api/v1/signals', { body: { type: 'nps', subject: { customerId: `C-Q${i}` }, data: { score: 99 } } });
    const all = await t.call('GET', '/api/v1/quarantine?limit=500');
    expect(all.body.nextCursor).toBeNull();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res: { status: number; body: { data: { id: string }[]; nextCursor: string | null } } = await t.call(
        'GET',
        `/api/v1/quarantine?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status).toBe(200);
      expect(res.body.data.length).toBeGreaterThan(0);
      seen.push(...res.body.data.map((d) => d.id));
      cursor = res.body.nextCursor;
    } while (cursor);
    expect(seen).toEqual(all.body.data.map((d: { id: string }) => d.id));
    expect(seen.length).toBeGreaterThanOrEqual(5);
  });
});

describe('pageOf and decodeCursor', () => {
  it('pageOf keeps `limit` rows and makes the next cursor from the last kept one only when more follow', () => {
    const rows = [{ id: 'q_1' }, { id: 'q_2' }, { id: 'q_3' }];
    expect(pageOf(rows, 2, (r) => r.id)).toEqual({ data: rows.slice(0, 2), nextCursor: encodeCursor('q_2') });
    expect(pageOf(rows, 3, (r) => r.id)).toEqual({ data: rows, nextCursor: null });
    expect(
      pageOf(
        rows,
        2,
        (r) => r.id,
        (r) => r.id.toUpperCase(),
      ),
    ).toEqual({ data: ['Q_1', 'Q_2'], nextCursor: encodeCursor('q_2') });
  });

  it('decodeCursor gives back what encodeCursor wrote, for ids of its kind and offsets', () => {
    const id = 'q_01JABCDEFGHJKMNPQRSTVWXYZ0';
    expect(decodeCursor('q')(encodeCursor(id))).toBe(id);
    expect(decodeCursor('q')(undefined)).toBeUndefined();
    expect(decodeCursor('offset')(encodeCursor(150))).toBe(150);
    expect(decodeCursor('offset')(undefined)).toBe(0);
    expect(() => decodeCursor('prop')(encodeCursor(id))).toThrow(AppError);
    expect(() => decodeCursor('offset')(encodeCursor('1.5'))).toThrow(AppError);
  });
});
