import { allHandlersFinished, CancellationScope, condition, getExternalWorkflowHandle, isCancellation, setHandler } from '@temporalio/workflow';
import { system } from './activity-proxies';
import { nextRole } from '../domain/authority-matrix';
import { decisionRefusal } from '../domain/approvals';
import { refuseIf } from './refuse';
import { approvalDecidedSignal, approvalStateQuery, decideApprovalUpdate, type ApprovalInput, type ApprovalOutcome, type ApprovalState } from './approval-messages';

/**
 * One approval request (a child of the invoice workflow): registered and its approvers notified by
 * the parent; here it waits for a decision by someone with enough authority, and when nobody decides
 * within the authority matrix's time, it moves up one level (team lead, AR manager, admin) and tells
 * the next approvers. The invoice workflow hears the decision by signal and applies its effect.
 */
export async function approvalWorkflow(input: ApprovalInput): Promise<ApprovalOutcome> {
  const { tenantId, requestId } = input;
  const state: ApprovalState = { status: 'pending', requiredRole: input.requiredRole, level: 0 };
  let outcome: ApprovalOutcome | undefined;
  let deciding = false;

  setHandler(approvalStateQuery, () => state);
  setHandler(
    decideApprovalUpdate,
    async (d) => {
      deciding = true;
      const status = d.decision === 'approve' ? 'approved' : 'rejected';
      await system.recordApprovalDecision({ tenantId, requestId, invoiceNumber: input.invoiceNumber, status, decidedBy: d.actor.userId, note: d.note });
      const decided: ApprovalOutcome = { requestId, action: input.action, status, decidedBy: d.actor.userId, note: d.note, details: input.details };
      await getExternalWorkflowHandle(input.invoiceWorkflowId).signal(approvalDecidedSignal, decided);
      state.status = status;
      outcome = decided;
      return state;
    },
    {
      // The API checks the same with the caller's token (403); this keeps the workflow safe on its own.
      validator: (d) => {
        refuseIf(decisionRefusal(d, { requestId, requestedBy: input.requestedBy, requiredRole: state.requiredRole, amountReportingMinor: input.amountReportingMinor, status: deciding ? 'being decided' : state.status }));
      },
    },
  );

  const decided = () => deciding || outcome !== undefined;
  try {
    // Undecided for escalateAfter: the next level. At the top (admin) the request waits for a decision.
    while (!(await condition(decided, input.escalateAfterMs))) {
      const next = nextRole(state.requiredRole);
      if (!next) break;
      state.requiredRole = next;
      state.level += 1;
      // Not cancelled midway: a cancellation (the invoice closed) waits for the notice, never races its completion.
      const level = state.level;
      await CancellationScope.nonCancellable(() =>
        system.escalateApprovalRequest({ tenantId, requestId, invoiceNumber: input.invoiceNumber, customerId: input.customerId, toRole: next, level }),
      );
    }
    await condition(() => outcome !== undefined && allHandlersFinished());
    return outcome!;
  } catch (err) {
    if (!isCancellation(err) || deciding) throw err;
    // The invoice closed before anyone decided: the request is moot.
    return CancellationScope.nonCancellable(async () => {
      state.status = 'cancelled';
      await system.recordApprovalDecision({ tenantId, requestId, invoiceNumber: input.invoiceNumber, status: 'cancelled', decidedBy: 'workflow', note: 'the invoice closed before a decision' });
      return { requestId, action: input.action, status: 'cancelled', decidedBy: 'workflow', note: 'the invoice closed before a decision', details: input.details };
    });
  }
}
