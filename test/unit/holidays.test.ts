import { describe, expect, it } from 'vitest';
import { businessCalendarFor } from '../../integrations/holidays';
import { addBusinessDays, isBusinessDay } from '../../domain/business-calendar';

/** Public holidays from the date-holidays library: a few well-known dates, not the whole list (the library's data may grow). */
describe('businessCalendarFor (date-holidays)', () => {
  const by = businessCalendarFor('DE', 'BY', 2025, 2025);
  const be = businessCalendarFor('DE', 'BE', 2025, 2025);

  it('Bavaria has Epiphany (6 Jan), Berlin does not; both have Good Friday and Easter Monday', () => {
    expect(by.holidays).toContain('2025-01-06');
    expect(be.holidays).not.toContain('2025-01-06');
    for (const cal of [by, be]) {
      expect(cal.holidays).toContain('2025-04-18');
      expect(cal.holidays).toContain('2025-04-21');
      expect(cal.holidays).toContain('2025-10-03');
      expect(cal.holidays).toContain('2025-12-25');
    }
    // Berlin: International Women's Day is a public holiday; Bavaria: Corpus Christi (19 Jun).
    expect(be.holidays).toContain('2025-03-08');
    expect(by.holidays).not.toContain('2025-03-08');
    expect(by.holidays).toContain('2025-06-19');
  });

  it('public holidays only: no observances, bank or optional days', () => {
    // DE-BE: Valentine's Day and Easter Sunday are observances, Christmas Eve a (half-day) bank holiday.
    expect(be.holidays).not.toContain('2025-02-14');
    expect(be.holidays).not.toContain('2025-12-24');
    const us = businessCalendarFor('US', undefined, 2025, 2025);
    expect(us.holidays).toContain('2025-07-04');
    expect(us.holidays).toContain('2025-11-27'); // Thanksgiving
    expect(us.holidays).not.toContain('2025-10-31'); // Halloween, an observance
    expect(us.holidays).not.toContain('2025-12-24'); // Christmas Eve, optional
  });

  it('local dates, sorted, without duplicates, across the years asked for', () => {
    const cal = businessCalendarFor('de', 'by', 2025, 2026);
    expect(cal.holidays).toEqual([...new Set(cal.holidays)].sort());
    for (const d of cal.holidays) expect(d).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(cal.holidays).toContain('2025-01-06');
    expect(cal.holidays).toContain('2026-04-03'); // Good Friday 2026
    expect(cal.holidays.every((d) => d >= '2025-01-01' && d <= '2026-12-31')).toBe(true);
    expect(cal.weekend).toBeUndefined(); // Saturday and Sunday
  });

  it('substitute days count (England, Christmas 2027 falls on a weekend)', () => {
    const gb = businessCalendarFor('GB', 'ENG', 2027, 2027);
    expect(gb.holidays).toEqual(expect.arrayContaining(['2027-12-27', '2027-12-28']));
  });

  it('feeds the pure business-day arithmetic', () => {
    expect(isBusinessDay('2025-01-06', by)).toBe(false);
    expect(isBusinessDay('2025-01-06', be)).toBe(true);
    expect(addBusinessDays('2025-04-17', 1, by)).toBe('2025-04-22');
    expect(addBusinessDays('2025-07-03', 1, businessCalendarFor('US', undefined, 2025, 2025))).toBe('2025-07-07');
  });

  it('an unknown country or region is a clear error', () => {
    expect(() => businessCalendarFor('XX', undefined, 2025, 2025)).toThrow('unknown country code "XX"');
    expect(() => businessCalendarFor('Germany', undefined, 2025, 2025)).toThrow('unknown country code "Germany"');
    expect(() => businessCalendarFor('DE', 'ZZ', 2025, 2025)).toThrow(/unknown region "ZZ" of DE .*known: .*BY/);
  });

  it('bad year ranges are errors', () => {
    expect(() => businessCalendarFor('DE', undefined, 2026, 2025)).toThrow(RangeError);
    expect(() => businessCalendarFor('DE', undefined, 2025.5, 2026)).toThrow(RangeError);
    expect(() => businessCalendarFor('DE', undefined, 1900, 2100)).toThrow(RangeError);
  });
});
