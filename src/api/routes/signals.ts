import type { Context } from 'hono';
import { z } from 'zod';
import { jsonArrayElements, SIGNAL_TYPES, SignalDocument, Timestamp, toFieldIssues } from '../../contracts/index.ts';
import {
  ContactConsentsSchema,
  IntakeResultSchema,
  page,
  QuarantineItemSchema,
  ResubmitResultSchema,
  StoredSignalSchema,
} from '../../contracts/api/index.ts';
import { AppError } from '../../errors.ts';
import { getRecord, toApi } from '../../records/index.ts';
import {
  discardQuarantined,
  effectiveConsents,
  findSignalById,
  getQuarantine,
  IntakeQueue,
  listQuarantine,
  resubmitQuarantined,
  type IntakeItem,
  type IntakeOutcome,
} from '../../sense/index.ts';
import type { ApiDeps } from '../deps.ts';
import { decodeJson, parseJsonText, parseQuery, readBodyText, readOptionalJson } from '../http.ts';
import { readOrQuarantine } from '../keep-rejected.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { inSpan, spanIds, tracingEnabled } from '../../lib/index.ts';
import { problem, respondProblem } from '../problem.ts';
import { actorOf, answers, type AppEnv, type RouteDef } from '../router.ts';

const MAX_BATCH = 10_000;
const ResubmitBody = z.strictObject({ signal: z.unknown().optional() });
const NDJSON = /^application\/(x-)?ndjson\b/i;
const quarantineCursor = decodeCursor('q');

/** Splits a body into intake items: one JSON value, a JSON array, or NDJSON lines. */
function intakeItems(text: string, contentType: string): { items: IntakeItem[]; single: boolean } {
  if (NDJSON.test(contentType)) {
    const lines = text.split('\n').filter((l) => l.trim());
    if (lines.length === 0) throw new AppError('bad_request', 'NDJSON body has no lines');
    return {
      single: false,
      items: lines.map((line) => {
        try {
          return { value: JSON.parse(line) as unknown, raw: line };
        } catch (err) {
          return { malformed: line, error: (err as Error).message };
        }
      }),
    };
  }
  if (!/^application\/(.+\+)?json\b/i.test(contentType)) {
    throw new AppError(
      'unsupported_media_type',
      `content-type must be application/json or application/x-ndjson, not '${contentType || 'none'}'`,
    );
  }
  // Decoded only: each item is checked on its own (parseSignal), so one bad item does not sink the batch.
  const value = decodeJson(text);
  if (!Array.isArray(value)) return { items: [{ value, raw: text }], single: true };
  if (value.length === 0) throw new AppError('bad_request', 'the array holds no signals');
  // Each item's own text, so a refused one is kept as sent.
  const raws = jsonArrayElements(text);
  return { items: value.map((v, i) => ({ value: v as unknown, raw: raws[i] })), single: false };
}

function respond(c: Context<AppEnv>, outcome: IntakeOutcome, single: boolean): Response {
  const counts = { accepted: outcome.accepted.length, duplicates: outcome.duplicates.length, rejected: outcome.rejected.length };
  if (single && outcome.rejected[0]) {
    const r = outcome.rejected[0];
    return respondProblem(c, problem(400, 'validation_failed', 'invalid signal', c.req.path, r.issues, { quarantineId: r.quarantineId }));
  }
  if (counts.rejected > 0 && counts.accepted + counts.duplicates === 0) {
    // Nothing landed: an error, so a problem document, still carrying the per-item outcome; issues are named by item index.
    const issues = outcome.rejected.flatMap((r) => r.issues.map((i) => ({ path: `${r.index}.${i.path}`, message: i.message })));
    return respondProblem(
      c,
      problem(
        400,
        'validation_failed',
        `none of the ${counts.rejected} signals was accepted; see rejected[] for each one's issues and quarantine id`,
        c.req.path,
        issues,
        { counts, ...outcome },
      ),
    );
  }
  return c.json({ counts, ...outcome }, counts.rejected ? 207 : single && counts.duplicates ? 200 : 202);
}

