import { z } from 'zod';
import { AppError } from '../../errors.ts';
import type { Queryable } from '../../store/index.ts';
import { toFieldIssues } from '../../contracts/index.ts';
import { DEFAULT_RULES, Matcher, resolvePeople, type MatchModel } from './engine.ts';
import {
  findIdentityModel,
  findIdentityModelStamp,
  findIdentitySettings,
  identityPeopleToFit,
  upsertIdentityModel,
  upsertIdentitySettings,
} from './identity.repo.ts';
import { generatePeople } from './synthetic.ts';
import { PERSON_FIELDS } from './types.ts';

/** How the unified profile picks a field's value among its source records. */
export const SURVIVORSHIP_RULES = ['most_recent', 'most_frequent', 'source_priority'] as const;
export const SOURCE_KINDS = ['contacts', 'leads', 'signals'] as const;

const FieldRule = z
  .strictObject({
    rule: z.enum(SURVIVORSHIP_RULES),
    /** For source_priority: source kinds (contacts, leads, signals) or source systems, first wins. */
    sources: z.array(z.string().trim().min(1).max(100)).max(20).optional(),
    /** Skip empty values (default): a source that left the field blank does not blank the profile. */
    ignoreEmpty: z.boolean().default(true),
  })
  .refine((r) => r.rule !== 'source_priority' || (r.sources?.length ?? 0) > 0, {
    message: 'source_priority needs sources',
    path: ['sources'],
  });

const Rule = z.strictObject({
  name: z.string().trim().min(1).max(100),
  criteria: z
    .array(z.strictObject({ field: z.enum(PERSON_FIELDS), atLeast: z.string().trim().min(1).max(40) }))
    .min(1)
    .max(12),
});

/**
 * Identity settings, one document: a record joins an existing profile at `matchThreshold` or above; between
 * `reviewThreshold` and it, it starts its own profile and a steward is asked. Rules match outright (any rule; all
 * criteria within it). Survivorship is set per field of the unified profile.
 */
export const IdentitySettings = z
  .strictObject({
    matchThreshold: z.number().gt(0).max(1).default(0.95),
    reviewThreshold: z.number().gt(0).max(1).default(0.6),
    rules: z.array(Rule).max(20).default(DEFAULT_RULES),
    survivorship: z.partialRecord(z.enum(PERSON_FIELDS), FieldRule).default({}),
  })
  .refine((s) => s.reviewThreshold <= s.matchThreshold, {
    message: 'reviewThreshold must not exceed matchThreshold',
    path: ['reviewThreshold'],
  });
export type IdentitySettings = z.output<typeof IdentitySettings>;
export type FieldSurvivorship = z.output<typeof FieldRule>;

/** Survivorship for fields the settings leave out: the latest value of contact points and addresses, the commonest of names and birth dates. */
export function survivorshipFor(settings: IdentitySettings, field: (typeof PERSON_FIELDS)[number]): FieldSurvivorship {
  const stable = field === 'givenName' || field === 'surname' || field === 'dateOfBirth' || field === 'nationalId';
  return settings.survivorship[field] ?? { rule: stable ? 'most_frequent' : 'most_recent', ignoreEmpty: true };
}

export async function loadIdentitySettings(q: Queryable): Promise<IdentitySettings & { updatedAt: string | null }> {
  const row = await findIdentitySettings(q);
  return { ...IdentitySettings.parse(row?.settings ?? {}), updatedAt: row ? row.updated_at.toISOString() : null };
}

/** Validates and stores new settings; a rule naming a level its field does not have is a 400 naming it. */
export async function saveIdentitySettings(q: Queryable, body: unknown, actor: string): Promise<IdentitySettings> {
  const parsed = IdentitySettings.safeParse(body);
  if (!parsed.success) throw new AppError('validation_failed', 'invalid identity settings', toFieldIssues(parsed.error));
  const settings = parsed.data;
  const model = await defaultModel();
  settings.rules.forEach((rule, r) =>
    rule.criteria.forEach((c, i) => {
      const levels = model.parameters.find((p) => p.field === c.field)!.levels;
      if (!levels.includes(c.atLeast)) {
        throw new AppError('validation_failed', 'invalid identity settings', [
          { path: `rules.${r}.criteria.${i}.atLeast`, message: `${c.field} has levels ${levels.join(', ')}` },
        ]);
      }
    }),
  );
  await upsertIdentitySettings(q, JSON.stringify(settings), actor);
  return settings;
}

let shipped: Promise<MatchModel> | null = null;

/**
 * The model used until one is fitted on the base's own people: EM on 20,000 seeded synthetic people (made here, not
 * downloaded), without term frequencies, since the synthetic names' frequencies say nothing about a real base. The
 * product matches one record against a few candidates, so u comes from random pairs, not the blocked ones.
 */
export function defaultModel(): Promise<MatchModel> {
  shipped ??= Promise.resolve().then(() => {
    const { model } = resolvePeople(generatePeople({ records: 20_000, seed: 7 }).records, { randomPairsForU: 200_000 });
    return { ...model, termFrequencies: {} };
  });
  return shipped;
}

/** Fits the matcher on the base's own person records (EM, no labels) and stores it. */
export async function fitIdentityModel(
  q: Queryable,
  actor: string,
): Promise<{ records: number; pairsCompared: number; lambda: number; ms: number }> {
  const started = performance.now();
  const rows = await identityPeopleToFit(q);
  if (rows.length < 100) {
    throw new AppError(
      'identity.too_few_people',
      `only ${rows.length} person records: fitting needs at least 100, the shipped model is used until then`,
      [{ path: '(people)', message: 'too few records' }],
    );
  }
  const result = resolvePeople(
    rows.map((r) => ({ id: r.id, source: 0, fields: r.fields })),
    { randomPairsForU: 200_000 },
  );
  await upsertIdentityModel(q, JSON.stringify(result.model), actor);
  return { records: rows.length, pairsCompared: result.pairsCompared, lambda: result.lambda, ms: Math.round(performance.now() - started) };
}

const matchers = new Map<string, Matcher>();

/** The matcher for the stored (or shipped) model under the current settings' rules; built once per version of either. */
export async function loadMatcher(q: Queryable, settings: IdentitySettings & { updatedAt: string | null }): Promise<Matcher> {
  // The stamp alone first: the model document (parameters and term-frequency tables) is read only when not cached.
  const row = await findIdentityModelStamp(q);
  const key = `${row?.fitted_at.toISOString() ?? 'shipped'}|${settings.updatedAt ?? 'default'}`;
  let matcher = matchers.get(key);
  if (!matcher) {
    const stored = row ? await findIdentityModel(q) : undefined;
    const model = stored?.model ?? (await defaultModel());
    matcher = new Matcher({ ...model, rules: settings.rules });
    if (matchers.size > 16) matchers.clear();
    matchers.set(key, matcher);
  }
  return matcher;
}
