import Holidays from 'date-holidays';
import type { BusinessCalendar } from '../domain/business-calendar';

/**
 * Calendars built, per country, region and years, kept in this process (building one costs ~60 ms of CPU:
 * the library's rules for every day of every year). Bounded: the least recently used goes first. The
 * calendars are frozen, since every caller shares them; the holiday data can only change with a release
 * of the library, which means a new process.
 */
const CACHE_LIMIT = 256;
const calendars = new Map<string, BusinessCalendar>();
let catalogue: Holidays | undefined;

/**
 * Public holidays of a country (and optionally a state or region within it), as a BusinessCalendar
 * of local dates. Uses the date-holidays library, whose data changes with its releases: so neither
 * domain/ nor workflows/ import this module. The workflow asks for the calendar through an activity
 * once, and its history keeps the answer, so that an upgrade cannot move the dates of a running cadence.
 *
 * Only holidays of type 'public' count (substitute days for a public holiday falling on a weekend
 * included); bank holidays, observances, optional and school holidays are business days. A holiday
 * lasting several days covers each of them. The weekend is left at the default (Saturday and Sunday).
 *
 * `country` is an ISO 3166-1 alpha-2 code, `region` the library's state code (e.g. 'BY' for Bavaria
 * in 'DE'), both case-insensitive; an unknown country or region is an Error naming it.
 */

export function businessCalendarFor(country: string, region: string | undefined, fromYear: number, toYear: number): BusinessCalendar {
  const key = `${country.trim().toUpperCase()}|${region?.trim().toUpperCase() ?? ''}|${fromYear}|${toYear}`;
  const cached = calendars.get(key);
  if (cached) {
    calendars.delete(key); // most recently used last
    calendars.set(key, cached);
    return cached;
  }
  const built = buildCalendar(country, region, fromYear, toYear);
  calendars.set(key, built);
  if (calendars.size > CACHE_LIMIT) calendars.delete(calendars.keys().next().value!);
  return built;
}

function buildCalendar(country: string, region: string | undefined, fromYear: number, toYear: number): BusinessCalendar {
  if (!Number.isInteger(fromYear) || !Number.isInteger(toYear) || fromYear > toYear || fromYear < 1900 || toYear > 2200 || toYear - fromYear > 50)
    throw new RangeError(`holiday years must be whole years, from <= to, at most 50 years apart, within 1900-2200: got ${fromYear}-${toYear}`);
  const countryCode = country.trim().toUpperCase();
  catalogue ??= new Holidays();
  if (!/^[A-Z]{2}$/.test(countryCode) || !Object.hasOwn(catalogue.getCountries(), countryCode))
    throw new Error(`unknown country code "${country}" for public holidays (expected an ISO 3166-1 alpha-2 code such as DE, US, GB)`);
  const regionCode = region?.trim().toUpperCase() || undefined;
  if (regionCode !== undefined) {
    const states = catalogue.getStates(countryCode) ?? {};
    if (!Object.hasOwn(states, regionCode)) {
      const known = Object.keys(states).sort();
      throw new Error(
        `unknown region "${region}" of ${countryCode} for public holidays (${known.length ? `known: ${known.join(', ')}` : `${countryCode} has no regions`})`,
      );
    }
  }

  const holidays = regionCode ? new Holidays(countryCode, regionCode) : new Holidays(countryCode);
  const dates = new Set<string>();
  for (let year = fromYear; year <= toYear; year++) {
    for (const h of holidays.getHolidays(year)) {
      if (h.type !== 'public') continue;
      // `date` is the local start ("YYYY-MM-DD hh:mm:ss"); start and end are instants, end exclusive.
      const days = Math.max(1, Math.round((h.end.getTime() - h.start.getTime()) / 86_400_000));
      const first = new Date(`${h.date.slice(0, 10)}T00:00:00Z`);
      for (let i = 0; i < days; i++) dates.add(new Date(first.getTime() + i * 86_400_000).toISOString().slice(0, 10));
    }
  }
  return Object.freeze({ holidays: Object.freeze([...dates].sort()) });
}
