import { condition, setHandler } from '@temporalio/workflow';
import { system } from '../activity-proxies';
import { cancelPending, courtesyDone, nextPromiseEvent, type PromiseInstallment, type PromiseRequest } from '../../domain/promises';
import { applyBalance, stageResult, type StageResult, type WithdrawPromiseRequest } from '../../domain/invoice-state';
import { acceptPromise as accepted, breakPromise, checkPromise as judge } from '../../domain/invoice-transitions';
import { makePromiseUpdate, withdrawPromiseUpdate } from '../messages';
import type { InvoiceRun } from './run';

/** Promises to pay and payment plans: accepted by update (or from a call, a settlement or a plan approval), followed until kept or broken. */
export function registerPromiseHandlers(run: InvoiceRun): void {
  setHandler(
    makePromiseUpdate,
    async (req) => {
      await acceptPromise(run, req);
      return stageResult(run.state, true);
    },
    { validator: (promise) => run.validate({ kind: 'promise', promise }) },
  );
  setHandler(withdrawPromiseUpdate, (req) => withdrawPromise(run, req), { validator: (_req) => run.validate({ kind: 'resume' }) });
}

/** Takes a promise back: its pending installments are cancelled and dunning goes on as if it had not been made. */
async function withdrawPromise(run: InvoiceRun, req: WithdrawPromiseRequest): Promise<StageResult> {
  const promise = run.state.promise;
  if (!promise || promise.promiseId !== req.promiseId) return stageResult(run.state, false);
  run.update({ promise: undefined });
  run.changeCourse();
  await system.recordPromiseVerdict({
    tenantId: run.tenantId,
    invoiceNumber: run.invoice.number,
    customerId: run.customer.id,
    promise,
    settled: cancelPending(promise),
    planStatus: promise.planId ? 'cancelled' : undefined,
    eventKey: `${run.workflowId}:promise:${promise.promiseId}:withdrawn`,
  });
  await run.audit('promise_withdrawn', { promiseId: promise.promiseId, planId: promise.planId ?? null, by: req.actor, reason: req.reason });
  return stageResult(run.state, true);
}

export async function acceptPromise(run: InvoiceRun, req: PromiseRequest): Promise<void> {
  run.commit(accepted(run.state, req, { ...run.planContext(), currency: run.invoice.currency, today: run.today(), rules: run.promiseRules() }));
  run.wake++;
  const promise = run.state.promise!;
  await system.recordPromise({ tenantId: run.tenantId, invoiceNumber: run.invoice.number, customerId: run.customer.id, promise });
  await run.audit('promise_made', { promiseId: req.promiseId, planId: req.planId ?? null, madeBy: req.madeBy, by: req.recordedBy, installments: promise.installments });
}

/** While a promise is followed, no cadence step runs: wait for its courtesy reminder or its check. */
export async function holdForPromise(run: InvoiceRun): Promise<void> {
  const since = run.wake;
  const promise = run.state.promise!;
  const event = nextPromiseEvent(promise, { timeZone: run.customer.timeZone, sendAt: run.cadence.sendAt });
  if (!event) {
    run.update({ promise: undefined });
    run.changeCourse();
    return;
  }
  await run.waitUntil(Date.parse(event.at));
  if (run.isClosed() || run.pendingCadence || run.wake !== since || Date.now() < Date.parse(event.at)) return;
  const courtesy = run.policy().promise.courtesyReminder;
  if (event.kind === 'courtesy') {
    if (courtesy) await sendCourtesy(run, event.installment, courtesy.template);
    else run.update({ promise: courtesyDone(promise, event.installment.no) });
    run.update({ nextStep: run.describeNext() });
  } else {
    await checkPromise(run, event.installment);
  }
}

