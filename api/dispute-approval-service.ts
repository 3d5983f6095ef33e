import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/sql';
import { approvalRequests, findApprovalRequest, type ApprovalRequestRow } from '../db/approval-requests';
import { disputeReport, disputesWithCollector, disputeWithCollector, type DisputeWithCollector } from '../db/disputes';
import { acknowledgeNotification, pageOfNotifications } from '../db/internal-notifications';
import { approvalLimit, type ApprovalAction } from '../domain/authority-matrix';
import type { DisputeReason } from '../domain/disputes';
import { aRole, roleRank } from '../domain/roles';
import { openDisputeUpdate, requestApprovalUpdate } from '../workflows/messages';
import { disputeWorkflowId, resolveDisputeUpdate } from '../workflows/dispute-messages';
import { approvalWorkflowId, decideApprovalUpdate } from '../workflows/approval-messages';
import type { DisputeOutcome, DisputeResolution, OpenDisputeResult } from '../domain/disputes';
import type { ApprovalDetails, ApprovalRequestResult, ApprovalState } from '../domain/approvals';
import { assertCustomerAccess, hasRole, invoiceForUser, portfolioScope, requireRole, type AuthUser } from './auth';
import { runUpdate } from './workflow-updates';
import { derivedId } from './collector-work';
import type { ConfigDocumentsService } from './config-documents-service';
import { refusal as refuse, type Refusal } from '../domain/refusals';
import { DomainError, notFound } from './errors';

/**
 * Disputes (owner teams work them) and approval requests (approvers decide them) through the API.
 * The workflows own their state; the tables are what lists, queues and reports read.
 */
export interface DisputeApprovalDeps {
  sql: Sql;
  temporal: Client;
  tenantId: string;
  configDocs: Pick<ConfigDocumentsService, 'current'>;
}

type DisputeRow = DisputeWithCollector;
type ApprovalRow = ApprovalRequestRow;

const OPEN_DISPUTE = ['open', 'escalated'];
const iso = (d: Date | null) => d?.toISOString() ?? null;

