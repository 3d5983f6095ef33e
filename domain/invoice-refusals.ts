import type { ApprovalRequestInput } from './approvals';
import type { CallOutcomeInput } from './call-outcomes';
import type { OpenDisputeRequest } from './disputes';
import { isClosed, type DunningState, type InvoiceRef, type PauseRequest, type PaymentNotice } from './invoice-state';
import { promiseProblems, type PromiseRequest, type PromiseRules } from './promises';
import { refusal, type Refusal } from './refusals';

/**
 * Why the invoice refuses a request in its current state (undefined = accepted). The workflow's update
 * validators ask this before anything is applied, so a refused request changes nothing; the code says
 * what sort of refusal it is (domain/refusals.ts), the message says why, for people.
 */
export type InvoiceRequest =
  | { kind: 'payment'; payment: PaymentNotice }
  | { kind: 'promise'; promise: PromiseRequest }
  | { kind: 'dispute'; dispute: OpenDisputeRequest }
  | { kind: 'approval'; approval: ApprovalRequestInput }
  | { kind: 'call_outcome'; call: CallOutcomeInput }
  | { kind: 'pause'; pause: PauseRequest }
  | { kind: 'resume' };

export interface RequestContext {
  invoice: Pick<InvoiceRef, 'number' | 'currency'>;
  /** The instant of the request (epoch ms) and the customer's local date. */
  nowMs: number;
  today: string;
  promiseRules: PromiseRules;
}

export function invoiceRefusal(s: DunningState, req: InvoiceRequest, ctx: RequestContext): Refusal | undefined {
  switch (req.kind) {
    case 'payment':
      return paymentRefusal(req.payment, ctx) ?? (req.payment.source === 'api' ? claimRefusal(s, req.payment) : undefined);
    case 'promise':
      return promiseRefusal(s, req.promise, ctx);
    case 'dispute':
      return disputeRefusal(s, req.dispute, ctx);
    case 'approval':
      return approvalRefusal(s, req.approval, ctx);
    case 'call_outcome':
      return callOutcomeRefusal(s, req.call, ctx);
    case 'pause':
      return closedRefusal(s, ctx) ?? pauseRefusal(req.pause, ctx);
    case 'resume':
      return closedRefusal(s, ctx);
  }
}

const closedRefusal = (s: DunningState, ctx: RequestContext) =>
  isClosed(s) ? refusal('invoice_closed', `invoice ${ctx.invoice.number} is ${s.stage}`) : undefined;

function paymentRefusal(p: PaymentNotice, ctx: RequestContext): Refusal | undefined {
  if (!Number.isSafeInteger(p.amountMinor) || p.amountMinor <= 0) return refusal('invalid_amount', 'amountMinor must be a positive integer');
  if (p.currency !== ctx.invoice.currency) return refusal('currency_mismatch', `payment currency ${p.currency} differs from invoice currency ${ctx.invoice.currency}`);
  if (!p.paymentId) return refusal('invalid_request', 'paymentId is required');
  return undefined;
}

/** A payment reported by a person is bounded by what is open: only the ERP may say more came in. */
function claimRefusal(s: DunningState, p: PaymentNotice): Refusal | undefined {
  if (!isClosed(s) && p.amountMinor > s.openAmountMinor)
    return refusal('invalid_amount', `a reported payment is at most the open amount ${s.openAmountMinor}; the ERP reports larger ones itself`);
  return undefined;
}

/** Every reason the promise (or plan, settlement) cannot be followed, in one message. */
function promiseFit(s: DunningState, req: PromiseRequest, ctx: RequestContext): Refusal | undefined {
  const problems = promiseProblems(req, { openAmountMinor: s.openAmountMinor, today: ctx.today, rules: ctx.promiseRules });
  return problems.length ? refusal('promise_does_not_fit', problems.join('; ')) : undefined;
}

