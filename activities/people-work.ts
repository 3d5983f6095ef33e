import type { Sql } from '../db/sql';
import { newestConfigDocument } from '../db/config-documents';
import type { BusinessCalendar } from '../domain/business-calendar';
import { authorityMatrixSchema, requiredRole, type ApprovalAction, type AuthorityMatrix } from '../domain/authority-matrix';
import type { DisputeReason } from '../domain/disputes';
import { convertMinor, type FxTable } from '../domain/fx';
import { dateDisputeRoute, resolveDisputeRoute, resolutionMatrixSchema, type ResolutionMatrix } from '../domain/resolution-matrix';
import type { Role } from '../domain/roles';
import type { DisputeOutcome, DisputeRoute } from '../domain/disputes';

/**
 * Disputes, approvals and the notifications that go with them: the database side of the dispute
 * and approval workflows. Every write is keyed so that a retried activity changes nothing.
 */
export interface PeopleWorkDeps {
  sql: Sql;
  fx: FxTable;
  /** The files' matrices, in force until a version is saved through the API. */
  resolutionMatrix: ResolutionMatrix;
  authorityMatrix: AuthorityMatrix;
}

type NotificationKind = 'dispute_assigned' | 'dispute_reminder' | 'dispute_overdue' | 'approval_requested' | 'approval_escalated';

