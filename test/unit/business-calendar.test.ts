import { describe, expect, it } from 'vitest';
import { addBusinessDays, isBusinessDay, weekdayOf, type BusinessCalendar } from '../../domain/business-calendar';

/*
 * Worked by hand from a 2025 calendar (no library):
 *   April 2025:    Mon 14, Tue 15, Wed 16, Thu 17, Fri 18 (Good Friday), Sat 19, Sun 20, Mon 21 (Easter Monday),
 *                  Tue 22, Wed 23, Thu 24, Fri 25, Mon 28.
 *   July 2025:     Thu 3, Fri 4 (Independence Day), Sat 5, Sun 6, Mon 7.
 *   Dec 2025:      Wed 24, Thu 25, Fri 26 (Christmas), Sat 27, Sun 28, Mon 29, Tue 30, Wed 31, Thu 1 Jan 2026 (New Year), Fri 2 Jan.
 */
const DE: BusinessCalendar = { holidays: ['2025-04-18', '2025-04-21', '2025-05-01', '2025-12-25', '2025-12-26', '2026-01-01'] };
const US: BusinessCalendar = { holidays: ['2025-07-04'] };

describe('weekdayOf', () => {
  it.each([
    ['2025-04-18', 'fri'],
    ['2025-04-19', 'sat'],
    ['2025-04-20', 'sun'],
    ['2025-04-21', 'mon'],
    ['2025-07-04', 'fri'],
    ['2024-02-29', 'thu'],
    ['2025-01-01', 'wed'],
  ])('%s is a %s', (date, day) => {
    expect(weekdayOf(date)).toBe(day);
  });

  it.each(['2025-02-30', '2025-13-01', 'tomorrow', '2025-4-1', '2025-04-01T00:00:00Z', ''])('%j is a RangeError', (date) => {
    expect(() => weekdayOf(date)).toThrow(RangeError);
  });
});

describe('isBusinessDay', () => {
  it('without a calendar: Monday to Friday, holidays unknown', () => {
    expect(['2025-04-14', '2025-04-15', '2025-04-16', '2025-04-17', '2025-04-18'].map((d) => isBusinessDay(d))).toEqual([true, true, true, true, true]);
    expect(isBusinessDay('2025-04-19')).toBe(false);
    expect(isBusinessDay('2025-04-20')).toBe(false);
  });

  it('a calendar holiday is not a business day, the days around it are', () => {
    expect(isBusinessDay('2025-04-17', DE)).toBe(true);
    expect(isBusinessDay('2025-04-18', DE)).toBe(false);
    expect(isBusinessDay('2025-04-21', DE)).toBe(false);
    expect(isBusinessDay('2025-04-22', DE)).toBe(true);
    expect(isBusinessDay('2025-07-04', US)).toBe(false);
    expect(isBusinessDay('2025-07-04', DE)).toBe(true);
  });

  it('a calendar may have another weekend (Friday and Saturday)', () => {
    const gulf: BusinessCalendar = { holidays: [], weekend: ['fri', 'sat'] };
    expect(isBusinessDay('2025-04-18', gulf)).toBe(false); // Fri
    expect(isBusinessDay('2025-04-19', gulf)).toBe(false); // Sat
    expect(isBusinessDay('2025-04-20', gulf)).toBe(true); // Sun
  });
});

