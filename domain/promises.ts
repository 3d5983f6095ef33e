import { DateTime } from 'luxon';
import { addBusinessDays, type BusinessCalendar } from './business-calendar';
import { evaluatePaymentPlan, type PaymentSeen, type PromiseVerdict } from './promise-evaluation';

/**
 * The life of a promise to pay inside an invoice workflow, as pure functions of its state: a single
 * promise is a plan of one installment that no miss is allowed for. Dates are the customer's local
 * calendar dates; instants are computed from them in the customer's zone.
 *
 * What counts as paid is the drop of the ERP's open amount since the promise was made (the ERP is
 * the system of record), read when an installment is checked: the money first seen at a check is
 * dated on that installment's check date, and FIFO allocation (evaluatePaymentPlan) does the rest.
 */
export type InstallmentStatus = 'pending' | PromiseVerdict['status'];

export interface PromiseInstallment {
  no: number;
  dueDate: string;
  amountMinor: number;
  checkDate: string;
  status: InstallmentStatus;
  paidMinor?: number;
  /** The local date of the courtesy reminder, when one is planned; null once done or when none. */
  courtesyDate: string | null;
}

export interface ActivePromise {
  promiseId: string;
  planId?: string;
  madeBy: string;
  recordedBy: string;
  madeAt: string;
  currency: string;
  /** The invoice's open amount when the promise was made. */
  openAtStartMinor: number;
  toleranceBusinessDays: number;
  maxMissed: number;
  installments: PromiseInstallment[];
  /** Money seen so far, dated by the check that first saw it. */
  seen: PaymentSeen[];
}

export interface PromiseRequest {
  promiseId: string;
  planId?: string;
  madeBy: string;
  recordedBy: string;
  installments: { dueDate: string; amountMinor: number }[];
}

