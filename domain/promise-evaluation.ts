import { addBusinessDays, weekdayOf, type BusinessCalendar } from './business-calendar';
import { isCurrencyCode } from './money';

/**
 * Promises to pay and payment plans (DESIGN.md section 5): an amount by a date, checked on the
 * date plus a tolerance in business days of the customer's calendar. Pure: amounts are integer
 * minor units, dates are local calendar strings (YYYY-MM-DD) compared as strings, never instants,
 * so no time zone can move a payment across a check date. Which payments belong to the promise
 * (made after it, for this invoice) is the caller's job; these functions only count them.
 */

export interface PromiseToPay {
  promisedAmountMinor: number;
  currency: string;
  /** YYYY-MM-DD, the customer's local date. */
  promisedDate: string;
}

export interface PaymentSeen {
  amountMinor: number;
  currency: string;
  /** YYYY-MM-DD, the customer's local date the payment was received. */
  receivedDate: string;
}

export type PromiseVerdict =
  | { status: 'kept'; paidMinor: number }
  | { status: 'partially_kept'; paidMinor: number; shortfallMinor: number }
  | { status: 'broken'; paidMinor: 0 | number; shortfallMinor: number };

export interface Installment {
  dueDate: string;
  amountMinor: number;
}

export type InstallmentResult = { dueDate: string; checkDate: string } & (PromiseVerdict | { status: 'pending' });

export interface PaymentPlanEvaluation {
  /** In due-date order (ties keep the order given). */
  installments: InstallmentResult[];
  planStatus: 'on_track' | 'completed' | 'broken';
}

function checkIsoDate(date: string, what: string): void {
  try {
    weekdayOf(date); // validates YYYY-MM-DD and that the date exists
  } catch {
    throw new RangeError(`${what} is not a calendar date (YYYY-MM-DD): "${date}"`);
  }
}

function checkAmount(amount: number, what: string, min: 0 | 1): void {
  if (!Number.isSafeInteger(amount) || amount < min) {
    throw new RangeError(`${what} must be a whole number of minor units >= ${min}, got ${amount}`);
  }
}

