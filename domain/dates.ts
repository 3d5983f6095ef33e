import { z } from 'zod';

/**
 * The one bounded calendar date and the one bounded instant the API takes, at every edge (enrollment,
 * payments, tasks and call outcomes, promises and plans, pauses, disputes and approvals, previews, reports,
 * tokens): receivables live in the years 2000 to 2100. A year 101 or 9999 is a typing slip, not a date to
 * plan a cadence, a timer or an audit row around; refusing it at the edge keeps it out of every table and
 * workflow. The bound is part of each field's OpenAPI description and pattern.
 */
export const MIN_YEAR = 2000;
export const MAX_YEAR = 2100;
export const MIN_DATE = `${MIN_YEAR}-01-01`;
export const MAX_DATE = `${MAX_YEAR}-12-31`;
const MIN_INSTANT_MS = Date.UTC(MIN_YEAR, 0, 1);
const MAX_INSTANT_MS = Date.UTC(MAX_YEAR + 1, 0, 1); // exclusive

const YEAR = `(?:20\\d\\d|${MAX_YEAR})`;
const MONTH_DAY = '(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\\d|3[01])';
const OFFSET = '(?:Z|[+-](?:[01]\\d|2[0-3]):[0-5]\\d)';
const DATE_PATTERN = `^${YEAR}-${MONTH_DAY}$`;
const INSTANT_PATTERN = `^${YEAR}-${MONTH_DAY}T(?:[01]\\d|2[0-3]):[0-5]\\d:[0-5]\\d(?:\\.\\d+)?${OFFSET}$`;

export const DATE_RANGE = `from ${MIN_DATE} to ${MAX_DATE}`;
export const INSTANT_RANGE = `in the years ${MIN_YEAR} to ${MAX_YEAR} (UTC)`;

/** A `YYYY-MM-DD` that is a real calendar date is in range when its year is. */
export const isDateInRange = (date: string): boolean => date >= MIN_DATE && date <= MAX_DATE;
/** An instant (anything Date.parse reads) is in range when it falls in the years MIN_YEAR to MAX_YEAR, UTC. */
export function isInstantInRange(instant: string | Date): boolean {
  const ms = instant instanceof Date ? instant.getTime() : Date.parse(instant);
  return Number.isFinite(ms) && ms >= MIN_INSTANT_MS && ms < MAX_INSTANT_MS;
}

/**
 * A calendar date `YYYY-MM-DD` from 2000-01-01 to 2100-12-31. An impossible date (2026-02-30) is one
 * issue and stops there: refinements of an object holding it (due after issue...) should check
 * `isDateInRange` or the field's success before comparing.
 */
export const dateSchema = z.iso
  .date({ error: 'must be a calendar date YYYY-MM-DD', abort: true })
  .refine(isDateInRange, { message: `must be a date ${DATE_RANGE}`, abort: true })
  .meta({ pattern: DATE_PATTERN, description: `a calendar date YYYY-MM-DD, ${DATE_RANGE}` });

/** An ISO 8601 instant with seconds and an offset (Z or ±hh:mm), in the years 2000 to 2100 (UTC). */
export const instantSchema = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date and time with an offset, e.g. 2026-03-02T09:30:00+01:00', abort: true })
  .refine(isInstantInRange, { message: `must be an instant ${INSTANT_RANGE}`, abort: true })
  .meta({ pattern: INSTANT_PATTERN, description: `an ISO 8601 date and time with an offset, ${INSTANT_RANGE}` });

/**
 * An instant for arithmetic on rows already stored: one outside the range (written before dates were
 * bounded) is taken as the nearest bound, so that a priority or a local day can still be computed and a
 * single bad row never fails a whole list. What is shown stays the stored value.
 */
export function clampToRange(instant: Date): Date {
  const ms = instant.getTime();
  if (Number.isNaN(ms)) return new Date(MIN_INSTANT_MS);
  return new Date(Math.min(Math.max(ms, MIN_INSTANT_MS), MAX_INSTANT_MS - 1));
}
