import type { ApprovalOutcome } from './approvals';
import type { DisputeOutcome, DisputeRoute, OpenDisputeRequest } from './disputes';
import { checkInstallments, newPromise, type ActivePromise, type CheckResult, type PromiseInstallment, type PromiseRequest, type PromiseRules } from './promises';
import {
  applyBalance,
  changeCourse,
  fullDispute,
  isClosed,
  isPaused,
  type DunningState,
  type OpenDispute,
  type PaymentClaim,
  type PaymentNotice,
  type PaymentResult,
  type PauseRequest,
  type PauseState,
  type PlanContext,
  type ResumeRequest,
  type ErpInvoiceStatus,
} from './invoice-state';

/*
 * The transitions people's work and the invoice's own events make (domain/invoice-state.ts has the state, its
 * stages and their derivation): promises and their checks, pauses, payment claims, disputes, approvals, and
 * parking for attention. Each takes a state and returns the next; the workflow commits it.
 */

/** A promise (or plan) accepted: customer-facing dunning waits for its dates. */
export function acceptPromise(
  s: DunningState,
  req: PromiseRequest,
  ctx: PlanContext & { currency: string; today: string; rules: PromiseRules },
): DunningState {
  const promise = newPromise(req, {
    openAmountMinor: s.openAmountMinor,
    currency: ctx.currency,
    today: ctx.today,
    madeAt: ctx.now.toISOString(),
    rules: ctx.rules,
    ...(s.calendar ? { calendar: s.calendar } : {}),
  });
  return changeCourse({ ...s, promise }, ctx);
}

/** A pause placed by a person, for the invoice or its whole customer: each has its own slot, so neither overwrites the other. */
export function pause(s: DunningState, req: PauseRequest, ctx: PlanContext): DunningState {
  const placed: PauseState = { reason: req.reason, until: req.until, by: req.actor, since: ctx.now.toISOString(), scope: req.scope };
  return changeCourse(req.scope === 'customer' ? { ...s, customerPause: placed } : { ...s, pause: placed }, ctx);
}

/**
 * A resume. A customer-wide resume lifts the customer's pause and leaves an invoice paused on its own alone; an
 * invoice's resume lifts its own pause, or, when only the customer's holds it, makes an exception of this invoice.
 * `ended` is undefined when nothing changed.
 */
export function resume(s: DunningState, scope: ResumeRequest['scope'], ctx: PlanContext): { state: DunningState; ended?: PauseState } {
  if (scope === 'customer') {
    if (s.customerPause) return { state: changeCourse({ ...s, customerPause: undefined }, ctx), ended: s.customerPause };
    if (s.pause?.scope === 'customer') return { state: changeCourse({ ...s, pause: undefined }, ctx), ended: s.pause }; // placed before the slots were two
    return { state: s };
  }
  if (s.pause) return { state: changeCourse({ ...s, pause: undefined }, ctx), ended: s.pause };
  if (s.customerPause) return { state: changeCourse({ ...s, customerPause: undefined }, ctx), ended: s.customerPause };
  return { state: s };
}

/** The pauses whose end has come are lifted (the invoice stays paused while another one holds). */
export function endPauses(s: DunningState, ctx: PlanContext): { state: DunningState; ended: PauseState[] } {
  const over = (p: PauseState | undefined) => p !== undefined && p.until !== null && Date.parse(p.until) <= ctx.now.getTime();
  const ended = [s.pause, s.customerPause].filter((p): p is PauseState => over(p));
  if (ended.length === 0) return { state: s, ended };
  return { state: changeCourse({ ...s, ...(over(s.pause) ? { pause: undefined } : {}), ...(over(s.customerPause) ? { customerPause: undefined } : {}) }, ctx), ended };
}

