import { describe, expect, it } from 'vitest';
import {
  averageDays,
  dayStart,
  forecastWeeks,
  medianDays,
  mondayOf,
  periodInstants,
  periodOf,
  reportingSum,
} from '../../domain/reports/activity';

/** The pure parts of the collection activity reports (domain/reports/activity.ts); expectations worked out by hand. */

describe('the period of a report', () => {
  it('defaults to the 30 days ending today; an explicit end moves the default start with it', () => {
    // 2026-04-15 minus 29 days: 15 days back is 03-31, 14 more is 03-17.
    expect(periodOf({}, '2026-04-15')).toEqual({ from: '2026-03-17', to: '2026-04-15' });
    // 2026-03-01 minus 29 days crosses February (28 days in 2026): 2026-01-31.
    expect(periodOf({ to: '2026-03-01' }, '2026-04-15')).toEqual({ from: '2026-01-31', to: '2026-03-01' });
    expect(periodOf({ from: '2026-01-01' }, '2026-04-15')).toEqual({ from: '2026-01-01', to: '2026-04-15' });
    expect(periodOf({ from: '2026-01-01', to: '2026-01-31' }, '2026-04-15')).toEqual({ from: '2026-01-01', to: '2026-01-31' });
  });

  it('its instants are local midnights in the reporting zone, across a change of daylight saving time', () => {
    // Berlin: CET (+1) until 2026-03-29 02:00, CEST (+2) after.
    expect(periodInstants({ from: '2026-03-01', to: '2026-03-31' }, 'Europe/Berlin')).toEqual({
      start: new Date('2026-02-28T23:00:00Z'),
      end: new Date('2026-03-31T22:00:00Z'),
    });
    expect(dayStart('2026-03-29', 'Europe/Berlin')).toEqual(new Date('2026-03-28T23:00:00Z'));
    expect(dayStart('2026-03-30', 'Europe/Berlin')).toEqual(new Date('2026-03-29T22:00:00Z')); // the 29th had 23 hours
    expect(dayStart('2026-01-01', 'America/New_York')).toEqual(new Date('2026-01-01T05:00:00Z'));
    expect(dayStart('2026-01-01', 'UTC')).toEqual(new Date('2026-01-01T00:00:00Z'));
  });
});

describe('the weeks of the cash forecast', () => {
  it('start on the Monday of the as-of day', () => {
    expect(mondayOf('2026-04-15')).toBe('2026-04-13'); // a Wednesday
    expect(mondayOf('2026-04-13')).toBe('2026-04-13'); // a Monday is its own
    expect(mondayOf('2026-04-19')).toBe('2026-04-13'); // a Sunday belongs to the week before
    expect(mondayOf('2026-01-01')).toBe('2025-12-29'); // a Thursday across the year's end
    expect(mondayOf('1970-01-01')).toBe('1969-12-29'); // epoch day 0, a Thursday
    expect(mondayOf('2000-02-29')).toBe('2000-02-28'); // a Tuesday of a leap year
  });

  it('are ISO weeks, numbered from 1, Monday to Sunday', () => {
    expect(forecastWeeks('2026-04-15', 3)).toEqual([
      { week: 1, isoWeek: '2026-W16', from: '2026-04-13', to: '2026-04-19' },
      { week: 2, isoWeek: '2026-W17', from: '2026-04-20', to: '2026-04-26' },
      { week: 3, isoWeek: '2026-W18', from: '2026-04-27', to: '2026-05-03' },
    ]);
    // Across the year: 2026-12-28 is in 2026-W53 (2026 has 53 ISO weeks: it starts on a Thursday), 2027-01-04 in 2027-W01.
    expect(forecastWeeks('2026-12-31', 2).map((w) => w.isoWeek)).toEqual(['2026-W53', '2027-W01']);
    expect(forecastWeeks('2026-04-15', 13)).toHaveLength(13);
    expect(forecastWeeks('2026-04-15', 13)[12]).toEqual({ week: 13, isoWeek: '2026-W28', from: '2026-07-06', to: '2026-07-12' });
  });
});

describe('days from microseconds', () => {
  const DAY = 86_400_000_000n;
  it('average and median to 2 decimals, half away from zero, null without values', () => {
    // (3.5 + 18 + 6) days / 3 = 9.1666.. -> 9.17
    expect(averageDays(((35n + 180n + 60n) * DAY) / 10n, 3)).toBe(9.17);
    // 1 day + 7 min 12 s = 1.005 days exactly: half -> 1.01
    expect(averageDays(DAY + 432_000_000n, 1)).toBe(1.01);
    // 1.00499999.. days -> 1.00
    expect(averageDays(DAY + 431_999_999n, 1)).toBe(1);
    expect(averageDays(0n, 0)).toBeNull();
    // median of an even count: the mean of the two middle ones, (3.5 + 6) / 2 = 4.75
    expect(medianDays((35n * DAY) / 10n, 6n * DAY)).toBe(4.75);
    expect(medianDays(6n * DAY, 6n * DAY)).toBe(6);
    expect(medianDays(null, null)).toBeNull();
  });
});

describe('amounts in the reporting currency', () => {
  it("each currency's sum converted once, half-even, then added", () => {
    const fx = { reportingCurrency: 'EUR', rates: { USD: '0.9200', GBP: '1.1700', JPY: '0.0061' } };
    // 4,000 USD cents * 0.92 = 3,680; 10,000 GBP pence * 1.17 = 11,700; 35,000 EUR cents as they are -> 50,380
    expect(reportingSum([['EUR', 35_000], ['USD', 4_000], ['GBP', 10_000]], fx)).toBe(50_380);
    // 250 JPY (no minor digits) = 250 * 0.0061 EUR = 1.525 EUR = 152.5 cents -> half-even 152
    expect(reportingSum([['JPY', 250]], fx)).toBe(152);
    expect(reportingSum([], fx)).toBe(0);
    expect(() => reportingSum([['CHF', 1]], fx)).toThrow(/CHF/);
  });
});