/** Sends a promise's courtesy reminder through the customer's contact workflow (caps and send window apply). */
async function sendCourtesy(run: InvoiceRun, inst: PromiseInstallment, template: string): Promise<void> {
  const promise = run.state.promise!;
  const requestId = `${run.workflowId}:promise:${promise.promiseId}:${inst.no}:courtesy`;
  await run.queueMessage(
    { requestId, stepId: `promise-courtesy-${inst.no}`, kind: 'email', template, daysPastDue: run.pastDue(), requestedAt: new Date().toISOString() },
    { kind: 'courtesy', promiseId: promise.promiseId },
  );
  const answered = await condition(() => run.messageResults.has(requestId), '30 days');
  const current = run.state.promise;
  if (current?.promiseId === promise.promiseId) run.update({ promise: courtesyDone(current, inst.no) });
  await run.audit('promise_courtesy_reminder', { promiseId: promise.promiseId, installment: inst.no, outcome: answered ? run.messageResults.get(requestId)!.outcome : 'uncertain' });
}

/** Checks a promise's installment(s) against the ERP balance and acts on the verdict. */
async function checkPromise(run: InvoiceRun, inst: PromiseInstallment): Promise<void> {
  const balance = await system.getInvoiceBalance(run.invoice.number);
  if (run.isClosed() || !run.state.promise) return;
  const reread = applyBalance(run.state, balance);
  run.commit(reread.state);
  if (!reread.open) return; // the closing code settles the promise
  const { state, promise, result, single, verdict, broken } = judge(run.state, run.state.promise, balance.openAmountMinor, inst);
  run.commit(state);
  await system.recordPromiseVerdict({
    tenantId: run.tenantId,
    invoiceNumber: run.invoice.number,
    customerId: run.customer.id,
    promise,
    // A broken plan's installments still to come are called off.
    settled: broken && !single ? [...result.settled, ...cancelPending(promise)] : result.settled,
    planStatus: single ? undefined : result.planStatus,
    eventKey: `${run.workflowId}:promise:${promise.promiseId}:check:${inst.no}`,
  });
  const base = { promiseId: promise.promiseId, planId: promise.planId ?? null, settled: result.settled.map((i) => ({ no: i.no, status: i.status, paidMinor: i.paidMinor })), paidMinor: result.paidMinor };
  const policy = run.policy();
  if (broken) {
    run.commit(breakPromise(run.state, single, policy.brokenPromise.resumeAtStep ?? null, run.planContext()));
    run.wake++;
    const task = await run.createTask('broken_promise', `${run.workflowId}:promise:${promise.promiseId}:broken`, new Date().toISOString(), 1, policy.brokenPromise.followUpNote);
    await run.audit(single ? 'promise_broken' : 'payment_plan_broken', { ...base, followUpTask: task, resumeAt: run.state.resumeAt });
    return;
  }
  run.changeCourse();
  const missed = result.settled.filter((i) => i.status !== 'kept');
  if (!single && missed.length > 0 && run.state.promise) {
    const task = await run.createTask('follow_up', `${run.workflowId}:promise:${promise.promiseId}:missed:${inst.no}`, new Date().toISOString(), 1,
      `Installment ${missed.map((m) => m.no).join(', ')} of plan ${promise.planId ?? promise.promiseId} missed (${missed.map((m) => `${m.paidMinor} of ${m.amountMinor}`).join(', ')} paid): the plan survives ${promise.maxMissed} miss(es).`);
    await run.audit('installment_missed', { ...base, followUpTask: task });
    return;
  }
  await run.audit(single ? `promise_${verdict}` : result.planStatus === 'completed' ? 'payment_plan_completed' : 'installment_kept', base);
  const settlement = run.state.settlement;
  if (settlement?.promiseId === promise.promiseId) {
    run.update({ settlement: undefined });
    if (verdict === 'kept') {
      // The settled amount came in: the rest is written off, as approved.
      const off = await run.writeOffOpen(`settlement ${settlement.requestId}: remainder written off`, `${run.workflowId}:settlement:${settlement.requestId}`);
      await system.recordApprovalEffect({ tenantId: run.tenantId, requestId: settlement.requestId, invoiceNumber: run.invoice.number, effect: { settledAmountMinor: settlement.settledAmountMinor, ...off } });
      run.setStage('written_off');
    }
  }
}
