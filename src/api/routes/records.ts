import { z } from 'zod';
import { RECORD_PAGES, RECORD_SCHEMAS } from '../../contracts/api/index.ts';
import { RECORD_INPUTS, RECORD_KINDS, type RecordKind } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import {
  createRecord,
  deleteRecord,
  getRecord,
  listRecords,
  parseRecordInput,
  recordFilters,
  recordIdPrefix,
  updateRecord,
} from '../../records/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseJsonText, parseQuery, requireJson } from '../http.ts';
import { readApplyOrQuarantine } from '../keep-rejected.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { actorOf, answers, NUL_IN_URL, type RouteDef } from '../router.ts';

/** Strict: a filter this kind does not have is a 400 naming it, not a silently unfiltered list. */
function listQuery(kind: RecordKind) {
  return PageQuery.extend(Object.fromEntries(recordFilters(kind).map((f) => [f, z.string().max(200).optional()]))).strict();
}

/** If-Match carries the version a client last read; a mismatch is a 409 instead of a lost update. */
function ifMatchVersion(header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const version = Number(header.replace(/"/g, ''));
  if (!Number.isInteger(version) || version < 1)
    throw new AppError('bad_request', 'If-Match must be a record version number', [{ path: 'If-Match', message: 'not a version' }]);
  return version;
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
        summary: `List ${kind}, oldest first, with cursor pagination`,
        query: listQuery(kind),
        responses: { 200: answers(RECORD_PAGES[kind], `a page of ${kind}`), 400: 'bad query parameter or cursor' },
        handler: async (c) => {
          const { limit, cursor, ...filters } = parseQuery(c, listQuery(kind)) as z.infer<typeof PageQuery> & Record<string, string>;
          const rows = await listRecords(deps.db, kind, {
            limit: limit + 1,
            afterId: decodeCursor(recordIdPrefix(kind))(cursor),
            filters: filters as Record<string, string>,
          });
          return c.json(pageOf(rows, limit, (r) => r.id));
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
        summary: `Read one ${kind} record`,
        responses: { 200: answers(one, 'the record'), 400: NUL_IN_URL, 404: 'no such live record' },
        handler: async (c) => c.json(await getRecord(deps.db, kind, c.req.param('id')!)),
      },
      {
        method: 'patch',
        path: `${base}/:id`,
        tag,
        summary: `Update fields of a ${kind} record (If-Match: version for optimistic locking)`,
        body: RECORD_INPUTS[kind].update,
        responses: {
          200: answers(one, 'the updated record'),
          400: 'invalid field (named), or a bad If-Match; the body is kept in quarantine',
          404: 'no such live record',
          409: 'version mismatch or unique conflict',
          413: 'body too large',
          415: 'not JSON',
        },
        handler: async (c) => {
          const parse = (text: string) => parseRecordInput(kind, parseJsonText(requireJson(c, text)), true);
          return c.json(
            await readApplyOrQuarantine(c, deps, `records:${kind}`, parse, (patch) => {
              if (Object.keys(patch).length === 0)
                throw new AppError('validation_failed', 'nothing to update', [{ path: '(body)', message: 'name at least one field' }]);
              return updateRecord(
                deps.db,
                kind,
                c.req.param('id')!,
                patch,
                actorOf(c),
                ifMatchVersion(c.req.header('if-match')),
                deps.clock.now(),
              );
            }),
          );
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
