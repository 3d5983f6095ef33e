import { DateTime } from 'luxon';
import { WEEKDAYS } from './cadence';

/**
 * Business days for one customer: local calendar dates (YYYY-MM-DD) in the customer's country and
 * region, never instants. Pure: the holidays are data handed in (the workflow fetches them once
 * through an activity, so that its history, not a library upgrade, decides which days are off).
 */
export type Weekday = (typeof WEEKDAYS)[number];

export interface BusinessCalendar {
  /** Local dates (YYYY-MM-DD) that are not business days: public holidays of the country and region. */
  holidays: readonly string[];
  /** Days of the week that are never business days; default ['sat', 'sun']. */
  weekend?: readonly Weekday[];
}

const DEFAULT_WEEKEND: readonly Weekday[] = ['sat', 'sun'];
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

function parseDate(date: string): DateTime {
  const d = ISO_DATE.test(date) ? DateTime.fromISO(date, { zone: 'UTC' }) : undefined;
  if (!d?.isValid) throw new RangeError(`not a calendar date (YYYY-MM-DD): "${date}"`);
  return d;
}

/** Holiday lookups are sets, built once per calendar object (a WeakMap: no state survives the calendar). */
const holidaySets = new WeakMap<BusinessCalendar, ReadonlySet<string>>();
function holidaySet(calendar: BusinessCalendar): ReadonlySet<string> {
  let set = holidaySets.get(calendar);
  if (!set) {
    set = new Set(calendar.holidays);
    holidaySets.set(calendar, set);
  }
  return set;
}

function checkWeekend(calendar: BusinessCalendar | undefined): void {
  const weekend = calendar?.weekend ?? DEFAULT_WEEKEND;
  if (WEEKDAYS.every((d) => weekend.includes(d))) throw new RangeError('a business calendar needs at least one working weekday');
}

/** The day of the week of a local date. */
export function weekdayOf(date: string): Weekday {
  return WEEKDAYS[parseDate(date).weekday - 1]!;
}

/** Neither a weekend day nor a holiday. Without a calendar: Monday to Friday. */
export function isBusinessDay(date: string, calendar?: BusinessCalendar): boolean {
  const weekend = calendar?.weekend ?? DEFAULT_WEEKEND;
  if (weekend.includes(weekdayOf(date))) return false;
  return !calendar || !holidaySet(calendar).has(date);
}

/**
 * `n` business days after `date` (before it when `n` is negative), counting only business days
 * strictly after (before) `date` itself: Fri + 1 = Mon, Sat + 1 = Mon, Mon - 1 = previous Fri.
 * `n = 0` is `date` itself when it is a business day, else the next business day.
 */
export function addBusinessDays(date: string, n: number, calendar?: BusinessCalendar): string {
  if (!Number.isSafeInteger(n)) throw new RangeError(`business days must be a whole number, got ${n}`);
  checkWeekend(calendar);
  let d = parseDate(date);
  const step = n < 0 ? -1 : 1;
  let left = Math.abs(n);
  if (n === 0) {
    while (!isBusinessDay(d.toISODate()!, calendar)) d = d.plus({ days: 1 });
    return d.toISODate()!;
  }
  while (left > 0) {
    d = d.plus({ days: step });
    if (isBusinessDay(d.toISODate()!, calendar)) left--;
  }
  return d.toISODate()!;
}
