import {
  decideApprovalRequest,
  escalateApprovalRequest as escalateApprovalRow,
  insertApprovalRequestOnce,
  setApprovalEffect,
  type NewApprovalRequest,
} from '../db/approval-requests';
import { appendAuditEvent } from '../db/audit-events';
import { newestConfigDocument } from '../db/config-documents';
import { customerFlags } from '../db/customers';
import { escalateDispute, insertDisputeOnce, markDisputeReminded, resolveDispute, type NewDispute } from '../db/disputes';
import { insertInternalNotificationOnce, type NewInternalNotification } from '../db/internal-notifications';
import { changeDisputedAmount } from '../db/invoices';
import type { Sql } from '../db/sql';
import type { BusinessCalendar } from '../domain/business-calendar';
import { authorityMatrixSchema, requiredRole, type ApprovalAction, type AuthorityMatrix } from '../domain/authority-matrix';
import type { DisputeReason } from '../domain/disputes';
import { convertMinor, type FxTable } from '../domain/fx';
import { dateDisputeRoute, resolveDisputeRoute, resolutionMatrixSchema, type ResolutionMatrix } from '../domain/resolution-matrix';
import { aRole, type Role } from '../domain/roles';
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

export function createPeopleWorkActivities(deps: PeopleWorkDeps) {
  const { sql } = deps;

  /** The newest saved version of a configuration document, else the file's. */
  async function current<T>(tenantId: string, name: 'resolution_matrix' | 'authority_matrix', parse: (doc: unknown) => T, fallback: T): Promise<T> {
    const row = await newestConfigDocument(sql, tenantId, name);
    return row ? parse(row.document) : fallback;
  }

  async function notify(n: NewInternalNotification) {
    await insertInternalNotificationOnce(sql, n);
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
      const customer = await customerFlags(sql, req.tenantId, req.customerId);
      const route = resolveDisputeRoute(matrix, {
        reasonCode: req.reasonCode,
        segment: customer?.segment ?? 'standard',
        amountReportingMinor: convertMinor(req.amountMinor, req.currency, deps.fx),
      });
      return dateDisputeRoute(route, Date.now(), req.timeZone, req.calendar);
    },

    /** The dispute's row and the owner's notification (the lead's when the team has no default owner). */
    async recordDispute(req: NewDispute): Promise<void> {
      const { route } = req;
      await sql.begin(async (tx) => {
        const opened = await insertDisputeOnce(tx, req);
        // Counted once: a retry finds the dispute already there.
        if (opened) await changeDisputedAmount(tx, req, req.disputedAmountMinor);
        await appendAuditEvent(tx, {
          eventKey: `dispute:${req.tenantId}:${req.disputeId}:opened`,
          tenantId: req.tenantId,
          actor: req.openedBy,
          invoiceNumber: req.invoiceNumber,
          workflowId: req.workflowId,
          type: 'dispute_opened',
          details: { disputeId: req.disputeId, reasonCode: req.reasonCode, disputedAmountMinor: req.disputedAmountMinor, currency: req.currency, source: req.source, route },
        });
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
      if (req.event === 'reminder') await markDisputeReminded(sql, req.tenantId, req.disputeId);
      else await escalateDispute(sql, req.tenantId, req.disputeId);
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
      await appendAuditEvent(sql, {
        eventKey: `dispute:${req.tenantId}:${req.disputeId}:${req.event}`,
        tenantId: req.tenantId,
        actor: 'workflow',
        invoiceNumber: req.invoiceNumber,
        type: req.event === 'reminder' ? 'dispute_owner_reminded' : 'dispute_escalated',
        details: { disputeId: req.disputeId, to: req.recipientUserId, deadlineDate: req.deadlineDate },
      });
    },

    async recordDisputeOutcome(req: { tenantId: string; invoiceNumber: string; outcome: DisputeOutcome; disputedAmountMinor: number; note: string }): Promise<void> {
      const o = req.outcome;
      await sql.begin(async (tx) => {
        const changed = await resolveDispute(tx, req.tenantId, o, req.note);
        if (changed) await changeDisputedAmount(tx, req, -req.disputedAmountMinor);
        await appendAuditEvent(tx, {
          eventKey: `dispute:${req.tenantId}:${o.disputeId}:settled`,
          tenantId: req.tenantId,
          actor: o.resolvedBy,
          invoiceNumber: req.invoiceNumber,
          type: `dispute_${o.status}`,
          details: { ...o, note: req.note },
        });
      });
    },

    /**
     * Registers an approval request: its amount in the reporting currency, the minimum role the
     * authority matrix asks for, the row, and a notification to that role.
     */
    async registerApprovalRequest(req: Omit<NewApprovalRequest, 'amountReportingMinor' | 'requiredRole'>): Promise<{ requiredRole: Role; amountReportingMinor: number; escalateAfterMs: number }> {
      const matrix = await current(req.tenantId, 'authority_matrix', (d) => authorityMatrixSchema.parse(d), deps.authorityMatrix);
      const amountReportingMinor = convertMinor(req.amountMinor, req.currency, deps.fx);
      const role = requiredRole(matrix, req.action, amountReportingMinor);
      await sql.begin(async (tx) => {
        await insertApprovalRequestOnce(tx, { ...req, amountReportingMinor, requiredRole: role });
        await appendAuditEvent(tx, {
          eventKey: `approval:${req.tenantId}:${req.requestId}:requested`,
          tenantId: req.tenantId,
          actor: req.requestedBy,
          invoiceNumber: req.invoiceNumber,
          workflowId: req.workflowId,
          type: 'approval_requested',
          details: { requestId: req.requestId, action: req.action, amountMinor: req.amountMinor, currency: req.currency, amountReportingMinor, requiredRole: role, reason: req.reason, source: req.source },
        });
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
      await escalateApprovalRow(sql, req.tenantId, req.requestId, req.toRole, req.level);
      await notify({
        idempotencyKey: `approval:${req.tenantId}:${req.requestId}:escalated:${req.level}`,
        tenantId: req.tenantId,
        kind: 'approval_escalated',
        role: req.toRole,
        invoiceNumber: req.invoiceNumber,
        customerId: req.customerId,
        requestId: req.requestId,
        note: `Approval request ${req.requestId} on invoice ${req.invoiceNumber} was not decided in time and now needs ${aRole(req.toRole)}.`,
      });
      await appendAuditEvent(sql, {
        eventKey: `approval:${req.tenantId}:${req.requestId}:escalated:${req.level}`,
        tenantId: req.tenantId,
        actor: 'workflow',
        invoiceNumber: req.invoiceNumber,
        type: 'approval_escalated',
        details: { requestId: req.requestId, toRole: req.toRole, level: req.level },
      });
    },

    async recordApprovalDecision(req: { tenantId: string; requestId: string; invoiceNumber: string; status: 'approved' | 'rejected' | 'cancelled'; decidedBy: string; note: string }): Promise<void> {
      await decideApprovalRequest(sql, req.tenantId, req.requestId, req);
      await appendAuditEvent(sql, {
        eventKey: `approval:${req.tenantId}:${req.requestId}:decided`,
        tenantId: req.tenantId,
        actor: req.decidedBy,
        invoiceNumber: req.invoiceNumber,
        type: `approval_${req.status}`,
        details: { requestId: req.requestId, note: req.note },
      });
    },

    /** What the decision did (a journal, a hold, a package), on the request and in the audit trail. */
    async recordApprovalEffect(req: { tenantId: string; requestId: string; invoiceNumber: string; effect: Record<string, unknown> }): Promise<void> {
      await setApprovalEffect(sql, req.tenantId, req.requestId, req.effect);
      await appendAuditEvent(sql, {
        eventKey: `approval:${req.tenantId}:${req.requestId}:effect`,
        tenantId: req.tenantId,
        actor: 'workflow',
        invoiceNumber: req.invoiceNumber,
        type: 'approval_effect',
        details: { requestId: req.requestId, ...req.effect },
      });
    },
  };
}
