import { randomUUID } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createHandoffActivities, type HandoffPackageRequest, type HandoffPackageSummary } from '../../activities/handoff';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';

/**
 * The hand-off package against the real PostgreSQL: one invoice's whole story written row by row in
 * SQL (with a neighbour invoice of the same customer and another tenant's look-alike to stay out),
 * then built, stored once, and read back.
 */

const tenantId = `handoff-${randomUUID().slice(0, 8)}`;
const otherTenant = `${tenantId}-other`;
const customerId = 'CUST-HANDOFF';
const invoiceNumber = 'INV-HO-1';
const neighbour = 'INV-HO-2';
const workflowId = (t: string, n: string) => `invoice-dunning:${t}:${n}`;

let sql: Sql;
let activities: ReturnType<typeof createHandoffActivities>;

const build = (req: Partial<HandoffPackageRequest> = {}): Promise<HandoffPackageSummary> =>
  new MockActivityEnvironment().run(activities.buildHandoffPackage, {
    tenantId,
    invoiceNumber,
    handedTo: 'agency',
    requestId: 'APR-1',
    approvedBy: 'mark',
    ...req,
  } satisfies HandoffPackageRequest) as Promise<HandoffPackageSummary>;

const storedPackage = async (handedTo = 'agency', t = tenantId, n = invoiceNumber) =>
  (await sql<{ package: any; created_at: Date }[]>`
    select package, created_at from handoff_packages where tenant_id = ${t} and invoice_number = ${n} and handed_to = ${handedTo}`)[0];

