import { z } from 'zod';
import { component, IsoTime } from './core.ts';

const TallyShape = { applicable: z.number().int().min(0), passed: z.number().int().min(0), score: z.number().min(0).max(1).nullable() };
const Dimension = z.enum(['validity', 'completeness', 'format']);

export const ProfileQualitySchema = component(
  'ProfileQuality',
  z.object({
    accountId: z.string().min(1),
    customerId: z.string().min(1),
    ...TallyShape,
    records: z.object({ accounts: z.number().int().min(0), contacts: z.number().int().min(0) }),
    dimensions: z.record(Dimension, z.object(TallyShape)),
    failing: z.array(
      z.object({
        rule: z.string().min(1),
        entity: z.enum(['accounts', 'contacts', 'leads']),
        recordId: z.string().min(1),
        field: z.string().min(1),
        dimension: Dimension,
        description: z.string(),
      }),
    ),
  }),
  'a profile\u2019s data-quality score, per dimension, with each failing rule',
);

export const SourceQualitySchema = component(
  'SourceQuality',
  z.object({
    source: z.string().min(1),
    signals: z.object({
      accepted: z.number().int().min(0),
      quarantined: z.number().int().min(0),
      score: z.number().min(0).max(1).nullable(),
    }),
    leads: z.object({ records: z.number().int().min(0), ...TallyShape, failing: z.record(z.string(), z.number().int().min(1)) }).nullable(),
  }),
  'data quality of one source',
);
export const SourceQualityListSchema = z.object({ data: z.array(SourceQualitySchema) });

const FeatureInputsSchema = z.object({
  count: z.number().int().min(0),
  ids: z.array(z.string()),
  truncated: z.boolean(),
  metricSum: z.number().optional(),
});

export const FeatureLineageSchema = component(
  'FeatureLineage',
  z.object({
    accountId: z.string().min(1),
    customerId: z.string().min(1),
    asOf: IsoTime,
    data: z.array(
      z.object({
        feature: z.string().min(1),
        // A feature's value: a number, a string, a boolean or null, as the feature is.
        value: z.union([z.number(), z.string(), z.boolean(), z.null()]),
        aggregate: z.enum(['sum', 'count', 'mean', 'last', 'newest', 'ratio', 'current']),
        window: z.object({ from: IsoTime, to: IsoTime }).nullable(),
        signalType: z.string().optional(),
        signals: FeatureInputsSchema.optional(),
        cases: FeatureInputsSchema.optional(),
        derivedFrom: z.array(z.string()).optional(),
      }),
    ),
  }),
  'where each feature value of a customer came from',
);