/** Parked for attention: after 1, 2, 4... hours (at most a day) the step is tried again by itself. */
export function needAttention(s: DunningState, problem: { code: string; reason: string; stepId: string | null }, ctx: PlanContext): DunningState {
  const attempts = (s.attentionStreak ?? 0) + 1;
  const retryAt = new Date(ctx.now.getTime() + Math.min(2 ** (attempts - 1), 24) * 3_600_000).toISOString();
  return changeCourse({ ...s, attentionStreak: attempts, attention: { ...problem, since: ctx.now.toISOString(), attempts, retryAt } }, ctx);
}

/** The problem is to be tried again (its retry time came, or a person resumed the invoice). */
export function retryAttention(s: DunningState, ctx: PlanContext): DunningState {
  return s.attention ? changeCourse({ ...s, attention: undefined }, ctx) : s;
}


/** A promise's check against the ERP's open amount: the verdict, and the promise as it goes on (undefined when it is over). */
export interface PromiseCheck {
  state: DunningState;
  /** The promise with its installments judged. */
  promise: ActivePromise;
  result: CheckResult;
  /** One promised payment (not a plan). */
  single: boolean;
  verdict: CheckResult['settled'][number]['status'] | CheckResult['planStatus'] | undefined;
  broken: boolean;
}

export function checkPromise(s: DunningState, active: ActivePromise, openAmountNowMinor: number, inst: Pick<PromiseInstallment, 'checkDate'>): PromiseCheck {
  const { promise, result } = checkInstallments(active, openAmountNowMinor, inst.checkDate, s.calendar);
  const single = promise.installments.length === 1 && !promise.planId;
  const verdict = single ? result.settled[0]?.status : result.planStatus;
  const broken = verdict === 'broken';
  const over = broken || (single && verdict !== undefined) || result.planStatus === 'completed';
  return { state: { ...s, promise: over ? undefined : promise }, promise, result, single, verdict, broken };
}

/** A broken promise or plan counts against the customer, and the cadence resumes at once (at `resumeAtStep` when given). */
export function breakPromise(s: DunningState, single: boolean, resumeAtStep: string | null, ctx: PlanContext): DunningState {
  return changeCourse(
    { ...s, brokenPromises: (s.brokenPromises ?? 0) + 1, resumeAt: { stepId: resumeAtStep, reason: single ? 'broken_promise' : 'broken_payment_plan' } },
    ctx,
  );
}

/**
 * A dispute opened: claimed at once (so that a second request is refused meanwhile), before it is routed.
 * A dispute of the whole open amount holds the cadence; a partial one leaves the rest in dunning.
 */
export function claimDispute(s: DunningState, req: OpenDisputeRequest, openedAt: string): DunningState {
  const amountMinor = req.amountMinor ?? s.openAmountMinor;
  const dispute: OpenDispute = {
    disputeId: req.disputeId, reasonCode: req.reasonCode, amountMinor, full: amountMinor >= s.openAmountMinor, note: req.note,
    openedAt, openedBy: req.actor, source: req.source, ownerTeam: '', owner: null, deadlineDate: '',
  };
  return { ...s, dispute };
}

/** The resolution matrix's route for the open dispute: collection waits for it. */
export function routeDispute(s: DunningState, route: Pick<DisputeRoute, 'ownerTeam' | 'owner' | 'deadlineDate'>, ctx: PlanContext): DunningState {
  return changeCourse({ ...s, dispute: { ...s.dispute!, ownerTeam: route.ownerTeam, owner: route.owner, deadlineDate: route.deadlineDate } }, ctx);
}

/** A child workflow's outcome arrives (kept in state across continue-as-new until the loop applies it); a stray one is ignored. */
export function receiveDisputeOutcome(s: DunningState, outcome: DisputeOutcome): DunningState | undefined {
  if (s.dispute?.disputeId !== outcome.disputeId) return undefined;
  return { ...s, disputeOutcomes: [...(s.disputeOutcomes ?? []).filter((o) => o.disputeId !== outcome.disputeId), outcome] };
}

