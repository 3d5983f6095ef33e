import { DateTime } from 'luxon';
import { daysPastDue as calendarDaysPastDue } from './aging';
import { addBusinessDays, isBusinessDay, weekdayOf, type BusinessCalendar } from './business-calendar';
import { CUSTOMER_FACING, type Cadence, type CadenceStep, type SendWindow } from './cadence';

/**
 * When does each cadence step fall due? Pure: time is a parameter, so the workflow, the API and
 * the tests compute exactly the same dates.
 *
 * Version-1 cadences (no business days, no send window) are dated exactly as before: the fields
 * added since are optional and do nothing when absent, so recorded workflow histories replay.
 */
export interface ScheduleContext {
  /** Invoice due date, a calendar date (YYYY-MM-DD) in the customer's time zone. */
  dueDate: string;
  /** IANA time zone of the customer, e.g. "Europe/Berlin". */
  timeZone: string;
  /** The customer's business days: for `business_days` offsets and send windows. Without it: Monday to Friday, no holidays. */
  calendar?: BusinessCalendar;
}

/** A step that has been handled: executed at `at`, or skipped (superseded) as of its scheduled time. */
export interface HandledStep {
  stepId: string;
  at: string; // ISO instant
}

export interface PlannedStep {
  step: CadenceStep;
  index: number;
  at: string; // ISO instant
  /** When the step fell due, before the send window moved it: what decides whether it is due yet. */
  dueAt: string;
}

export interface NextStepPlan {
  next: PlannedStep;
  /** Earlier steps that fell due while the invoice was not enrolled (or the worker was down): never sent late in a burst. */
  superseded: PlannedStep[];
}

function zoned(iso: string, ctx: ScheduleContext, what: string): DateTime {
  const d = DateTime.fromISO(iso, { zone: ctx.timeZone });
  if (!d.isValid) throw new RangeError(`${what}: ${d.invalidExplanation ?? 'invalid instant or zone'} ("${iso}", ${ctx.timeZone})`);
  return d;
}

const toIso = (d: DateTime): string => d.toUTC().toISO()!;

/** A local date at a local wall-clock time HH:mm; a time skipped by a DST switch moves forward by the gap. */
function atLocalTime(date: string, hhmm: string, zone: string): DateTime {
  const [hour, minute] = hhmm.split(':').map(Number) as [number, number];
  return DateTime.fromISO(date, { zone }).set({ hour, minute, second: 0, millisecond: 0 });
}

function stepTime(cadence: Cadence, step: CadenceStep, ctx: ScheduleContext, previousAt: DateTime | undefined): DateTime {
  const fromPrevious = step.anchor === 'previous_step' && previousAt !== undefined;
  if (fromPrevious && !previousAt.isValid)
    throw new RangeError(`cannot date step "${step.id}" from the previous step: ${previousAt.invalidExplanation ?? 'invalid instant or zone'}`);
  if (step.offset.unit === 'business_days') {
    // Business days count whole local dates and land at the cadence's sendAt; never before the previous step.
    const from = fromPrevious ? previousAt.toISODate()! : ctx.dueDate;
    const at = atLocalTime(addBusinessDays(from, step.offset.amount, ctx.calendar), cadence.sendAt, ctx.timeZone);
    if (!at.isValid) throw new RangeError(`cannot date step "${step.id}": ${at.invalidExplanation ?? 'invalid date or zone'}`);
    return fromPrevious && at < previousAt ? previousAt : at;
  }
  const base = fromPrevious ? previousAt : atLocalTime(ctx.dueDate, cadence.sendAt, ctx.timeZone);
  if (!base.isValid) throw new RangeError(`cannot date step "${step.id}": ${base.invalidExplanation ?? 'invalid date or zone'}`);
  // Day offsets move in local calendar days (so 09:30 stays 09:30 across DST); smaller units are exact durations.
  return base.plus({ [step.offset.unit]: step.offset.amount });
}

const isCustomerFacing = (step: CadenceStep) => CUSTOMER_FACING.includes(step.action.type);