export function createPeopleWorkActivities(deps: PeopleWorkDeps) {
  const { sql } = deps;

  /** The newest saved version of a configuration document, else the file's. */
  async function current<T>(tenantId: string, name: 'resolution_matrix' | 'authority_matrix', parse: (doc: unknown) => T, fallback: T): Promise<T> {
    const row = await newestConfigDocument(sql, tenantId, name);
    return row ? parse(row.document) : fallback;
  }

  async function notify(n: {
    idempotencyKey: string;
    tenantId: string;
    kind: NotificationKind;
    recipientUserId?: string | null;
    role?: Role | null;
    invoiceNumber: string;
    customerId: string;
    note: string;
    disputeId?: string;
    requestId?: string;
    details?: Record<string, unknown>;
  }) {
    await sql`
      insert into internal_notifications (idempotency_key, tenant_id, role, recipient_user_id, kind, invoice_number, customer_id, note, dispute_id, request_id, details)
      values (${n.idempotencyKey}, ${n.tenantId}, ${n.role ?? null}, ${n.recipientUserId ?? null}, ${n.kind}, ${n.invoiceNumber}, ${n.customerId}, ${n.note},
              ${n.disputeId ?? null}, ${n.requestId ?? null}, ${sql.json((n.details ?? {}) as never)})
      on conflict (idempotency_key) do nothing`;
  }

  return {
    /**
     * Who owns a dispute and by when, from the resolution matrix in force: the owner team, its
     * default owner and lead, the deadline in business days of the customer's calendar from today.
     */
    async routeDispute(req: {
      tenantId: string;
      customerId: string;
      reasonCode: DisputeReason;
      amountMinor: number;
      currency: string;
      timeZone: string;
      calendar?: BusinessCalendar;
    }): Promise<DisputeRoute> {
      const matrix = await current(req.tenantId, 'resolution_matrix', (d) => resolutionMatrixSchema.parse(d), deps.resolutionMatrix);
      const [customer] = await sql<{ segment: 'strategic' | 'standard' | 'high_risk' }[]>`
        select segment from customers where tenant_id = ${req.tenantId} and customer_id = ${req.customerId}`;
      const route = resolveDisputeRoute(matrix, {
        reasonCode: req.reasonCode,
        segment: customer?.segment ?? 'standard',
        amountReportingMinor: convertMinor(req.amountMinor, req.currency, deps.fx),
      });
      return dateDisputeRoute(route, Date.now(), req.timeZone, req.calendar);
    },

    /** The dispute's row and the owner's notification (the lead's when the team has no default owner). */
    async recordDispute(req: {
      tenantId: string;
      disputeId: string;
      invoiceNumber: string;
      customerId: string;
      workflowId: string;
      disputedAmountMinor: number;
      currency: string;
      reasonCode: string;
      note: string;
      source: 'call' | 'api' | 'erp';
      openedBy: string;
      route: DisputeRoute;
    }): Promise<void> {
      const { route } = req;
      await sql.begin(async (tx) => {
        const [opened] = await tx`
          insert into disputes (tenant_id, dispute_id, invoice_number, customer_id, workflow_id, disputed_amount_minor, currency, reason_code, evidence_note,
                                source, opened_by, owner_team, owner_user, lead_user, deadline_date, deadline_at)
          values (${req.tenantId}, ${req.disputeId}, ${req.invoiceNumber}, ${req.customerId}, ${req.workflowId}, ${req.disputedAmountMinor}, ${req.currency},
                  ${req.reasonCode}, ${req.note}, ${req.source}, ${req.openedBy}, ${route.ownerTeam}, ${route.owner}, ${route.lead}, ${route.deadlineDate}, ${route.deadlineAt})
          on conflict (tenant_id, dispute_id) do nothing returning dispute_id`;
        // Counted once: a retry finds the dispute already there.
        if (opened)
          await tx`update invoices set disputed_amount_minor = disputed_amount_minor + ${req.disputedAmountMinor}
                   where tenant_id = ${req.tenantId} and invoice_number = ${req.invoiceNumber}`;
        await tx`
          insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type, details)
          values (${`dispute:${req.tenantId}:${req.disputeId}:opened`}, ${req.tenantId}, ${req.openedBy}, ${req.invoiceNumber}, ${req.workflowId}, 'dispute_opened',
                  ${tx.json({ disputeId: req.disputeId, reasonCode: req.reasonCode, disputedAmountMinor: req.disputedAmountMinor, currency: req.currency, source: req.source, route } as never)})
          on conflict (event_key) do nothing`;
      });
      await notify({
        idempotencyKey: `dispute:${req.tenantId}:${req.disputeId}:assigned`,
        tenantId: req.tenantId,
        kind: 'dispute_assigned',
        recipientUserId: route.owner ?? route.lead,
        invoiceNumber: req.invoiceNumber,
        customerId: req.customerId,
        disputeId: req.disputeId,
        note: `Dispute ${req.disputeId} (${req.reasonCode}) on invoice ${req.invoiceNumber} is yours (${route.ownerTeamName}): resolve it by ${route.deadlineDate}.`,
      });
    },

    /** A step of the dispute's life: the owner reminded before the deadline, or the lead told when it passed. */
    async disputeDeadlineEvent(req: { tenantId: string; disputeId: string; invoiceNumber: string; customerId: string; event: 'reminder' | 'overdue'; recipientUserId: string; deadlineDate: string }): Promise<void> {
      if (req.event === 'reminder') await sql`update disputes set reminded_at = coalesce(reminded_at, now()) where tenant_id = ${req.tenantId} and dispute_id = ${req.disputeId}`;
      else await sql`update disputes set status = 'escalated', escalated_at = coalesce(escalated_at, now()) where tenant_id = ${req.tenantId} and dispute_id = ${req.disputeId} and status = 'open'`;
      await notify({
        idempotencyKey: `dispute:${req.tenantId}:${req.disputeId}:${req.event}`,
        tenantId: req.tenantId,
        kind: req.event === 'reminder' ? 'dispute_reminder' : 'dispute_overdue',
        recipientUserId: req.recipientUserId,
        invoiceNumber: req.invoiceNumber,
        customerId: req.customerId,
        disputeId: req.disputeId,
        note: req.event === 'reminder'
          ? `Reminder: dispute ${req.disputeId} on invoice ${req.invoiceNumber} is due for resolution by ${req.deadlineDate}.`
          : `Dispute ${req.disputeId} on invoice ${req.invoiceNumber} missed its deadline ${req.deadlineDate}: escalated to you as the owner's lead.`,
      });
      await sql`
        insert into audit_events (event_key, tenant_id, actor, invoice_number, event_type, details)
        values (${`dispute:${req.tenantId}:${req.disputeId}:${req.event}`}, ${req.tenantId}, 'workflow', ${req.invoiceNumber},
                ${req.event === 'reminder' ? 'dispute_owner_reminded' : 'dispute_escalated'}, ${sql.json({ disputeId: req.disputeId, to: req.recipientUserId, deadlineDate: req.deadlineDate })})
        on conflict (event_key) do nothing`;
    },

    async recordDisputeOutcome(req: { tenantId: string; invoiceNumber: string; outcome: DisputeOutcome; disputedAmountMinor: number; note: string }): Promise<void> {
      const o = req.outcome;
      await sql.begin(async (tx) => {
        const [changed] = await tx`
          update disputes set status = ${o.status}, credit_amount_minor = ${o.creditAmountMinor}, credit_memo_id = ${o.creditMemoId},
                 rebill_invoice_number = ${o.rebillInvoiceNumber}, root_cause = ${o.rootCause}, resolution_note = ${req.note},
                 resolved_by = ${o.resolvedBy}, resolved_at = now()
          where tenant_id = ${req.tenantId} and dispute_id = ${o.disputeId} and status in ('open', 'escalated') returning dispute_id`;
        if (changed)
          await tx`update invoices set disputed_amount_minor = greatest(0, disputed_amount_minor - ${req.disputedAmountMinor})
                   where tenant_id = ${req.tenantId} and invoice_number = ${req.invoiceNumber}`;
        await tx`
          insert into audit_events (event_key, tenant_id, actor, invoice_number, event_type, details)
          values (${`dispute:${req.tenantId}:${o.disputeId}:settled`}, ${req.tenantId}, ${o.resolvedBy}, ${req.invoiceNumber}, ${`dispute_${o.status}`},
                  ${tx.json({ ...o, note: req.note } as never)})
          on conflict (event_key) do nothing`;
      });
    },

    /**
     * Registers an approval request: its amount in the reporting currency, the minimum role the
     * authority matrix asks for, the row, and a notification to that role.
     */
    async registerApprovalRequest(req: {
      tenantId: string;
      requestId: string;
      invoiceNumber: string;
      customerId: string;
      workflowId: string;
      action: ApprovalAction;
      amountMinor: number;
      currency: string;
      reason: string;
      source: 'cadence' | 'api';
      requestedBy: string;
      details: Record<string, unknown>;
    }): Promise<{ requiredRole: Role; amountReportingMinor: number; escalateAfterMs: number }> {
      const matrix = await current(req.tenantId, 'authority_matrix', (d) => authorityMatrixSchema.parse(d), deps.authorityMatrix);
      const amountReportingMinor = convertMinor(req.amountMinor, req.currency, deps.fx);
      const role = requiredRole(matrix, req.action, amountReportingMinor);
      await sql.begin(async (tx) => {
        await tx`
          insert into approval_requests (tenant_id, request_id, invoice_number, customer_id, workflow_id, action, amount_minor, currency, amount_reporting_minor,
                                         reason, source, requested_by, required_role, details)
          values (${req.tenantId}, ${req.requestId}, ${req.invoiceNumber}, ${req.customerId}, ${req.workflowId}, ${req.action}, ${req.amountMinor}, ${req.currency},
                  ${amountReportingMinor}, ${req.reason}, ${req.source}, ${req.requestedBy}, ${role}, ${tx.json(req.details as never)})
          on conflict (tenant_id, request_id) do nothing`;
        await tx`
          insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type, details)
          values (${`approval:${req.tenantId}:${req.requestId}:requested`}, ${req.tenantId}, ${req.requestedBy}, ${req.invoiceNumber}, ${req.workflowId}, 'approval_requested',
                  ${tx.json({ requestId: req.requestId, action: req.action, amountMinor: req.amountMinor, currency: req.currency, amountReportingMinor, requiredRole: role, reason: req.reason, source: req.source } as never)})
          on conflict (event_key) do nothing`;
      });
      await notify({
        idempotencyKey: `approval:${req.tenantId}:${req.requestId}:requested`,
        tenantId: req.tenantId,
        kind: 'approval_requested',
        role,
        invoiceNumber: req.invoiceNumber,
        customerId: req.customerId,
        requestId: req.requestId,
        note: `${req.requestedBy} asks for ${req.action.replace(/_/g, ' ')} of ${req.amountMinor} ${req.currency} on invoice ${req.invoiceNumber}: ${req.reason}`,
      });
      return { requiredRole: role, amountReportingMinor, escalateAfterMs: Math.round(matrix.escalateAfterHours * 3_600_000) };
    },

    /** Whether a cadence step's action needs an approval under the authority matrix in force (credit holds may not). */
    async approvalNeeded(req: { tenantId: string; action: 'credit_hold' }): Promise<boolean> {
      const matrix = await current(req.tenantId, 'authority_matrix', (d) => authorityMatrixSchema.parse(d), deps.authorityMatrix);
      return matrix.creditHoldNeedsApproval;
    },

    /** Nobody decided in time: the request moves up to `toRole`, who is told. */
    async escalateApprovalRequest(req: { tenantId: string; requestId: string; invoiceNumber: string; customerId: string; toRole: Role; level: number }): Promise<void> {
      await sql`update approval_requests set required_role = ${req.toRole}, level = ${req.level}, escalated_at = now()
                where tenant_id = ${req.tenantId} and request_id = ${req.requestId} and status = 'pending' and level < ${req.level}`;
      await notify({
        idempotencyKey: `approval:${req.tenantId}:${req.requestId}:escalated:${req.level}`,
        tenantId: req.tenantId,
        kind: 'approval_escalated',
        role: req.toRole,
        invoiceNumber: req.invoiceNumber,
        customerId: req.customerId,
        requestId: req.requestId,
        note: `Approval request ${req.requestId} on invoice ${req.invoiceNumber} was not decided in time and now needs a ${req.toRole}.`,
      });
      await sql`
        insert into audit_events (event_key, tenant_id, actor, invoice_number, event_type, details)
        values (${`approval:${req.tenantId}:${req.requestId}:escalated:${req.level}`}, ${req.tenantId}, 'workflow', ${req.invoiceNumber}, 'approval_escalated',
                ${sql.json({ requestId: req.requestId, toRole: req.toRole, level: req.level })})
        on conflict (event_key) do nothing`;
    },

    async recordApprovalDecision(req: { tenantId: string; requestId: string; invoiceNumber: string; status: 'approved' | 'rejected' | 'cancelled'; decidedBy: string; note: string }): Promise<void> {
      await sql`update approval_requests set status = ${req.status}, decided_by = ${req.decidedBy}, decided_at = now(), decision_note = ${req.note}
                where tenant_id = ${req.tenantId} and request_id = ${req.requestId} and status = 'pending'`;
      await sql`
        insert into audit_events (event_key, tenant_id, actor, invoice_number, event_type, details)
        values (${`approval:${req.tenantId}:${req.requestId}:decided`}, ${req.tenantId}, ${req.decidedBy}, ${req.invoiceNumber}, ${`approval_${req.status}`},
                ${sql.json({ requestId: req.requestId, note: req.note })})
        on conflict (event_key) do nothing`;
    },

    /** What the decision did (a journal, a hold, a package), on the request and in the audit trail. */
    async recordApprovalEffect(req: { tenantId: string; requestId: string; invoiceNumber: string; effect: Record<string, unknown> }): Promise<void> {
      await sql`update approval_requests set effect = ${sql.json(req.effect as never)} where tenant_id = ${req.tenantId} and request_id = ${req.requestId}`;
      await sql`
        insert into audit_events (event_key, tenant_id, actor, invoice_number, event_type, details)
        values (${`approval:${req.tenantId}:${req.requestId}:effect`}, ${req.tenantId}, 'workflow', ${req.invoiceNumber}, 'approval_effect',
                ${sql.json({ requestId: req.requestId, ...req.effect } as never)})
        on conflict (event_key) do nothing`;
    },
  };
}
