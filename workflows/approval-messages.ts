import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalAction } from '../domain/authority-matrix';
import type { ApprovalDecision, ApprovalDetails, ApprovalOutcome, ApprovalState } from '../domain/approvals';
import type { Role } from '../domain/roles';

export type { ApprovalDecision, ApprovalDetails, ApprovalOutcome, ApprovalState } from '../domain/approvals';

/**
 * Messages of the approval workflow: a child of the invoice workflow that waits for someone with
 * enough authority to decide one request, escalating to the next level when nobody does in time.
 */
export interface ApprovalInput {
  tenantId: string;
  requestId: string;
  invoiceWorkflowId: string;
  invoiceNumber: string;
  customerId: string;
  action: ApprovalAction;
  amountMinor: number;
  currency: string;
  amountReportingMinor: number;
  reason: string;
  requestedBy: string;
  requiredRole: Role;
  escalateAfterMs: number;
  details: ApprovalDetails;
}

export const decideApprovalUpdate = defineUpdate<ApprovalState, [ApprovalDecision]>('decideApproval');
export const approvalStateQuery = defineQuery<ApprovalState>('approvalState');
/** To the invoice workflow: its request was decided. */
export const approvalDecidedSignal = defineSignal<[ApprovalOutcome]>('approvalDecided');

export const approvalWorkflowId = (tenantId: string, requestId: string) => `approval:${tenantId}:${requestId}`;
