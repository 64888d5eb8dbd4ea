import { z } from 'zod';
import { RECORD_PAGES, RECORD_SCHEMAS } from '../../contracts/api/index.ts';
import { RECORD_INPUTS, RECORD_KINDS, type RecordKind } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import {
  createRecord,
  deleteRecord,
  getRecord,
  pageRecords,
  parseRecordInput,
  recordFilters,
  recordIdPrefix,
  updateRecord,
  type RecordRow,
} from '../../records/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseJsonText, parseQuery, requireJson } from '../http.ts';
import { readApplyOrQuarantine } from '../keep-rejected.ts';
import { decodePositionCursor, PageQuery, pageOf, positionCursor } from '../pagination.ts';
import { actorOf, answers, NUL_IN_URL, type RouteDef } from '../router.ts';

/** Records changed at or after this instant (an ISO 8601 date-time with its offset), for incremental sync. */
const UpdatedSince = z.iso
  .datetime({ offset: true, message: 'an ISO 8601 date-time with an offset, e.g. 2026-03-01T00:00:00Z' })
  // ISO 8601's year 0000 (1 BC) is one PostgreSQL refuses to read: a 400 here, not a database error.
  .refine((s) => !s.startsWith('0000'), 'years start at 0001')
  .optional()
  .describe('only records updated at or after this instant (ISO 8601 date-time), for incremental sync');

/** Strict: a filter this kind does not have is a 400 naming it, not a silently unfiltered list. */
function listQuery(kind: RecordKind) {
  return PageQuery.extend({
    updatedSince: UpdatedSince,
    ...Object.fromEntries(recordFilters(kind).map((f) => [f, z.string().max(200).optional()])),
  }).strict();
}

/** A record's entity tag: its version, which every change bumps. */
const etagOf = (r: RecordRow) => `"${r.version}"`;

/**
 * If-Match carries the ETag (the version) a client last read; `*` matches any live record. A stale one is a 412,
 * not a lost update.
 */
function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined || header.trim() === '*') return undefined;
  // Digits only, as the ETag is written (quoted or bare): Number() alone would take "0x1" or "1e0" for version 1.
  const digits = header.trim().match(/^(?:"(\d{1,9})"|(\d{1,9}))$/);
  const version = Number(digits?.[1] ?? digits?.[2]);
  if (!digits || version < 1)
    throw new AppError('bad_request', 'If-Match must be an ETag this API returned (the record version)', [
      { path: 'If-Match', message: 'not a version' },
    ]);
  return version;
}

/** Whether If-None-Match names the record's current ETag (weak or strong), or is `*`. */
function noneMatchHits(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

const DeleteQuery = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

/** CRUD routes for every CRM record kind. Deletes are soft and ledgered. */
export function recordRoutes(deps: ApiDeps): RouteDef[] {
  return RECORD_KINDS.flatMap((kind): RouteDef[] => {
    const base = `/api/v1/${kind}`;
    const tag = kind;
    const one = RECORD_SCHEMAS[kind];
    return [
      {
        method: 'get',
        path: base,
        tag,
        summary: `List ${kind} in (updatedAt, id) order, least recently updated first, with cursor pagination; updatedSince for incremental sync`,
        query: listQuery(kind),
        responses: { 200: answers(RECORD_PAGES[kind], `a page of ${kind}`), 400: 'bad query parameter (updatedSince, a filter) or cursor' },
        handler: async (c) => {
          const { limit, cursor, updatedSince, ...filters } = parseQuery(c, listQuery(kind)) as z.infer<typeof PageQuery> & {
            updatedSince?: string;
          } & Record<string, string>;
          const rows = await pageRecords(deps.db, kind, {
            limit: limit + 1,
            after: decodePositionCursor(recordIdPrefix(kind))(cursor),
            updatedSince,
            filters: filters as Record<string, string>,
          });
          return c.json(
            pageOf(
              rows,
              limit,
              (r) => positionCursor(r.position),
              (r) => r.record,
            ),
          );
        },
      },
      {
        method: 'post',
        path: base,
        tag,
        summary: `Create a ${kind} record`,
        body: RECORD_INPUTS[kind].create,
        responses: {
          201: answers(one, 'the created record'),
          400: 'invalid field (named); the body is kept in quarantine',
          409: 'unique field already taken',
          413: 'body too large',
          415: 'not JSON',
        },
        handler: async (c) => {
          const parse = (text: string) => parseRecordInput(kind, parseJsonText(requireJson(c, text)), false);
          return c.json(
            await readApplyOrQuarantine(c, deps, `records:${kind}`, parse, (input) =>
              createRecord(deps.db, kind, input, actorOf(c), deps.clock.now()),
            ),
            201,
          );
        },
      },
      {
        method: 'get',
        path: `${base}/:id`,
        tag,
        summary: `Read one ${kind} record (ETag: its version; If-None-Match answers 304 when unchanged)`,
        conditional: true,
        responses: {
          200: answers(one, 'the record'),
          304: 'not modified: If-None-Match names the current ETag',
          400: NUL_IN_URL,
          404: 'no such live record',
        },
        handler: async (c) => {
          const record = await getRecord(deps.db, kind, c.req.param('id')!);
          const etag = etagOf(record);
          if (noneMatchHits(c.req.header('if-none-match'), etag)) return c.body(null, 304, { etag });
          return c.json(record, 200, { etag });
        },
      },
      {
        method: 'patch',
        path: `${base}/:id`,
        tag,
        summary: `Update fields of a ${kind} record (If-Match: the ETag read, for optimistic locking)`,
        body: RECORD_INPUTS[kind].update,
        conditional: true,
        responses: {
          200: answers(one, 'the updated record'),
          400: 'invalid field (named), or a bad If-Match; the body is kept in quarantine',
          404: 'no such live record',
          409: 'unique conflict',
          412: 'If-Match is stale: the record changed since it was read',
          413: 'body too large',
          415: 'not JSON',
        },
        handler: async (c) => {
          const parse = (text: string) => parseRecordInput(kind, parseJsonText(requireJson(c, text)), true);
          const record = await readApplyOrQuarantine(c, deps, `records:${kind}`, parse, async (patch) => {
            if (Object.keys(patch).length === 0)
              throw new AppError('validation_failed', 'nothing to update', [{ path: '(body)', message: 'name at least one field' }]);
            try {
              return await updateRecord(
                deps.db,
                kind,
                c.req.param('id')!,
                patch,
                actorOf(c),
                ifMatchVersion(c.req.header('if-match')),
                deps.clock.now(),
              );
            } catch (err) {
              if (err instanceof AppError && err.code === 'record.version_conflict')
                throw new AppError('precondition_failed', err.message, [
                  { path: 'If-Match', message: 'stale: read the record again for its current ETag' },
                ]);
              throw err;
            }
          });
          return c.json(record, 200, { etag: etagOf(record) });
        },
      },
      {
        method: 'delete',
        path: `${base}/:id`,
        tag,
        summary: `Soft-delete a ${kind} record (recorded in the ledger)`,
        query: DeleteQuery,
        responses: { 204: 'deleted', 404: 'no such live record', 400: 'reason too long' },
        handler: async (c) => {
          const { reason } = parseQuery(c, DeleteQuery);
          await deleteRecord(deps.db, kind, c.req.param('id')!, actorOf(c), reason, deps.clock.now());
          return c.body(null, 204);
        },
      },
    ];
  });
}
