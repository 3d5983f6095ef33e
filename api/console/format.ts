import { DateTime } from 'luxon';

/**
 * How the console shows amounts and dates to a user: amounts in the invoice's own currency (integer minor units,
 * the currency's digits from Intl), formatted for the user's locale; instants in the user's time zone; calendar
 * dates (due dates) as the dates they are, in the user's locale. One instance per request.
 */
export interface Formats {
  locale: string;
  timeZone: string;
  /** 123456, 'EUR' → "€1,234.56" (en-GB) or "1.234,56 €" (de-DE). */
  money(amountMinor: number | null | undefined, currency: string | null | undefined): string;
  /** A major-unit string for an input field: 123456, 'EUR' → "1234.56"; 500, 'JPY' → "500". */
  moneyInput(amountMinor: number, currency: string): string;
  /** '2026-11-30' → "30 Nov 2026" (the user's locale). */
  date(isoDate: string | null | undefined): string;
  /** An instant → "30 Nov 2026, 14:05" in the user's zone. */
  dateTime(iso: string | Date | null | undefined): string;
  /** An instant → "3 days ago" / "in 2 hours". */
  relative(iso: string | Date | null | undefined): string;
  number(n: number | null | undefined, digits?: number): string;
  percent(ratio: number | null | undefined): string;
  /** Digits a currency uses (EUR 2, JPY 0, KWD 3). */
  digits(currency: string): number;
}

const digitsCache = new Map<string, number>();
export function currencyDigits(currency: string): number {
  let d = digitsCache.get(currency);
  if (d === undefined) {
    try {
      d = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
    } catch {
      d = 2;
    }
    digitsCache.set(currency, d);
  }
  return d;
}

/** A major-unit amount typed by a person ("1,234.50", "1234,5", "1 234.50") → minor units; undefined when it is not one. */
export function parseMoneyInput(text: string, currency: string): number | undefined {
  const digits = currencyDigits(currency);
  const cleaned = text.trim().replace(/[\s\u00a0\u202f']/g, '');
  if (!/^\d[\d.,]*$/.test(cleaned)) return undefined;
  // The last separator followed by 1..digits digits is the decimal one; every other separator groups thousands.
  const m = /^(.*?)(?:[.,](\d+))?$/.exec(cleaned)!;
  let whole = m[1]!;
  let fraction = m[2] ?? '';
  if (fraction.length > digits || (digits === 0 && fraction !== '')) {
    if (fraction.length === 3) {
      whole = `${whole}${fraction}`;
      fraction = '';
    } else return undefined;
  }
  whole = whole.replace(/[.,]/g, '');
  if (whole === '') return undefined;
  const minor = Number(whole) * 10 ** digits + Number(fraction.padEnd(digits, '0') || '0');
  return Number.isSafeInteger(minor) ? minor : undefined;
}

const fmtCache = new Map<string, Intl.NumberFormat>();
function moneyFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let f = fmtCache.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    fmtCache.set(key, f);
  }
  return f;
}

export function formatsFor(locale: string, timeZone: string): Formats {
  const dateFmt = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const dateTimeFmt = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZone });
  const numberFmt = new Intl.NumberFormat(locale);
  const percentFmt = new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 });
  const instant = (v: string | Date) => (v instanceof Date ? v : new Date(v));
  return {
    locale,
    timeZone,
    money(amountMinor, currency) {
      if (amountMinor === null || amountMinor === undefined || !currency) return '—';
      return moneyFormat(locale, currency).format(amountMinor / 10 ** currencyDigits(currency));
    },
    moneyInput(amountMinor, currency) {
      return (amountMinor / 10 ** currencyDigits(currency)).toFixed(currencyDigits(currency));
    },
    date(isoDate) {
      if (!isoDate) return '—';
      const d = new Date(`${isoDate.slice(0, 10)}T00:00:00Z`);
      return Number.isNaN(d.getTime()) ? isoDate : dateFmt.format(d);
    },
    dateTime(iso) {
      if (!iso) return '—';
      const d = instant(iso);
      return Number.isNaN(d.getTime()) ? String(iso) : dateTimeFmt.format(d);
    },
    relative(iso) {
      if (!iso) return '—';
      return DateTime.fromJSDate(instant(iso)).setLocale(locale).toRelative() ?? '—';
    },
    number(n, digits) {
      if (n === null || n === undefined || Number.isNaN(n)) return '—';
      return digits === undefined ? numberFmt.format(n) : new Intl.NumberFormat(locale, { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
    },
    percent(ratio) {
      return ratio === null || ratio === undefined || Number.isNaN(ratio) ? '—' : percentFmt.format(ratio);
    },
    digits: currencyDigits,
  };
}
