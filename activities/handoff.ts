import { ApplicationFailure } from '@temporalio/activity';
import { approvalRequestsOfInvoice } from '../db/approval-requests';
import { auditEventsOfInvoice } from '../db/audit-events';
import { callTasksOfInvoice } from '../db/call-tasks';
import { activitiesOfCustomer } from '../db/customer-activities';
import { contactsOfCustomer, findCustomer } from '../db/customers';
import { disputesOfInvoice } from '../db/disputes';
import { findHandoffPackage, insertHandoffPackageOnce, type HandoffTarget, type StoredHandoffPackage } from '../db/handoff-packages';
import { notificationsOfInvoice } from '../db/internal-notifications';
import { invoiceWithAge } from '../db/invoices';
import { messagesOfInvoice } from '../db/outbound-messages';
import { paymentsOfInvoice } from '../db/payments';
import { plansOfInvoice, promisesOfInvoice } from '../db/promises';
import type { Sql, TransactionSql } from '../db/sql';
import type { FxTable } from '../domain/fx';

export type { HandoffTarget };

export interface HandoffPackageRequest {
  tenantId: string;
  invoiceNumber: string;
  handedTo: HandoffTarget;
  /** The approval request that allowed the hand-off. */
  requestId: string;
  approvedBy: string;
}

export interface HandoffPackageSummary {
  invoiceNumber: string;
  handedTo: HandoffTarget;
  /** Bytes of the stored document as JSON (UTF-8). */
  sizeBytes: number;
  /** ISO instant at which the package was stored (the first attempt's, on a retry). */
  createdAt: string;
}

/** Bumped whenever a field changes meaning or goes away; added fields keep the version. */
export const HANDOFF_PACKAGE_SCHEMA_VERSION = 1;

/** Money in a package: integer minor units and the ISO 4217 currency they are in. */
export interface Money {
  minor: number;
  currency: string;
}

const money = (minor: number | null | undefined, currency: string): Money | null =>
  minor === null || minor === undefined ? null : { minor, currency };
const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);

/**
 * The hand-off package: everything we know about one invoice, as one JSON document for legal or
 * the collection agency. Stored once per (tenant, invoice, recipient) in handoff_packages; a retry
 * (or a second hand-off request to the same recipient) gets the stored document back, unchanged.
 * The reads run in one repeatable-read snapshot, so the sections agree with each other.
 */
export function createHandoffActivities(deps: { sql: Sql; fx: Pick<FxTable, 'reportingCurrency'> }) {
  // Approval amounts are also in the reporting currency: the worker's exchange table names it.
  const reporting = () => deps.fx.reportingCurrency;

  const summary = (req: HandoffPackageRequest, row: StoredHandoffPackage): HandoffPackageSummary => ({
    invoiceNumber: req.invoiceNumber,
    handedTo: req.handedTo,
    sizeBytes: Buffer.byteLength(JSON.stringify(row.package), 'utf8'),
    createdAt: row.created_at.toISOString(),
  });

  return {
    async buildHandoffPackage(req: HandoffPackageRequest): Promise<HandoffPackageSummary> {
      const existing = await findHandoffPackage(deps.sql, req);
      if (existing) return summary(req, existing);

      const document = await deps.sql.begin('isolation level repeatable read read only', (tx) => readPackage(tx, req, reporting()));
      const inserted = await insertHandoffPackageOnce(deps.sql, req, document);
      // Lost a race with a concurrent attempt: its document is the package.
      return summary(req, inserted ?? (await findHandoffPackage(deps.sql, req))!);
    },
  };
}

