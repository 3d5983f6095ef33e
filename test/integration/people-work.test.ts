import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createPeopleWorkActivities } from '../../activities/people-work';
import { createConfigDocuments } from '../../api/config-documents-service';
import { loadAuthorityMatrix, loadReportingConfig, loadResolutionMatrix } from '../../config/load';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { approvalRequests, findApprovalRequest } from '../../db/approval-requests';
import { disputeReport, disputesWithCollector, disputeWithCollector } from '../../db/disputes';
import { acknowledgeNotification, pageOfNotifications } from '../../db/internal-notifications';

/**
 * The database side of disputes and approvals against the real PostgreSQL: the matrices in force
 * (a version saved through the configuration service wins over the file), rows, notifications and
 * audit events, each written once however often an activity is retried.
 */
const tenantId = `pw-${randomUUID().slice(0, 8)}`;
let sql: Sql;
let activities: ReturnType<typeof createPeopleWorkActivities>;
const env = new MockActivityEnvironment();
const run = <A extends unknown[], R>(fn: (...args: A) => Promise<R>, ...args: A): Promise<R> => env.run(fn, ...args) as Promise<R>;

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  await migrate(sql);
  activities = createPeopleWorkActivities({ sql, fx: loadReportingConfig(), resolutionMatrix: loadResolutionMatrix(), authorityMatrix: loadAuthorityMatrix() });
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, segment)
            values (${tenantId}, 'C1', 'Kunde', 'ap@kunde.example', 'Europe/Berlin', 'de-DE', 'anna', 'strategic')`;
});
afterAll(async () => {
  await sql?.end();
});

const routeQuery = { tenantId, customerId: 'C1', reasonCode: 'pricing' as const, amountMinor: 100_000, currency: 'EUR', timeZone: 'Europe/Berlin' };

describe('dispute and approval activities', () => {
  it('routes by the matrix in force: the file first, then the version saved through the API', async () => {
    // A strategic customer's pricing dispute: sales, Sam (the shipped file).
    expect(await run(activities.routeDispute, routeQuery)).toMatchObject({ ownerTeam: 'sales', owner: 'sam', deadlineBusinessDays: 5 });
    const docs = createConfigDocuments({ sql, tenantId, defaults: { resolution_matrix: loadResolutionMatrix(), authority_matrix: loadAuthorityMatrix() } });
    const matrix = structuredClone(loadResolutionMatrix());
    matrix.rules = matrix.rules.filter((r) => !(r.reasonCode === 'pricing' && r.segments)); // pricing goes to pricing for everyone
    await docs.save('resolution_matrix', matrix, 'mark');
    expect(await run(activities.routeDispute, routeQuery)).toMatchObject({ ownerTeam: 'pricing', owner: 'pia', deadlineBusinessDays: 10 });
  });

  it('records a dispute once, with its owner notified, and its outcome once', async () => {
    const route = await run(activities.routeDispute, routeQuery);
    const dispute = { tenantId, disputeId: 'D-1', invoiceNumber: 'INV-1', customerId: 'C1', workflowId: 'dispute:x:D-1', disputedAmountMinor: 100_000, currency: 'EUR', reasonCode: 'pricing', note: 'price', source: 'api' as const, openedBy: 'anna', route };
    await run(activities.recordDispute, dispute);
    await run(activities.recordDispute, dispute); // a retry
    expect(await sql`select status, owner_user, owner_team from disputes where tenant_id = ${tenantId}`).toEqual([{ status: 'open', owner_user: 'pia', owner_team: 'pricing' }]);
    expect(await sql`select recipient_user_id, kind from internal_notifications where tenant_id = ${tenantId}`).toEqual([{ recipient_user_id: 'pia', kind: 'dispute_assigned' }]);
    await run(activities.disputeDeadlineEvent, { tenantId, disputeId: 'D-1', invoiceNumber: 'INV-1', customerId: 'C1', event: 'overdue', recipientUserId: 'mark', deadlineDate: route.deadlineDate });
    expect((await sql`select status from disputes where tenant_id = ${tenantId}`)[0]!.status).toBe('escalated');
    const outcome = { disputeId: 'D-1', status: 'resolved_valid' as const, creditAmountMinor: 20_000, creditMemoId: 'CM-1', rebillInvoiceNumber: null, openAmountMinorAfter: 80_000, resolvedBy: 'pia', rootCause: 'pricing_error' as const };
    await run(activities.recordDisputeOutcome, { tenantId, invoiceNumber: 'INV-1', outcome, disputedAmountMinor: 100_000, note: 'old list' });
    await run(activities.recordDisputeOutcome, { tenantId, invoiceNumber: 'INV-1', outcome, disputedAmountMinor: 100_000, note: 'old list' });
    expect(await sql`select status, credit_amount_minor, root_cause, resolved_by from disputes where tenant_id = ${tenantId}`).toEqual([
      { status: 'resolved_valid', credit_amount_minor: 20_000, root_cause: 'pricing_error', resolved_by: 'pia' },
    ]);
    expect((await sql`select event_type from audit_events where tenant_id = ${tenantId} and event_type like 'dispute%' order by id`).map((r) => r.event_type)).toEqual([
      'dispute_opened',
      'dispute_escalated',
      'dispute_resolved_valid',
    ]);
  });

  it('registers an approval with the role the matrix asks for (in the reporting currency), escalates and decides it once', async () => {
    const req = { tenantId, requestId: 'AR-1', invoiceNumber: 'INV-2', customerId: 'C1', workflowId: 'approval:x:AR-1', action: 'write_off' as const, amountMinor: 60_000, currency: 'USD', reason: 'insolvent', source: 'api' as const, requestedBy: 'anna', details: {} };
    const reg = await run(activities.registerApprovalRequest, req);
    // 600.00 USD = 552.00 EUR: above a team lead's 500.00.
    expect(reg).toEqual({ requiredRole: 'ar_manager', amountReportingMinor: 55_200, escalateAfterMs: 48 * 3_600_000 });
    expect(await run(activities.registerApprovalRequest, req)).toEqual(reg); // a retry
    await run(activities.escalateApprovalRequest, { tenantId, requestId: 'AR-1', invoiceNumber: 'INV-2', customerId: 'C1', toRole: 'admin', level: 1 });
    await run(activities.recordApprovalDecision, { tenantId, requestId: 'AR-1', invoiceNumber: 'INV-2', status: 'approved', decidedBy: 'root', note: 'ok' });
    await run(activities.recordApprovalDecision, { tenantId, requestId: 'AR-1', invoiceNumber: 'INV-2', status: 'rejected', decidedBy: 'late', note: 'too late' });
    expect(await sql`select status, required_role, level, decided_by from approval_requests where tenant_id = ${tenantId}`).toEqual([{ status: 'approved', required_role: 'admin', level: 1, decided_by: 'root' }]);
    expect(await sql`select role, kind from internal_notifications where tenant_id = ${tenantId} and request_id = 'AR-1' order by id`).toEqual([
      { role: 'ar_manager', kind: 'approval_requested' },
      { role: 'admin', kind: 'approval_escalated' },
    ]);
    expect(await run(activities.approvalNeeded, { tenantId, action: 'credit_hold' })).toBe(true);
  });
});

describe("what the API reads of them (db/ repositories)", () => {
  it('a dispute with its deadline day and collector, by filter and in the report; requests by status; notifications by reader, acknowledged once', async () => {
    expect(await disputeWithCollector(sql, tenantId, 'D-1')).toMatchObject({ dispute_id: 'D-1', status: 'resolved_valid', collector_id: 'anna', deadline_day: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) });
    expect(await disputeWithCollector(sql, tenantId, 'D-404')).toBeUndefined();
    expect((await disputesWithCollector(sql, tenantId, { status: 'resolved', ownerTeam: 'pricing' })).map((d) => d.dispute_id)).toEqual(['D-1']);
    expect(await disputesWithCollector(sql, tenantId, { status: 'open' })).toEqual([]);
    expect(await disputeReport(sql, tenantId, {})).toEqual({
      byReason: [{ reason_code: 'pricing', opened: 1, open: 0, overdue: 0, valid: 1, invalid: 0, withdrawn: 0, avg_days: expect.any(String) }],
      byRootCause: [{ root_cause: 'pricing_error', currency: 'EUR', resolved: 1, credited_minor: 20_000 }],
    });
    expect(await disputeReport(sql, tenantId, { to: '2000-01-01T00:00:00Z' })).toEqual({ byReason: [], byRootCause: [] });

    expect((await findApprovalRequest(sql, tenantId, 'AR-1'))?.status).toBe('approved');
    expect((await approvalRequests(sql, tenantId, { status: 'decided' })).map((r) => r.request_id)).toContain('AR-1');
    expect(await approvalRequests(sql, tenantId, { status: 'pending', requestedBy: 'anna' })).toEqual([]);

    const pia = { userId: 'pia', role: 'team_member' as const };
    const page = await pageOfNotifications(sql, tenantId, pia, { status: 'open', limit: 10, offset: 0 });
    expect(page.rows.map((r) => [r.kind, r.dispute_id])).toEqual([['dispute_assigned', 'D-1']]);
    expect(page.total).toBe(1);
    expect(await acknowledgeNotification(sql, tenantId, page.rows[0]!.id, { userId: 'mark', role: 'collector' })).toBe(false); // not theirs
    expect(await acknowledgeNotification(sql, tenantId, page.rows[0]!.id, pia)).toBe(true);
    expect((await pageOfNotifications(sql, tenantId, pia, { status: 'open', limit: 10, offset: 0 })).total).toBe(0);
    expect((await pageOfNotifications(sql, tenantId, pia, { status: 'all', limit: 10, offset: 0 })).rows.map((r) => r.status)).toEqual(['acknowledged']);
  });
});
