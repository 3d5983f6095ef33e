import { randomUUID } from 'node:crypto';
import { parse } from 'csv-parse/sync';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadReportsConfig } from '../../config/load';
import { decideApprovalRequest, insertApprovalRequestOnce } from '../../db/approval-requests';
import { appendCustomerActivity, type CustomerActivity } from '../../db/customer-activities';
import { insertDisputeOnce, resolveDispute } from '../../db/disputes';
import { upsertLedgerInvoices, type LedgerInvoice } from '../../db/ledger';
import { migrate } from '../../db/migrate';
import { insertPaymentOnce } from '../../db/payments';
import { insertPaymentPlanOnce, insertPromiseRowOnce, settlePromiseRow, type PromiseRowStatus } from '../../db/promises';
import { writeReportSettings } from '../../db/report-settings';
import type { Sql } from '../../db/sql';
import type { FxTable } from '../../domain/fx';
import { NoExchangeRateError } from '../../domain/reports/aging-lines';
import { activityReports } from '../../reports/activity';
import type { ReportContext, ReportDefinition } from '../../reports/definition';
import { ReportQueryError } from '../../reports/ledger';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The collection activity reports (collector effectiveness, disputes, write-offs, cash forecast) over facts written
 * with the product's own repositories (db/customer-activities, db/promises, db/disputes, db/approval-requests, the
 * ledger writer and ERP webhook payments, whose triggers make ar_items and dated ar_postings), then dated into the
 * past with one UPDATE each (the repositories stamp now()). Every expected figure is worked out by hand below.
 *
 * Reporting currency EUR: 1 USD = 0.92 EUR, 1 GBP = 1.17 EUR. Reporting zone Europe/Berlin (CET +1 until 29 March
 * 2026, CEST +2 after): March 2026 runs from 2026-02-28T23:00Z to 2026-03-31T22:00Z.
 *
 * People: col-a (Anna, collector of ACME), col-b (Ben, collector of BETA), lead (Lena, team lead), mgr (Mark, AR
 * manager). Customers: ACME (col-a), BETA (col-b), CORE (no collector), GAMMA (ledger only, no customers row).
 *
 * Ledger (minor units):
 *   A1 ACME EUR 100,000 issued 02-01 due 03-03; ERP pays 30,000 at 2026-03-31T22:30Z = 1 April 00:30 Berlin
 *   A2 ACME EUR  50,000 issued 01-10 due 02-09; ERP pays 20,000 on 03-20
 *   A4 ACME USD  40,000 issued 01-15 due 02-14; ERP pays  4,000 on 03-27
 *   A6 ACME EUR  12,000 issued 04-14 due 04-15
 *   A7 ACME EUR   9,000 issued 04-16 due 05-16 (after the forecast's as-of day)
 *   A8 ACME EUR  10,000 issued 03-20 due 04-30; ERP pays  6,000 on 04-02
 *   B1 BETA GBP  60,000 issued 02-15 due 03-17; ERP pays 10,000 on 03-10
 *   B2 BETA GBP  25,000 issued 03-01 due 04-20
 *   B3 BETA GBP   8,000 issued 04-01 due 06-30
 *   K1 CORE EUR  10,000 issued 02-01 due 03-03; the ledger says paid, settled 03-15 (an observed posting of 10,000 on 03-15)
 *   G1 GAMMA EUR 15,000 issued 01-01 due 01-31; ERP pays 5,000 on 03-05
 */
const tenantId = `actrep-${randomUUID().slice(0, 8)}`;
const fx: FxTable = { reportingCurrency: 'EUR', rates: { USD: '0.9200', GBP: '1.1700' } };
const config = { ...loadReportsConfig(), timeZone: 'Europe/Berlin' };
let t: TestApp;
let sql: Sql;
/** Tokens of a manager, of Anna (collector of ACME) and of a team member (no portfolio). */
let manager: Record<string, string>;
let anna: Record<string, string>;
let member: Record<string, string>;

const report = (name: string) => activityReports.find((r) => r.name === name)!;
/** A report run as the API runs it: the query parsed by its schema, then run with a context. */
async function run(name: string, query: Record<string, string>, over: Partial<ReportContext> = {}) {
  const r: ReportDefinition = report(name);
  const ctx: ReportContext = { sql, tenantId, collectorId: undefined, fx, config, today: '2026-04-15', ...over };
  return r.run(ctx, r.query.parse(query));
}
const march = { from: '2026-03-01', to: '2026-03-31' };

const ledgerRow = (invoiceNumber: string, customerId: string, currency: string, amountMinor: number, issueDate: string, dueDate: string, settledDate: string | null = null): LedgerInvoice => ({
  invoiceNumber,
  customerId,
  currency,
  amountMinor,
  openAmountMinor: settledDate ? 0 : amountMinor,
  status: settledDate ? 'paid' : 'open',
  issueDate,
  dueDate,
  settledDate,
  rebillOf: null,
  disputed: false,
});
const erpPayment = (paymentId: string, invoiceNumber: string, currency: string, amountMinor: number, receivedAt: string) =>
  insertPaymentOnce(sql, { tenantId, paymentId, invoiceNumber, amountMinor, currency, receivedAt, source: 'erp_webhook' });

async function activity(key: string, at: string, a: Omit<CustomerActivity, 'eventKey' | 'tenantId' | 'note'>) {
  const eventKey = `${tenantId}:${key}`;
  await appendCustomerActivity(sql, { ...a, eventKey, tenantId, note: key });
  await sql`update customer_activities set occurred_at = ${at} where event_key = ${eventKey}`;
}

interface PromiseFact {
  id: string;
  invoice: string;
  customer: string;
  currency: string;
  amount: number;
  promised: string;
  by: string;
  created: string;
  planId?: string;
  installmentNo?: number;
  verdict?: { status: Exclude<PromiseRowStatus, 'open'>; paid: number | null; at: string };
}
async function promise(p: PromiseFact) {
  await insertPromiseRowOnce(sql, {
    tenantId, promiseId: p.id, invoiceNumber: p.invoice, customerId: p.customer, planId: p.planId ?? null, installmentNo: p.installmentNo ?? null,
    amountMinor: p.amount, currency: p.currency, promisedDate: p.promised, checkDate: null, madeBy: 'AP clerk', recordedBy: p.by, collectorId: null,
  });
  if (p.verdict) {
    await settlePromiseRow(sql, { tenantId, promiseId: p.id, invoiceNumber: p.invoice }, { status: p.verdict.status, paidMinor: p.verdict.paid });
    await sql`update promises set evaluated_at = ${p.verdict.at} where tenant_id = ${tenantId} and promise_id = ${p.id} and invoice_number = ${p.invoice}`;
  }
  await sql`update promises set created_at = ${p.created} where tenant_id = ${tenantId} and promise_id = ${p.id} and invoice_number = ${p.invoice}`;
}

async function dispute(d: {
  id: string; invoice: string; customer: string; reason: string; team: string; opened: string; deadline: string;
  resolved?: { status: 'resolved_valid' | 'resolved_invalid' | 'withdrawn'; at: string };
}) {
  await insertDisputeOnce(sql, {
    tenantId, disputeId: d.id, invoiceNumber: d.invoice, customerId: d.customer, workflowId: `dispute:${tenantId}:${d.id}`, disputedAmountMinor: 1_000,
    currency: 'EUR', reasonCode: d.reason, note: '', source: 'api', openedBy: 'col-a',
    route: { ownerTeam: d.team, ownerTeamName: d.team, owner: null, lead: 'lead', deadlineBusinessDays: 5, reminderBusinessDaysBefore: 0, deadlineDate: d.deadline.slice(0, 10), deadlineAt: d.deadline, reminderAt: null },
  });
  if (d.resolved) {
    await resolveDispute(sql, tenantId, { disputeId: d.id, status: d.resolved.status, creditAmountMinor: 0, creditMemoId: null, rebillInvoiceNumber: null, openAmountMinorAfter: null, resolvedBy: 'pia', rootCause: null }, 'done');
  }
  await sql`update disputes set opened_at = ${d.opened}, resolved_at = ${d.resolved?.at ?? null} where tenant_id = ${tenantId} and dispute_id = ${d.id}`;
}

async function approval(a: { id: string; invoice: string; customer: string; action: 'write_off' | 'settlement'; currency: string; amount: number; reporting: number; reason: string; decision: 'approved' | 'rejected'; by: string; at: string }) {
  await insertApprovalRequestOnce(sql, {
    tenantId, requestId: a.id, invoiceNumber: a.invoice, customerId: a.customer, workflowId: `approval:${tenantId}:${a.id}`, action: a.action,
    amountMinor: a.amount, currency: a.currency, amountReportingMinor: a.reporting, reason: a.reason, source: 'api', requestedBy: 'col-a', requiredRole: 'team_lead', details: {},
  });
  await decideApprovalRequest(sql, tenantId, a.id, { status: a.decision, decidedBy: a.by, note: '' });
  await sql`update approval_requests set decided_at = ${a.at} where tenant_id = ${tenantId} and request_id = ${a.id}`;
}

beforeAll(async () => {
  t = await startTestApp(tenantId); // config/reports.json: Europe/Berlin; config/reporting.json: EUR, USD 0.92, GBP 1.17
  sql = t.sql;
  await migrate(sql);
  await writeReportSettings(sql, tenantId, 'Europe/Berlin');
  await sql`insert into users (tenant_id, user_id, name, role) values
            (${tenantId}, 'col-a', 'Anna Collector', 'collector'), (${tenantId}, 'col-b', 'Ben Collector', 'collector'),
            (${tenantId}, 'lead', 'Lena Lead', 'team_lead'), (${tenantId}, 'mgr', 'Mark Manager', 'ar_manager')`;
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id) values
            (${tenantId}, 'ACME', 'Acme GmbH', 'ap@acme.example', 'Europe/Berlin', 'de-DE', 'col-a'),
            (${tenantId}, 'BETA', 'Beta Ltd', 'ap@beta.example', 'Europe/London', 'en-GB', 'col-b'),
            (${tenantId}, 'CORE', 'Core SA', 'ap@core.example', 'Europe/Paris', 'fr-FR', null)`;
  manager = (await userWithToken(sql, tenantId, { userId: 'mgr', role: 'ar_manager' })).headers;
  anna = (await userWithToken(sql, tenantId, { userId: 'col-a', role: 'collector' })).headers;
  member = (await userWithToken(sql, tenantId, { userId: 'pia', role: 'team_member' })).headers;
  await sql`insert into ledger_customers (tenant_id, customer_id, name, source) values (${tenantId}, 'GAMMA', 'Gamma Inc', 'import')`;
  await upsertLedgerInvoices(
    sql,
    tenantId,
    [
      ledgerRow('A1', 'ACME', 'EUR', 100_000, '2026-02-01', '2026-03-03'),
      ledgerRow('A2', 'ACME', 'EUR', 50_000, '2026-01-10', '2026-02-09'),
      ledgerRow('A4', 'ACME', 'USD', 40_000, '2026-01-15', '2026-02-14'),
      ledgerRow('A6', 'ACME', 'EUR', 12_000, '2026-04-14', '2026-04-15'),
      ledgerRow('A7', 'ACME', 'EUR', 9_000, '2026-04-16', '2026-05-16'),
      ledgerRow('A8', 'ACME', 'EUR', 10_000, '2026-03-20', '2026-04-30'),
      ledgerRow('B1', 'BETA', 'GBP', 60_000, '2026-02-15', '2026-03-17'),
      ledgerRow('B2', 'BETA', 'GBP', 25_000, '2026-03-01', '2026-04-20'),
      ledgerRow('B3', 'BETA', 'GBP', 8_000, '2026-04-01', '2026-06-30'),
      ledgerRow('K1', 'CORE', 'EUR', 10_000, '2026-02-01', '2026-03-03'),
      ledgerRow('G1', 'GAMMA', 'EUR', 15_000, '2026-01-01', '2026-01-31'),
    ],
    { source: 'import' },
  );
  await upsertLedgerInvoices(sql, tenantId, [ledgerRow('K1', 'CORE', 'EUR', 10_000, '2026-02-01', '2026-03-03', '2026-03-15')], { source: 'import' });
  await erpPayment('P-A1', 'A1', 'EUR', 30_000, '2026-03-31T22:30:00Z');
  await erpPayment('P-A2', 'A2', 'EUR', 20_000, '2026-03-20T10:00:00Z');
  await erpPayment('P-A4', 'A4', 'USD', 4_000, '2026-03-27T12:00:00Z');
  await erpPayment('P-A8', 'A8', 'EUR', 6_000, '2026-04-02T10:00:00Z');
  await erpPayment('P-B1', 'B1', 'GBP', 10_000, '2026-03-10T10:00:00Z');
  await erpPayment('P-G1', 'G1', 'EUR', 5_000, '2026-03-05T10:00:00Z');

  // Touches (the numbers are the ones the comments of the tests use).
  await activity('t1', '2026-03-05T10:00:00Z', { customerId: 'ACME', actor: 'col-a', kind: 'call_outcome', outcome: 'promise_to_pay', reached: true });
  await activity('t2', '2026-03-06T10:00:00Z', { customerId: 'ACME', actor: 'col-a', kind: 'call_outcome', outcome: 'no_answer', reached: false });
  await activity('t3', '2026-03-07T10:00:00Z', { customerId: 'ACME', actor: 'col-a', kind: 'note' });
  await activity('t4', '2026-03-05T10:00:00Z', { customerId: 'ACME', actor: 'col-a', kind: 'promise' }); // not a touch: its call is t1
  await activity('t5', '2026-03-08T10:00:00Z', { customerId: 'ACME', actor: 'workflow', kind: 'call_outcome', reached: true }); // the workflow's own entry
  await activity('t6', '2026-03-31T21:30:00Z', { customerId: 'BETA', actor: 'col-b', kind: 'call_outcome', outcome: 'promise_to_pay', reached: true }); // 23:30 CEST on 31 March: in
  await activity('t7', '2026-03-31T22:30:00Z', { customerId: 'BETA', actor: 'col-b', kind: 'call_outcome', reached: true }); // 00:30 on 1 April: out
  await activity('t8', '2026-02-28T22:30:00Z', { customerId: 'BETA', actor: 'col-b', kind: 'note' }); // 23:30 CET on 28 February: out
  await activity('t9', '2026-03-10T10:00:00Z', { customerId: 'ACME', actor: 'lead', kind: 'call_outcome', reached: true });
  await activity('t10', '2026-03-12T10:00:00Z', { customerId: 'BETA', actor: 'col-a', kind: 'note' }); // Anna covering for Ben
  await activity('t11', '2026-03-13T10:00:00Z', { customerId: 'ACME', actor: 'col-a', kind: 'pause' }); // not a touch

  // Promises and plans.
  await insertPaymentPlanOnce(sql, { tenantId, planId: 'PLAN-1', customerId: 'ACME', currency: 'USD', totalMinor: 20_000, maxMissed: 0, createdBy: 'col-a' });
  const facts: PromiseFact[] = [
    { id: 'PTP-1', invoice: 'A1', customer: 'ACME', currency: 'EUR', amount: 30_000, promised: '2026-03-20', by: 'col-a', created: '2026-03-05T10:00:00Z', verdict: { status: 'kept', paid: 30_000, at: '2026-03-23T08:00:00Z' } },
    { id: 'PLAN-1-1', invoice: 'A4', customer: 'ACME', currency: 'USD', amount: 10_000, promised: '2026-03-25', by: 'col-a', created: '2026-03-06T10:00:00Z', planId: 'PLAN-1', installmentNo: 1, verdict: { status: 'partially_kept', paid: 4_000, at: '2026-03-27T08:00:00Z' } },
    { id: 'PLAN-1-2', invoice: 'A4', customer: 'ACME', currency: 'USD', amount: 10_000, promised: '2026-04-25', by: 'col-a', created: '2026-03-06T10:00:00Z', planId: 'PLAN-1', installmentNo: 2 },
    { id: 'PTP-3', invoice: 'B1', customer: 'BETA', currency: 'GBP', amount: 20_000, promised: '2026-03-28', by: 'col-b', created: '2026-02-20T10:00:00Z', verdict: { status: 'broken', paid: null, at: '2026-03-31T08:00:00Z' } },
    { id: 'PTP-4', invoice: 'B2', customer: 'BETA', currency: 'GBP', amount: 5_000, promised: '2026-04-10', by: 'col-b', created: '2026-03-15T10:00:00Z' },
    { id: 'PTP-5', invoice: 'A1', customer: 'ACME', currency: 'EUR', amount: 7_000, promised: '2026-03-18', by: 'col-a', created: '2026-03-09T10:00:00Z', verdict: { status: 'cancelled', paid: null, at: '2026-03-09T11:00:00Z' } },
    { id: 'PTP-6', invoice: 'A2', customer: 'ACME', currency: 'EUR', amount: 8_000, promised: '2026-03-30', by: 'col-a', created: '2026-02-25T10:00:00Z', verdict: { status: 'kept', paid: 9_000, at: '2026-03-31T08:00:00Z' } },
    { id: 'PTP-7', invoice: 'A1', customer: 'ACME', currency: 'EUR', amount: 2_000, promised: '2026-05-05', by: 'lead', created: '2026-03-10T10:00:00Z' },
    { id: 'PTP-7', invoice: 'A2', customer: 'ACME', currency: 'EUR', amount: 3_000, promised: '2026-05-05', by: 'lead', created: '2026-03-10T10:00:00Z' },
    { id: 'PTP-8a', invoice: 'A8', customer: 'ACME', currency: 'EUR', amount: 3_000, promised: '2026-04-22', by: 'col-a', created: '2026-04-03T10:00:00Z' },
    { id: 'PTP-8b', invoice: 'A8', customer: 'ACME', currency: 'EUR', amount: 3_000, promised: '2026-04-29', by: 'col-a', created: '2026-04-03T10:00:00Z' },
    { id: 'PTP-9', invoice: 'A6', customer: 'ACME', currency: 'EUR', amount: 5_000, promised: '2026-04-17', by: 'col-a', created: '2026-04-16T10:00:00Z' }, // recorded after the as-of day
    { id: 'PTP-10', invoice: 'A6', customer: 'ACME', currency: 'EUR', amount: 2_000, promised: '2026-04-14', by: 'col-a', created: '2026-04-14T12:00:00Z', verdict: { status: 'kept', paid: 2_000, at: '2026-04-16T08:00:00Z' } }, // evaluated after it
  ];
  for (const f of facts) await promise(f);

  // Disputes.
  await dispute({ id: 'D1', invoice: 'A1', customer: 'ACME', reason: 'pricing', team: 'pricing', opened: '2026-03-02T08:00:00Z', deadline: '2026-03-09T23:00:00Z', resolved: { status: 'resolved_valid', at: '2026-03-05T20:00:00Z' } });
  await dispute({ id: 'D2', invoice: 'A2', customer: 'ACME', reason: 'pricing', team: 'pricing', opened: '2026-02-20T09:00:00Z', deadline: '2026-02-27T23:00:00Z', resolved: { status: 'resolved_invalid', at: '2026-03-10T09:00:00Z' } });
  await dispute({ id: 'D3', invoice: 'B1', customer: 'BETA', reason: 'not_received', team: 'logistics', opened: '2026-03-10T10:00:00Z', deadline: '2026-03-17T23:00:00Z', resolved: { status: 'withdrawn', at: '2026-03-11T16:00:00Z' } });
  await dispute({ id: 'D4', invoice: 'B2', customer: 'BETA', reason: 'pricing', team: 'sales', opened: '2026-03-20T00:00:00Z', deadline: '2026-03-25T00:00:00Z' });
  await dispute({ id: 'D5', invoice: 'A4', customer: 'ACME', reason: 'service_quality', team: 'customer_service', opened: '2026-03-28T00:00:00Z', deadline: '2026-04-20T00:00:00Z' });
  await dispute({ id: 'D6', invoice: 'K1', customer: 'CORE', reason: 'pricing', team: 'pricing', opened: '2026-03-30T10:00:00Z', deadline: '2026-03-31T12:00:00Z', resolved: { status: 'resolved_valid', at: '2026-04-02T10:00:00Z' } });
  await dispute({ id: 'D7', invoice: 'A1', customer: 'ACME', reason: 'pricing', team: 'pricing', opened: '2026-01-05T10:00:00Z', deadline: '2026-01-12T23:00:00Z', resolved: { status: 'resolved_valid', at: '2026-02-01T10:00:00Z' } });
  await dispute({ id: 'D8', invoice: 'B1', customer: 'BETA', reason: 'pricing', team: 'pricing', opened: '2026-03-03T00:00:00Z', deadline: '2026-03-10T00:00:00Z', resolved: { status: 'resolved_valid', at: '2026-03-09T00:00:00Z' } });

  // Approvals.
  await approval({ id: 'W1', invoice: 'A2', customer: 'ACME', action: 'write_off', currency: 'EUR', amount: 5_000, reporting: 5_000, reason: 'small balance', decision: 'approved', by: 'mgr', at: '2026-03-10T10:00:00Z' });
  await approval({ id: 'W2', invoice: 'A4', customer: 'ACME', action: 'write_off', currency: 'USD', amount: 2_000, reporting: 1_840, reason: 'small balance', decision: 'approved', by: 'lead', at: '2026-03-12T10:00:00Z' });
  await approval({ id: 'W3', invoice: 'B1', customer: 'BETA', action: 'write_off', currency: 'GBP', amount: 10_000, reporting: 11_700, reason: 'insolvency', decision: 'approved', by: 'mgr', at: '2026-03-31T21:00:00Z' });
  await approval({ id: 'W4', invoice: 'B2', customer: 'BETA', action: 'write_off', currency: 'GBP', amount: 1_000, reporting: 1_170, reason: 'insolvency', decision: 'approved', by: 'mgr', at: '2026-03-31T22:30:00Z' });
  await approval({ id: 'W5', invoice: 'A1', customer: 'ACME', action: 'write_off', currency: 'EUR', amount: 3_000, reporting: 3_000, reason: 'small balance', decision: 'rejected', by: 'mgr', at: '2026-03-15T10:00:00Z' });
  await approval({ id: 'W6', invoice: 'A1', customer: 'ACME', action: 'settlement', currency: 'EUR', amount: 4_000, reporting: 4_000, reason: 'settlement', decision: 'approved', by: 'mgr', at: '2026-03-16T10:00:00Z' });
  await approval({ id: 'W7', invoice: 'K1', customer: 'CORE', action: 'write_off', currency: 'EUR', amount: 500, reporting: 500, reason: 'small balance', decision: 'approved', by: 'mgr', at: '2026-03-20T10:00:00Z' });
});
afterAll(async () => {
  await t?.close();
});

describe('collector effectiveness, March 2026', () => {
  /*
   * Touches (call outcomes and notes by people; t4 promise, t5 workflow, t11 pause are not touches; t7 and t8 fall outside March in Berlin):
   *   col-a: calls t1 (reached), t2; notes t3, t10 -> touches 4, reached 1, reach 1/2 = 50.00 %
   *   col-b: call t6 (reached, 23:30 CEST on 31 March)   -> touches 1, reached 1, 100.00 %
   *   lead:  call t9 (reached)                             -> touches 1, reached 1, 100.00 %
   *   total: calls 4, notes 2, touches 6, reached 3 -> 3/4 = 75.00 %
   * Promises taken (recorded in March, cancelled PTP-5 left out):
   *   col-a: PTP-1 (EUR 30,000) and the plan PLAN-1 (two USD 10,000 rows, one commitment) -> 2;
   *          30,000 + 20,000 USD * 0.92 = 18,400 -> 48,400 EUR
   *   col-b: PTP-4 (GBP 5,000; PTP-3 was recorded in February) -> 1; 5,000 * 1.17 = 5,850
   *   lead:  PTP-7 over A1 and A2 (2,000 + 3,000 EUR, one promise) -> 1; 5,000
   *   total: 4; EUR 35,000 + 18,400 + 5,850 = 59,250
   * Kept rates (rows promised in March and evaluated; PTP-5 cancelled, PLAN-1-2 and PTP-4 still open):
   *   col-a: PTP-1 kept 30,000/30,000 EUR, PTP-6 kept 8,000 of 8,000 EUR (paid 9,000, counted up to 8,000),
   *          PLAN-1-1 partially 4,000/10,000 USD -> count 2/3 = 66.666..% -> 66.67;
   *          amount: paid 38,000 EUR + 4,000 USD (3,680) = 41,680 of 38,000 + 10,000 USD (9,200) = 47,200 -> 88.305..% -> 88.31
   *   col-b: PTP-3 broken, 0 of 20,000 GBP (23,400) -> 0.00 by count and by amount
   *   lead:  nothing evaluated -> null, null
   *   total: kept 2, partially 1, broken 1 -> 2/4 = 50.00; 41,680 / (47,200 + 23,400 = 70,600) = 59.036..% -> 59.04
   * Collected (payments and positive observed postings dated in March, by the customer's collector now):
   *   col-a: A2 20,000 EUR (03-20), A4 4,000 USD (03-27) -> 20,000 + 3,680 = 23,680 (A1's 30,000 arrived on 1 April)
   *   col-b: B1 10,000 GBP (03-10) -> 11,700
   *   null:  K1 10,000 EUR observed on 03-15 (CORE has no collector), G1 5,000 EUR (GAMMA, ledger only) -> 15,000
   *   total: EUR 35,000 + USD 4,000 (3,680) + GBP 10,000 (11,700) = 50,380
   */
  it('per person and in total, for a manager', async () => {
    const r = await run('collector-effectiveness', march);
    expect(r).toMatchObject({ report: 'collector-effectiveness', from: '2026-03-01', to: '2026-03-31', reportingCurrency: 'EUR' });
    const rows = r.collectors.map((c: Record<string, unknown>) => ({ ...c, byCurrency: undefined }));
    expect(rows).toEqual([
      { collectorId: 'col-a', name: 'Anna Collector', touches: 4, calls: 2, notes: 2, reached: 1, reachRate: 50, promisesTaken: 2, promisedMinor: 48_400, kept: 2, partiallyKept: 1, broken: 0, keptRateByCount: 66.67, keptRateByAmount: 88.31, collectedMinor: 23_680, byCurrency: undefined },
      { collectorId: 'col-b', name: 'Ben Collector', touches: 1, calls: 1, notes: 0, reached: 1, reachRate: 100, promisesTaken: 1, promisedMinor: 5_850, kept: 0, partiallyKept: 0, broken: 1, keptRateByCount: 0, keptRateByAmount: 0, collectedMinor: 11_700, byCurrency: undefined },
      { collectorId: 'lead', name: 'Lena Lead', touches: 1, calls: 1, notes: 0, reached: 1, reachRate: 100, promisesTaken: 1, promisedMinor: 5_000, kept: 0, partiallyKept: 0, broken: 0, keptRateByCount: null, keptRateByAmount: null, collectedMinor: 0, byCurrency: undefined },
      { collectorId: null, name: null, touches: 0, calls: 0, notes: 0, reached: 0, reachRate: null, promisesTaken: 0, promisedMinor: 0, kept: 0, partiallyKept: 0, broken: 0, keptRateByCount: null, keptRateByAmount: null, collectedMinor: 15_000, byCurrency: undefined },
    ]);
    expect(r.collectors[0].byCurrency).toEqual([
      { currency: 'EUR', promisedMinor: 30_000, dueEvaluatedMinor: 38_000, paidEvaluatedMinor: 38_000, collectedMinor: 20_000 },
      { currency: 'USD', promisedMinor: 20_000, dueEvaluatedMinor: 10_000, paidEvaluatedMinor: 4_000, collectedMinor: 4_000 },
    ]);
    expect(r.total).toEqual({
      touches: 6, calls: 4, notes: 2, reached: 3, reachRate: 75, promisesTaken: 4, promisedMinor: 59_250, kept: 2, partiallyKept: 1, broken: 1,
      keptRateByCount: 50, keptRateByAmount: 59.04, collectedMinor: 50_380,
      byCurrency: [
        { currency: 'EUR', promisedMinor: 35_000, dueEvaluatedMinor: 38_000, paidEvaluatedMinor: 38_000, collectedMinor: 35_000 },
        { currency: 'GBP', promisedMinor: 5_000, dueEvaluatedMinor: 20_000, paidEvaluatedMinor: 0, collectedMinor: 10_000 },
        { currency: 'USD', promisedMinor: 20_000, dueEvaluatedMinor: 10_000, paidEvaluatedMinor: 4_000, collectedMinor: 4_000 },
      ],
    });
  });

  /*
   * Anna's portfolio is ACME: touches on ACME only (t1, t2, t3 by her; t9 by the lead; her note t10 is on BETA),
   * promises on ACME (hers and the lead's PTP-7), money on ACME (23,680). No BETA, CORE or GAMMA figure.
   */
  it("a collector's covers the customers of their portfolio only", async () => {
    const r = await run('collector-effectiveness', march, { collectorId: 'col-a' });
    expect(r.collectors.map((c: { collectorId: string | null; touches: number; promisesTaken: number; collectedMinor: number }) => [c.collectorId, c.touches, c.promisesTaken, c.collectedMinor])).toEqual([
      ['col-a', 3, 2, 23_680],
      ['lead', 1, 1, 0],
    ]);
    expect(r.total).toMatchObject({ touches: 4, promisesTaken: 3, promisedMinor: 53_400, collectedMinor: 23_680, keptRateByCount: 66.67 });
  });

  it('the default period is the 30 days ending today (2026-03-17 to 2026-04-15)', async () => {
    const r = await run('collector-effectiveness', {});
    expect([r.from, r.to]).toEqual(['2026-03-17', '2026-04-15']);
    // Touches from 17 March: t6 (31 March), t7 (1 April) -> col-b 2 calls, both reached.
    expect(r.collectors.find((c: { collectorId: string | null }) => c.collectorId === 'col-b')).toMatchObject({ calls: 2, reached: 2 });
  });
});

describe('disputes, March 2026', () => {
  /*
   * Cycle times: D1 03-02 08:00 -> 03-05 20:00 = 3.5 days; D2 02-20 09:00 -> 03-10 09:00 = 18 days; D3 03-10 10:00 -> 03-11 16:00
   * = 1.25 days; D8 03-03 -> 03-09 = 6 days (all in UTC, no DST change between). D6 resolved on 2 April (after March),
   * D7 in February (outside). Open at the end of March (2026-03-31T22:00Z): D4, D5, D6 (resolved after); overdue then:
   * D4 (deadline 03-25), D6 (deadline 03-31 12:00Z); D5's deadline is 20 April.
   *   pricing (reason): opened D1, D4, D6, D8 = 4; resolved D1, D2, D8 = 3 (valid 2, invalid 1);
   *        average (3.5 + 18 + 6) / 3 = 9.1666.. -> 9.17; median of 3.5, 6, 18 = 6; open D4, D6 = 2, overdue 2
   *   not_received: D3 opened 1, withdrawn 1, 1.25 / 1.25, open 0
   *   service_quality: D5 opened 1, nothing resolved (null, null), open 1, overdue 0
   *   teams: pricing D1, D2, D6, D8 -> opened 3, resolved 3, 9.17 / 6, open 1 (D6), overdue 1;
   *          logistics D3; sales D4 (opened 1, open 1, overdue 1); customer_service D5
   *   total: opened 6 (D1, D3, D4, D5, D6, D8), resolved 4 (valid 2, invalid 1, withdrawn 1),
   *          average (1.25 + 3.5 + 6 + 18) / 4 = 7.1875 -> 7.19, median (3.5 + 6) / 2 = 4.75, open 3, overdue 2
   */
  it('by reason, by owner team and in total', async () => {
    const r = await run('dispute-cycle-time', march);
    expect(r.openAt).toBe('2026-04-01T00:00:00.000+02:00');
    const line = (key: string, opened: number, resolved: number, valid: number, invalid: number, withdrawn: number, averageDays: number | null, medianDays: number | null, openAtEnd: number, overdueAtEnd: number) => ({
      key, opened, resolved, resolvedValid: valid, resolvedInvalid: invalid, withdrawn, averageDays, medianDays, openAtEnd, overdueAtEnd,
    });
    expect(r.byReason).toEqual([
      line('not_received', 1, 1, 0, 0, 1, 1.25, 1.25, 0, 0),
      line('pricing', 4, 3, 2, 1, 0, 9.17, 6, 2, 2),
      line('service_quality', 1, 0, 0, 0, 0, null, null, 1, 0),
    ]);
    expect(r.byOwnerTeam).toEqual([
      line('customer_service', 1, 0, 0, 0, 0, null, null, 1, 0),
      line('logistics', 1, 1, 0, 0, 1, 1.25, 1.25, 0, 0),
      line('pricing', 3, 3, 2, 1, 0, 9.17, 6, 1, 1),
      line('sales', 1, 0, 0, 0, 0, null, null, 1, 1),
    ]);
    const { key: _, ...total } = line('', 6, 4, 2, 1, 1, 7.19, 4.75, 3, 2);
    expect(r.total).toEqual(total);
  });

  /* Anna's ACME: D1 and D2 resolved (3.5, 18 -> average and median 10.75), D5 open; opened in March D1, D5. */
  it("a collector's covers their portfolio's disputes only", async () => {
    const r = await run('dispute-cycle-time', march, { collectorId: 'col-a' });
    expect(r.byReason.map((l: { key: string }) => l.key)).toEqual(['pricing', 'service_quality']);
    expect(r.total).toEqual({ opened: 2, resolved: 2, resolvedValid: 1, resolvedInvalid: 1, withdrawn: 0, averageDays: 10.75, medianDays: 10.75, openAtEnd: 1, overdueAtEnd: 0 });
  });
});

describe('write-offs, March 2026', () => {
  /*
   * Approved write-offs decided in March (Berlin): W1 (EUR 5,000, mgr), W2 (USD 2,000 = 1,840 stored, lead), W3 (GBP 10,000 =
   * 11,700, mgr, 23:00 CEST on 31 March), W7 (EUR 500, mgr). W4 was decided at 00:30 on 1 April, W5 rejected, W6 a settlement.
   *   by reason: insolvency W3 1, 11,700; small balance W1, W2, W7 3, 5,000 + 1,840 + 500 = 7,340 (largest first)
   *   by approver: mgr W1, W3, W7 3, 5,000 + 11,700 + 500 = 17,200; lead W2 1, 1,840
   *   total 4, 19,040; EUR 2 / 5,500, GBP 1 / 10,000 (11,700), USD 1 / 2,000 (1,840)
   */
  it('by reason and by approver, in currency and in the reporting currency', async () => {
    const r = await run('write-offs', march);
    expect(r.byReason).toEqual([
      { key: 'insolvency', name: null, count: 1, reportingMinor: 11_700, byCurrency: [{ currency: 'GBP', count: 1, amountMinor: 10_000, reportingMinor: 11_700 }] },
      {
        key: 'small balance', name: null, count: 3, reportingMinor: 7_340,
        byCurrency: [{ currency: 'EUR', count: 2, amountMinor: 5_500, reportingMinor: 5_500 }, { currency: 'USD', count: 1, amountMinor: 2_000, reportingMinor: 1_840 }],
      },
    ]);
    expect(r.byApprover).toEqual([
      {
        key: 'mgr', name: 'Mark Manager', count: 3, reportingMinor: 17_200,
        byCurrency: [{ currency: 'EUR', count: 2, amountMinor: 5_500, reportingMinor: 5_500 }, { currency: 'GBP', count: 1, amountMinor: 10_000, reportingMinor: 11_700 }],
      },
      { key: 'lead', name: 'Lena Lead', count: 1, reportingMinor: 1_840, byCurrency: [{ currency: 'USD', count: 1, amountMinor: 2_000, reportingMinor: 1_840 }] },
    ]);
    expect(r.total).toEqual({
      count: 4, reportingMinor: 19_040,
      byCurrency: [
        { currency: 'EUR', count: 2, amountMinor: 5_500, reportingMinor: 5_500 },
        { currency: 'GBP', count: 1, amountMinor: 10_000, reportingMinor: 11_700 },
        { currency: 'USD', count: 1, amountMinor: 2_000, reportingMinor: 1_840 },
      ],
    });
  });

  /* Ben's BETA: W3 only (W4 fell on 1 April). */
  it("a collector's covers their portfolio's write-offs only", async () => {
    const r = await run('write-offs', march, { collectorId: 'col-b' });
    expect(r.total).toMatchObject({ count: 1, reportingMinor: 11_700 });
    expect(r.byApprover.map((g: { key: string }) => g.key)).toEqual(['mgr']);
  });
});

describe('cash forecast as of 2026-04-15 (a Wednesday), 4 weeks', () => {
  /*
   * Weeks from Monday 2026-04-13: 1 = 04-13..04-19 (2026-W16), 2 = 04-20..04-26, 3 = 04-27..05-03, 4 = 05-04..05-10; later from 05-11.
   * Open at 04-15 (postings on or before it) and the promises open then:
   *   A1 EUR 100,000 - 30,000 = 70,000, due 03-03: PTP-7's 2,000 (05-05, week 4); rest 68,000 overdue
   *        (PTP-1 kept and PTP-5 cancelled before the as-of day)
   *   A2 EUR 50,000 - 20,000 = 30,000, due 02-09: PTP-7's 3,000 (week 4); rest 27,000 overdue
   *   A4 USD 40,000 - 4,000 = 36,000, due 02-14: PLAN-1-2 10,000 (04-25, week 2); rest 26,000 overdue
   *   A6 EUR 12,000, due 04-15 (on the day: not past due): PTP-10 2,000 (04-14, week 1; kept only on 04-16, so open at
   *        04-15); PTP-9 was recorded on 04-16; rest 10,000 due in week 1
   *   A7 issued 04-16: not open
   *   A8 EUR 10,000 - 6,000 = 4,000, due 04-30: PTP-8a 3,000 (04-22, week 2), PTP-8b 3,000 capped to the 1,000 left
   *        (04-29, week 3); rest 0
   *   B1 GBP 60,000 - 10,000 = 50,000, due 03-17: PTP-3 broken; 50,000 overdue
   *   B2 GBP 25,000, due 04-20: PTP-4 5,000 (04-10, before the as-of day, not yet evaluated: week 1); rest 20,000 due in week 2
   *   B3 GBP 8,000, due 06-30: later
   *   K1 settled 03-15: not open.  G1 EUR 15,000 - 5,000 = 10,000, due 01-31: overdue
   * Overdue, unscheduled: EUR 68,000 + 27,000 + 10,000 = 105,000; USD 26,000 (23,920); GBP 50,000 (58,500) -> 187,420
   * Week 1: promised EUR 2,000 + GBP 5,000 (5,850) = 7,850; due EUR 10,000; total EUR 12,000 + 5,850 = 17,850
   * Week 2: promised EUR 3,000 + USD 10,000 (9,200) = 12,200; due GBP 20,000 (23,400); total 35,600
   * Week 3: promised EUR 1,000. Week 4: promised EUR 5,000. Later: due GBP 8,000 (9,360)
   * Open AR: EUR 70,000 + 30,000 + 12,000 + 4,000 + 10,000 = 126,000; GBP 50,000 + 25,000 + 8,000 = 83,000 (97,110);
   *          USD 36,000 (33,120) -> 256,230 (and each currency's lines add up to it)
   */
  it('promises and plan installments by their date, the rest by due date, overdue unscheduled apart', async () => {
    const r = await run('cash-forecast', { asOf: '2026-04-15', weeks: '4' });
    expect(r.overdueUnscheduled).toEqual({
      totalMinor: 187_420,
      byCurrency: [{ currency: 'EUR', totalMinor: 105_000 }, { currency: 'GBP', totalMinor: 50_000 }, { currency: 'USD', totalMinor: 26_000 }],
    });
    expect(r.weekly).toEqual([
      {
        week: 1, isoWeek: '2026-W16', from: '2026-04-13', to: '2026-04-19', promisedMinor: 7_850, dueMinor: 10_000, totalMinor: 17_850,
        byCurrency: [{ currency: 'EUR', promisedMinor: 2_000, dueMinor: 10_000, totalMinor: 12_000 }, { currency: 'GBP', promisedMinor: 5_000, dueMinor: 0, totalMinor: 5_000 }],
      },
      {
        week: 2, isoWeek: '2026-W17', from: '2026-04-20', to: '2026-04-26', promisedMinor: 12_200, dueMinor: 23_400, totalMinor: 35_600,
        byCurrency: [
          { currency: 'EUR', promisedMinor: 3_000, dueMinor: 0, totalMinor: 3_000 },
          { currency: 'GBP', promisedMinor: 0, dueMinor: 20_000, totalMinor: 20_000 },
          { currency: 'USD', promisedMinor: 10_000, dueMinor: 0, totalMinor: 10_000 },
        ],
      },
      { week: 3, isoWeek: '2026-W18', from: '2026-04-27', to: '2026-05-03', promisedMinor: 1_000, dueMinor: 0, totalMinor: 1_000, byCurrency: [{ currency: 'EUR', promisedMinor: 1_000, dueMinor: 0, totalMinor: 1_000 }] },
      { week: 4, isoWeek: '2026-W19', from: '2026-05-04', to: '2026-05-10', promisedMinor: 5_000, dueMinor: 0, totalMinor: 5_000, byCurrency: [{ currency: 'EUR', promisedMinor: 5_000, dueMinor: 0, totalMinor: 5_000 }] },
    ]);
    expect(r.later).toEqual({ promisedMinor: 0, dueMinor: 9_360, totalMinor: 9_360, byCurrency: [{ currency: 'GBP', promisedMinor: 0, dueMinor: 8_000, totalMinor: 8_000 }] });
    expect(r.total).toEqual({
      openArMinor: 256_230,
      byCurrency: [{ currency: 'EUR', openArMinor: 126_000 }, { currency: 'GBP', openArMinor: 83_000 }, { currency: 'USD', openArMinor: 36_000 }],
    });
  });

  it('13 weeks by default from the week of today; a collector sees their portfolio only', async () => {
    const all = await run('cash-forecast', {});
    expect(all.asOf).toBe('2026-04-15');
    expect(all.weekly).toHaveLength(13);
    expect(all.weekly[12]).toMatchObject({ week: 13, from: '2026-07-06', to: '2026-07-12' });
    // B3 (due 06-30) falls in week 12 (06-29..07-05) of 13.
    expect(all.weekly[11]).toMatchObject({ from: '2026-06-29', dueMinor: 9_360 });
    expect(all.later.totalMinor).toBe(0);
    // Ben's BETA: B1 50,000 overdue, PTP-4 5,000 in week 1, B2's 20,000 in week 2, B3 8,000 in week 12 -> GBP 83,000 = 97,110.
    const ben = await run('cash-forecast', {}, { collectorId: 'col-b' });
    expect(ben.overdueUnscheduled).toEqual({ totalMinor: 58_500, byCurrency: [{ currency: 'GBP', totalMinor: 50_000 }] });
    expect(ben.weekly.map((w: { totalMinor: number }) => w.totalMinor)).toEqual([5_850, 23_400, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9_360, 0]);
    expect(ben.total).toEqual({ openArMinor: 97_110, byCurrency: [{ currency: 'GBP', openArMinor: 83_000 }] });
  });

  it('a currency without a rate is refused, naming it', async () => {
    await expect(run('cash-forecast', { asOf: '2026-04-15' }, { fx: { reportingCurrency: 'EUR', rates: { USD: '0.9200' } } })).rejects.toThrow(NoExchangeRateError);
    await expect(run('cash-forecast', { asOf: '2026-04-15' }, { fx: { reportingCurrency: 'EUR', rates: { USD: '0.9200' } } })).rejects.toThrow(/GBP/);
  });
});

describe('bad input', () => {
  it('a period whose first day is after its last is a 400; malformed fields fail the schema', async () => {
    await expect(run('write-offs', { from: '2026-04-01', to: '2026-03-31' })).rejects.toThrow(ReportQueryError);
    await expect(run('dispute-cycle-time', { from: '2026-04-20' })).rejects.toThrow(/after its last/); // to defaults to today, 04-15
    expect(report('dispute-cycle-time').query.safeParse({ from: '2026-02-30' }).success).toBe(false);
    expect(report('collector-effectiveness').query.safeParse({ to: 'yesterday' }).success).toBe(false);
    expect(report('cash-forecast').query.safeParse({ weeks: '0' }).success).toBe(false);
    expect(report('cash-forecast').query.safeParse({ weeks: '105' }).success).toBe(false);
    expect(report('cash-forecast').query.safeParse({ weeks: '2.5' }).success).toBe(false);
  });
});

describe('tables and the pack', () => {
  it('every report gives tables whose rows carry the JSON figures; the pack asks for the month', async () => {
    const ctx: ReportContext = { sql, tenantId, collectorId: undefined, fx, config, today: '2026-04-15' };
    const eff = report('collector-effectiveness');
    expect(eff.packQuery!({ month: '2026-03', monthEnd: '2026-03-31', asOf: '2026-03-31' }, ctx)).toEqual(march);
    expect(report('cash-forecast').packQuery!({ month: '2026-03', monthEnd: '2026-03-31', asOf: '2026-03-31' }, ctx)).toEqual({ asOf: '2026-03-31' });
    const [main] = eff.tables(await run('collector-effectiveness', march), ctx);
    expect(main!.rows[0]).toMatchObject({ collector: 'col-a', touches: 4, collected: 23_680, keptRateByAmount: 88.31 });
    expect(main!.rows.at(-1)).toMatchObject({ collector: 'unassigned', collected: 15_000 });
    expect(main!.totals).toMatchObject({ collector: 'Total', collected: 50_380 });
    const forecast = report('cash-forecast').tables(await run('cash-forecast', { asOf: '2026-04-15', weeks: '4' }), ctx);
    expect(forecast[0]!.rows.map((row) => row.total)).toEqual([187_420, 17_850, 35_600, 1_000, 5_000, 9_360]);
    expect(forecast[0]!.totals).toMatchObject({ total: 256_230 });
    const names = activityReports.flatMap((r) => r.tables(r.name === 'cash-forecast' ? forecastFor : emptyOf(r.name), ctx).map((t) => t.name));
    expect(new Set(names).size).toBe(names.length);
    for (const n of names) expect(n.length).toBeLessThanOrEqual(31);
  });
});

// Empty results, for the sheet names alone.
const forecastFor = { report: 'cash-forecast', asOf: '2026-04-15', weeks: 1, reportingCurrency: 'EUR', overdueUnscheduled: { totalMinor: 0, byCurrency: [] }, weekly: [], later: { promisedMinor: 0, dueMinor: 0, totalMinor: 0, byCurrency: [] }, total: { openArMinor: 0, byCurrency: [] } };
function emptyOf(name: string) {
  const total = { count: 0, reportingMinor: 0, byCurrency: [] };
  if (name === 'write-offs') return { report: name, from: '', to: '', reportingCurrency: 'EUR', byReason: [], byApprover: [], total };
  if (name === 'dispute-cycle-time') return { report: name, from: '', to: '', openAt: '', byReason: [], byOwnerTeam: [], total: {} };
  return { report: name, from: '', to: '', reportingCurrency: 'EUR', collectors: [], total: { byCurrency: [] } };
}

describe('over HTTP', () => {
  const get = (url: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url, headers });

  it('each report is mounted at /reports/<name>, answers the same JSON as its definition, and is scoped by the token', async () => {
    const list = (await get('/reports', manager)).json() as { reports: { name: string; inArPack: boolean }[] };
    expect(list.reports.filter((r) => activityReports.some((a) => a.name === r.name))).toEqual([
      expect.objectContaining({ name: 'collector-effectiveness', inArPack: true }),
      expect.objectContaining({ name: 'dispute-cycle-time', inArPack: true }),
      expect.objectContaining({ name: 'write-offs', inArPack: true }),
      expect.objectContaining({ name: 'cash-forecast', inArPack: true }),
    ]);
    const all = await get('/reports/collector-effectiveness?from=2026-03-01&to=2026-03-31', manager);
    expect(all.statusCode).toBe(200);
    expect(all.json().total).toMatchObject({ touches: 6, promisesTaken: 4, promisedMinor: 59_250, keptRateByAmount: 59.04, collectedMinor: 50_380 }); // as above
    // Anna's token: her portfolio (ACME) only, as the collector-scoped run above.
    const hers = (await get('/reports/collector-effectiveness?from=2026-03-01&to=2026-03-31', anna)).json();
    expect(hers.total).toMatchObject({ touches: 4, promisesTaken: 3, promisedMinor: 53_400, collectedMinor: 23_680 });
    expect((await get('/reports/write-offs?from=2026-03-01&to=2026-03-31', anna)).json().total).toMatchObject({ count: 2, reportingMinor: 6_840 }); // W1 5,000 + W2 1,840
    const disputes = (await get('/reports/dispute-cycle-time?from=2026-03-01&to=2026-03-31', manager)).json();
    expect(disputes).toMatchObject({ report: 'dispute-cycle-time', openAt: '2026-04-01T00:00:00.000+02:00', total: { averageDays: 7.19, medianDays: 4.75 } });
    // A team member has no portfolio: nothing.
    const none = (await get('/reports/cash-forecast?asOf=2026-04-15&weeks=4', member)).json();
    expect(none.total).toEqual({ openArMinor: 0, byCurrency: [] });
    expect(none.weekly.map((w: { totalMinor: number }) => w.totalMinor)).toEqual([0, 0, 0, 0]);
  });

  it("a note written through the API is a touch in today's report", async () => {
    const notesOfAnna = async () => {
      const r = (await get('/reports/collector-effectiveness', anna)).json();
      return { to: r.to as string, notes: (r.collectors.find((c: { collectorId: string | null }) => c.collectorId === 'col-a')?.notes ?? 0) as number };
    };
    const before = await notesOfAnna();
    const posted = await t.app.inject({ method: 'POST', url: '/customers/ACME/notes', headers: anna, payload: { note: 'left a voicemail with AP' } });
    expect(posted.statusCode).toBe(201);
    const after = await notesOfAnna();
    // The default period ends today in Berlin, the day the note was written.
    expect(after.to).toBe(new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date()));
    expect(after.notes).toBe(before.notes + 1);
  });

  it('the forecast as CSV: the lines with their amounts in major units', async () => {
    const res = await get('/reports/cash-forecast?asOf=2026-04-15&weeks=4&format=csv', manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/csv/);
    const rows = parse(res.body, { columns: true, skip_empty_lines: true }) as Record<string, string>[];
    // The figures of the forecast test above, in euros: 187,420 cents = 1874.20 ...
    expect(rows.map((r) => [r.Line, r['Expected (EUR)']])).toEqual([
      ['Overdue, unscheduled', '1874.20'],
      ['Week 1 (2026-W16)', '178.50'],
      ['Week 2 (2026-W17)', '356.00'],
      ['Week 3 (2026-W18)', '10.00'],
      ['Week 4 (2026-W19)', '50.00'],
      ['Later', '93.60'],
      ['Open AR', '2562.30'],
    ]);
  });

  it('each report as a workbook: a sheet per table, the figures in the cells', async () => {
    const sheets: Record<string, string[]> = {
      'collector-effectiveness?from=2026-03-01&to=2026-03-31': ['Collector effectiveness', 'Collectors by currency'],
      'dispute-cycle-time?from=2026-03-01&to=2026-03-31': ['Disputes by reason', 'Disputes by owner team'],
      'write-offs?from=2026-03-01&to=2026-03-31': ['Write-offs by reason', 'Write-offs by approver', 'Write-offs by currency'],
      'cash-forecast?asOf=2026-04-15&weeks=4': ['Cash forecast', 'Cash forecast by currency'],
    };
    for (const [url, names] of Object.entries(sheets)) {
      const res = await get(`/reports/${url}&format=xlsx`, manager);
      expect(res.statusCode, url).toBe(200);
      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(res.rawPayload as never);
      expect(wb.worksheets.map((w) => w.name), url).toEqual(names);
    }
    // The forecast's sheet: the money cells hold euros (the major unit), e.g. the overdue line's 187,420 cents.
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load((await get('/reports/cash-forecast?asOf=2026-04-15&weeks=4&format=xlsx', manager)).rawPayload as never);
    const values = wb.getWorksheet('Cash forecast')!.getSheetValues().flat().filter((v) => typeof v === 'number');
    expect(values).toEqual(expect.arrayContaining([1874.2, 178.5, 356, 93.6, 2562.3]));
  });

  it('bad input is a 400 naming the problem, never a crash', async () => {
    const reversed = await get('/reports/write-offs?from=2026-04-01&to=2026-03-31', manager);
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json()).toMatchObject({ error: 'validation_failed', message: expect.stringContaining('after its last') });
    for (const url of ['/reports/collector-effectiveness?from=2026-02-30', '/reports/dispute-cycle-time?to=yesterday', '/reports/cash-forecast?weeks=0', '/reports/cash-forecast?weeks=abc', '/reports/cash-forecast?asOf=1999-12-31']) {
      const res = await get(url, manager);
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ error: 'validation_failed', issues: expect.any(Array) });
    }
  });

  it('the AR pack of March holds the activity reports\' sheets', async () => {
    const res = await get('/reports/ar-pack?month=2026-03&format=json', manager);
    expect(res.statusCode).toBe(200);
    const pack = res.json() as { sheets: { sheet: string; report: string; table: { totals: Record<string, unknown> | null } }[] };
    const sheet = (name: string) => pack.sheets.find((s) => s.sheet === name);
    expect(sheet('Collector effectiveness')).toMatchObject({ report: 'collector-effectiveness', table: { totals: { collected: 50_380 } } });
    expect(sheet('Write-offs by reason')).toMatchObject({ report: 'write-offs', table: { totals: { count: 4, reporting: 19_040 } } });
    // The forecast as of the month end, 2026-03-31: another day than the tests above; the sheet is there.
    expect(sheet('Cash forecast')?.report).toBe('cash-forecast');
  });
});
