import { z } from 'zod';
import { DEFAULT_SIGNAL_GATES, type SignalGates } from '../config.ts';
import { AccountInput, Email, parseSignal, Phone, storableText, Timestamp, type FieldIssue, type SignalParse } from '../contracts/index.ts';
import { accountRuleResults, contactRuleResults, leadRuleCountsBySource } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';
import { findAccount } from './profile.ts';
import { signalCountsBySource } from './sense.repo.ts';

/**
 * Data quality: the rules records are held to, a score per customer profile and per source, and the gates a signal
 * passes at intake beyond its contract.
 */

export type QualityDimension = 'validity' | 'completeness' | 'format';
export type QualityEntity = 'accounts' | 'contacts' | 'leads';
export const QUALITY_DIMENSIONS: QualityDimension[] = ['completeness', 'validity', 'format'];

/** The name intake gives a profile it creates from a bare signal: a placeholder, not a name. */
export const PLACEHOLDER_ACCOUNT_NAME = 'Unidentified customer';

/**
 * One rule, as SQL over the entity's table so profiles and whole tables are scored by the same statement:
 * `applies` says whether the rule concerns a row (the format of an absent email does not), `passes` whether it holds.
 */
export interface QualityRule {
  id: string;
  entity: QualityEntity;
  /** The field as the API names it; `a|b` when either will do. */
  field: string;
  dimension: QualityDimension;
  description: string;
  applies: string;
  passes: string;
}

const column = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
const present = (field: string) => `nullif(btrim(${column(field)}), '') IS NOT NULL`;
const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;
/** The pattern the API's own validator enforces, so stored data is held to what the API accepts today. */
const patternOf = (schema: z.ZodType) => {
  const pattern = (z.toJSONSchema(schema, { unrepresentable: 'any' }) as { pattern?: string }).pattern;
  if (!pattern) throw new Error('quality rule: the validator has no pattern');
  return pattern;
};
// E.164: a + and the country code, then at most 15 digits in all; separators people write are ignored.
const E164 = '^\\+[1-9][0-9]{7,14}$';

const rule = (
  entity: QualityEntity,
  field: string,
  dimension: QualityDimension,
  description: string,
  applies: string,
  passes: string,
): QualityRule => ({
  id: `${entity}.${field}.${dimension}`,
  entity,
  field,
  dimension,
  description,
  applies,
  passes,
});
const filledIn = (entity: QualityEntity, field: string) =>
  rule(entity, field, 'completeness', `${field} is filled in`, 'true', present(field));

/** Contacts and leads are people: the same rules hold for both. */
const personRules = (entity: QualityEntity): QualityRule[] => [
  filledIn(entity, 'firstName'),
  filledIn(entity, 'lastName'),
  rule(entity, 'email|phone', 'completeness', 'an email or a phone to reach them by', 'true', `${present('email')} OR ${present('phone')}`),
  rule(
    entity,
    'email',
    'validity',
    'a well-formed email address, as the API accepts',
    present('email'),
    `length(email) <= 254 AND email ~ ${literal(patternOf(Email))}`,
  ),
  rule(
    entity,
    'phone',
    'validity',
    'a phone number: digits with optional +, spaces, dots, dashes or parentheses, as the API accepts',
    present('phone'),
    `phone ~ ${literal(patternOf(Phone))} AND length(regexp_replace(phone, '[^0-9]', '', 'g')) >= 5`,
  ),
  rule(
    entity,
    'phone',
    'format',
    'in international (E.164) form: + and country code, 8 to 15 digits',
    present('phone'),
    `regexp_replace(phone, '[ ().-]', '', 'g') ~ ${literal(E164)}`,
  ),
];