async function readPackage(tx: TransactionSql, req: HandoffPackageRequest, reportingCurrency: string) {
  const { tenantId, invoiceNumber } = req;
  const inv = await invoiceWithAge(tx, tenantId, invoiceNumber);
  if (!inv) throw ApplicationFailure.nonRetryable(`invoice ${invoiceNumber} is not enrolled for tenant ${tenantId}`, 'InvoiceNotFound');
  const cur = inv.currency;
  const customerId = inv.customer_id;

  const c = await findCustomer(tx, tenantId, customerId);
  const contacts = await contactsOfCustomer(tx, tenantId, customerId);
  const payments = await paymentsOfInvoice(tx, tenantId, invoiceNumber);
  const promises = await promisesOfInvoice(tx, tenantId, invoiceNumber);
  const plans = await plansOfInvoice(tx, tenantId, invoiceNumber);
  const disputes = await disputesOfInvoice(tx, tenantId, invoiceNumber);
  const approvals = await approvalRequestsOfInvoice(tx, tenantId, invoiceNumber);
  const tasks = await callTasksOfInvoice(tx, tenantId, invoiceNumber);
  const activities = await activitiesOfCustomer(tx, tenantId, customerId);
  const audit = await auditEventsOfInvoice(tx, tenantId, invoiceNumber);
  const messages = await messagesOfInvoice(tx, tenantId, invoiceNumber);
  const notifications = await notificationsOfInvoice(tx, tenantId, invoiceNumber);

  const approvalRequests = approvals.map((a) => ({
    requestId: a.request_id,
    action: a.action,
    amount: money(a.amount_minor, a.currency),
    amountReporting: money(a.amount_reporting_minor, reportingCurrency),
    reason: a.reason,
    source: a.source,
    requestedBy: a.requested_by,
    requestedAt: iso(a.requested_at),
    requiredRole: a.required_role,
    level: a.level,
    status: a.status,
    decidedBy: a.decided_by,
    decidedAt: iso(a.decided_at),
    decisionNote: a.decision_note,
    escalatedAt: iso(a.escalated_at),
    effect: a.effect,
    details: a.details,
  }));
  const paymentsTotal = payments.reduce((sum, p) => sum + p.amount_minor, 0);

  return {
    schemaVersion: HANDOFF_PACKAGE_SCHEMA_VERSION,
    kind: 'dunning_handoff_package',
    generatedAt: new Date().toISOString(),
    tenantId,
    handedTo: req.handedTo,
    approval: { requestId: req.requestId, approvedBy: req.approvedBy, request: approvalRequests.find((a) => a.requestId === req.requestId) ?? null },
    summary: {
      amount: money(inv.amount_minor, cur),
      openAmount: money(inv.open_amount_minor, cur),
      disputedAmount: money(inv.disputed_amount_minor, cur),
      paymentsReceived: money(paymentsTotal, cur),
      dueDate: inv.due_day,
      /** In the customer's time zone, on the day the package was generated. */
      daysPastDue: inv.days_past_due,
      brokenPromises: promises.filter((p) => p.status === 'broken').length,
      disputes: disputes.length,
      callAttempts: tasks.filter((t) => t.outcome !== null).length,
      messagesSent: messages.filter((m) => m.status === 'sent').length,
    },
    invoice: {
      invoiceNumber,
      customerId,
      amount: money(inv.amount_minor, cur),
      openAmount: money(inv.open_amount_minor, cur),
      disputedAmount: money(inv.disputed_amount_minor, cur),
      issueDate: inv.issue_day,
      dueDate: inv.due_day,
      stage: inv.stage,
      workflowId: inv.workflow_id,
      cadence: { id: inv.cadence_id, version: inv.cadence_version },
      pausedUntil: iso(inv.paused_until),
      promiseDate: inv.promise_day,
      enrolledAt: iso(inv.enrolled_at),
      updatedAt: iso(inv.updated_at),
    },
    customer: {
      customerId,
      name: c!.name,
      email: c!.email,
      contactName: c!.contact_name,
      timeZone: c!.time_zone,
      locale: c!.locale,
      country: c!.country,
      region: c!.region,
      segment: c!.segment,
      collectorId: c!.collector_id,
      doNotContact: c!.do_not_contact,
      paused: c!.paused,
      pausedUntil: iso(c!.paused_until),
      pauseReason: c!.pause_reason,
    },
    contacts: contacts.map((k) => ({
      contactId: k.contact_id,
      name: k.name,
      email: k.email,
      phone: k.phone,
      role: k.role,
      preferredChannel: k.preferred_channel,
      doNotContact: k.do_not_contact,
      isPrimary: k.is_primary,
      needsUpdate: k.needs_update,
      needsUpdateReason: k.needs_update_reason,
      updatedAt: iso(k.updated_at),
    })),
    payments: payments.map((p) => ({
      paymentId: p.payment_id,
      amount: money(p.amount_minor, p.currency),
      receivedAt: iso(p.received_at),
      source: p.source,
      recordedAt: iso(p.recorded_at),
    })),
    promises: promises.map((p) => ({
      promiseId: p.promise_id,
      planId: p.plan_id,
      installmentNo: p.installment_no,
      amount: money(p.amount_minor, p.currency),
      promisedDate: p.promised_day,
      checkDate: p.check_day,
      madeBy: p.made_by,
      recordedBy: p.recorded_by,
      collectorId: p.collector_id,
      status: p.status,
      paid: money(p.paid_minor, p.currency),
      evaluatedAt: iso(p.evaluated_at),
      createdAt: iso(p.created_at),
    })),
    paymentPlans: plans.map((p) => ({
      planId: p.plan_id,
      total: money(p.total_minor, p.currency),
      maxMissed: p.max_missed,
      status: p.status,
      createdBy: p.created_by,
      createdAt: iso(p.created_at),
    })),
    disputes: disputes.map((d) => ({
      disputeId: d.dispute_id,
      disputedAmount: money(d.disputed_amount_minor, d.currency),
      reasonCode: d.reason_code,
      evidenceNote: d.evidence_note,
      source: d.source,
      openedBy: d.opened_by,
      openedAt: iso(d.opened_at),
      ownerTeam: d.owner_team,
      ownerUser: d.owner_user,
      leadUser: d.lead_user,
      deadlineDate: d.deadline_day,
      deadlineAt: iso(d.deadline_at),
      status: d.status,
      remindedAt: iso(d.reminded_at),
      escalatedAt: iso(d.escalated_at),
      creditAmount: money(d.credit_amount_minor, d.currency),
      creditMemoId: d.credit_memo_id,
      rebillInvoiceNumber: d.rebill_invoice_number,
      rootCause: d.root_cause,
      resolutionNote: d.resolution_note,
      resolvedBy: d.resolved_by,
      resolvedAt: iso(d.resolved_at),
    })),
    approvalRequests,
    callTasks: tasks.map((t) => ({
      taskId: t.id,
      kind: t.kind,
      attempt: t.attempt,
      parentTaskId: t.parent_task_id,
      collectorId: t.collector_id,
      dueAt: iso(t.due_at),
      status: t.status,
      note: t.note,
      createdBy: t.created_by,
      createdAt: iso(t.created_at),
      outcome: t.outcome,
      outcomeNote: t.outcome_note,
      outcomeDetails: t.outcome_details,
      completedAt: iso(t.completed_at),
      completedBy: t.completed_by,
      cancelledReason: t.cancelled_reason,
    })),
    customerActivities: activities.map((a) => ({
      id: a.id,
      invoiceNumber: a.invoice_number,
      taskId: a.task_id,
      occurredAt: iso(a.occurred_at),
      actor: a.actor,
      kind: a.kind,
      outcome: a.outcome,
      reached: a.reached,
      note: a.note,
      details: a.details,
    })),
    auditTrail: audit.map((e) => ({
      id: e.id,
      occurredAt: iso(e.occurred_at),
      actor: e.actor,
      eventType: e.event_type,
      workflowId: e.workflow_id,
      details: e.details,
    })),
    messages: messages.map((m) => ({
      idempotencyKey: m.idempotency_key,
      channel: m.channel,
      recipient: m.recipient,
      subject: m.subject,
      status: m.status,
      messageId: m.message_id,
      invoiceNumbers: m.invoice_numbers,
      createdAt: iso(m.created_at),
      sentAt: iso(m.sent_at),
    })),
    internalNotifications: notifications.map((n) => ({
      id: n.id,
      role: n.role,
      recipientUserId: n.recipient_user_id,
      kind: n.kind,
      note: n.note,
      status: n.status,
      disputeId: n.dispute_id,
      requestId: n.request_id,
      details: n.details,
      createdAt: iso(n.created_at),
    })),
  };
}
