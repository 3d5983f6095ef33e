/**
 * The ledger reports' formulas (issue 13), pure: no clock, no I/O. Amounts are integer minor units of one currency
 * (the reporting currency once converted); days and percents are computed as exact fractions of integers (BigInt)
 * and rounded once, to 2 decimals, half away from zero. A ratio whose denominator is 0 is null.
 *
 * Month arithmetic works on `YYYY-MM` strings (calendar months, no time zone): the caller gives "today" in the
 * reporting zone.
 */

// ---------------------------------------------------------------------------------------------------------------
// Rounding
// ---------------------------------------------------------------------------------------------------------------

/** num / den rounded to 2 decimals, half away from zero, from the exact fraction; null when den is 0. */
export function ratio2(num: bigint, den: bigint): number | null {
  if (den === 0n) return null;
  if (den < 0n) {
    num = -num;
    den = -den;
  }
  const scaled = num * 100n;
  const negative = scaled < 0n;
  const abs = negative ? -scaled : scaled;
  let hundredths = abs / den;
  if ((abs % den) * 2n >= den) hundredths += 1n; // half away from zero
  const value = Number(hundredths) / 100;
  return negative ? -value : value;
}

/** part / whole * 100, rounded to 2 decimals; null when whole is 0. */
export const percent2 = (part: number, whole: number): number | null => ratio2(BigInt(part) * 100n, BigInt(whole));

// ---------------------------------------------------------------------------------------------------------------
// Months
// ---------------------------------------------------------------------------------------------------------------

const MONTH = /^(\d{4})-(\d{2})$/;

function parseMonth(month: string): { year: number; month: number } {
  const m = MONTH.exec(month);
  const y = Number(m?.[1]);
  const mo = Number(m?.[2]);
  if (!m || mo < 1 || mo > 12) throw new RangeError(`expected a month YYYY-MM, got ${JSON.stringify(month)}`);
  return { year: y, month: mo };
}

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** Days in a calendar month (Gregorian leap years). */
export function daysInMonth(month: string): number {
  const { year, month: mo } = parseMonth(month);
  if (mo === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return mo === 4 || mo === 6 || mo === 9 || mo === 11 ? 30 : 31;
}

/** The month `n` months after `month` (n may be negative). */
export function addMonths(month: string, n: number): string {
  const { year, month: mo } = parseMonth(month);
  const index = year * 12 + (mo - 1) + n;
  return `${pad(Math.floor(index / 12), 4)}-${pad((index % 12) + 1, 2)}`;
}

export const monthStart = (month: string): string => `${month}-01`;
export const monthEnd = (month: string): string => `${month}-${pad(daysInMonth(month), 2)}`;
/** The month of a `YYYY-MM-DD` date. */
export const monthOf = (date: string): string => date.slice(0, 7);
/** The last month that has ended on `today` (YYYY-MM-DD): the month before today's. */
export const lastCompleteMonth = (today: string): string => addMonths(monthOf(today), -1);

/** Months from `from` to `to`, both included, oldest first ([] when to is before from). */
export function monthsFrom(from: string, to: string): string[] {
  const months: string[] = [];
  for (let m = from; m <= to; m = addMonths(m, 1)) months.push(m);
  return months;
}

/** The day before a `YYYY-MM-DD` date. */
export function dayBefore(date: string): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  if (d > 1) return `${pad(y, 4)}-${pad(m, 2)}-${pad(d - 1, 2)}`;
  return monthEnd(addMonths(`${pad(y, 4)}-${pad(m, 2)}`, -1));
}

// ---------------------------------------------------------------------------------------------------------------
// DSO
// ---------------------------------------------------------------------------------------------------------------

export interface CountBackMonth {
  month: string;
  daysInMonth: number;
  salesMinor: number;
  /** The part of the month's sales the open AR used up. */
  usedMinor: number;
  /** Days of the month counted (all of them, or daysInMonth * left / sales for the last), 2 decimals. */
  daysCounted: number;
}

export interface CountBack {
  days: number;
  /** The lookback ran out with AR still left: `days` is a floor. */
  exhausted: boolean;
  months: CountBackMonth[];
}

/**
 * Count-back DSO (CRF): the open AR at the end of `month` is matched against each month's credit sales, newest first
 * (from `month` itself back). A month whose sales the AR left covers counts all its days (a month without sales too);
 * the month whose sales exceed what is left counts daysInMonth * left / sales and ends the walk. Zero AR gives 0 days.
 * At most `lookbackMonths` months are walked; AR still left then sets `exhausted`.
 *
 * `salesOf(month)` is that month's credit sales in the AR's currency (minor units).
 */
export function countBackDso(openArMinor: number, month: string, salesOf: (month: string) => number, lookbackMonths: number): CountBack {
  const months: CountBackMonth[] = [];
  // The exact total as a fraction: whole days + (days * left) / sales of the last month.
  let wholeDays = 0n;
  let fraction: { num: bigint; den: bigint } = { num: 0n, den: 1n };
  let left = BigInt(Math.max(0, openArMinor));
  let walked = 0;
  for (let m = month; left > 0n && walked < lookbackMonths; m = addMonths(m, -1), walked++) {
    const dim = daysInMonth(m);
    const sales = BigInt(salesOf(m));
    if (sales <= 0n || left >= sales) {
      const used = sales > 0n ? sales : 0n;
      months.push({ month: m, daysInMonth: dim, salesMinor: Number(sales), usedMinor: Number(used), daysCounted: dim });
      wholeDays += BigInt(dim);
      left -= used;
    } else {
      fraction = { num: BigInt(dim) * left, den: sales };
      months.push({ month: m, daysInMonth: dim, salesMinor: Number(sales), usedMinor: Number(left), daysCounted: ratio2(fraction.num, fraction.den)! });
      left = 0n;
    }
  }
  const days = ratio2(wholeDays * fraction.den + fraction.num, fraction.den)!;
  return { days, exhausted: left > 0n, months };
}

export interface PeriodDso {
  /** Open AR / sales of the period * days of the period. */
  standard: number | null;
  /** Current (not yet due) AR / the same sales * the same days. */
  bestPossible: number | null;
  /** Average days delinquent: standard - best possible = past-due AR / sales * days. */
  averageDaysDelinquent: number | null;
}

/**
 * Standard DSO, best-possible DSO and ADD over a period, each rounded from its exact value. ADD is computed exactly
 * as past-due AR * days / sales, which equals standard - best possible before rounding.
 */
export function periodDso(a: { openArMinor: number; currentArMinor: number; pastDueArMinor: number; salesMinor: number; periodDays: number }): PeriodDso {
  const sales = BigInt(a.salesMinor);
  const days = BigInt(a.periodDays);
  return {
    standard: ratio2(BigInt(a.openArMinor) * days, sales),
    bestPossible: ratio2(BigInt(a.currentArMinor) * days, sales),
    averageDaysDelinquent: ratio2(BigInt(a.pastDueArMinor) * days, sales),
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CEI
// ---------------------------------------------------------------------------------------------------------------

/**
 * Collection effectiveness index (CRF) over a period: (opening AR + credit sales - closing AR) /
 * (opening AR + credit sales - closing current AR) * 100, 2 decimals; null when the denominator is 0.
 */
export function cei(a: { openingArMinor: number; salesMinor: number; closingArMinor: number; closingCurrentArMinor: number }): number | null {
  const base = BigInt(a.openingArMinor) + BigInt(a.salesMinor);
  return ratio2((base - BigInt(a.closingArMinor)) * 100n, base - BigInt(a.closingCurrentArMinor));
}
