import type { Bus } from '../bus/index.ts';
import { CASES_CHANGED } from '../records/index.ts';
import type { Queryable } from '../store/index.ts';
import { SIGNALS_ACCEPTED, type SignalsAcceptedEvent } from './events.ts';
import { customerFeatureHistoryRows, upsertCustomerFeatures } from './features.repo.ts';

/** Recomputes the features of `accountIds` as of `asOf` (src/sense/features.repo.ts says how each is computed). */
export async function refreshFeatures(q: Queryable, accountIds: string[], asOf: Date): Promise<void> {
  if (accountIds.length === 0) return;
  await upsertCustomerFeatures(q, accountIds, asOf);
}

export type CustomerFeatures = Record<string, number | string | null>;

/**
 * One account's features as they were at each of `asOf` (oldest first), from the signal history, by the same
 * computation as the refresh. `openCases` is the current count at every point.
 */
export async function featuresAt(q: Queryable, accountId: string, asOf: Date[]): Promise<{ asOf: string; features: CustomerFeatures }[]> {
  if (asOf.length === 0) return [];
  const rows = await customerFeatureHistoryRows(q, accountId, asOf);
  return rows.map((r) => ({ asOf: new Date(r.as_of).toISOString(), features: r.features }));
}

/**
 * Keeps features current: each delivery refreshes every customer it touched once, as of the newest
 * event in it (features as of a later time are still current for the earlier events).
 */
export function subscribeFeatureUpdates(bus: Bus): void {
  bus.subscribe(SIGNALS_ACCEPTED, async (messages, q) => {
    const events = messages.map((m) => m.payload as SignalsAcceptedEvent);
    const accountIds = [...new Set(events.flatMap((e) => e.accountIds))];
    const asOf = events.reduce((latest, e) => (e.asOf > latest ? e.asOf : latest), '');
    await refreshFeatures(q, accountIds, new Date(asOf));
  });
  bus.subscribe(CASES_CHANGED, async (messages, q) => {
    const accountIds = [...new Set(messages.flatMap((m) => (m.payload as { accountIds: string[] }).accountIds))];
    await refreshFeatures(q, accountIds, new Date());
  });
}
