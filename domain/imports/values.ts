import { formatIsoDate, isValidCalendarDate } from '../aging';
import { isCurrencyCode, minorDigits } from '../money';

/**
 * Cell values of an AR export, from text to what the ledger stores: amounts as integer minor units by the
 * currency's digits (string arithmetic, never a float), calendar dates as YYYY-MM-DD. Pure; each parser answers
 * a value or a reason a person can act on.
 */

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = (reason: string): Parsed<never> => ({ ok: false, reason });

/**
 * How a file writes decimals: 'dot' = 1,234.56 (English; thousands separated by commas or not),
 * 'comma' = 1.234,56 (German, SAP in a German locale; thousands by dots or not).
 */
export const DECIMAL_FORMATS = ['dot', 'comma'] as const;
export type DecimalFormat = (typeof DECIMAL_FORMATS)[number];

/** Calendar date layouts of the exports; an ISO date (YYYY-MM-DD, what an XLSX date cell becomes) is always accepted too. */
export const DATE_FORMATS = ['YYYY-MM-DD', 'DD.MM.YYYY', 'MM/DD/YYYY', 'DD/MM/YYYY'] as const;
export type DateFormat = (typeof DATE_FORMATS)[number];

const DOT = /^(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?$/;
const COMMA = /^(\d{1,3}(?:\.\d{3})+|\d+)(?:,(\d+))?$/;

/**
 * A signed decimal in the file's format to minor units of `currency`: "1.234,56" (comma) in EUR -> 123456,
 * "-1,234.5" (dot) in USD -> -123450, "100" in JPY -> 100. Negative as "-12.50", "12.50-" (SAP) or "(12.50)".
 * Refuses more fraction digits than the currency has (no rounding), a float notation (1e5), anything else.
 */
export function parseAmount(text: string, format: DecimalFormat, currency: string): Parsed<number> {
  let s = text.trim().replace(/[\s\u00a0']/g, '');
  if (s === '') return bad('empty amount');
  let negative = false;
  if (/^\(.*\)$/.test(s)) {
    negative = true;
    s = s.slice(1, -1);
  }
  if (s.startsWith('-')) {
    negative = !negative;
    s = s.slice(1);
  } else if (s.endsWith('-')) {
    negative = !negative;
    s = s.slice(0, -1);
  } else if (s.startsWith('+')) s = s.slice(1);
  s = s.replace(/^[$€£]/, ''); // QuickBooks' totals and some exports put the symbol in the cell
  const m = (format === 'dot' ? DOT : COMMA).exec(s);
  if (m === null) {
    const example = format === 'dot' ? '1,234.56' : '1.234,56';
    return bad(`not an amount: ${JSON.stringify(text)} (expected a decimal number written like ${example})`);
  }
  const whole = m[1]!.replace(/[.,]/g, '');
  const fraction = (m[2] ?? '').replace(/0+$/, '');
  const digits = minorDigits(currency);
  if (fraction.length > digits) return bad(`${JSON.stringify(text)} has more decimals than ${currency}'s ${digits}`);
  const minor = Number(`${whole}${fraction.padEnd(digits, '0')}`);
  if (!Number.isSafeInteger(minor)) return bad(`amount out of range: ${JSON.stringify(text)}`);
  return ok(negative && minor !== 0 ? -minor : minor);
}

const LAYOUTS: Record<DateFormat, { re: RegExp; order: [y: number, m: number, d: number] }> = {
  'YYYY-MM-DD': { re: /^(\d{4})-(\d{1,2})-(\d{1,2})$/, order: [1, 2, 3] },
  'DD.MM.YYYY': { re: /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/, order: [3, 2, 1] },
  'MM/DD/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: [3, 1, 2] },
  'DD/MM/YYYY': { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: [3, 2, 1] },
};

/** A calendar date in the file's layout (or ISO) to YYYY-MM-DD; refuses impossible dates (31.02.2025). */
export function parseDate(text: string, format: DateFormat): Parsed<string> {
  const s = text.trim();
  for (const layout of format === 'YYYY-MM-DD' ? [LAYOUTS[format]] : [LAYOUTS[format], LAYOUTS['YYYY-MM-DD']]) {
    const m = layout.re.exec(s);
    if (m === null) continue;
    const [y, mo, d] = layout.order.map((i) => Number(m[i]));
    if (!isValidCalendarDate(y!, mo!, d!)) return bad(`not a calendar date: ${JSON.stringify(text)}`);
    return ok(formatIsoDate(y!, mo!, d!));
  }
  return bad(`not a date: ${JSON.stringify(text)} (expected ${format})`);
}

/** An ISO 4217 code (case-insensitive in the file) that Intl knows. */
export function parseCurrency(text: string): Parsed<string> {
  const code = text.trim().toUpperCase();
  if (!isCurrencyCode(code)) return bad(`unknown currency ${JSON.stringify(text)} (expected an ISO 4217 code such as EUR)`);
  return ok(code);
}

/** ISO 3166-1 alpha-2 (case-insensitive). */
export function parseCountry(text: string): Parsed<string> {
  const code = text.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) return bad(`not an ISO 3166-1 alpha-2 country code: ${JSON.stringify(text)}`);
  return ok(code);
}

const YES = new Set(['yes', 'y', 'true', '1', 'x', 'ja']);
const NO = new Set(['no', 'n', 'false', '0', '', 'nein']);
export function parseYesNo(text: string): Parsed<boolean> {
  const s = text.trim().toLowerCase();
  if (YES.has(s)) return ok(true);
  if (NO.has(s)) return ok(false);
  return bad(`expected yes or no, got ${JSON.stringify(text)}`);
}

/** An identifier (invoice number, customer id): trimmed, 1..64 characters, no control characters. */
export function parseIdentifier(text: string, what: string): Parsed<string> {
  const s = text.trim();
  if (s === '') return bad(`${what} is empty`);
  if (s.length > 64) return bad(`${what} longer than 64 characters`);
  if (/[\u0000-\u001f\u007f]/.test(s)) return bad(`${what} contains control characters`);
  return ok(s);
}

/** A free text (name): trimmed, control characters refused, at most `max` characters. */
export function parseText(text: string, what: string, max = 200): Parsed<string | null> {
  const s = text.trim();
  if (s === '') return ok(null);
  if (s.length > max) return bad(`${what} longer than ${max} characters`);
  if (/[\u0000-\u001f\u007f]/.test(s)) return bad(`${what} contains control characters`);
  return ok(s);
}

export function parseEmail(text: string): Parsed<string | null> {
  const s = text.trim();
  if (s === '') return ok(null);
  if (s.length > 254 || !/^[^\s@\p{Cc}]+@[^\s@\p{Cc}]+\.[^\s@\p{Cc}]+$/u.test(s)) return bad(`not an e-mail address: ${JSON.stringify(text)}`);
  return ok(s);
}