/** Every rule, in one place. */
export const QUALITY_RULES: QualityRule[] = [
  filledIn('accounts', 'name'),
  rule(
    'accounts',
    'name',
    'validity',
    `a real name, not the placeholder '${PLACEHOLDER_ACCOUNT_NAME}' of a profile created from a signal`,
    present('name'),
    `name <> ${literal(PLACEHOLDER_ACCOUNT_NAME)}`,
  ),
  // A signal's subject may carry any customer id; the API only accepts these.
  rule(
    'accounts',
    'customerId',
    'format',
    'letters, digits, _ . - only, at most 64, as the API accepts',
    'true',
    `customer_id ~ ${literal(patternOf(AccountInput.shape.customerId.unwrap()))}`,
  ),
  ...personRules('contacts'),
  ...personRules('leads'),
];

const rulesOf = (entity: QualityEntity) => QUALITY_RULES.filter((r) => r.entity === entity);
/** Per rule i: r<i> is null when it does not apply to the row, else whether it passes. */
const ruleColumns = (entity: QualityEntity) =>
  rulesOf(entity)
    .map((r, i) => `CASE WHEN ${r.applies} THEN coalesce(${r.passes}, false) END AS r${i}`)
    .join(', ');

export interface Tally {
  applicable: number;
  passed: number;
  /** passed / applicable, to 3 decimals; null when no rule applies. */
  score: number | null;
}

const tally = (applicable: number, passed: number): Tally => ({
  applicable,
  passed,
  score: applicable ? Math.round((passed / applicable) * 1000) / 1000 : null,
});

export interface ProfileQuality extends Tally {
  accountId: string;
  customerId: string;
  records: { accounts: number; contacts: number };
  dimensions: Record<QualityDimension, Tally>;
  failing: { rule: string; entity: QualityEntity; recordId: string; field: string; dimension: QualityDimension; description: string }[];
}

/** A profile's score: the share of the rules that apply to the account and its live contacts that they pass. */
export async function profileQuality(q: Queryable, key: string): Promise<ProfileQuality> {
  const account = await findAccount(q, key);
  const [accounts, contacts] = await Promise.all([
    accountRuleResults(q, ruleColumns('accounts'), account.id),
    contactRuleResults(q, ruleColumns('contacts'), account.id),
  ]);
  const results = [...resultsOf('accounts', accounts), ...resultsOf('contacts', contacts)];
  const count = (of: typeof results) => tally(of.length, of.filter((r) => r.passed).length);
  return {
    accountId: account.id,
    customerId: account.customerId as string,
    ...count(results),
    records: { accounts: accounts.length, contacts: contacts.length },
    dimensions: Object.fromEntries(QUALITY_DIMENSIONS.map((d) => [d, count(results.filter((r) => r.rule.dimension === d))])) as Record<
      QualityDimension,
      Tally
    >,
    failing: results
      .filter((r) => !r.passed)
      .map(({ rule: r, recordId }) => ({
        rule: r.id,
        entity: r.entity,
        recordId,
        field: r.field,
        dimension: r.dimension,
        description: r.description,
      })),
  };
}

function resultsOf(entity: QualityEntity, rows: Record<string, unknown>[]) {
  return rows.flatMap((row) =>
    rulesOf(entity).flatMap((r, i) =>
      row[`r${i}`] === null ? [] : [{ rule: r, recordId: row.id as string, passed: row[`r${i}`] === true }],
    ),
  );
}

export interface SourceQuality {
  source: string;
  /** Signals from this source: stored, and refused into the quarantine (by contract or gate). */
  signals: { accepted: number; quarantined: number; score: number | null };
  /** The rules over the leads this source brought, when it brought any (leads are the records that keep their source). */
  leads: (Tally & { records: number; failing: Record<string, number> }) | null;
}

// Per lead rule i, over the live leads of a source: a<i> where it applies, p<i> where it also passes.
const LEAD_RULE_COUNTS = rulesOf('leads')
  .map(
    (r, i) =>
      `count(*) FILTER (WHERE ${r.applies})::int AS a${i}, count(*) FILTER (WHERE ${r.applies} AND coalesce(${r.passes}, false))::int AS p${i}`,
  )
  .join(',\n  ');

