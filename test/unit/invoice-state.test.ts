import { describe, expect, it } from 'vitest';
import { cadenceSchema } from '../../domain/cadence';
import { applyBalance, applyPayment, changeCourse, describeNext, isClosed, openStage, type DunningState, type PaymentNotice, type PlanContext } from '../../domain/invoice-state';
import { acceptPromise, applyLedgerChange, breakPromise, checkPromise, claimDispute, endPauses, pause, receiveDisputeOutcome, resume, routeDispute } from '../../domain/invoice-transitions';
import { invoiceRefusal, type RequestContext } from '../../domain/invoice-refusals';
import { REFUSALS } from '../../domain/refusals';
import standard from '../../config/cadences/standard.json';

/** The invoice's state machine, without Temporal: every transition is a function from a state to the next. */
const cadence = cadenceSchema.parse(standard);
const now = new Date('2026-03-02T10:00:00Z'); // a Monday; the invoice fell due on Friday 2026-02-27
const ctx: PlanContext = { cadence, schedule: { dueDate: '2026-02-27', timeZone: 'Europe/Berlin' }, now };
const rules = { toleranceBusinessDays: 2, maxDaysAhead: 30, maxMissed: 0 };
const reqCtx: RequestContext = { invoice: { number: 'INV-1', currency: 'EUR' }, nowMs: now.getTime(), today: '2026-03-02', promiseRules: rules };

const fresh = (over: Partial<DunningState> = {}): DunningState => ({
  stage: 'active',
  openAmountMinor: 100_000,
  currency: 'EUR',
  cadence: { id: cadence.id, version: cadence.version },
  nextStep: null,
  steps: [],
  payments: [],
  eventSeq: 0,
  ...over,
});
const payment = (paymentId: string, amountMinor: number, openAfter?: number): PaymentNotice => ({
  paymentId,
  amountMinor,
  currency: 'EUR',
  receivedAt: now.toISOString(),
  source: 'erp_webhook',
  ...(openAfter !== undefined ? { openAmountMinorAfter: openAfter } : {}),
});
const promiseReq = (dueDate: string, amountMinor = 100_000) => ({ promiseId: 'P1', madeBy: 'AP clerk', recordedBy: 'anna', installments: [{ dueDate, amountMinor }] });

describe('payments', () => {
  it('a partial payment lowers the open amount; the rest closes the invoice as paid; a repeated payment id changes nothing', () => {
    const s0 = fresh();
    const first = applyPayment(s0, payment('PAY-1', 30_000));
    expect(first.result).toEqual({ duplicate: false, stage: 'active', openAmountMinor: 70_000 });
    expect(s0.openAmountMinor).toBe(100_000); // transitions never change the state they are given
    const again = applyPayment(first.state, payment('PAY-1', 30_000));
    expect(again.result.duplicate).toBe(true);
    expect(again.state).toBe(first.state);
    const rest = applyPayment(first.state, payment('PAY-2', 70_000));
    expect(rest.result).toEqual({ duplicate: false, stage: 'paid', openAmountMinor: 0 });
    expect(isClosed(rest.state)).toBe(true);
  });

  it("takes the ERP's open amount after the payment when the notice has one, and never goes below zero", () => {
    expect(applyPayment(fresh(), payment('PAY-1', 10_000, 85_000)).state.openAmountMinor).toBe(85_000);
    expect(applyPayment(fresh(), payment('PAY-1', 150_000)).state).toMatchObject({ openAmountMinor: 0, stage: 'paid' });
  });

  it('a payment for a closed invoice is recorded but the invoice stays as it closed', () => {
    const closed = fresh({ stage: 'written_off', openAmountMinor: 0 });
    const { state, result } = applyPayment(closed, payment('PAY-9', 5_000));
    expect(state.payments).toHaveLength(1);
    expect(result).toEqual({ duplicate: false, stage: 'written_off', openAmountMinor: 0 });
  });
});

