import { DateTime } from 'luxon';
import { addDays, isoDateToEpochDay } from '../aging';
import { convertMinor, type FxTable } from '../fx';
import { ratio2 } from './dso';

/**
 * Pure helpers of the collection activity reports (issue 13): the period a report covers, the instants that bound it
 * in the reporting zone, the weeks of the cash forecast, and days from microseconds. No clock: "today" is given.
 */

/** The default period: the 30 days ending `to` (today by default), both ends included. */
export const DEFAULT_PERIOD_DAYS = 30;

export interface Period {
  from: string;
  to: string;
}

/** `from`/`to` as asked, with the defaults: `to` today, `from` 29 days before `to` (30 days in all). */
export function periodOf(q: { from?: string | undefined; to?: string | undefined }, today: string): Period {
  const to = q.to ?? today;
  const from = q.from ?? addDays(to, -(DEFAULT_PERIOD_DAYS - 1));
  return { from, to };
}

/** The instant a calendar day begins in `zone` (00:00 local; a day that starts in a DST gap begins at the first valid instant). */
export function dayStart(day: string, zone: string): Date {
  const start = DateTime.fromISO(day, { zone }).startOf('day');
  if (!start.isValid) throw new RangeError(`${day} is not a day in ${zone}`);
  return start.toJSDate();
}

/**
 * The half-open interval of instants [start, end) of a period of days in the reporting zone: a timestamp
 * (occurred_at, created_at, opened_at, decided_at...) is in the period when its local day in the zone is in [from, to].
 */
export function periodInstants(period: Period, zone: string): { start: Date; end: Date } {
  return { start: dayStart(period.from, zone), end: dayStart(addDays(period.to, 1), zone) };
}

/** The Monday on or before `day` (ISO weeks start on Monday). 1970-01-01, epoch day 0, was a Thursday. */
export function mondayOf(day: string): string {
  const epochDay = isoDateToEpochDay(day);
  const weekday = (((epochDay + 3) % 7) + 7) % 7; // 0 = Monday ... 6 = Sunday
  return addDays(day, -weekday);
}

export interface ForecastWeek {
  /** 1 = the week of the as-of day. */
  week: number;
  /** ISO week, e.g. 2026-W49. */
  isoWeek: string;
  /** Its Monday and Sunday. */
  from: string;
  to: string;
}

/** The `count` ISO weeks of the forecast, the first being the week that holds `asOf`. */
export function forecastWeeks(asOf: string, count: number): ForecastWeek[] {
  const monday = mondayOf(asOf);
  return Array.from({ length: count }, (_, i) => {
    const from = addDays(monday, 7 * i);
    return { week: i + 1, isoWeek: DateTime.fromISO(from, { zone: 'UTC' }).toFormat("kkkk-'W'WW"), from, to: addDays(from, 6) };
  });
}

const MICROS_PER_DAY = 86_400_000_000n;

/** A duration of `sumMicros` over `count` items, as days with 2 decimals (half away from zero); null when count is 0. */
export const averageDays = (sumMicros: bigint, count: number): number | null => ratio2(sumMicros, BigInt(count) * MICROS_PER_DAY);

/** The median from the lower and upper middle values (equal for an odd count), in days with 2 decimals; null without values. */
export const medianDays = (lowerMicros: bigint | null, upperMicros: bigint | null): number | null =>
  lowerMicros === null || upperMicros === null ? null : ratio2(lowerMicros + upperMicros, 2n * MICROS_PER_DAY);

/** Each currency's sum converted once (half-even) to the reporting currency, then added. */
export function reportingSum(byCurrency: Iterable<readonly [string, number]>, fx: FxTable): number {
  let total = 0;
  for (const [currency, minor] of byCurrency) total += convertMinor(minor, currency, fx);
  return total;
}
