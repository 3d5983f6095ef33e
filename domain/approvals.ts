import type { ApprovalAction } from './authority-matrix';
import { aRole, roleRank, type Role } from './roles';
import { refusal, type Refusal } from './refusals';
import type { DunningStage } from './stages';

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

/**
 * Why a decision is refused (undefined = accepted). The API checks the same with the caller's token;
 * the approval workflow checks it again so that it is safe on its own.
 */
export function decisionRefusal(
  d: ApprovalDecision,
  ctx: { requestId: string; requestedBy: string; requiredRole: Role; amountReportingMinor: number; status: string },
): Refusal | undefined {
  if (ctx.status !== 'pending') return refusal('already_decided', `request ${ctx.requestId} is already ${ctx.status}`);
  if (d.actor.userId === ctx.requestedBy) return refusal('self_approval', 'the requester cannot decide their own request');
  if (roleRank(d.actor.role) < roleRank(ctx.requiredRole)) return refusal('role_too_low', `this request needs ${aRole(ctx.requiredRole)} or above; ${d.actor.userId} is ${d.actor.role}`);
  if (d.actor.approvalLimitMinor !== null && d.actor.approvalLimitMinor < ctx.amountReportingMinor)
    return refusal('over_limit', `${ctx.amountReportingMinor} is above the approval limit ${d.actor.approvalLimitMinor} of ${d.actor.userId}`);
  if (!d.note.trim()) return refusal('note_required', 'a decision needs a note');
  return undefined;
}

