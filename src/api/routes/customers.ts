import { z } from 'zod';
import {
  CompactionResultSchema,
  ConsentOverviewSchema,
  CustomerSearchQuery,
  CustomerSearchSchema,
  ErasureResultSchema,
  FeatureHistorySchema,
  ProfileSchema,
  SubjectExportSchema,
} from '../../contracts/api/index.ts';
import { churnScoreNow } from '../../loop/index.ts';
import type { ChurnScore } from '../../reason/index.ts';
import {
  compactErasures,
  CompactionRequest,
  eraseSubject,
  ErasureRequest,
  exportSubject,
  parseCompactionRequest,
  parseErasureRequest,
} from '../../privacy/index.ts';
import { consentHistory, featureHistory, getProfile } from '../../sense/index.ts';
import { latestDecidedChurnScore, searchCustomers } from '../../views/index.ts';
import { MASKED_ROLES } from '../analyst-masking.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery, readJson, readOptionalJson } from '../http.ts';
import { actorOf, answers, type RouteDef } from '../router.ts';

const ProfileQuery = z.object({ timelineLimit: z.coerce.number().int().min(1).max(500).optional() });
const HistoryQuery = z.strictObject({
  points: z.coerce.number().int().min(2).max(52).default(12),
  stepDays: z.coerce.number().int().min(1).max(30).default(7),
});

const modelOf = (s: Pick<ChurnScore, 'model'>) => (s.model ? `${s.model.name} v${s.model.version}` : 'the documented rules');

/**
 * The churn score of the customer's latest decision, and a fresh one now by the same function and the model serving
 * now, labelled as fresh, with whether the same model version scored both: the two are never mixed silently.
 */
async function churnOf(deps: ApiDeps, accountId: string) {
  const now = deps.clock.now();
  const [row, current] = await Promise.all([
    latestDecidedChurnScore(deps.db, accountId),
    churnScoreNow(deps.db, accountId, { churn: deps.churn?.(), now }),
  ]);
  const decided = row ? { ...(row.churn as unknown as ChurnScore), proposalId: row.proposal_id, decisionId: row.decision_id } : null;
  if (!current) return { decided, current: null };
  const same = decided ? decided.source === current.source && modelOf(decided) === modelOf(current) : null;
  const label = !decided
    ? `scored now by ${modelOf(current)}; no decision has used a churn score yet`
    : same
      ? `scored now by ${modelOf(current)}, the model the latest decision used (scored ${decided.scoredAt}); it differs only as the customer changed`
      : `scored now by ${modelOf(current)}, a different model from the one the latest decision used (${modelOf(decided)}, scored ${decided.scoredAt})`;
  return { decided, current: { ...current, fresh: true as const, sameModelAsDecided: same, label } };
}

const HISTORY_NOTES = {
  openCases: 'the current count of open or pending cases at every point: cases keep no history of their status',
  churn:
    'the profile score (attributes and subscription, before recent trouble) of the churn model serving now (the registry champion, else the model trained at start), as it is now, so it is the same at every point; null when no model serves or the customer has no subscription. Decisions use the profile\u2019s churn score, shown above the chart',
};

