import { z } from 'zod';
import { FeatureLineageSchema, ProfileQualitySchema, SourceQualityListSchema } from '../../contracts/api/index.ts';
import { Timestamp } from '../../contracts/index.ts';
import { featureLineage, profileQuality, QUALITY_RULES, sourceQuality } from '../../sense/index.ts';
import type { ApiDeps } from '../deps.ts';
import { parseQuery } from '../http.ts';
import { answers, type RouteDef } from '../router.ts';

const LineageQuery = z.strictObject({
  asOf: Timestamp.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Data quality: scores per customer profile and per source, and where each feature value came from. */
export function qualityRoutes(deps: ApiDeps): RouteDef[] {
  const { db } = deps;
  return [
    {
      method: 'get',
      path: '/api/v1/customers/:id/quality',
      tag: 'quality',
      summary: `The profile's data-quality score (by account id or customer id): the share of the quality rules that apply to the account and its contacts that they pass, per dimension (completeness, validity, format), with each failing rule, record and field. Rules: ${QUALITY_RULES.filter(
        (r) => r.entity !== 'leads',
      )
        .map((r) => r.id)
        .join(', ')}`,
      responses: {
        200: answers(ProfileQualitySchema, '{ accountId, customerId, applicable, passed, score, records, dimensions, failing }'),
        404: 'no such customer',
      },
      handler: async (c) => c.json(await profileQuality(db, c.req.param('id')!)),
    },
    {
      method: 'get',
      path: '/api/v1/quality/sources',
      tag: 'quality',
      summary:
        'Data quality per source: signals accepted against quarantined (by contract or quality gate), and the quality rules over the leads the source brought',
      responses: { 200: answers(SourceQualityListSchema, '{ data: [{ source, signals: { accepted, quarantined, score }, leads }] }') },
      handler: async (c) => c.json({ data: await sourceQuality(db) }),
    },
    {
      method: 'get',
      path: '/api/v1/customers/:id/features/lineage',
      tag: 'quality',
      query: LineageQuery,
      summary:
        'For each feature of the customer as of `asOf` (default: when the stored features were computed): its value, window and the signals that produced it (newest first, at most `limit` ids, with their count)',
      responses: {
        200: answers(
          FeatureLineageSchema,
          '{ accountId, customerId, asOf, data: [{ feature, value, aggregate, window, signals | cases | derivedFrom }] }',
        ),
        400: 'bad asOf or limit',
        404: 'no such customer',
      },
      handler: async (c) => {
        const q = parseQuery(c, LineageQuery);
        return c.json(
          await featureLineage(db, c.req.param('id')!, {
            asOf: q.asOf ? new Date(q.asOf) : undefined,
            limit: q.limit,
            now: deps.clock.now(),
          }),
        );
      },
    },
  ];
}
