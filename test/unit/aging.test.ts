import { DateTime } from 'luxon';
import { arSampleText, hasArSample } from '../support/ar-sample';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  agingBucket,
  agingReport,
  daysBetween,
  daysPastDue,
  epochDayToIsoDate,
  isIsoDate,
  isoDateToEpochDay,
} from '../../domain/aging';
import { parseArCsv } from '../../domain/ar-csv';


describe('agingBucket', () => {
  it.each([
    [-400, 'current'],
    [-1, 'current'],
    [0, 'current'],
    [1, '1-30'],
    [30, '1-30'],
    [31, '31-60'],
    [60, '31-60'],
    [61, '61-90'],
    [90, '61-90'],
    [91, '91+'],
    [10_000, '91+'],
  ] as const)('%i days past due → %s', (days, bucket) => {
    expect(agingBucket(days)).toBe(bucket);
  });

  it('rejects non-integers', () => {
    expect(() => agingBucket(1.5)).toThrow(RangeError);
    expect(() => agingBucket(Number.NaN)).toThrow(RangeError);
  });
});

describe('daysPastDue', () => {
  it('is 0 on the due date, positive after, negative before', () => {
    expect(daysPastDue('2013-06-28', '2013-06-28')).toBe(0);
    expect(daysPastDue('2013-06-28', '2013-06-29')).toBe(1);
    expect(daysPastDue('2013-06-28', '2013-06-27')).toBe(-1);
  });

  it('counts leap days (2012, 2000) and not non-leap (2013, 1900, 2100)', () => {
    expect(daysPastDue('2012-02-28', '2012-03-01')).toBe(2);
    expect(daysPastDue('2013-02-28', '2013-03-01')).toBe(1);
    expect(daysPastDue('2000-02-28', '2000-03-01')).toBe(2);
    expect(daysPastDue('1900-02-28', '1900-03-01')).toBe(1);
    expect(daysPastDue('2100-02-28', '2100-03-01')).toBe(1);
    expect(daysPastDue('2012-01-01', '2013-01-01')).toBe(366);
    expect(daysPastDue('2013-01-01', '2014-01-01')).toBe(365);
    expect(daysPastDue('2024-02-29', '2024-03-30')).toBe(30); // net-30 from a leap day
  });

  it('handles month ends and year ends', () => {
    expect(daysPastDue('2013-01-31', '2013-02-28')).toBe(28);
    expect(daysPastDue('2013-04-30', '2013-05-31')).toBe(31);
    expect(daysPastDue('2013-05-31', '2013-06-30')).toBe(30);
    expect(daysPastDue('2012-12-31', '2013-01-01')).toBe(1);
    // a due date 30/31/60/61/90/91 days back from a month-end as-of
    expect(agingBucket(daysPastDue('2013-05-31', '2013-06-30'))).toBe('1-30');
    expect(agingBucket(daysPastDue('2013-05-30', '2013-06-30'))).toBe('31-60');
    expect(agingBucket(daysPastDue('2013-05-01', '2013-06-30'))).toBe('31-60'); // 60
    expect(agingBucket(daysPastDue('2013-04-30', '2013-06-30'))).toBe('61-90'); // 61
    expect(agingBucket(daysPastDue('2013-04-01', '2013-06-30'))).toBe('61-90'); // 90
    expect(agingBucket(daysPastDue('2013-03-31', '2013-06-30'))).toBe('91+'); // 91
  });

  it('rejects malformed and impossible dates', () => {
    for (const bad of ['2013-02-29', '2013-2-3', '2013-13-01', '2013-04-31', '06/30/2013', '2013-06-30T00:00:00Z', '']) {
      expect(isIsoDate(bad)).toBe(false);
      expect(() => daysPastDue(bad, '2013-06-30')).toThrow(RangeError);
    }
  });

  it('agrees with luxon (UTC) and round-trips, every 7 days from 1899 to 2101', () => {
    const start = DateTime.fromISO('1899-12-25', { zone: 'utc' });
    for (let i = 0; i < 24_700; i += 7) {
      const d = start.plus({ days: i });
      const iso = d.toISODate()!;
      expect(isoDateToEpochDay(iso)).toBe(Math.round(d.toMillis() / 86_400_000));
      expect(epochDayToIsoDate(isoDateToEpochDay(iso))).toBe(iso);
      expect(addDays(iso, 45)).toBe(d.plus({ days: 45 }).toISODate());
      expect(daysBetween('1899-12-25', iso)).toBe(i);
    }
  });
});

