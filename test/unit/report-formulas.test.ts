import { describe, expect, it } from 'vitest';
import { currencyLines, NoExchangeRateError, reportingLine, requireRates } from '../../domain/reports/aging-lines';
import {
  addMonths,
  cei,
  countBackDso,
  dayBefore,
  daysInMonth,
  lastCompleteMonth,
  monthEnd,
  monthsFrom,
  percent2,
  periodDso,
  ratio2,
} from '../../domain/reports/dso';

/** Every expected figure below is worked out by hand in the comment beside it. */
describe('rounding to 2 decimals from the exact fraction', () => {
  it('rounds half away from zero, both signs; null for a zero denominator', () => {
    expect(ratio2(1n, 8n)).toBe(0.13); // 0.125 -> 0.13 (half away from zero, not half-even 0.12)
    expect(ratio2(-1n, 8n)).toBe(-0.13);
    expect(ratio2(1n, 3n)).toBe(0.33); // 0.3333
    expect(ratio2(2n, 3n)).toBe(0.67); // 0.6666
    expect(ratio2(5n, -8n)).toBe(-0.63); // -0.625
    expect(ratio2(7n, 0n)).toBeNull();
    expect(percent2(1, 3)).toBe(33.33); // 100/3 = 33.333
    expect(percent2(0, 0)).toBeNull();
  });
  it('stays exact beyond float precision: 10^15 + 0.005 rounds up', () => {
    // (10^17 + 1) / 200 = 5 * 10^14 + 0.005 -> 500000000000000.01
    expect(ratio2(10n ** 17n * 1n + 1n, 200n)).toBe(500000000000000.01);
  });
});

describe('months', () => {
  it('days, ends, steps across years, the day before, the last complete month', () => {
    expect(daysInMonth('2024-02')).toBe(29); // leap year
    expect(daysInMonth('2100-02')).toBe(28); // divisible by 100, not by 400
    expect(daysInMonth('2000-02')).toBe(29); // divisible by 400
    expect(daysInMonth('2026-04')).toBe(30);
    expect(monthEnd('2026-02')).toBe('2026-02-28');
    expect(addMonths('2026-01', -1)).toBe('2025-12');
    expect(addMonths('2025-11', 3)).toBe('2026-02');
    expect(addMonths('2026-03', -24)).toBe('2024-03');
    expect(dayBefore('2026-03-01')).toBe('2026-02-28');
    expect(dayBefore('2026-01-01')).toBe('2025-12-31');
    expect(dayBefore('2026-03-15')).toBe('2026-03-14');
    expect(lastCompleteMonth('2026-01-01')).toBe('2025-12');
    expect(lastCompleteMonth('2026-07-31')).toBe('2026-06');
    expect(monthsFrom('2025-11', '2026-02')).toEqual(['2025-11', '2025-12', '2026-01', '2026-02']);
    expect(monthsFrom('2026-02', '2026-01')).toEqual([]);
    expect(() => addMonths('2026-13', 1)).toThrow(RangeError);
  });
});

