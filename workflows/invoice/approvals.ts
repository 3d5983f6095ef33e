import { setHandler, startChild } from '@temporalio/workflow';
import { system } from '../activity-proxies';
import { approvalWorkflow } from '../approval';
import { approvalDecidedSignal, approvalWorkflowId } from '../approval-messages';
import { requestApprovalUpdate } from '../messages';
import { receiveApprovalOutcome } from '../../domain/invoice-transitions';
import type { ApprovalOutcome, ApprovalRequestInput, ApprovalRequestResult } from '../../domain/approvals';
import { acceptPromise } from './promises';
import type { InvoiceRun } from './run';

/** Approval requests: from a cadence step or the API; a child workflow waits for someone with enough authority and signals the decision. */
export function registerApprovalHandlers(run: InvoiceRun): void {
  setHandler(approvalDecidedSignal, (outcome) => {
    const next = receiveApprovalOutcome(run.state, outcome);
    if (!next) return;
    run.commit(next);
    run.wake++;
  });
  setHandler(requestApprovalUpdate, (req) => requestApproval(run, req, 'api'), { validator: (approval) => run.validate({ kind: 'approval', approval }) });
}

/** Registers the request with the authority matrix's minimum role and hands it to its child workflow. */
export async function requestApproval(run: InvoiceRun, req: ApprovalRequestInput, source: 'cadence' | 'api'): Promise<ApprovalRequestResult> {
  const { tenantId, invoice, customer, workflowId } = run;
  const open = run.state.openAmountMinor;
  const amountMinor = req.amountMinor ?? (req.action === 'settlement' ? open - req.details.settlement!.amountMinor : open);
  run.update({ approval: { requestId: req.requestId, action: req.action, requiredRole: 'team_lead', requestedBy: req.actor, ...(req.details.stepId ? { stepId: req.details.stepId } : {}) } });
  const childId = approvalWorkflowId(tenantId, req.requestId);
  const reg = await system.registerApprovalRequest({
    tenantId, requestId: req.requestId, invoiceNumber: invoice.number, customerId: customer.id, workflowId: childId,
    action: req.action, amountMinor, currency: invoice.currency, reason: req.reason, source, requestedBy: req.actor, details: req.details as Record<string, unknown>,
  });
  run.update({ approval: { ...run.state.approval!, requiredRole: reg.requiredRole } });
  run.changeCourse();
  await startChild(approvalWorkflow, {
    workflowId: childId,
    parentClosePolicy: 'ABANDON',
    args: [{
      tenantId, requestId: req.requestId, invoiceWorkflowId: workflowId, invoiceNumber: invoice.number, customerId: customer.id, action: req.action,
      amountMinor, currency: invoice.currency, amountReportingMinor: reg.amountReportingMinor, reason: req.reason, requestedBy: req.actor,
      requiredRole: reg.requiredRole, escalateAfterMs: reg.escalateAfterMs, details: req.details,
    }],
  });
  await run.audit('approval_requested', { requestId: req.requestId, action: req.action, amountMinor, requiredRole: reg.requiredRole, by: req.actor, reason: req.reason, source });
  return { requestId: req.requestId, approvalWorkflowId: childId, requiredRole: reg.requiredRole, amountMinor, amountReportingMinor: reg.amountReportingMinor, stage: run.state.stage };
}

/** An approval's decision: the approved effect through the ERP or the workflow; a rejection lets the cadence go on. */
export async function applyApprovalOutcome(run: InvoiceRun): Promise<void> {
  const [outcome, ...rest] = run.state.approvalOutcomes!;
  const o = outcome!;
  run.update({ approvalOutcomes: rest, approval: undefined });
  const effect = o.status === 'approved' ? await applyApproved(run, o) : {};
  if (o.status === 'approved') await system.recordApprovalEffect({ tenantId: run.tenantId, requestId: o.requestId, invoiceNumber: run.invoice.number, effect });
  run.changeCourse();
  await run.audit(`approval_${o.status}`, { requestId: o.requestId, action: o.action, by: o.decidedBy, note: o.note, effect });
}

/** What an approved request does. */
async function applyApproved(run: InvoiceRun, o: ApprovalOutcome): Promise<Record<string, unknown>> {
  const key = `${run.workflowId}:approval:${o.requestId}`;
  switch (o.action) {
    case 'write_off': {
      const effect = await run.writeOffOpen(`approved by ${o.decidedBy}: ${o.note}`, `${key}:write-off`);
      run.setStage('written_off');
      return effect;
    }
    case 'settlement': {
      const s = o.details.settlement!;
      const promiseId = `SETTLE-${o.requestId}`;
      run.update({ settlement: { requestId: o.requestId, promiseId, settledAmountMinor: s.amountMinor } });
      await acceptPromise(run, { promiseId, madeBy: 'settlement', recordedBy: o.decidedBy, installments: [{ dueDate: s.payBy, amountMinor: s.amountMinor }] });
      return { promiseId, settledAmountMinor: s.amountMinor, payBy: s.payBy };
    }
    case 'credit_hold': {
      const hold = await system.placeCreditHold({ idempotencyKey: `${key}:hold`, tenantId: run.tenantId, customerId: run.customer.id, reason: o.note || 'approved credit hold' });
      return { onHold: hold.onHold, heldSince: hold.heldSince };
    }
    case 'release_credit_hold': {
      const release = await system.releaseCreditHold({ idempotencyKey: `${key}:release`, tenantId: run.tenantId, customerId: run.customer.id, reason: o.note || 'approved release' });
      return { onHold: release.onHold };
    }
    case 'legal_handoff':
    case 'agency_handoff': {
      const handedTo = o.action === 'legal_handoff' ? 'legal' : 'agency';
      const pkg = await system.buildHandoffPackage({ tenantId: run.tenantId, invoiceNumber: run.invoice.number, handedTo, requestId: o.requestId, approvedBy: o.decidedBy });
      run.setStage('handed_off');
      return { handedTo, package: pkg };
    }
    case 'extended_payment_plan': {
      const planId = `PLAN-${o.requestId}`;
      await acceptPromise(run, { promiseId: planId, planId, madeBy: 'payment plan', recordedBy: o.decidedBy, installments: o.details.installments! });
      return { planId };
    }
  }
}
