import { condition, allHandlersFinished, getExternalWorkflowHandle } from '@temporalio/workflow';
import { system } from '../activity-proxies';
import { approvalWorkflowId } from '../approval-messages';
import { disputeWorkflowId } from '../dispute-messages';
import { cancelPending } from '../../domain/promises';
import type { InvoiceRun } from './run';

/** The invoice closed (paid, credited, written off, handed off): what was still open around it is settled or called off. */
export async function close(run: InvoiceRun): Promise<void> {
  const { tenantId, workflowId } = run;
  run.update({ nextStep: null });
  await run.auditNewPayments();
  // Closed while a dispute or a request was open: they are moot now.
  // (A child that finished meanwhile cannot be cancelled: its outcome no longer matters either.)
  const cancelChild = async (childId: string) => {
    try {
      await getExternalWorkflowHandle(childId).cancel();
    } catch {
      // already closed
    }
  };
  const { dispute, approval } = run.state;
  if (dispute && !run.state.disputeOutcomes?.length) await cancelChild(disputeWorkflowId(tenantId, dispute.disputeId));
  if (approval && !run.state.approvalOutcomes?.length) await cancelChild(approvalWorkflowId(tenantId, approval.requestId));
  run.update({ dispute: undefined, approval: undefined });
  const promise = run.state.promise;
  if (promise) {
    // Paid before the check: the promise was kept; closed otherwise (credited, written off): nothing left to promise.
    const kept = run.state.stage === 'paid';
    await system.recordPromiseVerdict({
      tenantId,
      invoiceNumber: run.invoice.number,
      customerId: run.customer.id,
      promise,
      settled: kept ? promise.installments.filter((i) => i.status === 'pending').map((i) => ({ ...i, status: 'kept' as const, paidMinor: i.amountMinor })) : cancelPending(promise),
      planStatus: promise.planId ? (kept ? 'completed' : undefined) : undefined,
      eventKey: `${workflowId}:promise:${promise.promiseId}:closed`,
    });
    run.update({ promise: undefined });
  }
  await run.audit('closed', { stage: run.state.stage });
  await condition(allHandlersFinished);
}
