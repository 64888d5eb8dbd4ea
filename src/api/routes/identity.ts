import { z } from 'zod';
import { AppError } from '../../errors.ts';
import {
  IdentityModelFitSchema,
  IdentityReviewSchema,
  IdentitySettingsSchema,
  LineageSchema,
  MatchResultSchema,
  MergeHistoryItemSchema,
  MergeSchema,
  page,
  StoredIdentitySettingsSchema,
  UnmergeSchema,
} from '../../contracts/api/index.ts';
import {
  IdentitySettings,
  REVIEW_STATUSES,
  bestCandidate,
  decideReview,
  fitIdentityModel,
  listMerges,
  listReviews,
  mergeHistory,
  loadIdentitySettings,
  loadMatcher,
  findAccount,
  personFields,
  profilePeople,
  saveIdentitySettings,
  stewardMerge,
  unify,
  unmergeProfiles,
} from '../../sense/index.ts';
import { Email, Phone, SubjectPerson } from '../../contracts/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseBody, parseQuery, readJson } from '../http.ts';
import { decodeCursor, PageQuery, pageOf } from '../pagination.ts';
import { actorOf, answers, type RouteDef } from '../router.ts';

const ReviewQuery = PageQuery.extend({ status: z.enum(REVIEW_STATUSES).default('open') }).strict();
const reviewCursor = decodeCursor('idrev');
const MergeQuery = PageQuery.extend({
  customerId: z.string().trim().min(1).max(128).optional(),
  state: z.enum(['live', 'undone']).optional(),
}).strict();
const mergeCursor = decodeCursor('merge');
const MergeBody = z.strictObject({ survivorId: z.string().trim().min(1).max(128), mergedId: z.string().trim().min(1).max(128) });
const MatchBody = SubjectPerson.extend({ email: Email.optional(), phone: Phone.optional() });

