import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { inject } from 'vitest';
import { DateTime } from 'luxon';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { userWithToken } from '../support/auth';
import { untilNothingCanSend } from '../support/quiescence';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-fast.json' });
});
afterAll(async () => {
  await stack?.stop();
});

const keyHeader = 'x-dunning-idempotency-key';
const mailsFor = (invoiceNumber: string) => stack.mail.messages().filter((m) => m.headers['x-invoice-number'] === invoiceNumber);
/** Intl formats "1.234,56 €" with a no-break space; compare as a reader sees it. */
const plain = (text: string | null) => (text ?? '').replace(/[\u00a0\u202f]/g, ' ');

describe('dunning end to end: HTTP API, worker process, Temporal dev server, PostgreSQL, SMTP, ERP simulator', () => {
  it('runs the cadence: three reminders by SMTP, a call task, rows and audit in PostgreSQL', async () => {
    const enrolled = await createAndEnroll(stack, { number: 'E2E-1001', customerId: 'CUST-A', amountMinor: 123_456, dueDate: '2026-10-01' }, 'ap@cust-a.example');
    expect(enrolled.status).toBe(201);
    expect(enrolled.body.workflowId).toBe(`invoice-dunning:${stack.tenantId}:E2E-1001`);

    const third = await stack.mail.waitFor((m) => m.headers['x-invoice-number'] === 'E2E-1001' && m.subject.startsWith('Final reminder'), 45_000);
    expect(third.envelopeTo).toEqual(['ap@cust-a.example']);
    const mails = mailsFor('E2E-1001');
    expect(mails.map((m) => plain(m.subject))).toEqual(
      expect.arrayContaining([
        'Friendly reminder: invoice E2E-1001 is past due',
        'Second reminder: invoice E2E-1001, 1.234,56 € overdue',
        'Final reminder before escalation: invoice E2E-1001',
      ]),
    );
    expect(mails).toHaveLength(3);
    // Customer-facing mail goes out through the customer's contact workflow, one batch at a time.
    expect(mails.map((m) => m.headers[keyHeader]).sort()).toEqual([1, 2, 3].map((n) => `customer-contact:${stack.tenantId}:CUST-A:batch:${n}`));
    const daysLate = Math.round(DateTime.now().setZone('Europe/Berlin').startOf('day').diff(DateTime.fromISO('2026-10-01', { zone: 'Europe/Berlin' }), 'days').days);
    expect(plain(third.text)).toContain(`invoice E2E-1001 remains unpaid: 1.234,56 €, ${daysLate} days past due.`);
    expect(third.html).toContain('<strong>E2E-1001</strong>');

    // The call task follows two seconds later; GET shows the whole story.
    await expect.poll(async () => (await stack.api('GET', '/invoices/E2E-1001')).body.steps.length, { timeout: 20_000 }).toBe(4);
    const view = (await stack.api('GET', '/invoices/E2E-1001')).body;
    expect(view.stage).toBe('active');
    expect(view.nextStep).toBeNull();
    expect(view.steps.map((s: { stepId: string; outcome: string }) => `${s.stepId}:${s.outcome}`)).toEqual([
      'reminder-1:sent',
      'reminder-2:sent',
      'reminder-3:sent',
      'call-1:task_created',
    ]);
    // The cadence's call task, then (every step has run, money is still open) the collector's own task.
    await expect
      .poll(async () => (await stack.sql`select kind, collector_id, customer_id, status, note from call_tasks where tenant_id = ${stack.tenantId} and invoice_number = 'E2E-1001' order by id`).length, { timeout: 20_000 })
      .toBe(2);
    const tasks = await stack.sql`select kind, collector_id, customer_id, status, note from call_tasks where tenant_id = ${stack.tenantId} and invoice_number = 'E2E-1001' order by id`;
    expect(tasks).toEqual([
      { kind: 'cadence', collector_id: 'col-anna', customer_id: 'CUST-A', status: 'open', note: 'Call the AP contact.' },
      { kind: 'follow_up', collector_id: 'col-anna', customer_id: 'CUST-A', status: 'open', note: expect.stringMatching(/^Every step of cadence .* has run and 1\.234,56\s€ is still open/) },
    ]);
    const outbox = await stack.sql`select status, recipient from outbound_messages where tenant_id = ${stack.tenantId} and invoice_number = 'E2E-1001' order by idempotency_key`;
    expect(outbox).toEqual(Array(3).fill({ status: 'sent', recipient: 'ap@cust-a.example' }));
    await expect
      .poll(async () => (await stack.sql`select event_type from audit_events where tenant_id = ${stack.tenantId} and invoice_number = 'E2E-1001' order by id`).map((r) => r.event_type))
      .toEqual(['invoice_enrolled', 'enrolled', 'step_done', 'step_done', 'step_done', 'step_done', 'cadence_completed']);
  });

  it('stops the cadence when the ERP posts the payment webhook, before the next reminder', async () => {
    await createAndEnroll(stack, { number: 'E2E-2001', customerId: 'CUST-B', amountMinor: 50_000, dueDate: '2026-10-15' }, 'ap@cust-b.example');
    await stack.mail.waitFor((m) => m.headers['x-invoice-number'] === 'E2E-2001', 20_000);
    await expect.poll(async () => (await stack.api('GET', '/invoices/E2E-2001')).body.steps.length, { timeout: 5_000 }).toBe(1);
    expect((await stack.api('GET', '/invoices/E2E-2001')).body.nextStep).toMatchObject({ stepId: 'reminder-2', action: 'email' });
    const paid = await stack.erpCall('/payments', { paymentId: 'PAY-2001', invoiceNumber: 'E2E-2001', amountMinor: 50_000, currency: 'EUR' });
    expect(paid.status).toBe(201);

    await expect.poll(async () => (await stack.api('GET', '/invoices/E2E-2001')).body.stage, { timeout: 15_000 }).toBe('paid');
    expect((await stack.api('GET', '/invoices/E2E-2001')).body.nextStep).toBeNull();
    // The invoice closed and nothing of it or its customer can still be sent: nothing else went out.
    await untilNothingCanSend({ tenantId: stack.tenantId, invoiceNumbers: ['E2E-2001'], customerIds: ['CUST-B'] });
    expect(mailsFor('E2E-2001').map((m) => m.subject)).toEqual(['Friendly reminder: invoice E2E-2001 is past due']);
    const [payment] = await stack.sql`select source, amount_minor from payments where tenant_id = ${stack.tenantId} and payment_id = 'PAY-2001'`;
    expect(payment).toEqual({ source: 'erp_webhook', amount_minor: 50_000 });
    const events = (await stack.sql`select event_type from audit_events where tenant_id = ${stack.tenantId} and invoice_number = 'E2E-2001' order by id`).map((r) => r.event_type);
    expect(events).toEqual(['invoice_enrolled', 'enrolled', 'step_done', 'payment_reported', 'payment_received', 'closed']);
  });

  it('answers a second enrollment of the same invoice with 409 and keeps one workflow, findable by search attributes', async () => {
    const again = await createAndEnroll(stack, { number: 'E2E-1001', customerId: 'CUST-A', amountMinor: 123_456, dueDate: '2026-10-01' }, 'ap@cust-a.example');
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'already_enrolled', workflowId: `invoice-dunning:${stack.tenantId}:E2E-1001` });

    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const client = new Client({ connection });
      const query = `CustomerId = 'CUST-A' AND CollectorId = 'col-anna' AND WorkflowId STARTS_WITH 'invoice-dunning:${stack.tenantId}:'`;
      await expect
        .poll(async () => {
          const ids: string[] = [];
          for await (const wf of client.workflow.list({ query })) ids.push(wf.workflowId);
          return ids;
        }, { timeout: 10_000 })
        .toEqual([`invoice-dunning:${stack.tenantId}:E2E-1001`]);
      const paidQuery = `DunningStage = 'paid' AND WorkflowId STARTS_WITH 'invoice-dunning:${stack.tenantId}:'`;
      await expect
        .poll(async () => {
          const ids: string[] = [];
          for await (const wf of client.workflow.list({ query: paidQuery })) ids.push(wf.workflowId);
          return ids;
        }, { timeout: 10_000 })
        .toEqual([`invoice-dunning:${stack.tenantId}:E2E-2001`]);
    } finally {
      await connection.close();
    }
  });

  it('moves a running invoice to a newly activated cadence version through the API, at its next step boundary', async () => {
    await createAndEnroll(stack, { number: 'E2E-3001', customerId: 'CUST-C', amountMinor: 70_000, dueDate: '2026-10-20' }, 'ap@cust-c.example');
    await expect.poll(async () => (await stack.api('GET', '/invoices/E2E-3001')).body.steps.length, { timeout: 20_000 }).toBe(1);
    const v1 = (await stack.api('GET', '/cadences/fast-e2e')).body;
    const current = v1.versions.find((v: { status: string }) => v.status === 'active').definition;
    // Version 2 drops the last two reminders and calls instead, a second later.
    const created = await stack.api('POST', '/cadences', {
      ...current,
      steps: [
        current.steps[0],
        { id: 'call-now', anchor: 'previous_step', offset: { amount: 6, unit: 'seconds' }, action: { type: 'call_task', note: 'Version 2: call right away.' } },
      ],
    });
    expect(created.status).toBe(201);
    const version = created.body.version;
    expect((await stack.api('POST', `/cadences/fast-e2e/versions/${version}/activate`)).status).toBe(200);
    const migrated = await stack.api('POST', `/cadences/fast-e2e/versions/${version}/migrate`, { invoiceNumbers: ['E2E-3001'] });
    expect(migrated).toMatchObject({ status: 202, body: { cadence: { id: 'fast-e2e', version }, migrating: ['E2E-3001'] } });

    await expect.poll(async () => (await stack.api('GET', '/invoices/E2E-3001')).body.steps.map((s: { stepId: string }) => s.stepId), { timeout: 20_000 }).toEqual([
      'reminder-1',
      'call-now',
    ]);
    const view = (await stack.api('GET', '/invoices/E2E-3001')).body;
    expect(view.cadence).toEqual({ id: 'fast-e2e', version });
    const events = (await stack.sql`select event_type from audit_events where tenant_id = ${stack.tenantId} and invoice_number = 'E2E-3001' order by id`).map((r) => r.event_type);
    expect(events).toEqual(expect.arrayContaining(['cadence_migration_requested', 'cadence_migrated']));
    expect(mailsFor('E2E-3001')).toHaveLength(1);
    // Nothing is left to migrate: the invoice already runs this version.
    expect((await stack.api('POST', `/cadences/fast-e2e/versions/${version}/migrate`, { invoiceNumbers: ['E2E-3001'] })).body.migrating).toEqual([]);
  });

  it('the API process wants a token, and shows a collector only their portfolio', async () => {
    const res = await fetch(`http://${stack.env.API_HOST}:${stack.env.API_PORT}/invoices`);
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: 'unauthorized', message: expect.stringMatching(/^missing Authorization header/) });
    const anna = await userWithToken(stack.sql, stack.tenantId, { userId: 'col-anna', role: 'collector' }); // createAndEnroll's collector
    const ben = await userWithToken(stack.sql, stack.tenantId, { userId: 'col-ben', role: 'collector' });
    const all = (await stack.api('GET', '/invoices?limit=500')).body.items.map((i: { number: string }) => i.number);
    expect(all.length).toBeGreaterThan(0);
    expect((await stack.api('GET', '/invoices?limit=500', undefined, anna.token)).body.items.map((i: { number: string }) => i.number)).toEqual(all);
    expect((await stack.api('GET', '/invoices?limit=500', undefined, ben.token)).body).toEqual({ total: 0, items: [], nextCursor: null });
    expect((await stack.api('GET', '/invoices/E2E-1001', undefined, ben.token)).status).toBe(403);
  });
});