export function createDisputeApprovalService(deps: DisputeApprovalDeps) {
  const { sql, temporal, tenantId } = deps;

  const disputeView = (r: DisputeRow, now = Date.now()) => {
    const open = OPEN_DISPUTE.includes(r.status);
    const end = r.resolved_at?.getTime() ?? now;
    return {
      disputeId: r.dispute_id,
      invoiceNumber: r.invoice_number,
      customerId: r.customer_id,
      disputedAmountMinor: r.disputed_amount_minor,
      currency: r.currency,
      reasonCode: r.reason_code,
      evidenceNote: r.evidence_note,
      source: r.source,
      openedBy: r.opened_by,
      openedAt: r.opened_at.toISOString(),
      ownerTeam: r.owner_team,
      owner: r.owner_user,
      lead: r.lead_user,
      deadlineDate: r.deadline_day,
      status: r.status,
      /** Whole days since it was opened (until resolved). */
      ageDays: Math.floor((end - r.opened_at.getTime()) / 86_400_000),
      overdue: open ? now >= r.deadline_at.getTime() : (r.resolved_at?.getTime() ?? 0) >= r.deadline_at.getTime(),
      remindedAt: iso(r.reminded_at),
      escalatedAt: iso(r.escalated_at),
      resolution: r.resolved_at
        ? { creditAmountMinor: r.credit_amount_minor, creditMemoId: r.credit_memo_id, rebillInvoiceNumber: r.rebill_invoice_number, rootCause: r.root_cause, note: r.resolution_note, resolvedBy: r.resolved_by, resolvedAt: iso(r.resolved_at) }
        : null,
    };
  };

  /** Who sees a dispute: AR staff as for its customer (collectors: their portfolio), owner teams their team's. */
  function canSeeDispute(user: AuthUser, r: DisputeRow): boolean {
    if (portfolioScope(user) === undefined) return true;
    if (user.role === 'collector' && r.collector_id === user.userId) return true;
    return canResolve(user, r);
  }
  /** Who resolves: the owner, the owner's team, the team's lead, and AR managers and above. */
  function canResolve(user: AuthUser, r: Pick<DisputeRow, 'owner_user' | 'owner_team' | 'lead_user'>): boolean {
    return hasRole(user, 'ar_manager') || user.userId === r.owner_user || user.userId === r.lead_user || (user.team != null && user.team === r.owner_team);
  }

  async function loadDispute(disputeId: string): Promise<DisputeRow> {
    const row = await disputeWithCollector(sql, tenantId, disputeId);
    if (!row) throw notFound(`dispute ${disputeId}`);
    return row;
  }

  const approvalView = (r: ApprovalRow, user: AuthUser, limit: number | null) => ({
    requestId: r.request_id,
    invoiceNumber: r.invoice_number,
    customerId: r.customer_id,
    action: r.action,
    amountMinor: r.amount_minor,
    currency: r.currency,
    amountReportingMinor: r.amount_reporting_minor,
    reason: r.reason,
    source: r.source,
    requestedBy: r.requested_by,
    requestedAt: r.requested_at.toISOString(),
    requiredRole: r.required_role,
    level: r.level,
    status: r.status,
    escalatedAt: iso(r.escalated_at),
    decision: r.decided_by ? { by: r.decided_by, at: iso(r.decided_at), note: r.decision_note } : null,
    effect: r.effect ?? null,
    details: r.details,
    /** Whether the caller may decide it now. */
    canDecide: r.status === 'pending' && refusal(user, limit, r) === null,
  });

  /** Why `user` may not decide the request, or null. */
  function refusal(user: AuthUser, limit: number | null, r: Pick<ApprovalRow, 'requested_by' | 'required_role' | 'amount_reporting_minor'>): Refusal | null {
    if (user.userId === r.requested_by) return refuse('self_approval', 'the requester can never decide their own request');
    if (roleRank(user.role) < roleRank(r.required_role)) return refuse('role_too_low', `this request needs ${aRole(r.required_role)} or above; ${user.userId} is ${user.role}`);
    if (limit !== null && r.amount_reporting_minor > limit)
      return refuse('over_limit', `${r.amount_reporting_minor} (reporting currency, minor units) is above the approval limit ${limit} of ${user.userId}`);
    return null;
  }

  async function limitOf(user: AuthUser): Promise<number | null> {
    const matrix = (await deps.configDocs.current('authority_matrix')).document;
    return approvalLimit({ role: user.role, approvalLimitMinor: user.approvalLimitMinor }, matrix);
  }

  async function loadRequest(requestId: string): Promise<ApprovalRow> {
    const row = await findApprovalRequest(sql, tenantId, requestId);
    if (!row) throw notFound(`approval request ${requestId}`);
    return row;
  }

  return {
    /** Opens a dispute; its id comes from the request's Idempotency-Key when it has one, so that a retry opens none. */
    async openDispute(user: AuthUser, body: { invoiceNumber: string; reasonCode: DisputeReason; disputedAmountMinor?: number; note: string }, key?: string): Promise<OpenDisputeResult> {
      requireRole(user, 'collector');
      const inv = await invoiceForUser(sql, user, body.invoiceNumber);
      const disputeId = key ? derivedId('D', key) : `D-${randomUUID().slice(0, 8)}`;
      const result = await runUpdate(temporal, inv.workflow_id, (h) =>
        h.executeUpdate(openDisputeUpdate, {
          updateId: disputeId,
          args: [{ disputeId, reasonCode: body.reasonCode, note: body.note, source: 'api', actor: user.userId, ...(body.disputedAmountMinor !== undefined ? { amountMinor: body.disputedAmountMinor } : {}) }],
        }),
      );
      if (!result) throw new DomainError('invoice_closed', `invoice ${body.invoiceNumber} is no longer in dunning`);
      return result;
    },

    async listDisputes(user: AuthUser, q: { ownerTeam?: string; status: 'open' | 'resolved' | 'all'; overdue?: boolean; customerId?: string; limit: number; offset: number }) {
      if (q.customerId) await assertCustomerAccess(sql, user, q.customerId).catch((err: unknown) => {
        if (!(err instanceof DomainError && err.code === 'not_in_portfolio' && user.role === 'team_member')) throw err;
      });
      const rows = await disputesWithCollector(sql, tenantId, q);
      const now = Date.now();
      const visible = rows.filter((r) => canSeeDispute(user, r)).map((r) => disputeView(r, now));
      return { total: visible.length, overdue: visible.filter((d) => d.overdue && OPEN_DISPUTE.includes(d.status)).length, items: visible.slice(q.offset, q.offset + q.limit) };
    },

    async dispute(user: AuthUser, disputeId: string) {
      const row = await loadDispute(disputeId);
      if (!canSeeDispute(user, row)) throw new DomainError('not_in_portfolio', `dispute ${disputeId} is neither in ${user.userId}'s portfolio nor their team's`);
      return disputeView(row);
    },

    async resolveDispute(user: AuthUser, disputeId: string, body: Omit<DisputeResolution, 'actor'>): Promise<DisputeOutcome> {
      const row = await loadDispute(disputeId);
      if (!canResolve(user, row))
        throw new DomainError('not_dispute_owner', `dispute ${disputeId} belongs to ${row.owner_team} (owner ${row.owner_user ?? 'none'}, lead ${row.lead_user ?? 'none'}); ${user.userId} may not resolve it`);
      if (!OPEN_DISPUTE.includes(row.status)) throw new DomainError('dispute_closed', `dispute ${disputeId} is ${row.status}`);
      const outcome = await runUpdate(temporal, disputeWorkflowId(tenantId, disputeId), (h) =>
        h.executeUpdate(resolveDisputeUpdate, { updateId: `resolve-${disputeId}`, args: [{ ...body, actor: user.userId }] }),
      );
      if (!outcome) throw new DomainError('dispute_closed', `dispute ${disputeId} is closed`);
      return outcome;
    },

    /** Reasons and root causes of disputes opened in [from, to): what recurs, how fast it is resolved, what it cost. */
    async disputeReport(user: AuthUser, q: { from?: string; to?: string }) {
      requireRole(user, 'team_lead');
      const { byReason, byRootCause } = await disputeReport(sql, tenantId, q);
      return {
        from: q.from ?? null,
        to: q.to ?? null,
        byReason: byReason.map((r) => ({ reasonCode: r.reason_code, opened: r.opened, open: r.open, overdue: r.overdue, resolvedValid: r.valid, resolvedInvalid: r.invalid, withdrawn: r.withdrawn, avgDaysToResolve: r.avg_days === null ? null : Number(r.avg_days) })),
        byRootCause: byRootCause.map((r) => ({ rootCause: r.root_cause, currency: r.currency, resolved: r.resolved, creditedMinor: r.credited_minor })),
      };
    },

    /** Asks for an approval; its id comes from the request's Idempotency-Key when it has one. */
    async requestApproval(user: AuthUser, invoiceNumber: string, body: { action: ApprovalAction; reason: string; amountMinor?: number; details: ApprovalDetails }, key?: string): Promise<ApprovalRequestResult> {
      requireRole(user, 'collector');
      const inv = await invoiceForUser(sql, user, invoiceNumber);
      const requestId = key ? derivedId('AR', key) : `AR-${randomUUID().slice(0, 8)}`;
      const result = await runUpdate(temporal, inv.workflow_id, (h) =>
        h.executeUpdate(requestApprovalUpdate, {
          updateId: requestId,
          args: [{ requestId, action: body.action, reason: body.reason, actor: user.userId, details: body.details, ...(body.amountMinor !== undefined ? { amountMinor: body.amountMinor } : {}) }],
        }),
      );
      if (!result) throw new DomainError('invoice_closed', `invoice ${invoiceNumber} is no longer in dunning`);
      return result;
    },

    /** Pending requests the caller may decide (approvers); their own requests (everyone); or all (`status=all`, team leads and above). */
    async listApprovals(user: AuthUser, q: { status: 'pending' | 'decided' | 'all'; mine?: boolean; limit: number; offset: number }) {
      const limit = await limitOf(user);
      const rows = await approvalRequests(sql, tenantId, { status: q.status, ...(q.mine ? { requestedBy: user.userId } : {}) });
      const views = rows
        .map((r) => approvalView(r, user, limit))
        .filter((v) => v.requestedBy === user.userId || (hasRole(user, 'team_lead') && (q.status !== 'pending' || v.canDecide || q.mine)));
      return { total: views.length, items: views.slice(q.offset, q.offset + q.limit) };
    },

    async approval(user: AuthUser, requestId: string) {
      const row = await loadRequest(requestId);
      if (row.requested_by !== user.userId && !hasRole(user, 'team_lead')) await assertCustomerAccess(sql, user, row.customer_id);
      return approvalView(row, user, await limitOf(user));
    },

    /** Approve or reject: never one's own request, never above one's role or limit (403). */
    async decide(user: AuthUser, requestId: string, body: { decision: 'approve' | 'reject'; note: string }): Promise<ApprovalState & { requestId: string }> {
      const row = await loadRequest(requestId);
      if (row.status !== 'pending') throw new DomainError('already_decided', `request ${requestId} is ${row.status}${row.decided_by ? ` (by ${row.decided_by})` : ''}`);
      const limit = await limitOf(user);
      const why = refusal(user, limit, row);
      if (why) throw new DomainError(why.code, why.message);
      const state = await runUpdate(
        temporal,
        approvalWorkflowId(tenantId, requestId),
        (h) =>
          h.executeUpdate(decideApprovalUpdate, {
            updateId: `decide-${requestId}`,
            args: [{ decision: body.decision, note: body.note, actor: { userId: user.userId, role: user.role, approvalLimitMinor: limit } }],
          }),
      );
      if (!state) throw new DomainError('already_decided', `request ${requestId} is closed`);
      return { requestId, ...state };
    },

    /** The caller's notifications: addressed to them, or to their role. */
    async notifications(user: AuthUser, q: { status: 'open' | 'acknowledged' | 'all'; limit: number; offset: number }) {
      const { total, rows } = await pageOfNotifications(sql, tenantId, user, q);
      return {
        total,
        items: rows.map((r) => ({ id: r.id, kind: r.kind, to: r.recipient_user_id ?? r.role, invoiceNumber: r.invoice_number, customerId: r.customer_id, note: r.note, disputeId: r.dispute_id, requestId: r.request_id, status: r.status, createdAt: r.created_at.toISOString() })),
      };
    },

    async acknowledge(user: AuthUser, id: number) {
      if (!(await acknowledgeNotification(sql, tenantId, id, user))) throw notFound(`notification ${id} for ${user.userId}`);
      return { id, status: 'acknowledged' };
    },
  };
}

export type DisputeApprovalService = ReturnType<typeof createDisputeApprovalService>;