/**
 * Dates every step not yet handled, as of `now`. A `previous_step` anchor is spacing between two
 * contacts: a step still to come cannot happen before `now`, so the step after it is dated from
 * `now` at the earliest. A `due_date` anchor is absolute and may lie in the past.
 *
 * `business_days` offsets count business days (ctx.calendar) from the due date, or from the local
 * date of the previous step, and land at the cadence's `sendAt`. Customer-facing steps (CUSTOMER_FACING)
 * are then moved into the cadence's send window, if it has one; the steps after them are dated from
 * the moved time.
 */
export function planRemainingSteps(cadence: Cadence, ctx: ScheduleContext, handled: readonly HandledStep[], now: Date): PlannedStep[] {
  const done = new Map(handled.map((h) => [h.stepId, h.at]));
  const planned: PlannedStep[] = [];
  const nowInZone = DateTime.fromJSDate(now, { zone: ctx.timeZone });
  let previousAt: DateTime | undefined;
  cadence.steps.forEach((step, index) => {
    const doneAt = done.get(step.id);
    if (doneAt !== undefined) {
      previousAt = DateTime.fromISO(doneAt, { zone: ctx.timeZone }); // validated where a step is dated from it
      return;
    }
    let at = stepTime(cadence, step, ctx, previousAt);
    const dueAt = toIso(at);
    if (cadence.sendWindow && isCustomerFacing(step)) at = zoned(moveIntoSendWindow(toIso(at), cadence.sendWindow, ctx), ctx, step.id);
    planned.push({ step, index, at: toIso(at), dueAt });
    previousAt = at < nowInZone ? nowInZone : at;
  });
  return planned;
}

/**
 * The next step to run as of `now`. Of the steps already due, only the latest runs; the earlier ones are
 * superseded, so that an invoice enrolled 20 days late gets one reminder, not three at once. A courtesy
 * step before the due date (a negative offset from it) is superseded once the due date has begun: an
 * "upcoming due date" note sent after it would be wrong.
 *
 * A step is due when its own time has passed, before the send window moves it (`byDueTime`, the default):
 * enrolled on a Monday at 07:00 with a step that fell due on Saturday, that step runs in Monday's window and
 * the one before it is superseded. Workflows started before this rule (`byDueTime: false`) judged by the
 * window-moved time, and so sent both steps in Monday's window.
 */
export function planNextStep(cadence: Cadence, ctx: ScheduleContext, handled: readonly HandledStep[], now: Date, byDueTime = true): NextStepPlan | undefined {
  const remaining = planRemainingSteps(cadence, ctx, handled, now);
  const dueDayBegun = now.getTime() >= DateTime.fromISO(ctx.dueDate, { zone: ctx.timeZone }).startOf('day').toMillis();
  const expired = (p: PlannedStep) => dueDayBegun && p.step.anchor === 'due_date' && p.step.offset.amount < 0;
  const firstLive = remaining.findIndex((p) => !expired(p));
  if (firstLive < 0) return undefined;
  // Cadence order is authoritative: the last due step by position runs, everything before it is passed over.
  const lastDue = Math.max(firstLive, remaining.findLastIndex((p) => !expired(p) && Date.parse(byDueTime ? p.dueAt : p.at) <= now.getTime()));
  return { next: remaining[lastDue]!, superseded: remaining.slice(0, lastDue) };
}

/** Calendar days from the due date to `now` in the customer's time zone (negative before the due date). */
export function daysPastDue(ctx: ScheduleContext, now: Date): number {
  const today = DateTime.fromJSDate(now, { zone: ctx.timeZone });
  if (!today.isValid) throw new RangeError(`cannot date "now" in zone "${ctx.timeZone}": ${today.invalidExplanation ?? 'invalid zone'}`);
  return calendarDaysPastDue(ctx.dueDate, today.toISODate()!);
}

/** Far enough for any real window and holiday list; a window that never opens is a configuration error. */
const MAX_WINDOW_SEARCH_DAYS = 3_660;

/**
 * The earliest instant at or after `at` inside the send window, in the customer's time zone
 * (UTC ISO form). A window day is one of `window.days` that is also a business day of
 * `ctx.calendar` when a calendar is given (a holiday is never a window day); the window runs from
 * `start` inclusive to `end` exclusive, in local wall-clock time on that day, so 09:00 stays 09:00
 * across DST (a start time skipped by a spring-forward switch opens at the first valid time after
 * it). No window: `at` itself.
 */
