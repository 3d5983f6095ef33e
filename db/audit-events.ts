import type { ApprovalAction } from '../domain/authority-matrix';
import type { Segment } from '../domain/cadence';
import type { CallOutcome } from '../domain/call-outcomes';
import type { PaymentNotice } from '../domain/invoice-state';
import type { DisputeOutcome, DisputeRoute } from '../domain/disputes';
import type { Role } from '../domain/roles';
import type { Db } from './sql';

/**
 * The audit trail (audit_events): append-only, one row per event key. Every writer (the workflows
 * through their activities, the API) appends here with a deterministic key, so that a retried
 * activity or request finds its row and writes nothing twice.
 */

interface CadenceRef {
  id: string;
  version: number;
}

/**
 * What the invoice workflow records through the recordDunningEvent activity (its details are the
 * workflow's own, see workflows/invoice-dunning.ts); every one of them also moves the invoice mirror.
 */
export const WORKFLOW_EVENT_TYPES = [
  'enrolled',
  'step_done',
  'step_superseded',
  'cadence_completed',
  'cadence_migrated',
  'payment_received',
  'promise_made',
  'promise_kept',
  'promise_partially_kept',
  'promise_broken',
  'promise_courtesy_reminder',
  'installment_kept',
  'installment_missed',
  'payment_plan_completed',
  'payment_plan_broken',
  'dispute_opened',
  'dispute_settled',
  'approval_requested',
  'approval_approved',
  'approval_rejected',
  'approval_cancelled',
  'call_outcome',
  'paused',
  'resumed',
  'needs_attention',
  'attention_retry',
  'promise_withdrawn',
  'payment_claimed',
  'step_deferred',
  'payment_claim_unconfirmed',
  'ledger_changed',
  'closed',
] as const;
export type WorkflowEventType = (typeof WORKFLOW_EVENT_TYPES)[number];

type WorkflowDetails = Record<string, unknown>;

/** Details by event type. A type written by the invoice workflow and by an activity accepts either's details. */
export interface AuditDetailsByType {
  // The invoice workflow (recordDunningEvent).
  enrolled: { cadence: CadenceRef };
  step_done: WorkflowDetails;
  step_superseded: WorkflowDetails;
  cadence_completed: WorkflowDetails;
  cadence_migrated: { from: CadenceRef; to: CadenceRef };
  payment_received: WorkflowDetails;
  promise_made: WorkflowDetails;
  promise_kept: WorkflowDetails;
  promise_partially_kept: WorkflowDetails;
  promise_broken: WorkflowDetails;
  promise_courtesy_reminder: WorkflowDetails;
  installment_kept: WorkflowDetails;
  installment_missed: WorkflowDetails;
  payment_plan_completed: WorkflowDetails;
  payment_plan_broken: WorkflowDetails;
  dispute_settled: WorkflowDetails;
  call_outcome: WorkflowDetails;
  paused: WorkflowDetails;
  resumed: WorkflowDetails;
  closed: WorkflowDetails;

  // Disputes and approvals (activities/people-work.ts), some also written by the invoice workflow.
  dispute_opened:
    | { disputeId: string; reasonCode: string; disputedAmountMinor: number; currency: string; source: 'call' | 'api' | 'erp'; route: DisputeRoute }
    | WorkflowDetails;
  dispute_owner_reminded: { disputeId: string; to: string; deadlineDate: string };
  dispute_escalated: { disputeId: string; to: string; deadlineDate: string };
  dispute_resolved_valid: DisputeOutcome & { note: string };
  dispute_resolved_invalid: DisputeOutcome & { note: string };
  dispute_withdrawn: DisputeOutcome & { note: string };
  approval_requested:
    | {
        requestId: string;
        action: ApprovalAction;
        amountMinor: number;
        currency: string;
        amountReportingMinor: number;
        requiredRole: Role;
        reason: string;
        source: 'cadence' | 'api';
      }
    | WorkflowDetails;
  approval_escalated: { requestId: string; toRole: Role; level: number };
  approval_approved: { requestId: string; note: string } | WorkflowDetails;
  approval_rejected: { requestId: string; note: string } | WorkflowDetails;
  approval_cancelled: { requestId: string; note: string } | WorkflowDetails;
  approval_effect: { requestId: string } & Record<string, unknown>;

  // The API: keyed by the request's Idempotency-Key when it has one, else by what makes the change unique
  // (the version saved, the move and its number among the customer's...), never at random.
  invoice_enrolled: { cadence: CadenceRef };
  cadence_migration_requested: { from: CadenceRef; to: CadenceRef };
  /**
   * A payment the ERP applied (eventId: its webhook event, with the ERP's time and sequence; applied: false when
   * an event of the ERP newer than it was applied already: recorded, not applied), or one a person reported (claim: true).
   */
  payment_reported: PaymentNotice & { eventId?: string; occurredAt?: string; sequence?: number | null; applied?: boolean; claim?: boolean };
  deduction_not_disputed: { paymentId: string; deduction: unknown; reason: string };
  config_document_saved: { name: string; version: number };
  cadence_activated: { cadenceId: string; version: number; previousVersion: number | null };
  cadence_assigned: { segment: Segment; cadenceId: string };
  cadence_unassigned: { segment: Segment };
  customer_cadence_set: { customerId: string; cadenceId: string | null };
  task_created: { taskId: number; dueAt: string; note: string };
  task_completed: { taskId: number; outcome: CallOutcome; note: string };
  note_added: { customerId: string; note: string };
  payment_plan_created: { planId: string; customerId: string; madeBy: string; installments: { dueDate: string; amountMinor: number }[]; invoices: string[] };
  pause_requested: { reason: string; until: string | null };
  resume_requested: { note: string };
  customer_paused: { customerId: string; reason: string; until: string | null; invoices: string[] };
  customer_resumed: { customerId: string; note: string };
  customer_reassigned: { customerId: string; from: string | null; to: string; movedTasks: number[] };
  contact_created: ContactChange;
  contact_updated: ContactChange;
  contact_flagged: ContactChange;
  customer_do_not_contact_set: ContactChange;

