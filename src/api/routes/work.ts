import { z } from 'zod';
import { cancelPlay, retryPlay } from '../../act/index.ts';
import { CreditPageSchema, MessagePageSchema, PlayPageSchema, PlaySchema, TaskPageSchema, TaskSchema } from '../../contracts/api/index.ts';
import { ShortText } from '../../contracts/index.ts';
import { AppError } from '../../errors.ts';
import { assignTask, completeTask } from '../../records/index.ts';
import { findPlay, findTask, listCredits, listMessages, listPlays, listTasks } from '../../views/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseBody, parseQuery, readJson, readOptionalJson } from '../http.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { actorOf, answers, type RouteDef } from '../router.ts';

const CustomerFilter = { customerId: z.string().trim().min(1).max(100).optional() };
const TaskQuery = PageQuery.extend({
  ...CustomerFilter,
  status: z.enum(['open', 'done', 'cancelled']).optional(),
  assignee: ShortText.optional(),
}).strict();
const MessageQuery = PageQuery.extend({ ...CustomerFilter, status: z.enum(['queued', 'sent', 'failed', 'cancelled']).optional() }).strict();
const CreditQuery = PageQuery.extend({ ...CustomerFilter, status: z.enum(['applied', 'reversed']).optional() }).strict();
const PlayQuery = PageQuery.extend({
  ...CustomerFilter,
  status: z.enum(['running', 'waiting', 'done', 'refused', 'gave_up']).optional(),
  kind: z.string().trim().min(1).max(100).optional(),
}).strict();

const AssignBody = z.strictObject({ assignee: ShortText });
const CompleteBody = z.strictObject({ note: z.string().trim().min(1).max(2000).optional() });
const CancelBody = z.strictObject({ reason: z.string().trim().min(1).max(500).optional() });

// Newest first by id; a cursor is the last id of the page, of this list's kind only.
const afterTask = decodeCursor('task');
const afterMessage = decodeCursor('msg');
const afterCredit = decodeCursor('cred');
const afterPlay = decodeCursor('play');

const LIST_ERRORS = { 400: 'bad filter, limit or cursor (the issue names the query parameter)' };

async function taskOr404(deps: ApiDeps, id: string) {
  const task = await findTask(deps.db, id);
  if (!task) throw new AppError('task.not_found', `no task ${id}`);
  return task;
}

async function playOr404(deps: ApiDeps, id: string) {
  const play = await findPlay(deps.db, id);
  if (!play) throw new AppError('play.not_found', `no play ${id}`);
  return play;
}

