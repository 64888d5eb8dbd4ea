import { z } from 'zod';

/**
 * The HTTP contract's response shapes. A schema registered here with an `id` becomes a named component of the
 * OpenAPI document (`#/components/schemas/<id>`) and is referenced, not inlined, wherever a route uses it.
 */
export const apiSchemas: { id: string; description?: string; schema: z.ZodType }[] = [];

/** Registers `schema` as the named component `id` and returns it. */
export function component<T extends z.ZodType>(id: string, schema: T, description?: string): T {
  if (apiSchemas.some((c) => c.id === id)) throw new Error(`API schema ${id} is declared twice`);
  apiSchemas.push({ id, schema, ...(description ? { description } : {}) });
  return schema;
}

export const FieldIssueSchema = component('FieldIssue', z.object({ path: z.string(), message: z.string() }), 'one field-level problem');

/** RFC 9457 problem details, as every error answer carries them (content-type application/problem+json). */
export const ProblemSchema = component(
  'Problem',
  z
    .object({
      type: z.string(),
      title: z.string(),
      status: z.number().int().min(400).max(599),
      detail: z.string(),
      instance: z.string().optional(),
      code: z.string().min(1),
      issues: z.array(FieldIssueSchema).optional(),
      quarantineId: z.string().optional(),
      requestId: z.string().optional(),
    })
    .loose(),
  'RFC 9457 problem details with the ACS error code, the field issues, the request id (as in the X-Request-Id header and the log) and extras such as quarantineId',
);

/** An ISO-8601 timestamp as the API writes it. */
export const IsoTime = z.string().min(1);

/** One page of a list: the items, and the cursor of the next page (null on the last). */
export function page<T extends z.ZodType>(item: T) {
  return z.object({ data: z.array(item), nextCursor: z.string().nullable() });
}

const ModelRefSchema = z.object({ name: z.string().min(1), version: z.string().min(1) });

/**
 * A customer's churn score: one probability, from one model version (null: the documented rules), scored at one
 * time. The retention agent records it with its proposals; the approval card and the Customer 360 show that field.
 */
export const ChurnScoreSchema = component(
  'ChurnScore',
  z.object({
    probability: z.number().min(0).max(1),
    profileScore: z.number().min(0).max(1).nullable(),
    source: z.enum(['model', 'rule']),
    model: ModelRefSchema.nullable(),
    scoredAt: IsoTime,
    triggers: z.array(z.string()),
    detail: z.string(),
    shadow: z.object({ model: ModelRefSchema, probability: z.number().min(0).max(1), detail: z.string() }).optional(),
    uncalibrated: z.number().min(0).max(1).optional(),
    calibration: z.object({ factor: z.number().positive(), detail: z.string() }).optional(),
  }),
  'a churn score: the probability, the model and version that scored it (null under the documented rules) and when; a challenger\u2019s shadow score beside it never decides; when calibrated to the churn of ACS\u2019s held-out customers, the score before calibration and the factor',
);