async function seedInvoiceStory(t: string) {
  await sql`
    insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, segment, country, region, contact_name)
    values (${t}, ${customerId}, 'Kunde GmbH', 'ap@kunde.example', 'Europe/Berlin', 'de-DE', 'anna', 'high_risk', 'DE', 'BE', 'Karl Kunde')`;
  for (const [n, amount, open] of [
    [invoiceNumber, 125_000, 95_000],
    [neighbour, 40_000, 40_000],
  ] as const) {
    await sql`
      insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                            workflow_id, cadence_id, cadence_version, stage, disputed_amount_minor)
      values (${t}, ${n}, ${customerId}, 'EUR', ${amount}, ${open}, '2025-01-15', '2025-02-14', ${workflowId(t, n)}, 'high-risk', 1, 'active',
              ${n === invoiceNumber ? 10_000 : 0})`;
  }
  await sql`
    insert into customer_contacts (tenant_id, customer_id, contact_id, name, email, phone, role, preferred_channel, is_primary, needs_update, needs_update_reason)
    values (${t}, ${customerId}, 'c-ap', 'Anna Ap', 'anna@kunde.example', '+49 30 1234', 'AP clerk', 'phone', true, false, null),
           (${t}, ${customerId}, 'c-old', 'Otto Alt', 'otto@kunde.example', null, null, 'email', false, true, 'wrong contact')`;
  await sql`
    insert into payments (tenant_id, payment_id, invoice_number, amount_minor, currency, received_at, source)
    values (${t}, 'PAY-1', ${invoiceNumber}, 30000, 'EUR', '2025-03-03T09:30:00Z', 'erp_webhook'),
           (${t}, 'PAY-N', ${neighbour}, 1000, 'EUR', '2025-03-04T09:30:00Z', 'api')`;
  await sql`
    insert into payment_plans (tenant_id, plan_id, customer_id, currency, total_minor, max_missed, status, created_by)
    values (${t}, 'PLAN-1', ${customerId}, 'EUR', 95000, 0, 'broken', 'anna')`;
  await sql`
    insert into promises (tenant_id, promise_id, invoice_number, customer_id, plan_id, installment_no, amount_minor, currency, promised_date, check_date,
                          made_by, recorded_by, collector_id, status, paid_minor, evaluated_at)
    values (${t}, 'PLAN-1-1', ${invoiceNumber}, ${customerId}, 'PLAN-1', 1, 50000, 'EUR', '2025-03-20', '2025-03-24', 'Karl Kunde', 'anna', 'anna', 'broken', 0, '2025-03-25T00:00:00Z'),
           (${t}, 'PLAN-1-2', ${invoiceNumber}, ${customerId}, 'PLAN-1', 2, 45000, 'EUR', '2025-04-20', '2025-04-22', 'Karl Kunde', 'anna', 'anna', 'cancelled', null, null)`;
  await sql`
    insert into disputes (tenant_id, dispute_id, invoice_number, customer_id, workflow_id, disputed_amount_minor, currency, reason_code, evidence_note, source,
                          opened_by, owner_team, owner_user, deadline_date, deadline_at, status, credit_amount_minor, root_cause, resolution_note, resolved_by, resolved_at)
    values (${t}, 'DSP-1', ${invoiceNumber}, ${customerId}, ${`dispute:${t}:DSP-1`}, 10000, 'EUR', 'damaged_goods', 'photos of broken pallets', 'erp',
            'erp', 'logistics', 'lars', '2025-03-10', '2025-03-10T17:00:00Z', 'resolved_invalid', 0, 'customer_error', 'delivery note signed without remarks', 'lars', '2025-03-08T10:00:00Z')`;
  await sql`
    insert into approval_requests (tenant_id, request_id, invoice_number, customer_id, workflow_id, action, amount_minor, currency, amount_reporting_minor,
                                   reason, source, requested_by, required_role, status, decided_by, decided_at, decision_note)
    values (${t}, 'APR-0', ${invoiceNumber}, ${customerId}, ${workflowId(t, invoiceNumber)}, 'credit_hold', 95000, 'EUR', 95000,
            'no payment after broken plan', 'cadence', 'workflow', 'team_lead', 'approved', 'lena', '2025-04-01T08:00:00Z', 'ok'),
           (${t}, 'APR-1', ${invoiceNumber}, ${customerId}, ${workflowId(t, invoiceNumber)}, 'agency_handoff', 95000, 'EUR', 95000,
            '45 business days overdue', 'cadence', 'workflow', 'ar_manager', 'approved', 'mark', '2025-04-20T08:00:00Z', 'send it')`;
  const [task] = await sql<{ id: number }[]>`
    insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, status, note, kind, workflow_id,
                            outcome, outcome_note, outcome_details, completed_at, completed_by)
    values (${`${t}:call-1`}, ${t}, ${invoiceNumber}, ${customerId}, 'anna', '2025-02-25T08:00:00Z', 'done', 'Call the AP contact', 'cadence',
            ${workflowId(t, invoiceNumber)}, 'promise_to_pay', 'plan of two', ${sql.json({ amountMinor: 95000 })}, '2025-02-25T09:12:00Z', 'anna')
    returning id`;
  await sql`
    insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, status, note, kind, attempt, parent_task_id)
    values (${`${t}:call-2`}, ${t}, ${invoiceNumber}, ${customerId}, 'anna', '2025-03-25T08:00:00Z', 'open', 'Broken promise: call', 'broken_promise', 1, ${task!.id})`;
  await sql`
    insert into customer_activities (event_key, tenant_id, customer_id, invoice_number, task_id, occurred_at, actor, kind, outcome, reached, note, details)
    values (${`${t}:act-1`}, ${t}, ${customerId}, ${invoiceNumber}, ${task!.id}, '2025-02-25T09:12:00Z', 'anna', 'call_outcome', 'promise_to_pay', true, 'plan of two', '{}'),
           (${`${t}:act-2`}, ${t}, ${customerId}, ${neighbour}, null, '2025-03-01T10:00:00Z', 'ben', 'note', null, false, 'asked about the other invoice', '{}')`;
  await sql`
    insert into audit_events (event_key, tenant_id, occurred_at, actor, invoice_number, workflow_id, event_type, details)
    values (${`${t}:ev-1`}, ${t}, '2025-02-15T08:00:00Z', 'workflow', ${invoiceNumber}, ${workflowId(t, invoiceNumber)}, 'step_done', ${sql.json({ stepId: 'reminder-1' })}),
           (${`${t}:ev-2`}, ${t}, '2025-04-20T08:00:01Z', 'mark', ${invoiceNumber}, ${workflowId(t, invoiceNumber)}, 'approval_decided', ${sql.json({ requestId: 'APR-1' })}),
           (${`${t}:ev-n`}, ${t}, '2025-02-15T08:00:00Z', 'workflow', ${neighbour}, ${workflowId(t, neighbour)}, 'step_done', '{}')`;
  await sql`
    insert into outbound_messages (idempotency_key, tenant_id, invoice_number, invoice_numbers, channel, recipient, subject, status, message_id, sent_at)
    values (${`${t}:msg-1`}, ${t}, ${invoiceNumber}, ${[invoiceNumber]}, 'email', 'ap@kunde.example', 'Reminder', 'sent', '<m1@x>', '2025-02-15T08:00:02Z'),
           (${`${t}:msg-2`}, ${t}, ${neighbour}, ${[neighbour, invoiceNumber]}, 'email', 'ap@kunde.example', 'Two invoices overdue', 'sent', '<m2@x>', '2025-03-01T08:00:02Z'),
           (${`${t}:msg-3`}, ${t}, ${neighbour}, ${[neighbour]}, 'email', 'ap@kunde.example', 'Neighbour only', 'sent', '<m3@x>', '2025-03-02T08:00:02Z')`;
  await sql`
    insert into internal_notifications (idempotency_key, tenant_id, role, invoice_number, customer_id, note, kind, request_id)
    values (${`${t}:n-1`}, ${t}, 'ar_manager', ${invoiceNumber}, ${customerId}, 'approve the agency hand-off', 'approval_requested', 'APR-1')`;
}

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  await seedInvoiceStory(tenantId);
  await seedInvoiceStory(otherTenant);
  activities = createHandoffActivities({ sql, fx: { reportingCurrency: 'EUR' } });
});

