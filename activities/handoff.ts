import { ApplicationFailure } from '@temporalio/activity';
import type { Sql } from '../db/sql';
import type { FxTable } from '../domain/fx';

export type HandoffTarget = 'legal' | 'agency';

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

type Tx = Parameters<Parameters<Sql['begin']>[1]>[0];

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

  async function stored(req: HandoffPackageRequest) {
    const [row] = await deps.sql<{ package: unknown; created_at: Date }[]>`
      select package, created_at from handoff_packages
      where tenant_id = ${req.tenantId} and invoice_number = ${req.invoiceNumber} and handed_to = ${req.handedTo}`;
    return row;
  }

  const summary = (req: HandoffPackageRequest, row: { package: unknown; created_at: Date }): HandoffPackageSummary => ({
    invoiceNumber: req.invoiceNumber,
    handedTo: req.handedTo,
    sizeBytes: Buffer.byteLength(JSON.stringify(row.package), 'utf8'),
    createdAt: row.created_at.toISOString(),
  });

  return {
    async buildHandoffPackage(req: HandoffPackageRequest): Promise<HandoffPackageSummary> {
      const existing = await stored(req);
      if (existing) return summary(req, existing);

      const document = await deps.sql.begin('isolation level repeatable read read only', (tx) => readPackage(tx, req, reporting()));
      const [inserted] = await deps.sql<{ package: unknown; created_at: Date }[]>`
        insert into handoff_packages (tenant_id, invoice_number, handed_to, package)
        values (${req.tenantId}, ${req.invoiceNumber}, ${req.handedTo}, ${deps.sql.json(document as never)})
        on conflict (tenant_id, invoice_number, handed_to) do nothing
        returning package, created_at`;
      // Lost a race with a concurrent attempt: its document is the package.
      return summary(req, inserted ?? (await stored(req))!);
    },
  };
}

async function readPackage(sql: Tx, req: HandoffPackageRequest, reportingCurrency: string) {
  const { tenantId, invoiceNumber } = req;
  const [inv] = await sql`
    select i.*, to_char(i.issue_date, 'YYYY-MM-DD') as issue_day, to_char(i.due_date, 'YYYY-MM-DD') as due_day,
           to_char(i.promise_date, 'YYYY-MM-DD') as promise_day,
           ((now() at time zone c.time_zone)::date - i.due_date) as days_past_due
    from invoices i join customers c on c.tenant_id = i.tenant_id and c.customer_id = i.customer_id
    where i.tenant_id = ${tenantId} and i.invoice_number = ${invoiceNumber}`;
  if (!inv) throw ApplicationFailure.nonRetryable(`invoice ${invoiceNumber} is not enrolled for tenant ${tenantId}`, 'InvoiceNotFound');
  const cur = inv.currency as string;
  const customerId = inv.customer_id as string;

  const [c] = await sql`select * from customers where tenant_id = ${tenantId} and customer_id = ${customerId}`;
  const contacts = await sql`
    select * from customer_contacts where tenant_id = ${tenantId} and customer_id = ${customerId} order by is_primary desc, contact_id`;
  const payments = await sql`
    select * from payments where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by received_at, payment_id`;
  const promises = await sql`
    select *, to_char(promised_date, 'YYYY-MM-DD') as promised_day, to_char(check_date, 'YYYY-MM-DD') as check_day
    from promises where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by created_at, promise_id`;
  const plans = await sql`
    select * from payment_plans
    where tenant_id = ${tenantId} and plan_id in (select plan_id from promises where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber})
    order by created_at, plan_id`;
  const disputes = await sql`
    select *, to_char(deadline_date, 'YYYY-MM-DD') as deadline_day
    from disputes where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by opened_at, dispute_id`;
  const approvals = await sql`
    select * from approval_requests where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by requested_at, request_id`;
  const tasks = await sql`
    select * from call_tasks where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by created_at, id`;
  const activities = await sql`
    select * from customer_activities where tenant_id = ${tenantId} and customer_id = ${customerId} order by occurred_at, id`;
  const audit = await sql`
    select * from audit_events where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by id`;
  const messages = await sql`
    select * from outbound_messages where tenant_id = ${tenantId} and invoice_numbers @> array[${invoiceNumber}]::text[] order by created_at, idempotency_key`;
  const notifications = await sql`
    select * from internal_notifications where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by created_at, id`;

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
  const paymentsTotal = payments.reduce((sum, p) => sum + (p.amount_minor as number), 0);

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