describe('the ERP balance', () => {
  it('follows the open amount, closes by the ERP status, and leaves a closed invoice alone', () => {
    expect(applyBalance(fresh(), { status: 'open', openAmountMinor: 40_000 })).toEqual({ state: fresh({ openAmountMinor: 40_000 }), open: true });
    expect(applyBalance(fresh(), { status: 'credited', openAmountMinor: 0 }).state.stage).toBe('cancelled');
    expect(applyBalance(fresh(), { status: 'written_off', openAmountMinor: 0 }).state.stage).toBe('written_off');
    expect(applyBalance(fresh(), { status: 'open', openAmountMinor: 0 }).state.stage).toBe('paid');
    const paid = fresh({ stage: 'paid', openAmountMinor: 0 });
    expect(applyBalance(paid, { status: 'open', openAmountMinor: 100_000 })).toEqual({ state: paid, open: false });
  });
});

describe('ledger changes (the ERP sync)', () => {
  const at = (iso: string) => ({ dueDate: '2026-02-27', openAmountMinor: 100_000, status: 'open' as const, changedAt: iso });
  it('changes nothing when the ledger shows the invoice as it is, or the invoice is closed', () => {
    expect(applyLedgerChange(fresh(), '2026-02-27', at('2026-03-01T00:00:00Z'))).toBeUndefined();
    expect(applyLedgerChange(fresh({ stage: 'paid', openAmountMinor: 0 }), '2026-02-27', { ...at('2026-03-01T00:00:00Z'), status: 'cancelled' })).toBeUndefined();
  });
  it('takes a new due date and open amount, and ignores a change older than the last one applied', () => {
    const moved = applyLedgerChange(fresh(), '2026-02-27', { ...at('2026-03-01T10:00:00+01:00'), dueDate: '2026-03-31', openAmountMinor: 60_000 })!;
    expect(moved.dueDate).toBe('2026-03-31');
    expect(moved.state).toMatchObject({ openAmountMinor: 60_000, stage: 'active', ledgerChangedAt: '2026-03-01T10:00:00+01:00' });
    // 09:30Z is after 10:00+01:00 (09:00Z): applied; 08:59Z is before it: ignored, whatever it says.
    expect(applyLedgerChange(moved.state, '2026-03-31', { ...at('2026-03-01T08:59:00Z'), openAmountMinor: 1 })).toBeUndefined();
    expect(applyLedgerChange(moved.state, '2026-03-31', { ...at('2026-03-01T09:30:00Z'), dueDate: '2026-03-31', openAmountMinor: 1 })!.state.openAmountMinor).toBe(1);
  });
  it('closes on the ERP\'s closed statuses, or nothing left open', () => {
    const close = (status: 'paid' | 'credited' | 'written_off' | 'cancelled', open = 0) => applyLedgerChange(fresh(), '2026-02-27', { ...at('2026-03-01T00:00:00Z'), status, openAmountMinor: open })!.state.stage;
    expect([close('paid'), close('credited'), close('written_off'), close('cancelled', 100_000)]).toEqual(['paid', 'cancelled', 'written_off', 'cancelled']);
    expect(applyLedgerChange(fresh(), '2026-02-27', { ...at('2026-03-01T00:00:00Z'), openAmountMinor: 0 })!.state.stage).toBe('paid');
  });
});