/** Quality per source, one grouped statement over signals and quarantine and one over leads. */
export async function sourceQuality(q: Queryable): Promise<SourceQuality[]> {
  const [signals, leads] = await Promise.all([signalCountsBySource(q), leadRuleCountsBySource(q, LEAD_RULE_COUNTS)]);
  const bySource = new Map<string, SourceQuality>();
  const entry = (source: string) =>
    bySource.get(source) ??
    bySource.set(source, { source, signals: { accepted: 0, quarantined: 0, score: null }, leads: null }).get(source)!;
  for (const s of signals) {
    const t = tally(s.accepted + s.quarantined, s.accepted);
    entry(s.source).signals = { accepted: s.accepted, quarantined: s.quarantined, score: t.score };
  }
  const rules = rulesOf('leads');
  for (const l of leads) {
    const applicable = rules.reduce((n, _r, i) => n + Number(l[`a${i}`]), 0);
    const passed = rules.reduce((n, _r, i) => n + Number(l[`p${i}`]), 0);
    const failing = Object.fromEntries(
      rules.map((r, i) => [r.id, Number(l[`a${i}`]) - Number(l[`p${i}`])]).filter(([, n]) => Number(n) > 0),
    );
    entry(String(l.source)).leads = { records: Number(l.records), ...tally(applicable, passed), failing };
  }
  return [...bySource.values()].sort((a, b) => a.source.localeCompare(b.source));
}

/**
 * Checks zod cannot make alone, because they depend on the server clock: a signal dated too far ahead (a sender's
 * clock or time zone gone wrong) or implausibly long ago (seconds read as milliseconds, a wrong year).
 */
export function signalGateIssues(raw: unknown, now: Date, gates: SignalGates = DEFAULT_SIGNAL_GATES): FieldIssue[] {
  const occurredAt = raw !== null && typeof raw === 'object' ? (raw as { occurredAt?: unknown }).occurredAt : undefined;
  if (!Timestamp.safeParse(occurredAt).success) return [];
  const at = Date.parse(occurredAt as string);
  const ahead = at - now.getTime();
  if (ahead > gates.maxFutureSeconds * 1000) {
    return [
      {
        path: 'occurredAt',
        message: `is ${describe(ahead)} ahead of the server clock (${now.toISOString()}); at most ${gates.maxFutureSeconds} seconds ahead is accepted`,
      },
    ];
  }
  if (-ahead > gates.maxAgeDays * 86_400_000) {
    return [
      {
        path: 'occurredAt',
        message: `is ${describe(-ahead)} before the server clock (${now.toISOString()}); signals older than ${gates.maxAgeDays} days are refused`,
      },
    ];
  }
  return [];
}

const describe = (ms: number) =>
  ms >= 2 * 86_400_000
    ? `${Math.floor(ms / 86_400_000)} days`
    : ms >= 7_200_000
      ? `${Math.floor(ms / 3_600_000)} hours`
      : `${Math.ceil(ms / 1000)} seconds`;

export type Admission = (SignalParse & { ok: true }) | { ok: false; issues: FieldIssue[]; reason: string; signalSource: string | null };

/** What intake asks of each item: its contract, then the gates; a refusal says which, and keeps the source it declared. */
export function admitSignal(raw: unknown, now: Date, gates?: SignalGates): Admission {
  const parsed = parseSignal(raw);
  const gated = signalGateIssues(raw, now, gates);
  if (parsed.ok && !gated.length) return parsed;
  const declared = raw !== null && typeof raw === 'object' ? (raw as { source?: unknown }).source : undefined;
  return {
    ok: false,
    issues: [...(parsed.ok ? [] : parsed.issues), ...gated],
    reason: parsed.ok ? 'failed quality gate' : 'failed validation',
    signalSource: typeof declared === 'string' && declared ? storableText(declared.slice(0, 100)) : null,
  };
}