describe('addBusinessDays', () => {
  it('forward across a weekend, with and without holidays (Easter 2025)', () => {
    // Wed 16 +1 = Thu 17. +2: Fri 18 holiday, Sat, Sun, Mon 21 holiday -> Tue 22. +3 -> Wed 23.
    expect(addBusinessDays('2025-04-16', 1, DE)).toBe('2025-04-17');
    expect(addBusinessDays('2025-04-16', 2, DE)).toBe('2025-04-22');
    expect(addBusinessDays('2025-04-16', 3, DE)).toBe('2025-04-23');
    // Without the holidays: Thu 17 +1 = Fri 18; Fri 18 +1 = Mon 21.
    expect(addBusinessDays('2025-04-17', 1)).toBe('2025-04-18');
    expect(addBusinessDays('2025-04-18', 1)).toBe('2025-04-21');
    expect(addBusinessDays('2025-04-17', 1, DE)).toBe('2025-04-22');
  });

  it('US Independence Day: Thu 3 Jul + 1 = Mon 7 Jul, and back', () => {
    expect(addBusinessDays('2025-07-03', 1, US)).toBe('2025-07-07');
    expect(addBusinessDays('2025-07-07', -1, US)).toBe('2025-07-03');
    expect(addBusinessDays('2025-07-03', 1)).toBe('2025-07-04');
  });

  it('a start on a non-business day counts from the next (previous) business day onwards', () => {
    // Sat 19 + 1: Sun no, Mon 21 holiday, Tue 22. Sat 19 - 1: Fri 18 holiday, Thu 17.
    expect(addBusinessDays('2025-04-19', 1, DE)).toBe('2025-04-22');
    expect(addBusinessDays('2025-04-19', -1, DE)).toBe('2025-04-17');
    expect(addBusinessDays('2025-04-19', 1)).toBe('2025-04-21');
  });

  it('negative offsets: courtesy reminders before the due date', () => {
    // Mon 28 - 3: Fri 25 (1), Thu 24 (2), Wed 23 (3).
    expect(addBusinessDays('2025-04-28', -3, DE)).toBe('2025-04-23');
    // Mon 28 - 5: ... Wed 23 (3), Tue 22 (4), Mon 21 holiday, Sun, Sat, Fri 18 holiday, Thu 17 (5).
    expect(addBusinessDays('2025-04-28', -5, DE)).toBe('2025-04-17');
    // Tue 22 - 3 without holidays: Mon 21 (1), Fri 18 (2), Thu 17 (3); with them: Thu 17 (1), Wed 16 (2), Tue 15 (3).
    expect(addBusinessDays('2025-04-22', -3)).toBe('2025-04-17');
    expect(addBusinessDays('2025-04-22', -3, DE)).toBe('2025-04-15');
  });

  it('zero: the date itself if a business day, else the next one', () => {
    expect(addBusinessDays('2025-04-17', 0, DE)).toBe('2025-04-17');
    expect(addBusinessDays('2025-04-18', 0, DE)).toBe('2025-04-22');
    expect(addBusinessDays('2025-04-19', 0)).toBe('2025-04-21');
    expect(addBusinessDays('2025-04-21', 0)).toBe('2025-04-21');
  });

  it('across the year end and the leap day', () => {
    // Wed 24 Dec + 3: Thu 25 and Fri 26 holidays, weekend, Mon 29 (1), Tue 30 (2), Wed 31 (3); + 4: Thu 1 Jan holiday -> Fri 2 Jan.
    expect(addBusinessDays('2025-12-24', 3, DE)).toBe('2025-12-31');
    expect(addBusinessDays('2025-12-24', 4, DE)).toBe('2026-01-02');
    expect(addBusinessDays('2026-01-02', -4, DE)).toBe('2025-12-24');
    expect(addBusinessDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addBusinessDays('2024-02-28', 2)).toBe('2024-03-01');
  });

  it('long spans: 10 business days are two calendar weeks', () => {
    expect(addBusinessDays('2025-03-03', 10)).toBe('2025-03-17');
    expect(addBusinessDays('2025-03-17', -10)).toBe('2025-03-03');
  });

  it('a Friday-Saturday weekend', () => {
    // Thu 17 + 1: Fri, Sat are weekend -> Sun 20.
    expect(addBusinessDays('2025-04-17', 1, { holidays: [], weekend: ['fri', 'sat'] })).toBe('2025-04-20');
  });

  it('rejects bad input rather than looping or guessing', () => {
    expect(() => addBusinessDays('2025-02-30', 1)).toThrow(RangeError);
    expect(() => addBusinessDays('2025-04-17', 1.5)).toThrow(RangeError);
    expect(() => addBusinessDays('2025-04-17', 1, { holidays: [], weekend: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] })).toThrow(
      /at least one working weekday/,
    );
  });
});