export function signalRoutes(deps: ApiDeps): RouteDef[] {
  const { db, bus, metrics } = deps;
  // Concurrent requests share intake transactions (group commit): one-signal webhooks cost about what batches do.
  const intake = new IntakeQueue(db);
  const afterIntake = (outcome: IntakeOutcome) => {
    if (outcome.accepted.length) bus.notify();
    metrics.signals.inc({ outcome: 'accepted' }, outcome.accepted.length);
    metrics.signals.inc({ outcome: 'duplicate' }, outcome.duplicates.length);
    metrics.signals.inc({ outcome: 'rejected' }, outcome.rejected.length);
  };

  return [
    {
      method: 'post',
      path: '/api/v1/signals',
      tag: 'signals',
      summary: `Ingest one signal, a JSON array of them, or NDJSON. Types: ${SIGNAL_TYPES.join(', ')}. Invalid items are quarantined.`,
      body: z.union([SignalDocument, z.array(SignalDocument)]),
      bodyTypes: ['application/x-ndjson'],
      responses: {
        200: answers(IntakeResultSchema, 'a duplicate of an accepted signal'),
        202: answers(IntakeResultSchema, 'all accepted'),
        207: answers(IntakeResultSchema, 'batch partly accepted: see rejected[]'),
        400: 'invalid (fields named; kept in quarantine)',
        413: 'body too large (prefix kept in quarantine)',
        415: 'unsupported content type',
      },
      handler: async (c) => {
        const actor = actorOf(c);
        const parsed = await readOrQuarantine(c, deps, 'api', (text) => {
          const split = intakeItems(text, c.req.header('content-type') ?? '');
          if (split.items.length > MAX_BATCH)
            throw new AppError('payload_too_large', `a batch holds at most ${MAX_BATCH} signals; split it`);
          return split;
        });
        const outcome = await inSpan('intake', { attributes: { 'acs.signal.submitted': parsed.items.length } }, async (span) => {
          const out = await intake.submit(parsed.items, { actor, source: 'api', now: deps.clock.now(), gates: deps.config.signalGates });
          if (tracingEnabled())
            span.setAttributes({
              'acs.signal.ids': spanIds(out.accepted.map((a) => a.id)),
              'acs.signal.accepted': out.accepted.length,
              'acs.signal.duplicates': out.duplicates.length,
              'acs.signal.rejected': out.rejected.length,
            });
          return out;
        });
        afterIntake(outcome);
        return respond(c, outcome, parsed.single);
      },
    },
    {
      method: 'get',
      path: '/api/v1/signals/:id',
      tag: 'signals',
      summary: 'Read one accepted signal',
      responses: { 200: answers(StoredSignalSchema, 'the signal'), 404: 'not found' },
      handler: async (c) => {
        const row = await findSignalById(db, c.req.param('id'));
        if (!row) throw new AppError('not_found', `no signal ${c.req.param('id')}`);
        return c.json(toApi(row));
      },
    },
    {
      method: 'get',
      path: '/api/v1/quarantine',
      tag: 'quarantine',
      summary: 'List quarantined input with the reasons it was refused',
      query: PageQuery.extend({ status: z.enum(['open', 'resubmitted', 'discarded']).optional() }),
      responses: { 200: answers(page(QuarantineItemSchema), '{ data, nextCursor }'), 400: 'bad status, limit or cursor' },
      handler: async (c) => {
        const q = parseQuery(c, PageQuery.extend({ status: z.enum(['open', 'resubmitted', 'discarded']).optional() }));
        const rows = await listQuarantine(db, { status: q.status, afterId: quarantineCursor(q.cursor), limit: q.limit + 1 });
        return c.json(pageOf(rows, q.limit, (r) => r.id));
      },
    },
    {
      method: 'get',
      path: '/api/v1/quarantine/:id',
      tag: 'quarantine',
      summary: 'Read one quarantined item, raw input included',
      responses: { 200: answers(QuarantineItemSchema, 'the item'), 404: 'not found' },
      handler: async (c) => c.json(await getQuarantine(db, c.req.param('id')!)),
    },
    {
      method: 'post',
      path: '/api/v1/quarantine/:id/resubmit',
      tag: 'quarantine',
      summary: 'Resubmit a quarantined signal: as it was, or corrected with a body {"signal": {...}}',
      body: ResubmitBody,
      responses: {
        202: answers(ResubmitResultSchema, 'accepted; the item is closed'),
        400: 'still invalid (fields named); the item stays open',
        404: 'no such item',
        409: 'already resolved, or not a signal',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const id = c.req.param('id')!;
        const body = ResubmitBody.safeParse(await readOptionalJson(c, deps.config.maxBodyBytes));
        if (!body.success)
          throw new AppError('validation_failed', 'the body must be {"signal": {...}} or empty', toFieldIssues(body.error));
        const corrected = body.data.signal;
        const kept = await getQuarantine(db, id);
        if (kept.source.startsWith('records:')) {
          throw new AppError(
            'quarantine.not_a_signal',
            `quarantine item ${id} is a rejected ${kept.source.slice(8)} record, not a signal: send the corrected record to /api/v1/${kept.source.slice(8)}, then discard this item`,
          );
        }
        const item = corrected ?? decodeJson(kept.raw);
        const outcome = await resubmitQuarantined(db, id, item, {
          actor: actorOf(c),
          now: deps.clock.now(),
          corrected: corrected !== undefined,
          gates: deps.config.signalGates,
        });
        afterIntake(outcome);
        return c.json({ quarantineId: id, ...outcome }, 202);
      },
    },
    {
      method: 'post',
      path: '/api/v1/quarantine/:id/discard',
      tag: 'quarantine',
      summary: 'Close a quarantined item without ingesting it (kept, with the reason)',
      body: z.object({ reason: z.string().min(1).max(500) }),
      responses: {
        200: answers(QuarantineItemSchema, 'discarded: the item, closed'),
        400: 'reason missing',
        404: 'no such item',
        409: 'already resolved',
        413: 'body too large',
      },
      handler: async (c) => {
        const body = z
          .object({ reason: z.string().trim().min(1).max(500) })
          .safeParse(parseJsonText(await readBodyText(c, deps.config.maxBodyBytes)));
        if (!body.success)
          throw new AppError('validation_failed', 'a reason is required', [{ path: 'reason', message: 'required, 1 to 500 characters' }]);
        await discardQuarantined(db, c.req.param('id')!, body.data.reason, actorOf(c), deps.clock.now());
        return c.json(await getQuarantine(db, c.req.param('id')!));
      },
    },
    {
      method: 'get',
      path: '/api/v1/contacts/:id/consents/effective',
      tag: 'consents',
      summary:
        'The consent records in effect for a contact, one per channel, purpose, contact point and brand (the latest captured record in its window decides; a double opt-in only once confirmed)',
      query: z.object({ at: Timestamp.optional() }),
      responses: { 200: answers(ContactConsentsSchema, '{ data }: the consent records in effect'), 400: 'bad at', 404: 'no such contact' },
      handler: async (c) => {
        const q = parseQuery(c, z.object({ at: Timestamp.optional() }));
        const contact = await getRecord(db, 'contacts', c.req.param('id')!);
        return c.json({ data: await effectiveConsents(db, [contact.id], q.at ? new Date(q.at) : deps.clock.now()) });
      },
    },
  ];
}