/** Customer 360: the profile, the consent history and how the features moved. `:id` is the account id or the customer id. */
export function customerRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  return [
    {
      method: 'get',
      path: '/api/v1/search',
      tag: 'customers',
      query: CustomerSearchQuery,
      summary:
        'Find customers by name, email, phone or customer or account id, whole or in part, whatever the case (a phone by its digits, however written). Best first: exact matches (ids, then email, phone, name), then the field\u2019s start, then anywhere in it, then names similar by trigrams (for a query without digits or an @); ties by trigram similarity. Deleted and merged-away customers are left out. A role that sees personal data masked (the analyst) is matched by ids only, so a search cannot tell it whose email or phone is whose (`fields: "ids"`)',
      responses: {
        200: answers(CustomerSearchSchema, '{ query, limit, fields, similarity, data }'),
        400: 'q missing, empty or longer than 200 characters, or a bad limit (1 to 100)',
      },
      handler: async (c) => {
        const q = parseQuery(c, CustomerSearchQuery);
        const idsOnly = MASKED_ROLES.includes(c.get('principal').role);
        const found = await searchCustomers(db, q.q, { limit: q.limit, idsOnly });
        return c.json({ query: q.q, limit: q.limit, fields: idsOnly ? 'ids' : 'all', similarity: found.similarity, data: found.hits });
      },
    },
    {
      method: 'get',
      path: '/api/v1/customers/:id/profile',
      tag: 'customers',
      summary:
        'A customer profile (by account id or customer id): identities, contacts, consents, subscriptions, open cases, features and a timeline of signals, outcomes, interactions and the agents\u2019 proposals, decisions and actions',
      query: ProfileQuery,
      responses: { 200: answers(ProfileSchema, 'the profile'), 400: 'bad timelineLimit', 404: 'no such customer' },
      handler: async (c) => {
        const q = parseQuery(c, ProfileQuery);
        const profile = await getProfile(db, c.req.param('id')!, { timelineLimit: q.timelineLimit, now: deps.clock.now() });
        return c.json({ ...profile, churn: await churnOf(deps, profile.account.id) });
      },
    },
    {
      method: 'get',
      path: '/api/v1/customers/:id/consents',
      tag: 'customers',
      summary:
        'The customer\u2019s consent: `effective`, what is in effect now per contact point, channel, purpose and brand (the record that decides and whether it grants); `data`, every consent record of their contacts, superseded, pending, expired and withdrawn ones included, newest captured first, each with its state now',
      responses: { 200: answers(ConsentOverviewSchema, '{ effective, data }'), 404: 'no such customer' },
      handler: async (c) => c.json(await consentHistory(db, c.req.param('id')!, deps.clock.now())),
    },
    {
      method: 'get',
      path: '/api/v1/customers/:id/export',
      tag: 'customers',
      summary:
        'Everything ACS holds about the customer (a data subject access request), machine-readable: every record, soft-deleted ones too, and the ledger entries about them; the export is ledgered',
      responses: { 200: answers(SubjectExportSchema, '{ format, exportedAt, subject, counts, data, ledger }'), 404: 'no such customer' },
      handler: async (c) => c.json(await exportSubject(db, c.req.param('id')!, actorOf(c), deps.clock.now())),
    },
    {
      method: 'post',
      path: '/api/v1/customers/:id/erase',
      tag: 'customers',
      body: ErasureRequest,
      summary:
        'Erase the customer (a data subject\u2019s right to erasure), in one transaction: the personal fields of every record about them are destroyed in the live rows (the old copies in the database files go at the next compaction, `POST /api/v1/privacy/compact`), their email, phone and external ids stop resolving, their pending approvals lapse, and the profile is soft-deleted; ids, times and numbers stay, so aggregates and the ledger still hold. `confirm` must repeat the customer id or account id. One `customer.erased` ledger entry with counts per table; the reason stays out of the ledger. Erasing again is allowed and erases what arrived since (`alreadyErased: true`)',
      responses: {
        200: answers(ErasureResultSchema, '{ erasureId, subject, erasedAt, alreadyErased, reasonGiven, counts, leadIds, otherProfiles }'),
        400: 'confirm missing or not naming this customer',
        404: 'no such customer',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const request = parseErasureRequest(await readJson(c, deps.config.maxBodyBytes));
        return c.json(await eraseSubject(db, c.req.param('id')!, request, actorOf(c), deps.clock.now()));
      },
    },
    {
      method: 'post',
      path: '/api/v1/privacy/compact',
      tag: 'customers',
      body: CompactionRequest,
      summary:
        'Compact after erasure: rewrite every table an erasure changes (VACUUM FULL, with indexes and TOAST) and pg_statistic, then switch WAL and checkpoint, so no old copy of an erased person\u2019s rows stays in the database files. Runs for the erasures not yet compacted (and, with `retryIncomplete`, default true, those whose last compaction fell short); maintenance runs it too. Each step says whether it was done, and if the database refused it, what an operator must configure; `complete` is true only when every step was done. Recorded on each erasure and in the ledger (`erasure.compacted`)',
      responses: {
        200: answers(CompactionResultSchema, '{ erasureIds, tables, steps: [{ step, done, detail }], complete }'),
        400: 'retryIncomplete not a boolean, or an unknown field',
        413: 'body too large',
        415: 'not JSON',
      },
      handler: async (c) => {
        const request = parseCompactionRequest(await readOptionalJson(c, deps.config.maxBodyBytes));
        return c.json(await compactErasures(db, { actor: actorOf(c), now: deps.clock.now(), retryIncomplete: request.retryIncomplete }));
      },
    },
    {
      method: 'get',
      path: '/api/v1/customers/:id/features/history',
      tag: 'customers',
      query: HistoryQuery,
      summary:
        'The customer\u2019s features at `points` times `stepDays` apart, the last now, computed from the signal history as the feature refresh does; with the churn score when a model is trained',
      responses: {
        200: answers(FeatureHistorySchema, '{ data: [{ asOf, features, churn }], notes }'),
        400: 'bad points or stepDays',
        404: 'no such customer',
      },
      handler: async (c) => {
        const q = parseQuery(c, HistoryQuery);
        const history = await featureHistory(db, c.req.param('id')!, { points: q.points, stepDays: q.stepDays, now: deps.clock.now() });
        // The model that serves decisions now, through the same scorer; its profile score only (no triggers).
        const now = history.churnInput
          ? await churnScoreNow(db, history.accountId, { churn: deps.churn?.(), now: deps.clock.now() })
          : null;
        const churn =
          now?.model && now.profileScore !== null
            ? { probability: now.profileScore, modelId: now.model.name, modelVersion: now.model.version }
            : null;
        return c.json({ data: history.points.map((p) => ({ ...p, churn })), notes: HISTORY_NOTES });
      },
    },
  ];
}