describe('stages: derived from what holds the invoice', () => {
  it('a pause wins over a full dispute, which wins over a pending approval, which wins over a promise', () => {
    const promised = acceptPromise(fresh(), promiseReq('2026-03-06'), { ...ctx, currency: 'EUR', today: '2026-03-02', rules });
    expect(promised.stage).toBe('promised');
    expect(promised.nextStep).toMatchObject({ stepId: 'promise-1', action: 'promise_check' });
    const approval = { requestId: 'R1', action: 'write_off' as const, requiredRole: 'team_lead' as const, requestedBy: 'anna' };
    expect(openStage({ ...promised, approval })).toBe('awaiting_approval');
    const disputed = routeDispute(claimDispute({ ...promised, approval }, { disputeId: 'D1', reasonCode: 'pricing', note: 'wrong price', source: 'api', actor: 'anna' }, now.toISOString()), { ownerTeam: 'pricing', owner: 'pia', deadlineDate: '2026-03-09' }, ctx);
    expect(disputed.stage).toBe('disputed');
    expect(disputed.nextStep).toBeNull();
    const paused = pause(disputed, { reason: 'customer on holiday', until: '2026-03-20T08:00:00.000Z', actor: 'anna', scope: 'invoice' }, ctx);
    expect(paused.stage).toBe('paused');
    expect(paused.nextStep).toEqual({ stepId: 'pause-ends', action: 'resume', at: '2026-03-20T08:00:00.000Z' });
  });

  it('a partial dispute leaves the invoice active with its next cadence step', () => {
    const s = routeDispute(claimDispute(fresh(), { disputeId: 'D1', reasonCode: 'pricing', amountMinor: 20_000, note: 'one line', source: 'api', actor: 'anna' }, now.toISOString()), { ownerTeam: 'pricing', owner: null, deadlineDate: '2026-03-09' }, ctx);
    expect(s.dispute).toMatchObject({ amountMinor: 20_000, full: false });
    expect(s.stage).toBe('active');
    expect(s.nextStep).toMatchObject({ stepId: 'reminder-1', action: 'email' });
  });

  it('a customer-wide resume leaves an invoice paused on its own alone; an invoice resume lifts it', () => {
    const paused = pause(fresh(), { reason: 'asked by sales', until: null, actor: 'anna', scope: 'invoice' }, ctx);
    expect(paused.nextStep).toBeNull();
    expect(resume(paused, 'customer', ctx).ended).toBeUndefined();
    const resumed = resume(paused, 'invoice', ctx);
    expect(resumed.ended).toMatchObject({ reason: 'asked by sales' });
    expect(resumed.state.stage).toBe('active');
  });

  it("a customer-wide pause neither overwrites nor lifts an invoice's own pause (each has its slot)", () => {
    const own = pause(fresh(), { reason: 'asked by sales', until: null, actor: 'anna', scope: 'invoice' }, ctx);
    const both = pause(own, { reason: 'whole account on hold', until: '2026-03-10T08:00:00.000Z', actor: 'lena', scope: 'customer' }, ctx);
    expect(both.pause?.reason).toBe('asked by sales');
    expect(both.nextStep).toBeNull(); // the invoice's own pause is indefinite
    const customerResumed = resume(both, 'customer', ctx);
    expect(customerResumed.ended?.reason).toBe('whole account on hold');
    expect(customerResumed.state).toMatchObject({ stage: 'paused', pause: { reason: 'asked by sales' } });
    // The customer's pause alone ends by itself at its date; the invoice's own resume lifts its own pause first.
    const customerOnly = pause(fresh(), { reason: 'whole account on hold', until: '2026-03-10T08:00:00.000Z', actor: 'lena', scope: 'customer' }, ctx);
    expect(customerOnly.nextStep).toEqual({ stepId: 'pause-ends', action: 'resume', at: '2026-03-10T08:00:00.000Z' });
    expect(endPauses(customerOnly, { ...ctx, now: new Date('2026-03-10T08:00:00.000Z') }).state.stage).toBe('active');
    expect(resume(both, 'invoice', ctx).state).toMatchObject({ stage: 'paused', customerPause: { reason: 'whole account on hold' } });
  });

  it('a closed invoice keeps its terminal stage and has no next step, whatever holds it', () => {
    const s = changeCourse(fresh({ stage: 'paid', pause: { reason: 'x', until: null, by: 'a', since: now.toISOString(), scope: 'invoice' } }), ctx);
    expect(s.stage).toBe('paid');
    expect(describeNext(s, ctx)).toBeNull();
  });

  it('a dispute outcome is taken only for the open dispute', () => {
    const s = claimDispute(fresh(), { disputeId: 'D1', reasonCode: 'pricing', note: 'n', source: 'api', actor: 'a' }, now.toISOString());
    const outcome = { disputeId: 'D2', status: 'resolved_invalid' as const, creditAmountMinor: 0, creditMemoId: null, rebillInvoiceNumber: null, openAmountMinorAfter: null, resolvedBy: 'pia', rootCause: null };
    expect(receiveDisputeOutcome(s, outcome)).toBeUndefined();
    expect(receiveDisputeOutcome(s, { ...outcome, disputeId: 'D1' })?.disputeOutcomes).toHaveLength(1);
  });
});

describe('promise checks', () => {
  const promised = () => acceptPromise(fresh(), promiseReq('2026-03-06', 60_000), { ...ctx, currency: 'EUR', today: '2026-03-02', rules });

  it('kept when the open amount dropped by the promised amount: the promise is over', () => {
    const s = promised();
    const check = checkPromise(s, s.promise!, 40_000, s.promise!.installments[0]!);
    expect(check).toMatchObject({ single: true, verdict: 'kept', broken: false });
    expect(check.state.promise).toBeUndefined();
  });

  it('broken when nothing came: counted against the customer, the cadence resumes at the escalated step', () => {
    const s = promised();
    const check = checkPromise(s, s.promise!, 100_000, s.promise!.installments[0]!);
    expect(check).toMatchObject({ verdict: 'broken', broken: true });
    const after = breakPromise(check.state, check.single, 'reminder-3', ctx);
    expect(after).toMatchObject({ brokenPromises: 1, resumeAt: { stepId: 'reminder-3', reason: 'broken_promise' }, stage: 'active' });
  });
});