afterAll(async () => {
  await sql?.end();
});

describe('buildHandoffPackage', () => {
  it('stores one JSON document with the invoice, the customer and every part of its history', async () => {
    const result = await build();
    const row = await storedPackage();
    expect(row).toBeDefined();
    expect(result).toEqual({ invoiceNumber, handedTo: 'agency', sizeBytes: Buffer.byteLength(JSON.stringify(row!.package)), createdAt: row!.created_at.toISOString() });
    expect(result.sizeBytes).toBeGreaterThan(2_000);

    const pkg = row!.package;
    expect(pkg).toMatchObject({
      schemaVersion: 1,
      kind: 'dunning_handoff_package',
      generatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      tenantId,
      handedTo: 'agency',
      approval: { requestId: 'APR-1', approvedBy: 'mark', request: { requestId: 'APR-1', action: 'agency_handoff', status: 'approved', decidedBy: 'mark' } },
      summary: {
        amount: { minor: 125_000, currency: 'EUR' },
        openAmount: { minor: 95_000, currency: 'EUR' },
        disputedAmount: { minor: 10_000, currency: 'EUR' },
        paymentsReceived: { minor: 30_000, currency: 'EUR' },
        dueDate: '2025-02-14',
        daysPastDue: expect.any(Number),
        brokenPromises: 1,
        disputes: 1,
        callAttempts: 1,
        messagesSent: 2,
      },
      invoice: {
        invoiceNumber,
        customerId,
        amount: { minor: 125_000, currency: 'EUR' },
        openAmount: { minor: 95_000, currency: 'EUR' },
        issueDate: '2025-01-15',
        dueDate: '2025-02-14',
        stage: 'active',
        workflowId: workflowId(tenantId, invoiceNumber),
        cadence: { id: 'high-risk', version: 1 },
      },
      customer: { customerId, name: 'Kunde GmbH', email: 'ap@kunde.example', contactName: 'Karl Kunde', timeZone: 'Europe/Berlin', segment: 'high_risk', collectorId: 'anna', country: 'DE' },
    });
    expect(pkg.summary.daysPastDue).toBeGreaterThan(200);

    expect(pkg.contacts.map((c: any) => [c.contactId, c.isPrimary, c.needsUpdate])).toEqual([
      ['c-ap', true, false],
      ['c-old', false, true],
    ]);
    expect(pkg.payments).toEqual([
      { paymentId: 'PAY-1', amount: { minor: 30_000, currency: 'EUR' }, receivedAt: '2025-03-03T09:30:00.000Z', source: 'erp_webhook', recordedAt: expect.any(String) },
    ]);
    expect(pkg.promises).toEqual([
      expect.objectContaining({ promiseId: 'PLAN-1-1', planId: 'PLAN-1', installmentNo: 1, amount: { minor: 50_000, currency: 'EUR' }, promisedDate: '2025-03-20', checkDate: '2025-03-24', status: 'broken', paid: { minor: 0, currency: 'EUR' } }),
      expect.objectContaining({ promiseId: 'PLAN-1-2', status: 'cancelled', paid: null }),
    ]);
    expect(pkg.paymentPlans).toEqual([expect.objectContaining({ planId: 'PLAN-1', total: { minor: 95_000, currency: 'EUR' }, status: 'broken' })]);
    expect(pkg.disputes).toEqual([
      expect.objectContaining({
        disputeId: 'DSP-1',
        disputedAmount: { minor: 10_000, currency: 'EUR' },
        reasonCode: 'damaged_goods',
        source: 'erp',
        ownerTeam: 'logistics',
        deadlineDate: '2025-03-10',
        status: 'resolved_invalid',
        creditAmount: { minor: 0, currency: 'EUR' },
        resolutionNote: 'delivery note signed without remarks',
      }),
    ]);
    expect(pkg.approvalRequests.map((a: any) => [a.requestId, a.action, a.amount, a.amountReporting])).toEqual([
      ['APR-0', 'credit_hold', { minor: 95_000, currency: 'EUR' }, { minor: 95_000, currency: 'EUR' }],
      ['APR-1', 'agency_handoff', { minor: 95_000, currency: 'EUR' }, { minor: 95_000, currency: 'EUR' }],
    ]);
    expect(pkg.callTasks).toEqual([
      expect.objectContaining({ kind: 'cadence', status: 'done', outcome: 'promise_to_pay', outcomeNote: 'plan of two', outcomeDetails: { amountMinor: 95_000 }, completedBy: 'anna' }),
      expect.objectContaining({ kind: 'broken_promise', status: 'open', outcome: null, parentTaskId: pkg.callTasks[0].taskId }),
    ]);
    // The customer's history covers all its invoices: what was said about the neighbour belongs to the story.
    expect(pkg.customerActivities.map((a: any) => [a.invoiceNumber, a.kind, a.reached])).toEqual([
      [invoiceNumber, 'call_outcome', true],
      [neighbour, 'note', false],
    ]);
    expect(pkg.auditTrail.map((e: any) => e.eventType)).toEqual(['step_done', 'approval_decided']);
    // The consolidated message listing this invoice is in; the neighbour's own message is not.
    expect(pkg.messages.map((m: any) => [m.subject, m.invoiceNumbers])).toEqual([
      ['Reminder', [invoiceNumber]],
      ['Two invoices overdue', [neighbour, invoiceNumber]],
    ]);
    expect(pkg.internalNotifications).toEqual([expect.objectContaining({ role: 'ar_manager', kind: 'approval_requested', requestId: 'APR-1' })]);

    // Nothing from the other tenant's look-alike rows.
    expect(JSON.stringify(pkg)).not.toContain(otherTenant);
  });

  it('is idempotent: a retry returns the stored package unchanged, even after the history grew', async () => {
    const first = await build({ invoiceNumber: neighbour, requestId: 'APR-X' });
    const before = await storedPackage('agency', tenantId, neighbour);
    await sql`
      insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type)
      values (${`${tenantId}:ev-late`}, ${tenantId}, 'workflow', ${neighbour}, ${workflowId(tenantId, neighbour)}, 'handed_off')`;
    const again = await build({ invoiceNumber: neighbour, requestId: 'APR-X' });
    expect(again).toEqual(first);
    const after = await storedPackage('agency', tenantId, neighbour);
    expect(after!.package).toEqual(before!.package);
    expect(after!.package.approval).toEqual({ requestId: 'APR-X', approvedBy: 'mark', request: null });
    const [{ count }] = await sql<[{ count: number }]>`
      select count(*)::int as count from handoff_packages where tenant_id = ${tenantId} and invoice_number = ${neighbour}`;
    expect(count).toBe(1);
  });

  it('keeps one package per recipient: legal after the agency gets its own; concurrent attempts store one', async () => {
    const [a, b] = await Promise.all([build({ handedTo: 'legal', requestId: 'APR-L' }), build({ handedTo: 'legal', requestId: 'APR-L' })]);
    expect(a).toEqual(b);
    expect(a).toMatchObject({ invoiceNumber, handedTo: 'legal' });
    const legal = await storedPackage('legal');
    expect(legal!.package).toMatchObject({ handedTo: 'legal', approval: { requestId: 'APR-L' } });
    const rows = await sql<{ handed_to: string }[]>`
      select handed_to from handoff_packages where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by handed_to`;
    expect(rows.map((r) => r.handed_to)).toEqual(['agency', 'legal']);
  });

  it('fails without retry for an invoice that is not enrolled', async () => {
    const err = await build({ invoiceNumber: 'INV-NONE' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ nonRetryable: true, type: 'InvoiceNotFound' });
    expect(await storedPackage('agency', tenantId, 'INV-NONE')).toBeUndefined();
  });
});