describe('count-back DSO', () => {
  const salesTable = (t: Record<string, number>) => (m: string) => t[m] ?? 0;

  it('counts whole months while the AR covers their sales and the fraction of the last', () => {
    // AR 250,000 at 2026-03-31. March sales 100,000: covered, 31 days, 150,000 left. February 80,000: covered, 28
    // days, 70,000 left. January 140,000 > 70,000: 31 * 70,000 / 140,000 = 15.5 days. Total 31 + 28 + 15.5 = 74.5.
    const r = countBackDso(250_000, '2026-03', salesTable({ '2026-03': 100_000, '2026-02': 80_000, '2026-01': 140_000 }), 24);
    expect(r).toEqual({
      days: 74.5,
      exhausted: false,
      months: [
        { month: '2026-03', daysInMonth: 31, salesMinor: 100_000, usedMinor: 100_000, daysCounted: 31 },
        { month: '2026-02', daysInMonth: 28, salesMinor: 80_000, usedMinor: 80_000, daysCounted: 28 },
        { month: '2026-01', daysInMonth: 31, salesMinor: 140_000, usedMinor: 70_000, daysCounted: 15.5 },
      ],
    });
  });

  it('a month without sales counts whole; the total is rounded once from the exact fraction', () => {
    // AR 100,000 at 2026-06-30. June sales 0: 30 days, nothing used. May 300,000 > 100,000: 31 * 1/3 = 10.333...
    // Total 30 + 10.3333 = 40.33 (one rounding of 121/3).
    const r = countBackDso(100_000, '2026-06', salesTable({ '2026-05': 300_000 }), 24);
    expect(r.days).toBe(40.33);
    expect(r.exhausted).toBe(false);
    expect(r.months.map((m) => [m.month, m.usedMinor, m.daysCounted])).toEqual([
      ['2026-06', 0, 30],
      ['2026-05', 100_000, 10.33],
    ]);
  });

  it('a February counts its 28 days and the fraction of the month before', () => {
    // AR 2 at 2026-03-31: March sales 1 (covered: 31 days, 1 left); February sales 3 > 1: 28 * 1 / 3 = 9.3333.
    // Total 31 + 28/3 = 121/3 = 40.3333 -> 40.33.
    const r = countBackDso(2, '2026-03', salesTable({ '2026-03': 1, '2026-02': 3 }), 24);
    expect(r.days).toBe(40.33);
    expect(r.months[1]).toEqual({ month: '2026-02', daysInMonth: 28, salesMinor: 3, usedMinor: 1, daysCounted: 9.33 });
  });

  it('AR exactly equal to a month\'s sales counts the month whole and stops there', () => {
    // AR 50,000, March sales 50,000: 31 days, nothing left, February not walked.
    const r = countBackDso(50_000, '2026-03', salesTable({ '2026-03': 50_000, '2026-02': 10 }), 24);
    expect(r).toEqual({ days: 31, exhausted: false, months: [{ month: '2026-03', daysInMonth: 31, salesMinor: 50_000, usedMinor: 50_000, daysCounted: 31 }] });
  });

  it('zero AR gives 0 days and walks no month', () => {
    expect(countBackDso(0, '2026-03', salesTable({ '2026-03': 1_000 }), 24)).toEqual({ days: 0, exhausted: false, months: [] });
  });

  it('stops after the lookback with AR left: exhausted, and the days counted so far', () => {
    // Lookback 2: March (31, sales 10) and February (28, sales 10) both covered by AR 1,000; 980 left -> exhausted.
    const r = countBackDso(1_000, '2026-03', salesTable({ '2026-03': 10, '2026-02': 10, '2026-01': 10_000 }), 2);
    expect(r.days).toBe(59); // 31 + 28
    expect(r.exhausted).toBe(true);
    expect(r.months).toHaveLength(2);
  });
});

describe('standard DSO, best possible, ADD; CEI', () => {
  it('standard = AR / sales * days; best possible = current / sales * days; ADD = past due / sales * days', () => {
    // Open 120,000, current 45,000, past due 75,000; sales 270,000 over 90 days.
    // standard 120,000 * 90 / 270,000 = 40; BP 45,000 * 90 / 270,000 = 15; ADD 75,000 * 90 / 270,000 = 25.
    expect(periodDso({ openArMinor: 120_000, currentArMinor: 45_000, pastDueArMinor: 75_000, salesMinor: 270_000, periodDays: 90 })).toEqual({
      standard: 40,
      bestPossible: 15,
      averageDaysDelinquent: 25,
    });
    // 100 * 92 / 300 = 30.6667 -> 30.67; 33 * 92 / 300 = 10.12; 67 * 92 / 300 = 20.5467 -> 20.55.
    expect(periodDso({ openArMinor: 100, currentArMinor: 33, pastDueArMinor: 67, salesMinor: 300, periodDays: 92 })).toEqual({
      standard: 30.67,
      bestPossible: 10.12,
      averageDaysDelinquent: 20.55,
    });
    // No sales in the period: nothing to divide by.
    expect(periodDso({ openArMinor: 100, currentArMinor: 0, pastDueArMinor: 100, salesMinor: 0, periodDays: 90 })).toEqual({
      standard: null,
      bestPossible: null,
      averageDaysDelinquent: null,
    });
  });

  it('CEI = (opening + sales - closing) / (opening + sales - closing current) * 100', () => {
    // (100,000 + 50,000 - 90,000) / (100,000 + 50,000 - 30,000) = 60,000 / 120,000 = 50 %.
    expect(cei({ openingArMinor: 100_000, salesMinor: 50_000, closingArMinor: 90_000, closingCurrentArMinor: 30_000 })).toBe(50);
    // 2 / 3 * 100 = 66.67
    expect(cei({ openingArMinor: 3, salesMinor: 0, closingArMinor: 1, closingCurrentArMinor: 0 })).toBe(66.67);
    // Everything still open is current: denominator 0 -> null.
    expect(cei({ openingArMinor: 0, salesMinor: 500, closingArMinor: 500, closingCurrentArMinor: 500 })).toBeNull();
  });
});

