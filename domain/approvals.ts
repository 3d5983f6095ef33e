import type { ApprovalAction } from './authority-matrix';
import type { Role } from './roles';
import type { DunningStage } from './invoice-state';

/** Approval requests, decisions and outcomes: shared by the approval and invoice workflows, activities and the API. */

export type { ApprovalAction } from './authority-matrix';

export interface ApprovalDetails {
  /** settlement: the amount the customer pays instead of the open amount, and by when. */
  settlement?: { amountMinor: number; payBy: string };
  /** extended_payment_plan: its installments. */
  installments?: { dueDate: string; amountMinor: number }[];
  /** The cadence step that asked, when one did. */
  stepId?: string;
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

export interface ApprovalRequestInput {
  requestId: string;
  action: ApprovalAction;
  reason: string;
  actor: string;
  /** Default: the open amount (for a settlement, the amount given up). */
  amountMinor?: number;
  details: ApprovalDetails;
}

export interface ApprovalRequestResult {
  requestId: string;
  approvalWorkflowId: string;
  requiredRole: Role;
  amountMinor: number;
  amountReportingMinor: number;
  stage: DunningStage;
}