function promiseRefusal(s: DunningState, req: PromiseRequest, ctx: RequestContext): Refusal | undefined {
  if (isClosed(s)) return closedRefusal(s, ctx);
  if (s.dispute) return refusal('invoice_disputed', 'the invoice is disputed: resolve the dispute before taking a promise');
  if (s.promise) {
    const check = s.promise.installments.find((i) => i.status === 'pending')?.checkDate ?? 'past';
    return refusal('promise_active', `promise ${s.promise.promiseId} is still being followed: its check date is ${check}`);
  }
  return promiseFit(s, req, ctx);
}

function disputeRefusal(s: DunningState, req: OpenDisputeRequest, ctx: RequestContext): Refusal | undefined {
  if (isClosed(s)) return closedRefusal(s, ctx);
  if (s.dispute) return refusal('already_disputed', `the invoice is already disputed (${s.dispute.disputeId})`);
  if (s.approval) return refusal('approval_pending', `approval request ${s.approval.requestId} is pending: decide it before opening a dispute`);
  const amount = req.amountMinor ?? s.openAmountMinor;
  if (!Number.isSafeInteger(amount) || amount <= 0 || amount > s.openAmountMinor)
    return refusal('invalid_amount', `the disputed amount must be between 1 and the open amount ${s.openAmountMinor}`);
  if (!req.note.trim() && req.source !== 'erp') return refusal('note_required', 'a dispute needs a note: what the customer contests and why');
  return undefined;
}

function approvalRefusal(s: DunningState, req: ApprovalRequestInput, ctx: RequestContext): Refusal | undefined {
  if (isClosed(s)) return closedRefusal(s, ctx);
  if (s.approval) return refusal('approval_pending', `approval request ${s.approval.requestId} is still pending`);
  if (!req.reason.trim()) return refusal('note_required', 'an approval request needs a reason');
  if (req.action === 'settlement') {
    const settlement = req.details.settlement;
    if (!settlement || !Number.isSafeInteger(settlement.amountMinor) || settlement.amountMinor <= 0 || settlement.amountMinor >= s.openAmountMinor)
      return refusal('invalid_amount', `a settlement accepts less than the open amount ${s.openAmountMinor}: settlement.amountMinor between 1 and ${s.openAmountMinor - 1}`);
    return promiseFit(s, { promiseId: 'settlement', madeBy: 'customer', recordedBy: req.actor, installments: [{ dueDate: settlement.payBy, amountMinor: settlement.amountMinor }] }, ctx);
  }
  if (req.action === 'extended_payment_plan') {
    const installments = req.details.installments ?? [];
    if (installments.length < 2) return refusal('invalid_plan', 'an extended payment plan needs at least two installments');
    return promiseFit(s, { promiseId: 'plan', planId: 'plan', madeBy: 'customer', recordedBy: req.actor, installments }, ctx);
  }
  return undefined;
}

function callOutcomeRefusal(s: DunningState, call: CallOutcomeInput, ctx: RequestContext): Refusal | undefined {
  if (!Number.isSafeInteger(call.taskId) || call.taskId <= 0) return refusal('invalid_request', 'taskId must be a positive integer');
  if (s.handledTasks?.includes(call.taskId)) return refusal('task_already_completed', `task ${call.taskId} was already completed`);
  if (isClosed(s)) return closedRefusal(s, ctx);
  const o = call.outcome;
  if (o.code === 'promise_to_pay')
    return promiseRefusal(s, { promiseId: o.promiseId, madeBy: o.madeBy, recordedBy: call.actor, installments: [{ dueDate: o.promisedDate, amountMinor: o.amountMinor }] }, ctx);
  if (o.code === 'callback_requested' && !(Date.parse(o.callbackAt) > ctx.nowMs)) return refusal('not_in_future', `callbackAt ${o.callbackAt} is not in the future`);
  if (o.code === 'dispute') return disputeRefusal(s, { disputeId: `D-${call.taskId}`, reasonCode: o.reasonCode, note: call.note, source: 'call', actor: call.actor }, ctx);
  return undefined;
}

function pauseRefusal(req: PauseRequest, ctx: RequestContext): Refusal | undefined {
  if (!req.reason.trim()) return refusal('note_required', 'a pause needs a reason');
  if (req.until !== null && !(Date.parse(req.until) > ctx.nowMs)) return refusal('not_in_future', `until ${req.until} is not in the future`);
  return undefined;
}
