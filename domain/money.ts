import { z } from 'zod';

/**
 * Money is an integer count of the currency's minor units plus an ISO 4217 code; floats never
 * store amounts. Intl knows each currency's number of minor digits (JPY 0, EUR 2, KWD 3).
 */
export interface Money {
  amountMinor: number;
  currency: string;
}

const CURRENCY = /^[A-Z]{3}$/;

export function isCurrencyCode(code: string): boolean {
  if (!CURRENCY.test(code)) return false;
  try {
    // Intl accepts any well-formed code; supportedValuesOf lists the ones it really knows.
    return Intl.supportedValuesOf('currency').includes(code);
  } catch {
    return false;
  }
}

/** An ISO 4217 code that Intl knows, as a zod schema (HTTP bodies, configuration files). */
export const currencyCodeSchema = z.string().refine(isCurrencyCode, 'must be an ISO 4217 currency code, e.g. EUR');

const digitsByCurrency = new Map<string, number>();
/** Minor digits of a currency (memoized: building an Intl.NumberFormat costs microseconds, and the answer never changes). */
export function minorDigits(currency: string): number {
  let digits = digitsByCurrency.get(currency);
  if (digits === undefined) {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    digitsByCurrency.set(currency, digits);
  }
  return digits;
}

/** "1234.5" in EUR -> 123450. Exact: works on the digits, never through a float. */
export function parseDecimalAmount(text: string, currency: string): number {
  const match = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text.trim());
  if (!match) throw new RangeError(`not a decimal amount: "${text}"`);
  const [, sign, whole, fraction = ''] = match;
  const digits = minorDigits(currency);
  if (fraction.length > digits) throw new RangeError(`${currency} has ${digits} minor digits; "${text}" has more`);
  const minor = Number(`${whole}${fraction.padEnd(digits, '0')}`);
  if (!Number.isSafeInteger(minor)) throw new RangeError(`amount out of range: "${text}"`);
  return sign === '-' && minor !== 0 ? -minor : minor;
}

/** Formats for people, in their locale: formatMoney({amountMinor: 123450, currency: 'EUR'}, 'de-DE') -> "1.234,50 €". */
export function formatMoney(money: Money, locale: string): string {
  const digits = minorDigits(money.currency);
  const major = money.amountMinor / 10 ** digits; // display only: a float is fine for showing, never for storing
  return moneyFormat(locale, money.currency, digits).format(major);
}

/** One formatter per locale and currency (memoized like the digits: building one costs far more than formatting). */
const moneyFormats = new Map<string, Intl.NumberFormat>();
function moneyFormat(locale: string, currency: string, digits: number): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let format = moneyFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits });
    if (moneyFormats.size >= 1_000) moneyFormats.clear(); // bounded: locales come from customer records
    moneyFormats.set(key, format);
  }
  return format;
}