export function receiveApprovalOutcome(s: DunningState, outcome: ApprovalOutcome): DunningState | undefined {
  if (s.approval?.requestId !== outcome.requestId) return undefined;
  return { ...s, approvalOutcomes: [...(s.approvalOutcomes ?? []).filter((o) => o.requestId !== outcome.requestId), outcome] };
}

/**
 * Whether the invoice still wants a customer message it queued, asked by the customer's contact workflow right
 * before it sends: a cadence step's message only while nothing holds the invoice; a promise's courtesy reminder
 * only while that promise is followed and nothing else holds it. A closed invoice wants nothing.
 */
export function wantsMessage(s: DunningState, request: { kind: 'step' } | { kind: 'courtesy'; promiseId: string }): boolean {
  if (isClosed(s) || isPaused(s) || fullDispute(s) || s.approval) return false;
  return request.kind === 'step' ? s.promise === undefined : s.promise?.promiseId === request.promiseId;
}

/**
 * A payment reported by a person (not by the ERP) is a claim: only the ERP's word closes an invoice. Dunning
 * pauses until `checkAt`, when the ERP must show the open amount lower; a payment the ERP reports meanwhile
 * applies as usual. A repeated claim, or a claim on a closed invoice, changes nothing.
 */
export function claimPayment(s: DunningState, payment: PaymentNotice, checkAt: string, ctx: PlanContext): { state: DunningState; result: PaymentResult } {
  const duplicate = s.payments.some((p) => p.paymentId === payment.paymentId) || s.pause?.claim?.paymentId === payment.paymentId;
  if (duplicate || isClosed(s)) return { state: s, result: { duplicate, stage: s.stage, openAmountMinor: s.openAmountMinor, claimed: false } };
  const claim: PaymentClaim = { paymentId: payment.paymentId, amountMinor: payment.amountMinor, currency: payment.currency, openBeforeMinor: s.openAmountMinor };
  const reason = `payment ${payment.paymentId} of ${payment.amountMinor} ${payment.currency} reported: waiting for the ERP to show it`;
  const next = changeCourse({ ...s, pause: { reason, until: checkAt, by: 'payment claim', since: ctx.now.toISOString(), scope: 'invoice', claim } }, ctx);
  return { state: next, result: { duplicate: false, stage: next.stage, openAmountMinor: next.openAmountMinor, claimed: true } };
}

/** Whether the ERP shows the claimed payment by the claim's end: the open amount went down by it (or the invoice closed). */
export const claimConfirmed = (s: DunningState, claim: PaymentClaim): boolean => isClosed(s) || s.openAmountMinor <= claim.openBeforeMinor - claim.amountMinor;

/** What the ERP sync saw of the invoice in the ledger (workflows/messages.ts LedgerChange). */
export interface LedgerChangeInput {
  dueDate: string;
  openAmountMinor: number;
  status: ErpInvoiceStatus;
  changedAt: string;
}

/**
 * The ledger's word on an open invoice: its open amount and status as the ERP has them (a closed status, or
 * nothing left open, closes it) and its due date. Undefined when it changes nothing: the invoice is closed
 * already, the change is older than the last one applied (the sync re-ran an older page), or it shows the
 * invoice as it is. `dueDate` is the invoice's due date from now on.
 */
export function applyLedgerChange(s: DunningState, dueDate: string, change: LedgerChangeInput): { state: DunningState; dueDate: string } | undefined {
  if (isClosed(s)) return undefined;
  if (s.ledgerChangedAt !== undefined && Date.parse(change.changedAt) <= Date.parse(s.ledgerChangedAt)) return undefined;
  const { state } = applyBalance(s, change);
  if (state.openAmountMinor === s.openAmountMinor && state.stage === s.stage && change.dueDate === dueDate) return undefined;
  return { state: { ...state, ledgerChangedAt: change.changedAt }, dueDate: change.dueDate };
}