describe('aging lines', () => {
  const labels = ['current', '1-30', '31-60', '61-90', '91+'];
  const fx = { reportingCurrency: 'EUR', rates: { USD: '0.9200', JPY: '0.0062' } };

  it('sums per currency, then converts each currency\'s figures once and adds them', () => {
    const lines = currencyLines(
      [
        { key: 'k', currency: 'USD', bucket: 0, count: 1, openMinor: 1_001 },
        { key: 'k', currency: 'USD', bucket: 4, count: 2, openMinor: 2_000 },
        { key: 'k', currency: 'JPY', bucket: 1, count: 1, openMinor: 10_000 },
        { key: 'k', currency: 'EUR', bucket: 1, count: 1, openMinor: 500 },
      ],
      labels,
    );
    expect(lines.map((l) => l.currency)).toEqual(['EUR', 'JPY', 'USD']);
    // USD: open 3,001, current 1,001, past due 2,000, 2,000 / 3,001 = 66.644...% -> 66.64
    expect(lines[2]).toEqual({ currency: 'USD', count: 3, openMinor: 3_001, pastDueMinor: 2_000, pastDuePercent: 66.64, buckets: { current: 1_001, '1-30': 0, '31-60': 0, '61-90': 0, '91+': 2_000 } });
    const total = reportingLine(lines, labels, fx);
    // EUR 500 -> 500. JPY 10,000 yen (0 digits) * 0.0062 = 62.00 EUR = 6,200 cents. USD 3,001 cents * 0.92 = 2,760.92
    // -> 2,761 (half-even); its current 1,001 * 0.92 = 920.92 -> 921; past due 2,000 * 0.92 = 1,840.
    // open 500 + 6,200 + 2,761 = 9,461; past due 500 + 6,200 + 1,840 = 8,540; 8,540 / 9,461 = 90.265...% -> 90.27
    // buckets: current 921; 1-30 500 + 6,200 = 6,700; 91+ 1,840 (921 + 6,700 + 1,840 = 9,461).
    expect(total).toEqual({ count: 5, openMinor: 9_461, pastDueMinor: 8_540, pastDuePercent: 90.27, buckets: { current: 921, '1-30': 6_700, '31-60': 0, '61-90': 0, '91+': 1_840 } });
  });

  it('an empty set is a line of zeros with no past-due %', () => {
    expect(reportingLine([], labels, fx)).toEqual({ count: 0, openMinor: 0, pastDueMinor: 0, pastDuePercent: null, buckets: { current: 0, '1-30': 0, '31-60': 0, '61-90': 0, '91+': 0 } });
  });

  it('a currency without a rate is refused by name, pointing at config/reporting.json', () => {
    expect(() => requireRates(['EUR', 'USD', 'GBP'], fx)).toThrow(NoExchangeRateError);
    expect(() => requireRates(['GBP'], fx)).toThrow(/GBP.*config\/reporting\.json/);
    expect(() => requireRates(['EUR', 'USD'], fx)).not.toThrow();
  });
});
