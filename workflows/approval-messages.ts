import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { ApprovalAction } from '../domain/authority-matrix';
import type { Role } from '../domain/roles';

/**
 * Messages of the approval workflow: a child of the invoice workflow that waits for someone with
 * enough authority to decide one request, escalating to the next level when nobody does in time.
 */
export interface ApprovalDetails {
  /** settlement: the amount the customer pays instead of the open amount, and by when. */
  settlement?: { amountMinor: number; payBy: string };
  /** extended_payment_plan: its installments. */
  installments?: { dueDate: string; amountMinor: number }[];
  /** The cadence step that asked, when one did. */
  stepId?: string;
}

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

export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  note: string;
  /** Who decides, with the authority the API established for them. */
  actor: { userId: string; role: Role; approvalLimitMinor: number | null };
}

export interface ApprovalOutcome {
  requestId: string;
  action: ApprovalAction;
  status: 'approved' | 'rejected' | 'cancelled';
  decidedBy: string;
  note: string;
  details: ApprovalDetails;
}

export interface ApprovalState {
  status: 'pending' | ApprovalOutcome['status'];
  requiredRole: Role;
  level: number;
}

export const decideApprovalUpdate = defineUpdate<ApprovalState, [ApprovalDecision]>('decideApproval');
export const approvalStateQuery = defineQuery<ApprovalState>('approvalState');
/** To the invoice workflow: its request was decided. */
export const approvalDecidedSignal = defineSignal<[ApprovalOutcome]>('approvalDecided');

export const approvalWorkflowId = (tenantId: string, requestId: string) => `approval:${tenantId}:${requestId}`;
