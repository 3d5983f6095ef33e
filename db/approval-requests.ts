import type { ApprovalAction } from '../domain/authority-matrix';
import type { Role } from '../domain/roles';
import type { Db } from './sql';

/** Requests for a decision under the authority matrix (approval_requests): who must decide, and what was decided and done. */

export type ApprovalStatus = 'pending' | 'approved' | 'rejected' | 'cancelled';

export interface ApprovalRequestRow {
  tenant_id: string;
  request_id: string;
  invoice_number: string;
  customer_id: string;
  workflow_id: string;
  action: ApprovalAction;
  amount_minor: number;
  currency: string;
  amount_reporting_minor: number;
  reason: string;
  source: 'cadence' | 'api';
  requested_by: string;
  requested_at: Date;
  required_role: Role;
  level: number;
  status: ApprovalStatus;
  decided_by: string | null;
  decided_at: Date | null;
  decision_note: string | null;
  escalated_at: Date | null;
  effect: Record<string, unknown> | null;
  details: Record<string, unknown>;
}

export interface NewApprovalRequest {
  tenantId: string;
  requestId: string;
  invoiceNumber: string;
  customerId: string;
  workflowId: string;
  action: ApprovalAction;
  amountMinor: number;
  currency: string;
  amountReportingMinor: number;
  reason: string;
  source: 'cadence' | 'api';
  requestedBy: string;
  requiredRole: Role;
  details: Record<string, unknown>;
}

/** Registers the request once (a repeat changes nothing). */
export async function insertApprovalRequestOnce(db: Db, r: NewApprovalRequest): Promise<void> {
  await db`
    insert into approval_requests (tenant_id, request_id, invoice_number, customer_id, workflow_id, action, amount_minor, currency, amount_reporting_minor,
                                   reason, source, requested_by, required_role, details)
    values (${r.tenantId}, ${r.requestId}, ${r.invoiceNumber}, ${r.customerId}, ${r.workflowId}, ${r.action}, ${r.amountMinor}, ${r.currency},
            ${r.amountReportingMinor}, ${r.reason}, ${r.source}, ${r.requestedBy}, ${r.requiredRole}, ${db.json(r.details as never)})
    on conflict (tenant_id, request_id) do nothing`;
}

/** A pending request moves up to `toRole` at `level`; a repeat (or a lower level) changes nothing. */
export async function escalateApprovalRequest(db: Db, tenantId: string, requestId: string, toRole: Role, level: number): Promise<void> {
  await db`update approval_requests set required_role = ${toRole}, level = ${level}, escalated_at = now()
           where tenant_id = ${tenantId} and request_id = ${requestId} and status = 'pending' and level < ${level}`;
}

/** Decides a pending request; a decided one keeps its first decision. */
export async function decideApprovalRequest(
  db: Db,
  tenantId: string,
  requestId: string,
  decision: { status: Exclude<ApprovalStatus, 'pending'>; decidedBy: string; note: string },
): Promise<void> {
  await db`update approval_requests set status = ${decision.status}, decided_by = ${decision.decidedBy}, decided_at = now(), decision_note = ${decision.note}
           where tenant_id = ${tenantId} and request_id = ${requestId} and status = 'pending'`;
}

/** What the decision did (a journal, a hold, a package). */
export async function setApprovalEffect(db: Db, tenantId: string, requestId: string, effect: Record<string, unknown>): Promise<void> {
  await db`update approval_requests set effect = ${db.json(effect as never)} where tenant_id = ${tenantId} and request_id = ${requestId}`;
}

export async function approvalRequestsOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<ApprovalRequestRow[]> {
  return db<ApprovalRequestRow[]>`
    select * from approval_requests where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by requested_at, request_id`;
}

export async function findApprovalRequest(db: Db, tenantId: string, requestId: string): Promise<ApprovalRequestRow | undefined> {
  const [row] = await db<ApprovalRequestRow[]>`select * from approval_requests where tenant_id = ${tenantId} and request_id = ${requestId}`;
  return row;
}

/** The tenant's requests, oldest first: pending, decided (any other status) or all; only those of `requestedBy` when given. */
export async function approvalRequests(
  db: Db,
  tenantId: string,
  f: { status: 'pending' | 'decided' | 'all'; requestedBy?: string },
): Promise<ApprovalRequestRow[]> {
  return db<ApprovalRequestRow[]>`
    select * from approval_requests where tenant_id = ${tenantId}
      ${f.status === 'pending' ? db`and status = 'pending'` : f.status === 'decided' ? db`and status <> 'pending'` : db``}
      ${f.requestedBy !== undefined ? db`and requested_by = ${f.requestedBy}` : db``}
    order by requested_at, request_id`;
}
