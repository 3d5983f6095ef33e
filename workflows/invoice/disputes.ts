import { setHandler, startChild } from '@temporalio/workflow';
import { system } from '../activity-proxies';
import { disputeWorkflow } from '../dispute';
import { disputeSettledSignal, disputeWorkflowId } from '../dispute-messages';
import { openDisputeUpdate } from '../messages';
import { cancelPending } from '../../domain/promises';
import { claimDispute, receiveDisputeOutcome, routeDispute } from '../../domain/invoice-transitions';
import type { OpenDisputeRequest, OpenDisputeResult } from '../../domain/disputes';
import type { InvoiceRun } from './run';

/** Disputes: opened by update (or from a call), owned by a child workflow that signals its outcome. */
export function registerDisputeHandlers(run: InvoiceRun): void {
  setHandler(disputeSettledSignal, (outcome) => {
    const next = receiveDisputeOutcome(run.state, outcome);
    if (!next) return; // a repeated or stray signal
    run.commit(next);
    run.wake++;
  });
  setHandler(openDisputeUpdate, (req) => openDispute(run, req), { validator: (dispute) => run.validate({ kind: 'dispute', dispute }) });
}

/** Routes the dispute by the resolution matrix, records it, tells the owner, and hands it to its child workflow. */
export async function openDispute(run: InvoiceRun, req: OpenDisputeRequest): Promise<OpenDisputeResult> {
  const { tenantId, invoice, customer, workflowId } = run;
  // Claimed before the first await, so that a second request is refused by the validator meanwhile.
  run.commit(claimDispute(run.state, req, new Date().toISOString()));
  const { amountMinor, full } = run.state.dispute!;
  const promise = run.state.promise;
  if (promise) {
    // A disputed invoice is not collected on a promise: the promise is called off.
    await system.recordPromiseVerdict({
      tenantId, invoiceNumber: invoice.number, customerId: customer.id, promise,
      settled: cancelPending(promise),
      eventKey: `${workflowId}:promise:${promise.promiseId}:disputed`,
    });
    run.update({ promise: undefined });
  }
  const calendar = run.state.calendar ? { calendar: run.state.calendar } : {};
  const route = await system.routeDispute({
    tenantId, customerId: customer.id, reasonCode: req.reasonCode, amountMinor, currency: invoice.currency, timeZone: customer.timeZone, ...calendar,
  });
  run.commit(routeDispute(run.state, route, run.planContext()));
  run.wake++;
  const childId = disputeWorkflowId(tenantId, req.disputeId);
  await system.recordDispute({
    tenantId, disputeId: req.disputeId, invoiceNumber: invoice.number, customerId: customer.id, workflowId: childId,
    disputedAmountMinor: amountMinor, currency: invoice.currency, reasonCode: req.reasonCode, note: req.note, source: req.source, openedBy: req.actor, route,
  });
  await startChild(disputeWorkflow, {
    workflowId: childId,
    parentClosePolicy: 'ABANDON', // it reports by signal, so it outlives a continue-as-new of this workflow
    args: [{
      tenantId, disputeId: req.disputeId, invoiceWorkflowId: workflowId, invoice, customer, disputedAmountMinor: amountMinor, reasonCode: req.reasonCode,
      note: req.note, source: req.source, openedBy: req.actor, route, ...calendar,
    }],
  });
  await run.audit('dispute_opened', { disputeId: req.disputeId, reasonCode: req.reasonCode, amountMinor, full, by: req.actor, source: req.source, ownerTeam: route.ownerTeam, owner: route.owner, deadlineDate: route.deadlineDate });
  return { disputeId: req.disputeId, disputeWorkflowId: childId, amountMinor, route, stage: run.state.stage };
}

/** A dispute's outcome: a valid one credited the invoice (the ERP says what is left); an invalid one resumes collection. */
export async function applyDisputeOutcome(run: InvoiceRun): Promise<void> {
  const [outcome, ...rest] = run.state.disputeOutcomes!;
  const dispute = run.state.dispute;
  run.update({ disputeOutcomes: rest, dispute: undefined });
  if (outcome!.status === 'resolved_valid') await run.rereadBalance(); // the credit reduced or closed it
  run.changeCourse();
  const o = outcome!;
  await run.audit('dispute_settled', { disputeId: o.disputeId, status: o.status, creditAmountMinor: o.creditAmountMinor, creditMemoId: o.creditMemoId, rebillInvoiceNumber: o.rebillInvoiceNumber, rootCause: o.rootCause, by: o.resolvedBy, reasonCode: dispute?.reasonCode ?? null });
}