/** The agents' work items: what their executed actions made (tasks, messages, credits) and the plays they run. */
export function workRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  return [
    {
      method: 'get',
      path: '/api/v1/tasks',
      tag: 'work',
      query: TaskQuery,
      summary: 'Tasks agents\u2019 actions created, newest first; filter by customerId, status and assignee',
      responses: { 200: answers(TaskPageSchema, '{ data, nextCursor }'), ...LIST_ERRORS },
      handler: async (c) => {
        const q = parseQuery(c, TaskQuery);
        const rows = await listTasks(db, { ...q, beforeId: afterTask(q.cursor), limit: q.limit + 1 });
        return c.json(pageOf(rows, q.limit, (last) => last.id));
      },
    },
    {
      method: 'post',
      path: '/api/v1/tasks/:id/assign',
      tag: 'work',
      body: AssignBody,
      summary: 'Assign an open task to someone; recorded in the ledger (task.assigned) with the previous assignee',
      responses: {
        200: answers(TaskSchema, 'the task, assigned'),
        400: 'assignee missing or too long',
        404: 'no such task',
        409: 'the task is done or cancelled',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const id = c.req.param('id')!;
        const body = parseBody(AssignBody, await readJson(c, deps.config.maxBodyBytes), 'assignment');
        await assignTask(db, id, { assignee: body.assignee, actor: actorOf(c), now: deps.clock.now() });
        return c.json(await taskOr404(deps, id));
      },
    },
    {
      method: 'post',
      path: '/api/v1/tasks/:id/complete',
      tag: 'work',
      body: CompleteBody,
      summary: 'Complete an open task, with an optional note; recorded in the ledger (task.completed) with the note',
      responses: {
        200: answers(TaskSchema, 'the task, done'),
        400: 'note empty or too long',
        404: 'no such task',
        409: 'the task is done or cancelled',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const id = c.req.param('id')!;
        const body = parseBody(CompleteBody, (await readOptionalJson(c, deps.config.maxBodyBytes)) ?? {}, 'completion');
        await completeTask(db, id, { note: body.note ?? null, actor: actorOf(c), now: deps.clock.now() });
        return c.json(await taskOr404(deps, id));
      },
    },
    {
      method: 'get',
      path: '/api/v1/messages',
      tag: 'work',
      query: MessageQuery,
      summary: 'Outbound messages, newest first, with body, recipient and delivery state; filter by customerId and status',
      responses: { 200: answers(MessagePageSchema, '{ data, nextCursor }'), ...LIST_ERRORS },
      handler: async (c) => {
        const q = parseQuery(c, MessageQuery);
        const rows = await listMessages(db, { ...q, beforeId: afterMessage(q.cursor), limit: q.limit + 1 });
        return c.json(pageOf(rows, q.limit, (last) => last.id));
      },
    },
    {
      method: 'get',
      path: '/api/v1/credits',
      tag: 'work',
      query: CreditQuery,
      summary: 'Credits applied to customers, newest first; filter by customerId and status',
      responses: { 200: answers(CreditPageSchema, '{ data, nextCursor }'), ...LIST_ERRORS },
      handler: async (c) => {
        const q = parseQuery(c, CreditQuery);
        const rows = await listCredits(db, { ...q, beforeId: afterCredit(q.cursor), limit: q.limit + 1 });
        return c.json(pageOf(rows, q.limit, (last) => last.id));
      },
    },
    {
      method: 'get',
      path: '/api/v1/plays',
      tag: 'work',
      query: PlayQuery,
      summary: 'Plays (retention, service recovery), newest first, with their step and failures; filter by customerId, status and kind',
      responses: { 200: answers(PlayPageSchema, '{ data, nextCursor }'), ...LIST_ERRORS },
      handler: async (c) => {
        const q = parseQuery(c, PlayQuery);
        const rows = await listPlays(db, { ...q, beforeId: afterPlay(q.cursor), limit: q.limit + 1 });
        return c.json(pageOf(rows, q.limit, (last) => last.id));
      },
    },
    {
      method: 'post',
      path: '/api/v1/plays/:id/retry',
      tag: 'work',
      summary:
        'Run a failed play\u2019s step again now with a fresh count of attempts (a running play backing off, or one that gave up at its first step); recorded in the ledger (play.retried)',
      responses: {
        200: answers(PlaySchema, 'the play, due now'),
        404: 'no such play',
        409: 'the play is not in a state that can be retried (the detail names it)',
      },
      handler: async (c) => {
        const id = c.req.param('id')!;
        await retryPlay(db, id, { actor: actorOf(c), now: deps.clock.now() });
        return c.json(await playOr404(deps, id));
      },
    },
    {
      method: 'post',
      path: '/api/v1/plays/:id/cancel',
      tag: 'work',
      body: CancelBody,
      summary:
        'Stop a running or waiting play before its next step, with an optional reason; steps already done stay done. Recorded in the ledger (play.cancelled)',
      responses: {
        200: answers(PlaySchema, 'the play, refused, with who cancelled it'),
        400: 'reason empty or too long',
        404: 'no such play',
        409: 'the play has already ended (the detail names its status)',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const id = c.req.param('id')!;
        const body = parseBody(CancelBody, (await readOptionalJson(c, deps.config.maxBodyBytes)) ?? {}, 'cancellation');
        await cancelPlay(db, id, { actor: actorOf(c), reason: body.reason ?? null, now: deps.clock.now() });
        return c.json(await playOr404(deps, id));
      },
    },
  ];
}