/** Identity resolution for data stewards: the review queue, merges and unmerges, lineage, settings and the model. */
export function identityRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  const decide =
    (decision: 'merge' | 'keep_apart'): RouteDef['handler'] =>
    async (c) =>
      c.json(await decideReview(db, c.req.param('id')!, decision, actorOf(c), deps.clock.now()));
  return [
    {
      method: 'get',
      path: '/api/v1/identity/reviews',
      tag: 'identity',
      query: ReviewQuery,
      summary:
        'Uncertain matches for a data steward, oldest first: a new profile, the existing profile it may be, the match probability and each field\u2019s comparison',
      responses: { 200: answers(page(IdentityReviewSchema), '{ data, nextCursor }'), 400: 'bad status, limit or cursor' },
      handler: async (c) => {
        const q = parseQuery(c, ReviewQuery);
        const rows = await listReviews(db, { status: q.status, limit: q.limit + 1, after: reviewCursor(q.cursor) });
        return c.json(pageOf(rows, q.limit, (r) => r.id));
      },
    },
    {
      method: 'get',
      path: '/api/v1/identity/reviews/:id',
      tag: 'identity',
      summary: 'One identity review',
      responses: { 200: answers(IdentityReviewSchema, 'the review'), 404: 'no such review' },
      handler: async (c) => {
        const [review] = await listReviews(db, { status: '', limit: 1, id: c.req.param('id')! });
        if (!review) throw new AppError('review.not_found', `no identity review ${c.req.param('id')}`);
        return c.json(review);
      },
    },
    {
      method: 'post',
      path: '/api/v1/identity/reviews/:id/merge',
      tag: 'identity',
      summary: 'Accept the match: the new profile is folded into the existing one (which survives); ledgered, and undoable with unmerge',
      responses: {
        200: answers(IdentityReviewSchema, 'the decided review, with mergeId'),
        404: 'no such review',
        409: 'already decided, or a profile was merged or deleted since',
      },
      handler: decide('merge'),
    },
    {
      method: 'post',
      path: '/api/v1/identity/reviews/:id/keep-apart',
      tag: 'identity',
      summary: 'Reject the match: the two profiles stay apart; ledgered',
      responses: { 200: answers(IdentityReviewSchema, 'the decided review'), 404: 'no such review', 409: 'already decided' },
      handler: decide('keep_apart'),
    },
    {
      method: 'get',
      path: '/api/v1/identity/merges',
      tag: 'identity',
      query: MergeQuery,
      summary:
        'The merge history, newest first: both profiles, the rule and score, the fields that decided, who merged (automatic or a steward, by name) and whether it can be undone now (and if not, why); customerId keeps one profile\u2019s merges, state live or undone',
      responses: {
        200: answers(page(MergeHistoryItemSchema), '{ data, nextCursor }'),
        400: 'bad limit, cursor or state',
        404: 'no such customer',
      },
      handler: async (c) => {
        const q = parseQuery(c, MergeQuery);
        const accountId = q.customerId ? (await findAccount(db, q.customerId)).id : undefined;
        const rows = await mergeHistory(db, { limit: q.limit + 1, before: mergeCursor(q.cursor), accountId, state: q.state });
        return c.json(pageOf(rows, q.limit, (r) => r.id));
      },
    },
    {
      method: 'post',
      path: '/api/v1/identity/merges',
      tag: 'identity',
      body: MergeBody,
      summary: 'Merge two profiles a steward knows to be one person: mergedId is folded into survivorId (account or customer ids)',
      responses: {
        201: answers(MergeSchema, 'the merge'),
        400: 'same profile twice',
        404: 'no such customer',
        409: 'a profile is merged or deleted',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = parseBody(MergeBody, await readJson(c, deps.config.maxBodyBytes), 'merge');
        const merge = await stewardMerge(db, { ...body, actor: actorOf(c), now: deps.clock.now() });
        return c.json(merge, 201);
      },
    },
    {
      method: 'post',
      path: '/api/v1/identity/merges/:id/unmerge',
      tag: 'identity',
      summary:
        'Undo a merge: what it moved goes back (with the signals that reached the survivor since through the merged profile\u2019s identifiers), the merged profile is live again and both profiles\u2019 features are recomputed',
      responses: {
        200: answers(UnmergeSchema, 'the merge, with unmergedAt and followed (signals moved back that arrived after the merge)'),
        404: 'no such merge',
        409: 'already undone, or the survivor was merged since',
      },
      handler: async (c) => c.json(await unmergeProfiles(db, c.req.param('id')!, actorOf(c), deps.clock.now())),
    },
    {
      method: 'get',
      path: '/api/v1/customers/:id/lineage',
      tag: 'identity',
      summary:
        'How the profile was assembled: its person records (which source, which rule, what score), the merges in and out of it, and the unified person fields with the survivorship rule that chose each',
      responses: { 200: answers(LineageSchema, '{ accountId, unified, people, merges }'), 404: 'no such customer' },
      handler: async (c) => {
        const account = await findAccount(db, c.req.param('id')!);
        const [people, merges, settings] = await Promise.all([
          profilePeople(db, account.id),
          listMerges(db, account.id),
          loadIdentitySettings(db),
        ]);
        return c.json({ accountId: account.id, unified: unify(people, settings), people, merges });
      },
    },
    {
      method: 'post',
      path: '/api/v1/identity/match',
      tag: 'identity',
      body: MatchBody,
      summary:
        'Who is this? The most probable known person for the given details, with the probability and each field\u2019s comparison (nothing is stored)',
      responses: {
        200: answers(
          MatchResultSchema,
          '{ candidate: { personId, accountId, leadId, explanation, compared } | null, matchThreshold, reviewThreshold }',
        ),
        400: 'invalid details',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const body = parseBody(MatchBody, await readJson(c, deps.config.maxBodyBytes), 'person');
        const settings = await loadIdentitySettings(db);
        const candidate = await bestCandidate(db, await loadMatcher(db, settings), personFields(body));
        return c.json({ candidate, matchThreshold: settings.matchThreshold, reviewThreshold: settings.reviewThreshold });
      },
    },
    {
      method: 'get',
      path: '/api/v1/identity/settings',
      tag: 'identity',
      summary:
        'Match and review thresholds, the deterministic match rules (any rule matches; within a rule all criteria must) and survivorship per field',
      responses: { 200: answers(StoredIdentitySettingsSchema, 'the settings') },
      handler: async (c) => c.json(await loadIdentitySettings(db)),
    },
    {
      method: 'put',
      path: '/api/v1/identity/settings',
      tag: 'identity',
      body: IdentitySettings,
      summary: 'Replace the identity settings (fields left out take their defaults); a rule level a field does not have is a 400 naming it',
      responses: {
        200: answers(IdentitySettingsSchema, 'the stored settings'),
        400: 'invalid settings, naming the field',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => c.json(await saveIdentitySettings(db, await readJson(c, deps.config.maxBodyBytes), actorOf(c))),
    },
    {
      method: 'post',
      path: '/api/v1/identity/model/fit',
      tag: 'identity',
      summary:
        'Fit the matcher\u2019s parameters (EM, no labels) on this base\u2019s own person records; until then a model fitted on seeded synthetic people is used',
      responses: { 200: answers(IdentityModelFitSchema, '{ records, pairsCompared, lambda, ms }'), 409: 'fewer than 100 person records' },
      handler: async (c) => c.json(await fitIdentityModel(db, actorOf(c))),
    },
  ];
}