function checkCount(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what} must be a whole number >= 0, got ${n}`);
}

function checkCurrency(currency: string): void {
  if (!isCurrencyCode(currency)) throw new RangeError(`not an ISO 4217 currency code: "${currency}"`);
}

/** Every payment must be valid and in `currency`: no silent FX, even for payments that would not count. */
function checkPayments(payments: readonly PaymentSeen[], currency: string): void {
  for (const p of payments) {
    if (p.currency !== currency) {
      throw new RangeError(`payment of ${p.amountMinor} ${p.currency} on ${p.receivedDate} is not in ${currency}; convert it before evaluating`);
    }
    checkAmount(p.amountMinor, 'a payment amount', 0);
    checkIsoDate(p.receivedDate, 'a payment date');
  }
}

/**
 * The local date on which a promise is evaluated: `toleranceBusinessDays` business days after the
 * promised date (addBusinessDays). Tolerance 0 is the promised date itself when it is a business
 * day, else the next business day: a promise for a Saturday or a holiday is checked on the next
 * business day. Negative tolerances are rejected.
 */
export function promiseCheckDate(promise: PromiseToPay, toleranceBusinessDays: number, calendar?: BusinessCalendar): string {
  checkIsoDate(promise.promisedDate, 'the promised date');
  checkCount(toleranceBusinessDays, 'the tolerance in business days');
  return addBusinessDays(promise.promisedDate, toleranceBusinessDays, calendar);
}

/**
 * The verdict for `paidMinor` against `promisedMinor`: kept when paid >= promised; otherwise
 * broken when nothing was paid or less than `partialThresholdMinor`; otherwise partially kept.
 */
function verdict(promisedMinor: number, paidMinor: number, partialThresholdMinor: number): PromiseVerdict {
  if (paidMinor >= promisedMinor) return { status: 'kept', paidMinor };
  const shortfallMinor = promisedMinor - paidMinor;
  if (paidMinor === 0 || paidMinor < partialThresholdMinor) return { status: 'broken', paidMinor, shortfallMinor };
  return { status: 'partially_kept', paidMinor, shortfallMinor };
}

/**
 * Evaluates one promise on `checkDate` (normally promiseCheckDate(...)).
 *
 * - Payments count when received on or before `checkDate` (inclusive); later ones are ignored.
 * - Every payment must be in the promise's currency, else RangeError (no silent FX).
 * - kept: paid >= promised (`paidMinor` is the full amount paid, overpayment included).
 * - broken: nothing paid, or paid below `partialThresholdMinor` (default 0: any payment > 0 is partial).
 * - partially_kept: otherwise; `shortfallMinor` = promised - paid.
 */
export function evaluatePromise(
  promise: PromiseToPay,
  payments: readonly PaymentSeen[],
  checkDate: string,
  opts?: { partialThresholdMinor?: number },
): PromiseVerdict {
  checkCurrency(promise.currency);
  checkAmount(promise.promisedAmountMinor, 'the promised amount', 1);
  checkIsoDate(promise.promisedDate, 'the promised date');
  checkIsoDate(checkDate, 'the check date');
  const threshold = opts?.partialThresholdMinor ?? 0;
  checkAmount(threshold, 'the partial threshold', 0);
  checkPayments(payments, promise.currency);
  const paid = payments.filter((p) => p.receivedDate <= checkDate).reduce((sum, p) => sum + p.amountMinor, 0);
  if (!Number.isSafeInteger(paid)) throw new RangeError('the payments add up beyond the safe integer range');
  return verdict(promise.promisedAmountMinor, paid, threshold);
}

/**
 * Evaluates a payment plan (a series of promises, one per installment) as of the local date `asOf`.
 *
 * Rules:
 * 1. Installments are taken in due-date order (ties keep the order given); each one's check date is
 *    promiseCheckDate(dueDate, toleranceBusinessDays, calendar).
 * 2. Only payments received on or before `asOf` are seen; all must be in `currency` (else RangeError).
 * 3. Allocation is FIFO: payments, oldest received first, fill the oldest installment first. An
 *    installment can use only money received on or before its own check date that earlier
 *    installments did not use; what it does not need (an early or large payment) carries over to
 *    the next installment, and one payment may be split across several installments.
 * 4. A verdict is final on its check date: money received after an installment's check date never
 *    goes back to it (a late catch-up payment counts for the next installment, not the missed one).
 *    So a settled installment's verdict never changes as `asOf` moves on and more payments arrive,
 *    and the workflow can act on it once.
 * 5. An installment whose check date is after `asOf` is 'pending' (even when already prepaid).
 *    Otherwise it is kept / partially_kept / broken as in evaluatePromise with threshold 0; its
 *    `paidMinor` is what was allocated to it (never more than its amount: surplus carries over).
 * 6. A missed installment is one that is settled and not kept: broken or partially_kept (otherwise
 *    paying one cent per installment would keep a plan alive). The plan is 'broken' when the
 *    number of missed installments exceeds `maxMissed` (default 1; 0 = the first miss breaks it).
 *    As verdicts are final, a broken plan stays broken.
 * 7. Else 'completed' when no installment is pending (the plan ran its course within the allowed
 *    misses: with maxMissed > 0 this does not mean paid in full; the shortfalls are in the
 *    installments), else 'on_track'.
 */
export function evaluatePaymentPlan(
  installments: readonly Installment[],
  currency: string,
  payments: readonly PaymentSeen[],
  asOf: string,
  toleranceBusinessDays: number,
  calendar?: BusinessCalendar,
  maxMissed = 1,
): PaymentPlanEvaluation {
  checkCurrency(currency);
  checkIsoDate(asOf, 'the as-of date');
  checkCount(toleranceBusinessDays, 'the tolerance in business days');
  checkCount(maxMissed, 'maxMissed');
  if (installments.length === 0) throw new RangeError('a payment plan needs at least one installment');
  for (const i of installments) {
    checkIsoDate(i.dueDate, 'an installment due date');
    checkAmount(i.amountMinor, 'an installment amount', 1);
  }
  checkPayments(payments, currency);

  const ordered = installments
    .map((inst, index) => ({ inst, index }))
    .sort((a, b) => (a.inst.dueDate < b.inst.dueDate ? -1 : a.inst.dueDate > b.inst.dueDate ? 1 : a.index - b.index))
    .map(({ inst }) => inst);
  // Remaining money per payment, oldest first (ties keep the order given).
  const pool = payments
    .map((p, index) => ({ date: p.receivedDate, left: p.amountMinor, index }))
    .filter((p) => p.date <= asOf)
    .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : a.index - b.index));

  let missed = 0;
  let pending = 0;
  const results: InstallmentResult[] = ordered.map((inst) => {
    const check = addBusinessDays(inst.dueDate, toleranceBusinessDays, calendar);
    if (check > asOf) {
      pending++;
      return { dueDate: inst.dueDate, checkDate: check, status: 'pending' };
    }
    let allocated = 0;
    for (const p of pool) {
      if (allocated === inst.amountMinor || p.date > check) break;
      const take = Math.min(p.left, inst.amountMinor - allocated);
      p.left -= take;
      allocated += take;
    }
    const v = verdict(inst.amountMinor, allocated, 0);
    if (v.status !== 'kept') missed++;
    return { dueDate: inst.dueDate, checkDate: check, ...v };
  });

  const planStatus = missed > maxMissed ? 'broken' : pending === 0 ? 'completed' : 'on_track';
  return { installments: results, planStatus };
}
