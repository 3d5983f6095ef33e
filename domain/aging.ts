/**
 * Accounts-receivable aging: days past due, aging buckets and an aging report.
 *
 * Pure and deterministic: no clock, no I/O. "Today" is always a parameter (`asOf`).
 *
 * Calendar dates are `YYYY-MM-DD` strings and all arithmetic is done on the calendar date itself
 * (proleptic Gregorian day numbers), never on instants, so there is no time-zone or DST drift:
 * the distance between two calendar dates is the same wherever the code runs.
 */

// ---------------------------------------------------------------------------------------------
// Calendar-date helpers (exported: the AR importer and the demo portfolio use them as well).
// ---------------------------------------------------------------------------------------------

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** True when `year`/`month`/`day` is a real Gregorian calendar date (month 1-12). */
export function isValidCalendarDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (year < 1 || year > 9999 || month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** True when `value` is a strict `YYYY-MM-DD` string naming a real calendar date. */
export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  return m !== null && isValidCalendarDate(Number(m[1]), Number(m[2]), Number(m[3]));
}

/** Formats a calendar date as `YYYY-MM-DD` (after validating it). */
export function formatIsoDate(year: number, month: number, day: number): string {
  if (!isValidCalendarDate(year, month, day)) {
    throw new RangeError(`not a calendar date: ${year}-${month}-${day}`);
  }
  return `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/**
 * Days since 1970-01-01 for a `YYYY-MM-DD` calendar date (negative before 1970).
 * Uses the civil-from-days algorithm (H. Hinnant) on integers only: no Date, no time zone.
 */
export function isoDateToEpochDay(date: string): number {
  const m = ISO_DATE.exec(date);
  const year = Number(m?.[1]);
  const month = Number(m?.[2]);
  const day = Number(m?.[3]);
  if (m === null || !isValidCalendarDate(year, month, day)) {
    throw new RangeError(`expected a YYYY-MM-DD calendar date, got ${JSON.stringify(date)}`);
  }
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400; // [0, 399]
  const mp = (month + 9) % 12; // March = 0
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1; // [0, 365]
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy; // [0, 146096]
  return era * 146097 + doe - 719468;
}

/** Inverse of {@link isoDateToEpochDay}. */
export function epochDayToIsoDate(epochDay: number): string {
  if (!Number.isSafeInteger(epochDay)) throw new RangeError(`expected an integer day number, got ${epochDay}`);
  const z = epochDay + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  return formatIsoDate(year, month, day);
}

/** `date` plus `days` calendar days (days may be negative). */
export function addDays(date: string, days: number): string {
  if (!Number.isSafeInteger(days)) throw new RangeError(`expected an integer number of days, got ${days}`);
  return epochDayToIsoDate(isoDateToEpochDay(date) + days);
}

/** Calendar days from `from` to `to` (positive when `to` is later). */
export function daysBetween(from: string, to: string): number {
  return isoDateToEpochDay(to) - isoDateToEpochDay(from);
}

// ---------------------------------------------------------------------------------------------
// Aging
// ---------------------------------------------------------------------------------------------

export const AGING_BUCKETS = ['current', '1-30', '31-60', '61-90', '91+'] as const;
export type AgingBucket = (typeof AGING_BUCKETS)[number];

/**
 * Calendar days `asOf` is past `dueDate`: 0 on the due date, 1 the day after, negative before it
 * (an invoice not yet due).
 */
export function daysPastDue(dueDate: string, asOf: string): number {
  return daysBetween(dueDate, asOf);
}

/**
 * Aging bucket for a number of days past due. Not yet due or due today (≤ 0) is `current`;
 * then 1-30, 31-60, 61-90 and 91+ (both ends inclusive).
 */
export function agingBucket(daysPastDue: number): AgingBucket {
  if (!Number.isInteger(daysPastDue)) {
    throw new RangeError(`daysPastDue must be an integer, got ${daysPastDue}`);
  }
  if (daysPastDue <= 0) return 'current';
  if (daysPastDue <= 30) return '1-30';
  if (daysPastDue <= 60) return '31-60';
  if (daysPastDue <= 90) return '61-90';
  return '91+';
}

/**
 * One receivable to age. `openAmountMinor` (the unpaid remainder) is used when present, otherwise
 * `amountMinor` (the whole invoice is taken to be open). Amounts are integer minor units of
 * `currency` (ISO 4217).
 */
export type AgingInput = {
  customerId: string;
  currency: string;
  dueDate: string;
} & ({ openAmountMinor: number; amountMinor?: number } | { amountMinor: number; openAmountMinor?: undefined });

/** Open amount per bucket, in integer minor units of one currency, plus total and invoice count. */
export type BucketAmounts = Record<AgingBucket, number> & { total: number; count: number };

export interface AgingReport {
  asOf: string;
  /** Totals per currency (keys sorted). Amounts in different currencies are never added together. */
  byCurrency: Record<string, BucketAmounts>;
  /** Per customer (keys sorted), then per currency (keys sorted). */
  byCustomer: Record<string, Record<string, BucketAmounts>>;
}

function emptyBuckets(): BucketAmounts {
  return { current: 0, '1-30': 0, '31-60': 0, '61-90': 0, '91+': 0, total: 0, count: 0 };
}

const CURRENCY = /^[A-Z]{3}$/;

function sortedRecord<T>(map: Map<string, T>): Record<string, T> {
  return Object.fromEntries([...map.keys()].sort().map((k) => [k, map.get(k) as T]));
}

/**
 * Aging report of open receivables as of `asOf`.
 *
 * The caller passes what is open on `asOf` (this function does not know issue or settlement
 * dates). Items whose open amount is 0 are ignored (fully paid); negative open amounts (credits)
 * are aged like any other amount. Throws on a non-integer amount, a malformed currency code or
 * date, since silently mis-summing money is worse than failing.
 */
export function agingReport(invoices: readonly AgingInput[], asOf: string): AgingReport {
  isoDateToEpochDay(asOf); // validates
  const byCurrency = new Map<string, BucketAmounts>();
  const byCustomer = new Map<string, Map<string, BucketAmounts>>();

  invoices.forEach((inv, index) => {
    const amount = inv.openAmountMinor ?? inv.amountMinor;
    if (amount === undefined || !Number.isSafeInteger(amount)) {
      throw new RangeError(`invoice #${index}: open amount must be an integer number of minor units, got ${amount}`);
    }
    if (!CURRENCY.test(inv.currency)) {
      throw new RangeError(`invoice #${index}: currency must be an ISO 4217 code, got ${JSON.stringify(inv.currency)}`);
    }
    const bucket = agingBucket(daysPastDue(inv.dueDate, asOf));
    if (amount === 0) return;

    let cur = byCurrency.get(inv.currency);
    if (!cur) byCurrency.set(inv.currency, (cur = emptyBuckets()));
    let customer = byCustomer.get(inv.customerId);
    if (!customer) byCustomer.set(inv.customerId, (customer = new Map()));
    let custCur = customer.get(inv.currency);
    if (!custCur) customer.set(inv.currency, (custCur = emptyBuckets()));

    for (const target of [cur, custCur]) {
      target[bucket] += amount;
      target.total += amount;
      target.count += 1;
      if (!Number.isSafeInteger(target.total)) throw new RangeError('aging total exceeds the safe integer range');
    }
  });

  return {
    asOf,
    byCurrency: sortedRecord(byCurrency),
    byCustomer: Object.fromEntries([...byCustomer.keys()].sort().map((id) => [id, sortedRecord(byCustomer.get(id)!)])),
  };
}