export interface PromiseRules {
  toleranceBusinessDays: number;
  maxDaysAhead: number;
  maxMissed: number;
  courtesyBusinessDaysBefore?: number;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const isDate = (d: string) => ISO_DATE.test(d) && DateTime.fromISO(d, { zone: 'UTC' }).isValid;
const daysBetween = (from: string, to: string) =>
  Math.round(DateTime.fromISO(to, { zone: 'UTC' }).diff(DateTime.fromISO(from, { zone: 'UTC' }), 'days').days);

/**
 * Why a promise cannot be accepted, as messages (empty = acceptable). A plan (more than one
 * installment, or a planId) may reach further than maxDaysAhead; a single promise may not.
 */
export function promiseProblems(req: PromiseRequest, ctx: { openAmountMinor: number; today: string; rules: PromiseRules }): string[] {
  const problems: string[] = [];
  if (!req.promiseId) problems.push('promiseId is required');
  if (!req.madeBy.trim()) problems.push('madeBy (who at the customer promised) is required');
  if (req.installments.length === 0) problems.push('a promise needs at least one installment');
  const isPlan = req.planId !== undefined || req.installments.length > 1;
  let total = 0;
  let previous = '';
  req.installments.forEach((inst, i) => {
    const what = req.installments.length > 1 ? `installment ${i + 1}` : 'the promise';
    if (!Number.isSafeInteger(inst.amountMinor) || inst.amountMinor <= 0) problems.push(`${what}: amountMinor must be a positive integer`);
    else total += inst.amountMinor;
    if (!isDate(inst.dueDate)) {
      problems.push(`${what}: date must be YYYY-MM-DD`);
      return;
    }
    if (inst.dueDate < ctx.today) problems.push(`${what}: date ${inst.dueDate} is in the past (today is ${ctx.today} for the customer)`);
    if (!isPlan && daysBetween(ctx.today, inst.dueDate) > ctx.rules.maxDaysAhead)
      problems.push(`${what}: date ${inst.dueDate} is more than ${ctx.rules.maxDaysAhead} days ahead; agree a payment plan instead`);
    if (previous && inst.dueDate <= previous) problems.push(`${what}: dates must increase from one installment to the next`);
    previous = inst.dueDate;
  });
  if (total > ctx.openAmountMinor) problems.push(`promised ${total} exceeds the open amount ${ctx.openAmountMinor}`);
  return problems;
}

/** The promise's state as the workflow keeps it; call promiseProblems first. */
export function newPromise(req: PromiseRequest, ctx: { openAmountMinor: number; currency: string; today: string; madeAt: string; rules: PromiseRules; calendar?: BusinessCalendar }): ActivePromise {
  const { rules } = ctx;
  return {
    promiseId: req.promiseId,
    ...(req.planId ? { planId: req.planId } : {}),
    madeBy: req.madeBy,
    recordedBy: req.recordedBy,
    madeAt: ctx.madeAt,
    currency: ctx.currency,
    openAtStartMinor: ctx.openAmountMinor,
    toleranceBusinessDays: rules.toleranceBusinessDays,
    maxMissed: req.installments.length > 1 || req.planId ? rules.maxMissed : 0,
    seen: [],
    installments: req.installments.map((inst, i) => {
      const courtesy = rules.courtesyBusinessDaysBefore ? addBusinessDays(inst.dueDate, -rules.courtesyBusinessDaysBefore, ctx.calendar) : null;
      return {
        no: i + 1,
        dueDate: inst.dueDate,
        amountMinor: inst.amountMinor,
        checkDate: addBusinessDays(inst.dueDate, rules.toleranceBusinessDays, ctx.calendar),
        status: 'pending',
        // A reminder whose day is already here or past would arrive after the customer's own decision: none.
        courtesyDate: courtesy !== null && courtesy > ctx.today ? courtesy : null,
      };
    }),
  };
}

export type PromiseEvent =
  | { kind: 'courtesy'; installment: PromiseInstallment; at: string }
  | { kind: 'check'; installment: PromiseInstallment; at: string };

/**
 * The next thing to do for the promise: a courtesy reminder (at `sendAt` local time on its day) or a
 * check (at the start of the day after the check date, so that every payment of that day is in).
 * Undefined when every installment is settled.
 */
export function nextPromiseEvent(promise: ActivePromise, ctx: { timeZone: string; sendAt: string }): PromiseEvent | undefined {
  const events: PromiseEvent[] = [];
  for (const inst of promise.installments) {
    if (inst.status !== 'pending') continue;
    if (inst.courtesyDate) events.push({ kind: 'courtesy', installment: inst, at: localInstant(inst.courtesyDate, ctx.sendAt, ctx.timeZone) });
    const dayAfter = DateTime.fromISO(inst.checkDate, { zone: 'UTC' }).plus({ days: 1 }).toISODate()!;
    events.push({ kind: 'check', installment: inst, at: localInstant(dayAfter, '00:00', ctx.timeZone) });
  }
  events.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || (a.kind === 'courtesy' ? -1 : 1));
  return events[0];
}

export interface CheckResult {
  /** Installments whose verdict this check settled, with their verdict. */
  settled: (PromiseInstallment & { status: PromiseVerdict['status'] })[];
  planStatus: 'on_track' | 'completed' | 'broken';
  /** Total money seen since the promise was made. */
  paidMinor: number;
}

/**
 * Settles every pending installment whose check date is `checkDate` or earlier, given the invoice's
 * open amount now (from the ERP). Returns the updated promise (a new object) and what was settled.
 */
