import { z } from 'zod';
import { currencyCodeSchema, isCurrencyCode, minorDigits } from './money';

/**
 * Conversion to the reporting currency, for the worklist's priority score and the totals of a
 * filtered list. Pure and deterministic: the rates are configuration (config/reporting.json,
 * loaded by `loadReportingConfig`), there is no clock and no I/O.
 *
 * A rate is a DECIMAL STRING, never a float: `rates.USD = "0.9200"` means 1 USD = 0.92 units of
 * the reporting currency. Conversion is exact rational arithmetic on BigInt:
 *
 *   reportingMinor = amountMinor / 10^digits(from) * rate * 10^digits(reporting)
 *
 * rounded half-even (banker's rounding) exactly once, at the end, to whole reporting minor units.
 * Intermediate products may exceed 2^53; only the result must be a safe integer.
 */

/** 1 unit of each key currency = `rates[key]` units of `reportingCurrency`. */
export interface FxTable {
  reportingCurrency: string;
  rates: Record<string, string>;
}

const RATE = /^(\d+)(?:\.(\d+))?$/;

interface Rational {
  num: bigint;
  den: bigint;
}

/** "0.9200" -> 9200/10000; undefined when not a positive plain decimal. */
function parseRate(text: unknown): Rational | undefined {
  if (typeof text !== 'string') return undefined;
  const match = RATE.exec(text);
  if (!match) return undefined;
  const [, whole, fraction = ''] = match;
  const num = BigInt(`${whole}${fraction}`);
  if (num <= 0n) return undefined;
  return { num, den: 10n ** BigInt(fraction.length) };
}

/** num / den rounded to the nearest integer, ties to the even neighbour; den > 0. */
function divRoundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den; // truncates toward zero
  const r = num % den; // same sign as num
  const twiceRest = 2n * (r < 0n ? -r : r);
  if (twiceRest < den) return q;
  const away = q + (num < 0n ? -1n : 1n);
  if (twiceRest > den) return away;
  return q % 2n === 0n ? q : away; // exactly half: the even one
}

function requireAmount(amountMinor: number, what: string): void {
  if (typeof amountMinor !== 'number' || !Number.isSafeInteger(amountMinor)) {
    throw new RangeError(`${what} must be a safe integer count of minor units, got ${String(amountMinor)}`);
  }
}

/** The rate of `currency` as a rational, or a RangeError naming what is wrong. */
function rateOf(currency: string, table: FxTable): Rational {
  if (!Object.hasOwn(table.rates, currency)) {
    const known = Object.keys(table.rates).sort().join(', ') || 'none';
    throw new RangeError(`no FX rate for ${JSON.stringify(currency)} into ${table.reportingCurrency} (rates are configured for: ${known})`);
  }
  const text = table.rates[currency];
  const rate = parseRate(text);
  if (!rate) throw new RangeError(`FX rate for ${currency} must be a positive decimal string such as "0.9200", got ${JSON.stringify(text)}`);
  return rate;
}

/** Exact conversion before rounding: numerator and denominator in reporting minor units. */
function toReportingRational(amountMinor: number, from: string, table: FxTable): Rational {
  const rate = rateOf(from, table);
  const fromDigits = BigInt(minorDigits(from));
  const toDigits = BigInt(minorDigits(table.reportingCurrency));
  return {
    num: BigInt(amountMinor) * rate.num * 10n ** toDigits,
    den: rate.den * 10n ** fromDigits,
  };
}

function toSafeNumber(value: bigint, what: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`${what} ${value} exceeds the safe integer range`);
  return n;
}

/**
 * Converts an integer amount of `from`'s minor units to the reporting currency's minor units,
 * exactly, rounding half-even once. The reporting currency itself converts to the same number
 * (identity, no rate needed). Negative amounts (credits) round symmetrically.
 *
 * Throws a RangeError for a non-integer amount, a currency without a rate in the table, a rate
 * that is not a positive decimal string, or a result beyond the safe integer range.
 *
 * convertMinor(10_000, 'USD', { reportingCurrency: 'EUR', rates: { USD: '0.9200' } }) === 9_200
 */
export function convertMinor(amountMinor: number, from: string, table: FxTable): number {
  requireAmount(amountMinor, 'amountMinor');
  if (from === table.reportingCurrency) return amountMinor;
  const { num, den } = toReportingRational(amountMinor, from, table);
  return toSafeNumber(divRoundHalfEven(num, den), `${amountMinor} ${from} in ${table.reportingCurrency} minor units is`);
}

/**
 * Total of several amounts in the reporting currency, in its minor units. Each item is converted
 * and rounded on its own (the way a report shows it, line by line), then the rounded lines are
 * added: the total always equals the sum of the lines a person sees, which may differ by a few
 * minor units from converting the exact sum once. An empty list totals 0.
 */
export function sumInReporting(items: readonly { amountMinor: number; currency: string }[], table: FxTable): number {
  let total = 0n;
  items.forEach((item, i) => {
    requireAmount(item.amountMinor, `items[${i}].amountMinor`);
    total += BigInt(convertMinor(item.amountMinor, item.currency, table));
  });
  return toSafeNumber(total, `the total in ${table.reportingCurrency} minor units,`);
}

// --- The rate table as configuration (config/reporting.json). ---


export const fxRateSchema = z
  .string()
  .regex(RATE, 'must be a positive decimal string such as "0.9200" (digits, an optional "." and digits; no sign, exponent or float)')
  .refine((text) => !RATE.test(text) || parseRate(text) !== undefined, 'must be greater than zero') // malformed: the regex already said so
  .describe('units of the reporting currency per 1 unit of the key currency, as a decimal string');

export const fxTableSchema = z
  .strictObject({
    reportingCurrency: currencyCodeSchema.describe('the currency every amount is reported in'),
    rates: z.record(z.string(), fxRateSchema).describe('ISO 4217 code -> rate into the reporting currency'),
  })
  .superRefine((table, ctx) => {
    for (const code of Object.keys(table.rates)) {
      if (!isCurrencyCode(code)) {
        ctx.addIssue({ code: 'custom', path: ['rates', code], message: `"${code}" is not an ISO 4217 currency code (three upper-case letters Intl knows, e.g. USD)` });
      } else if (code === table.reportingCurrency) {
        ctx.addIssue({ code: 'custom', path: ['rates', code], message: `the reporting currency ${code} must not be listed as a rate (it converts 1:1)` });
      }
    }
  }, { when: (payload) => isTableShaped(payload.value) }) satisfies z.ZodType<FxTable>;

/** Key checks run even when a rate or the reporting currency failed, so one parse names every problem. */
function isTableShaped(value: unknown): value is FxTable {
  if (typeof value !== 'object' || value === null) return false;
  const { reportingCurrency, rates } = value as Record<string, unknown>;
  return typeof reportingCurrency === 'string' && typeof rates === 'object' && rates !== null && !Array.isArray(rates);
}