describe('refusals: typed, and nothing is applied', () => {
  const codes = (s: DunningState, req: Parameters<typeof invoiceRefusal>[1]) => invoiceRefusal(s, req, reqCtx)?.code;

  it('refuses requests on a closed invoice with invoice_closed', () => {
    const paid = fresh({ stage: 'paid', openAmountMinor: 0 });
    expect(codes(paid, { kind: 'promise', promise: promiseReq('2026-03-06') })).toBe('invoice_closed');
    expect(codes(paid, { kind: 'dispute', dispute: { disputeId: 'D1', reasonCode: 'pricing', note: 'n', source: 'api', actor: 'a' } })).toBe('invoice_closed');
    expect(codes(paid, { kind: 'pause', pause: { reason: 'r', until: null, actor: 'a', scope: 'invoice' } })).toBe('invoice_closed');
    expect(codes(paid, { kind: 'resume' })).toBe('invoice_closed');
  });

  it('conflicts with what is under way', () => {
    const disputed = claimDispute(fresh(), { disputeId: 'D1', reasonCode: 'pricing', note: 'n', source: 'api', actor: 'a' }, now.toISOString());
    expect(codes(disputed, { kind: 'dispute', dispute: { disputeId: 'D2', reasonCode: 'pricing', note: 'n', source: 'api', actor: 'a' } })).toBe('already_disputed');
    expect(codes(disputed, { kind: 'promise', promise: promiseReq('2026-03-06') })).toBe('invoice_disputed');
    const pending = fresh({ approval: { requestId: 'R1', action: 'write_off', requiredRole: 'team_lead', requestedBy: 'a' } });
    expect(codes(pending, { kind: 'approval', approval: { requestId: 'R2', action: 'write_off', reason: 'r', actor: 'a', details: {} } })).toBe('approval_pending');
    expect(codes(fresh({ handledTasks: [7] }), { kind: 'call_outcome', call: { taskId: 7, attempt: 1, outcome: { code: 'will_pay' }, note: '', actor: 'a' } })).toBe('task_already_completed');
  });

  it('refuses what breaks a business rule, with every problem named', () => {
    expect(codes(fresh(), { kind: 'payment', payment: { ...payment('P', 100), currency: 'USD' } })).toBe('currency_mismatch');
    expect(codes(fresh(), { kind: 'payment', payment: payment('P', 0) })).toBe('invalid_amount');
    expect(invoiceRefusal(fresh(), { kind: 'promise', promise: promiseReq('2026-02-01', 200_000) }, reqCtx)).toEqual({
      code: 'promise_does_not_fit',
      message: 'the promise: date 2026-02-01 is in the past (today is 2026-03-02 for the customer); promised 200000 exceeds the open amount 100000',
    });
    expect(codes(fresh(), { kind: 'pause', pause: { reason: 'r', until: '2026-03-01T00:00:00Z', actor: 'a', scope: 'invoice' } })).toBe('not_in_future');
    expect(codes(fresh(), { kind: 'approval', approval: { requestId: 'R', action: 'extended_payment_plan', reason: 'r', actor: 'a', details: { installments: [{ dueDate: '2026-04-01', amountMinor: 1 }] } } })).toBe('invalid_plan');
  });

  it('accepts what the state allows, and every code it raises is in the one list', () => {
    expect(invoiceRefusal(fresh(), { kind: 'promise', promise: promiseReq('2026-03-06') }, reqCtx)).toBeUndefined();
    expect(invoiceRefusal(fresh(), { kind: 'resume' }, reqCtx)).toBeUndefined();
    for (const code of ['invoice_closed', 'already_disputed', 'invoice_disputed', 'approval_pending', 'task_already_completed', 'currency_mismatch', 'promise_does_not_fit', 'not_in_future', 'invalid_plan'])
      expect(Object.hasOwn(REFUSALS, code)).toBe(true);
  });
});
