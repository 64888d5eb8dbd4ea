/** Report windows in whole UTC days, shared by the KPIs, their metrics and model usage. */

export const DAY_MS = 86_400_000;

/** N whole UTC days ending with the day of `now`: [from, to), where `to` is the next midnight. */
export interface DayRange {
  now: Date;
  from: Date;
  to: Date;
  /** Every day in the range, oldest first, as YYYY-MM-DD. */
  days: string[];
}

export function dayRange(now: Date, days: number): DayRange {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`days must be a whole number >= 1, got ${days}`);
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  const from = new Date(today - (days - 1) * DAY_MS);
  return {
    now,
    from,
    to: new Date(today + DAY_MS),
    days: Array.from({ length: days }, (_, i) => new Date(from.getTime() + i * DAY_MS).toISOString().slice(0, 10)),
  };
}