  // The unapplied-cash queue (db/unapplied-cash.ts, api/unapplied-cash-service.ts).
  unapplied_cash_received: { cashId: number; source: 'erp_sync' | 'erp_webhook' | 'bank_statement'; paymentId: string; amountMinor: number; currency: string; customerId: string | null };
  /** The application (no invoice), and one on each invoice's trail with the ERP's open amount and status after. */
  unapplied_cash_applied: {
    cashId: number;
    erpPaymentId: string;
    allocations: { invoiceNumber: string; amountMinor: number }[];
    appliedMinor: number;
    openAmountMinorAfter?: number;
    status?: string;
  };
  unapplied_cash_resolved: { cashId: number; as: 'refund' | 'on_account'; note: string; amountMinor: number; currency: string };
  bank_statement_imported: { format: string; statementId: string | null; account: string | null; added: number; duplicates: number; ignored: number; rejected: number };
}

/** A change to a customer's contacts (api/contacts-service.ts), as its entry in the customer's history tells it. */
export type ContactChange = { customerId: string; action: string; note: string } & Record<string, unknown>;

export type AuditEventType = keyof AuditDetailsByType;

interface AuditEventCommon {
  /**
   * Deterministic: the same event always has the same key (workflow id and event sequence, the
   * dispute or request id and step, the request's idempotency key). Never random: a retry must find its row.
   */
  eventKey: string;
  tenantId: string;
  /** A user id, 'workflow', 'erp', 'seed'... */
  actor: string;
  invoiceNumber?: string | null;
  workflowId?: string | null;
}

/** One audit event: a discriminated union on `type`, with the details that type carries. */
export type AuditEvent = { [T in AuditEventType]: AuditEventCommon & { type: T; details: AuditDetailsByType[T] } }[AuditEventType];

/**
 * Appends the event once: a second append with the same key changes nothing (the first row wins).
 * Returns whether this call wrote the row.
 */
export async function appendAuditEvent(db: Db, event: AuditEvent): Promise<boolean> {
  const rows = await db`
    insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type, details)
    values (${event.eventKey}, ${event.tenantId}, ${event.actor}, ${event.invoiceNumber ?? null}, ${event.workflowId ?? null}, ${event.type},
            ${db.json(event.details as never)})
    on conflict (event_key) do nothing
    returning id`;
  return rows.length > 0;
}

/**
 * How many events of this type about no invoice (configuration, a customer) the tenant's trail holds
 * whose details contain `details` (e.g. { segment: 'smb' }): the number of the next such change in a
 * deterministic key. Count under the lock that serialises those changes, so that two never get the same number.
 */
export async function countAuditEvents(db: Db, tenantId: string, type: AuditEventType, details: Record<string, unknown>): Promise<number> {
  const [row] = await db<{ n: number }[]>`
    select count(*)::int as n from audit_events
    where tenant_id = ${tenantId} and invoice_number is null and event_type = ${type} and details @> ${db.json(details as never)}`;
  return row!.n;
}

/** The event written with this key, if any. */
export async function auditEventByKey(db: Db, eventKey: string): Promise<AuditEventRow | undefined> {
  const [row] = await db<AuditEventRow[]>`select * from audit_events where event_key = ${eventKey}`;
  return row;
}

/** The invoice's latest event of these types, if any. */
export async function latestAuditEventOfInvoice(
  db: Db,
  tenantId: string,
  invoiceNumber: string,
  types: readonly (AuditEventType | WorkflowEventType)[],
): Promise<AuditEventRow | undefined> {
  const [row] = await db<AuditEventRow[]>`
    select * from audit_events where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} and event_type = any(${types as string[]})
    order by id desc limit 1`;
  return row;
}

/** A cadence step of the invoice as its workflow recorded it: done (with its outcome) or superseded; '' for an action not recorded. */
export interface StepEvent {
  step_id: string;
  action: string;
  at: Date;
  outcome: string;
}

/** The invoice's cadence steps, done or superseded, oldest first. */
export async function stepEventsOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<StepEvent[]> {
  return db<StepEvent[]>`
    select details->>'stepId' as step_id, coalesce(details->>'action', '') as action, occurred_at as at,
           case when event_type = 'step_superseded' then 'superseded' else details->>'outcome' end as outcome
    from audit_events
    where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} and event_type in ('step_done', 'step_superseded')
    order by id`;
}

/** The audit trail of one invoice, oldest first. */
export async function auditEventsOfInvoice(db: Db, tenantId: string, invoiceNumber: string) {
  return db<AuditEventRow[]>`
    select * from audit_events where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by id`;
}

export interface AuditEventRow {
  id: number;
  event_key: string;
  tenant_id: string;
  occurred_at: Date;
  actor: string;
  invoice_number: string | null;
  workflow_id: string | null;
  event_type: string;
  details: Record<string, unknown>;
}
