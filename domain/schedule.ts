import { DateTime } from 'luxon';
import type { Cadence, CadenceStep } from './cadence';

/**
 * When does each cadence step fall due? Pure: time is a parameter, so the workflow, the API and
 * the tests compute exactly the same dates.
 */
export interface ScheduleContext {
  /** Invoice due date, a calendar date (YYYY-MM-DD) in the customer's time zone. */
  dueDate: string;
  /** IANA time zone of the customer, e.g. "Europe/Berlin". */
  timeZone: string;
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
}

export interface NextStepPlan {
  next: PlannedStep;
  /** Earlier steps that fell due while the invoice was not enrolled (or the worker was down): never sent late in a burst. */
  superseded: PlannedStep[];
}

function stepTime(cadence: Cadence, step: CadenceStep, ctx: ScheduleContext, previousAt: DateTime | undefined): DateTime {
  const [hour, minute] = cadence.sendAt.split(':').map(Number) as [number, number];
  const base =
    step.anchor === 'previous_step' && previousAt
      ? previousAt
      : DateTime.fromISO(ctx.dueDate, { zone: ctx.timeZone }).set({ hour, minute, second: 0, millisecond: 0 });
  if (!base.isValid) throw new RangeError(`cannot date step "${step.id}": ${base.invalidExplanation ?? 'invalid date or zone'}`);
  // Day offsets move in local calendar days (so 09:30 stays 09:30 across DST); smaller units are exact durations.
  return base.plus({ [step.offset.unit]: step.offset.amount });
}

/**
 * Dates every step not yet handled, as of `now`. A `previous_step` anchor is spacing between two
 * contacts: a step still to come cannot happen before `now`, so the step after it is dated from
 * `now` at the earliest. A `due_date` anchor is absolute and may lie in the past.
 */
export function planRemainingSteps(cadence: Cadence, ctx: ScheduleContext, handled: readonly HandledStep[], now: Date): PlannedStep[] {
  const done = new Map(handled.map((h) => [h.stepId, h.at]));
  const planned: PlannedStep[] = [];
  const nowInZone = DateTime.fromJSDate(now, { zone: ctx.timeZone });
  let previousAt: DateTime | undefined;
  cadence.steps.forEach((step, index) => {
    const doneAt = done.get(step.id);
    if (doneAt !== undefined) {
      previousAt = DateTime.fromISO(doneAt, { zone: ctx.timeZone });
      return;
    }
    const at = stepTime(cadence, step, ctx, previousAt);
    planned.push({ step, index, at: at.toUTC().toISO()! });
    previousAt = at < nowInZone ? nowInZone : at;
  });
  return planned;
}

/**
 * The next step to run as of `now`. Of the steps already due, only the latest runs; the earlier ones are
 * superseded, so that an invoice enrolled 20 days late gets one reminder, not three at once.
 */
export function planNextStep(cadence: Cadence, ctx: ScheduleContext, handled: readonly HandledStep[], now: Date): NextStepPlan | undefined {
  const remaining = planRemainingSteps(cadence, ctx, handled, now);
  if (remaining.length === 0) return undefined;
  // Cadence order is authoritative: the last due step by position runs, everything before it is passed over.
  const lastDue = remaining.findLastIndex((p) => Date.parse(p.at) <= now.getTime());
  if (lastDue <= 0) return { next: remaining[0]!, superseded: [] };
  return { next: remaining[lastDue]!, superseded: remaining.slice(0, lastDue) };
}

/** Calendar days from the due date to `now` in the customer's time zone (negative before the due date). */
export function daysPastDue(ctx: ScheduleContext, now: Date): number {
  const today = DateTime.fromJSDate(now, { zone: ctx.timeZone }).startOf('day');
  const due = DateTime.fromISO(ctx.dueDate, { zone: ctx.timeZone }).startOf('day');
  return Math.round(today.diff(due, 'days').days);
}
