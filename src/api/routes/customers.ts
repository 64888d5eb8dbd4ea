import { z } from 'zod';
import { ChurnModel } from '../../reason/index.ts';
import { exportSubject } from '../../records/index.ts';
import { consentHistory, featureHistory, getProfile } from '../../sense/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery } from '../http.ts';
import { actorOf, type RouteDef } from '../router.ts';

const ProfileQuery = z.object({ timelineLimit: z.coerce.number().int().min(1).max(500).optional() });
const HistoryQuery = z.strictObject({
  points: z.coerce.number().int().min(2).max(52).default(12),
  stepDays: z.coerce.number().int().min(1).max(30).default(7),
});

const HISTORY_NOTES = {
  openCases: 'the current count of open or pending cases at every point: cases keep no history of their status',
  churn: 'the churn model scores the profile (attributes and subscription) as it is now, so it is the same at every point; null when no model is trained or the customer has no subscription',
};

/** Customer 360: the profile, the consent history and how the features moved. `:id` is the account id or the customer id. */
export function customerRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  return [
    {
      method: 'get', path: '/api/v1/customers/:id/profile', tag: 'customers',
      summary: 'A customer profile (by account id or customer id): identities, contacts, consents, subscriptions, open cases, features and a timeline of signals, outcomes, interactions and the agents\u2019 proposals, decisions and actions',
      query: ProfileQuery,
      responses: { 200: 'the profile', 404: 'no such customer' },
      handler: async (c) => {
        const q = parseQuery(c, ProfileQuery);
        return c.json(await getProfile(db, c.req.param('id')!, { timelineLimit: q.timelineLimit, now: deps.clock.now() }));
      },
    },
    {
      method: 'get', path: '/api/v1/customers/:id/consents', tag: 'customers',
      summary: 'Every consent record of the customer\u2019s contacts, superseded, expired and withdrawn ones included, newest captured first; inEffect marks the record that decides its contact, channel and purpose now',
      responses: { 200: '{ data }', 404: 'no such customer' },
      handler: async (c) => c.json({ data: await consentHistory(db, c.req.param('id')!, deps.clock.now()) }),
    },
    {
      method: 'get', path: '/api/v1/customers/:id/export', tag: 'customers',
      summary: 'Everything ACS holds about the customer (a data subject access request), machine-readable: every record, soft-deleted ones too, and the ledger entries about them; the export is ledgered',
      responses: { 200: '{ format, exportedAt, subject, counts, data, ledger }', 404: 'no such customer' },
      handler: async (c) => c.json(await db.transaction((tx) => exportSubject(tx, c.req.param('id')!, actorOf(c), deps.clock.now()))),
    },
    {
      method: 'get', path: '/api/v1/customers/:id/features/history', tag: 'customers', query: HistoryQuery,
      summary: 'The customer\u2019s features at `points` times `stepDays` apart, the last now, computed from the signal history as the feature refresh does; with the churn score when a model is trained',
      responses: { 200: '{ data: [{ asOf, features, churn }], notes }', 400: 'bad points or stepDays', 404: 'no such customer' },
      handler: async (c) => {
        const q = parseQuery(c, HistoryQuery);
        const history = await featureHistory(db, c.req.param('id')!, { points: q.points, stepDays: q.stepDays, now: deps.clock.now() });
        const model = deps.churn?.();
        const churn = model && history.churnInput ? { probability: model.predict(history.churnInput).probability, modelId: ChurnModel.ID, modelVersion: model.version } : null;
        return c.json({ data: history.points.map((p) => ({ ...p, churn })), notes: HISTORY_NOTES });
      },
    },
  ];
}