export function checkInstallments(promise: ActivePromise, openAmountNowMinor: number, checkDate: string, calendar?: BusinessCalendar): { promise: ActivePromise; result: CheckResult } {
  const paidTotal = Math.max(0, promise.openAtStartMinor - openAmountNowMinor);
  const seenSoFar = promise.seen.reduce((s, p) => s + p.amountMinor, 0);
  const seen = paidTotal > seenSoFar ? [...promise.seen, { amountMinor: paidTotal - seenSoFar, currency: promise.currency, receivedDate: checkDate }] : promise.seen;
  const evaluation = evaluatePaymentPlan(
    promise.installments.map((i) => ({ dueDate: i.dueDate, amountMinor: i.amountMinor })),
    promise.currency,
    seen,
    checkDate,
    promise.toleranceBusinessDays,
    calendar,
    promise.maxMissed,
  );
  const settled: CheckResult['settled'] = [];
  const installments = promise.installments.map((inst, i) => {
    const verdict = evaluation.installments[i]!;
    if (inst.status !== 'pending' || verdict.status === 'pending') return inst;
    const next = { ...inst, status: verdict.status, paidMinor: verdict.paidMinor, courtesyDate: null };
    settled.push(next);
    return next;
  });
  return { promise: { ...promise, seen, installments }, result: { settled, planStatus: evaluation.planStatus, paidMinor: paidTotal } };
}

/** The installments still to come, called off (a broken plan, a dispute, a closed invoice). */
export function cancelPending(promise: ActivePromise): (Omit<PromiseInstallment, 'status'> & { status: 'cancelled' })[] {
  return promise.installments.filter((i) => i.status === 'pending').map((i) => ({ ...i, status: 'cancelled' as const }));
}

/** Marks a courtesy reminder done. */
export function courtesyDone(promise: ActivePromise, no: number): ActivePromise {
  return { ...promise, installments: promise.installments.map((i) => (i.no === no ? { ...i, courtesyDate: null } : i)) };
}

/** A local date at a local wall-clock time, as a UTC ISO instant (a time skipped by DST moves forward). */
export function localInstant(date: string, hhmm: string, timeZone: string): string {
  const [hour, minute] = hhmm.split(':').map(Number) as [number, number];
  const d = DateTime.fromISO(date, { zone: timeZone }).set({ hour, minute, second: 0, millisecond: 0 });
  if (!d.isValid) throw new RangeError(`cannot place ${date} ${hhmm} in ${timeZone}: ${d.invalidExplanation ?? 'invalid'}`);
  return d.toUTC().toISO()!;
}

/** The customer's local date of an instant. */
export function localDate(instantMs: number, timeZone: string): string {
  const d = DateTime.fromMillis(instantMs, { zone: timeZone });
  if (!d.isValid) throw new RangeError(`invalid zone ${timeZone}`);
  return d.toISODate()!;
}

/**
 * Splits a payment plan's installments over its invoices, oldest invoice first (FIFO, the way cash
 * application allocates): each invoice gets the parts of installments that cover its open amount,
 * one installment may be split over two invoices. The installments' total must equal the invoices' open total.
 */
export function allocatePlan(
  invoices: readonly { number: string; openAmountMinor: number }[],
  installments: readonly { dueDate: string; amountMinor: number }[],
): Map<string, { dueDate: string; amountMinor: number }[]> {
  const open = invoices.reduce((s, i) => s + i.openAmountMinor, 0);
  const total = installments.reduce((s, i) => s + i.amountMinor, 0);
  if (open !== total) throw new RangeError(`the installments add up to ${total} but the invoices' open amount is ${open}`);
  const out = new Map(invoices.map((i) => [i.number, [] as { dueDate: string; amountMinor: number }[]]));
  let inv = 0;
  let leftOnInvoice = invoices[0]?.openAmountMinor ?? 0;
  for (const inst of installments) {
    let left = inst.amountMinor;
    while (left > 0) {
      while (leftOnInvoice === 0) leftOnInvoice = invoices[++inv]!.openAmountMinor;
      const take = Math.min(left, leftOnInvoice);
      const parts = out.get(invoices[inv]!.number)!;
      const last = parts[parts.length - 1];
      if (last && last.dueDate === inst.dueDate) last.amountMinor += take;
      else parts.push({ dueDate: inst.dueDate, amountMinor: take });
      left -= take;
      leftOnInvoice -= take;
    }
  }
  return out;
}