describe('agingReport', () => {
  it('a worked example: buckets per currency and per customer, integer minor units', () => {
    const asOf = '2013-06-30';
    const report = agingReport(
      [
        { customerId: 'B', currency: 'USD', dueDate: '2013-07-15', amountMinor: 10_000 }, // current (-15)
        { customerId: 'B', currency: 'USD', dueDate: '2013-06-30', amountMinor: 2_500 }, // current (0)
        { customerId: 'A', currency: 'USD', dueDate: '2013-06-29', amountMinor: 1_234 }, // 1-30 (1)
        { customerId: 'A', currency: 'USD', dueDate: '2013-05-31', amountMinor: 99_999, openAmountMinor: 500 }, // 1-30 (30), partly paid
        { customerId: 'A', currency: 'EUR', dueDate: '2013-05-30', amountMinor: 7_000 }, // 31-60 (31)
        { customerId: 'C', currency: 'USD', dueDate: '2013-04-30', openAmountMinor: 3_000 }, // 61-90 (61)
        { customerId: 'C', currency: 'USD', dueDate: '2013-03-31', amountMinor: 4_000 }, // 91+ (91)
        { customerId: 'C', currency: 'USD', dueDate: '2013-01-01', amountMinor: 5_000, openAmountMinor: 0 }, // paid: ignored
        { customerId: 'C', currency: 'USD', dueDate: '2013-06-01', amountMinor: -1_000 }, // credit, 1-30 (29)
      ],
      asOf,
    );
    expect(report).toEqual({
      asOf,
      byCurrency: {
        EUR: { current: 0, '1-30': 0, '31-60': 7_000, '61-90': 0, '91+': 0, total: 7_000, count: 1 },
        USD: { current: 12_500, '1-30': 734, '31-60': 0, '61-90': 3_000, '91+': 4_000, total: 20_234, count: 7 },
      },
      byCustomer: {
        A: {
          EUR: { current: 0, '1-30': 0, '31-60': 7_000, '61-90': 0, '91+': 0, total: 7_000, count: 1 },
          USD: { current: 0, '1-30': 1_734, '31-60': 0, '61-90': 0, '91+': 0, total: 1_734, count: 2 },
        },
        B: { USD: { current: 12_500, '1-30': 0, '31-60': 0, '61-90': 0, '91+': 0, total: 12_500, count: 2 } },
        C: { USD: { current: 0, '1-30': -1_000, '31-60': 0, '61-90': 3_000, '91+': 4_000, total: 6_000, count: 3 } },
      },
    });
    expect(Object.keys(report.byCurrency)).toEqual(['EUR', 'USD']);
    expect(Object.keys(report.byCustomer)).toEqual(['A', 'B', 'C']);
  });

  it('is empty for no invoices', () => {
    expect(agingReport([], '2013-06-30')).toEqual({ asOf: '2013-06-30', byCurrency: {}, byCustomer: {} });
  });

  it('refuses float amounts, bad currencies and bad dates rather than mis-summing', () => {
    const base = { customerId: 'A', currency: 'USD', dueDate: '2013-06-01' };
    expect(() => agingReport([{ ...base, amountMinor: 55.94 }], '2013-06-30')).toThrow(RangeError);
    expect(() => agingReport([{ ...base, currency: 'usd', amountMinor: 1 }], '2013-06-30')).toThrow(RangeError);
    expect(() => agingReport([{ ...base, dueDate: '2013-06-31', amountMinor: 1 }], '2013-06-30')).toThrow(RangeError);
    expect(() => agingReport([], '30/6/2013')).toThrow(RangeError);
  });
});

describe.skipIf(!hasArSample)('agingReport on the real AR sample at month-end 2013-06-30, cross-checked independently', () => {
  const asOf = '2013-06-30';
  const text = arSampleText();

  // Independent computation straight from the text: Date.UTC day numbers, cents by Math.round.
  const dayNumber = (mdy: string) => {
    const [m, d, y] = mdy.split('/').map(Number) as [number, number, number];
    return Date.UTC(y, m - 1, d) / 86_400_000;
  };
  const asOfDay = Date.UTC(2013, 5, 30) / 86_400_000;
  const openLines = text
    .split(/\r?\n/)
    .slice(1)
    .filter((l) => l !== '')
    .map((l) => l.split(','))
    .filter((f) => dayNumber(f[4]!) <= asOfDay && dayNumber(f[8]!) > asOfDay);
  const cents = (f: string[]) => Math.round(Number(f[6]) * 100);
  const independentBucket = (f: string[]) => {
    const dpd = asOfDay - dayNumber(f[5]!);
    return dpd <= 0 ? 'current' : dpd <= 30 ? '1-30' : dpd <= 60 ? '31-60' : dpd <= 90 ? '61-90' : '91+';
  };

  const { rows } = parseArCsv(text);
  const open = rows.filter((r) => r.invoiceDate <= asOf && r.settledDate > asOf);
  const report = agingReport(open, asOf);

  it('total open AR equals the sum of invoices issued ≤ asOf and settled > asOf', () => {
    const total = openLines.reduce((s, f) => s + cents(f), 0);
    expect(report.byCurrency.USD!.total).toBe(total);
    expect(report.byCurrency.USD!.count).toBe(openLines.length);
    // the facts, pinned: 84 open invoices, USD 5,119.85
    expect(openLines.length).toBe(84);
    expect(total).toBe(511_985);
    expect(Object.keys(report.byCurrency)).toEqual(['USD']);
  });

  it('bucket totals match the independent computation', () => {
    const expected: Record<string, number> = { current: 0, '1-30': 0, '31-60': 0, '61-90': 0, '91+': 0 };
    for (const f of openLines) expected[independentBucket(f)]! += cents(f);
    const { total: _t, count: _c, ...buckets } = report.byCurrency.USD!;
    expect(buckets).toEqual(expected);
    expect(buckets).toEqual({ current: 428_429, '1-30': 83_556, '31-60': 0, '61-90': 0, '91+': 0 });
  });

  it('per-customer totals match and add up to the currency total', () => {
    const perCustomer = new Map<string, number>();
    for (const f of openLines) perCustomer.set(f[1]!, (perCustomer.get(f[1]!) ?? 0) + cents(f));
    expect(Object.keys(report.byCustomer)).toEqual([...perCustomer.keys()].sort());
    for (const [id, amount] of perCustomer) expect(report.byCustomer[id]!.USD!.total).toBe(amount);
    const sum = Object.values(report.byCustomer).reduce((s, c) => s + c.USD!.total, 0);
    expect(sum).toBe(report.byCurrency.USD!.total);
  });
});
