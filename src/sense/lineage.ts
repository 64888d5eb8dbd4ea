import type { Queryable } from '../store/index.ts';
import { openCasesOfAccount } from '../records/index.ts';
import { SIGNAL_FEATURES, type FeatureAggregate } from './feature-signals.ts';
import { featureLineageCounts, storedFeaturesAsOf } from './features.repo.ts';
import { featuresAt } from './features.ts';
import { findAccount } from './profile.ts';

/** The signals (or, for openCases, the cases) a feature value was computed from. */
export interface FeatureInputs {
  /** How many produced the value; `last` and `newest` values come from one signal. */
  count: number;
  /** Their ids, newest first, at most the limit asked for. */
  ids: string[];
  truncated: boolean;
  /** The sum of their metrics, for features that add or average them. */
  metricSum?: number;
}

export interface FeatureLineage {
  feature: string;
  value: unknown;
  aggregate: FeatureAggregate | 'ratio' | 'current';
  /** Signals after `from` up to and including `to`; null for values not taken from a window of signals. */
  window: { from: string; to: string } | null;
  signalType?: string;
  signals?: FeatureInputs;
  cases?: FeatureInputs;
  /** A value computed from other features, not from signals directly. */
  derivedFrom?: string[];
}

export interface LineageReport {
  accountId: string;
  customerId: string;
  asOf: string;
  data: FeatureLineage[];
}

const DAY_MS = 86_400_000;
const FEATURES = Object.entries(SIGNAL_FEATURES);

/**
 * For every feature of a customer as of `asOf` (default: the time the stored features were computed for, else
 * now), its value, its window and the signals that produced it, by the same conditions the feature refresh uses.
 */
export async function featureLineage(q: Queryable, key: string, opts: { asOf?: Date; limit: number; now: Date }): Promise<LineageReport> {
  const account = await findAccount(q, key);
  const [stored] = opts.asOf ? [] : await storedFeaturesAsOf(q, account.id);
  const asOf = opts.asOf ?? (stored ? new Date(stored.as_of) : opts.now);
  const [[point], [row], cases] = await Promise.all([
    featuresAt(q, account.id, [asOf]),
    featureLineageCounts(q, account.id, asOf, opts.limit),
    openCasesOfAccount(q, account.id, opts.limit),
  ]);
  const values = point!.features;
  const at = (days: number) => new Date(asOf.getTime() - days * DAY_MS).toISOString();

  const fromSignals = FEATURES.map(([name, f], i): FeatureLineage => {
    const single = f.aggregate === 'last' || f.aggregate === 'newest';
    const all = Number(row![`n${i}`]);
    const ids = ((row![`ids${i}`] as string[] | null) ?? []).slice(0, single ? 1 : undefined);
    const count = single ? Math.min(all, 1) : all;
    const sum = row![`sum${i}`] as number | null;
    return {
      feature: name,
      value: values[name] ?? null,
      aggregate: f.aggregate,
      window: { from: at(f.days[0]), to: at(f.days[1]) },
      ...(f.type ? { signalType: f.type } : {}),
      signals: {
        count,
        ids,
        truncated: ids.length < count,
        ...(f.aggregate === 'sum' || f.aggregate === 'mean' ? { metricSum: sum ?? 0 } : {}),
      },
    };
  });
  const openCases = cases[0] ? Number(cases[0].n) : 0;
  return {
    accountId: account.id,
    customerId: account.customerId as string,
    asOf: asOf.toISOString(),
    data: [
      ...fromSignals,
      {
        feature: 'usageTrend',
        value: values.usageTrend ?? null,
        aggregate: 'ratio',
        window: null,
        derivedFrom: ['usage7d', 'usagePrior28d'],
      },
      // Cases keep no history of their status, so this is the count now, whatever asOf says.
      {
        feature: 'openCases',
        value: values.openCases ?? null,
        aggregate: 'current',
        window: null,
        cases: { count: openCases, ids: cases.map((c) => c.id), truncated: cases.length < openCases },
      },
    ],
  };
}