export function moveIntoSendWindow(at: string, window: SendWindow | undefined, ctx: ScheduleContext): string {
  const t = zoned(at, ctx, 'send time');
  if (!window) return toIso(t);
  let day = t.toISODate()!;
  for (let i = 0; i <= MAX_WINDOW_SEARCH_DAYS; i++) {
    const isWindowDay = window.days.includes(weekdayOf(day)) && (!ctx.calendar || isBusinessDay(day, ctx.calendar));
    if (isWindowDay) {
      const open = atLocalTime(day, window.start, ctx.timeZone);
      const close = atLocalTime(day, window.end, ctx.timeZone);
      if (t < open) return toIso(open);
      if (t < close) return toIso(t);
    }
    day = DateTime.fromISO(day, { zone: 'UTC' }).plus({ days: 1 }).toISODate()!;
  }
  throw new RangeError(`send window ${window.days.join(',')} ${window.start}-${window.end} never opens within ${MAX_WINDOW_SEARCH_DAYS} days of ${at}`);
}

/**
 * The earliest instant at or after `at` that keeps the contact cap and lies in the send window:
 * fewer than `cap.maxEmails` of `earlierContacts` in the trailing `cap.perDays` x 24 hours, i.e. in
 * (t - perDays x 24h, t]. When the cap is full, t moves to the moment enough of the oldest contacts
 * have left that interval, then into the window, until both hold. No cap: only the window applies.
 * A contact later than `at` counts only once t has moved past it: each message is checked against
 * the ones before it when it is itself placed.
 */
export function applyContactCap(
  at: string,
  earlierContacts: readonly string[],
  cap: Cadence['contactCap'],
  window: SendWindow | undefined,
  ctx: ScheduleContext,
): string {
  let t = moveIntoSendWindow(at, window, ctx);
  if (!cap) return t;
  const span = cap.perDays * 86_400_000;
  const contacts = earlierContacts.map((c) => zoned(c, ctx, 'earlier contact').toMillis()).sort((a, b) => a - b);
  for (let i = 0; i <= contacts.length; i++) {
    const tMs = Date.parse(t);
    const inSpan = contacts.filter((c) => c > tMs - span && c <= tMs);
    if (inSpan.length < cap.maxEmails) return t;
    // At (oldest to drop) + span, that contact is exactly perDays x 24h old and no longer counts.
    const freeAt = inSpan[inSpan.length - cap.maxEmails]! + span;
    t = moveIntoSendWindow(new Date(freeAt).toISOString(), window, ctx);
  }
  throw new RangeError('contact cap: no free slot found'); // unreachable: every round drops at least one contact for good
}

/**
 * The plan after a broken promise: the cadence resumes at once at `stepId` (or at the next step
 * not yet handled when no id is given, or when that step is already behind us); the steps before it
 * are superseded. Undefined when no step is left.
 */
export function planEscalatedStep(cadence: Cadence, ctx: ScheduleContext, handled: readonly HandledStep[], now: Date, stepId: string | null): NextStepPlan | undefined {
  const remaining = planRemainingSteps(cadence, ctx, handled, now);
  if (remaining.length === 0) return undefined;
  const index = Math.max(0, stepId === null ? 0 : remaining.findIndex((p) => p.step.id === stepId));
  return { next: { ...remaining[index]!, at: now.toISOString() }, superseded: remaining.slice(0, index) };
}

/**
 * When a follow-up falls due `offset` after `now`: day-type offsets land on a local date at the
 * cadence's `sendAt` (business days skip weekends and the customer's holidays); hours, minutes and
 * seconds are exact durations.
 */
export function dueAfter(offset: Cadence['steps'][number]['offset'], now: Date, ctx: Omit<ScheduleContext, 'dueDate'>, sendAt: string): string {
  const today = DateTime.fromJSDate(now, { zone: ctx.timeZone });
  if (!today.isValid) throw new RangeError(`invalid zone ${ctx.timeZone}`);
  if (offset.unit === 'business_days' || offset.unit === 'days') {
    const date = offset.unit === 'days' ? today.plus({ days: offset.amount }).toISODate()! : addBusinessDays(today.toISODate()!, offset.amount, ctx.calendar);
    return toIso(atLocalTime(date, sendAt, ctx.timeZone));
  }
  return toIso(today.plus({ [offset.unit]: offset.amount }));
}
