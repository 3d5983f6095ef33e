import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client } from '@temporalio/client';
import nodemailer from 'nodemailer';
import { Registry } from 'prom-client';
import { createAuditActivities, type DunningEvent } from '../../activities/audit';
import { createBeforeSendActivities } from '../../activities/before-send';
import { createMailActivities, instrumentMailer, messageIdFor, type DunningEmailRequest } from '../../activities/mail';
import { loadEmailTemplates } from '../../config/load';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';
import { startMailCatcher, type MailCatcher } from '../../dev/mail-catcher';
import { freePort } from '../../dev/process';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { createWorkerMetrics } from '../../telemetry/metrics';
import { parsePrometheusText, sampleSum } from '../support/prometheus-text';

/**
 * The worker's product metrics where the activities decide them, against the real PostgreSQL, SMTP peer and ERP
 * simulator: each message outcome once (sent, already_sent, uncertain, suppressed, deferred), each step once however
 * often its activity is retried, and the SMTP sends measured by outcome and error kind.
 */
const tenantId = `mw-${randomUUID().slice(0, 8)}`;
let sql: Sql;
let mail: MailCatcher;
let sim: ErpSimulator;
const metrics = createWorkerMetrics(new Registry());
const erpKey = 'mw-erp-key';

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  await migrate(sql);
  mail = await startMailCatcher();
  sim = await startErpSimulator({ apiKey: erpKey, webhookSecret: 'mw-webhook-secret-0123456' });
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale) values
            (${tenantId}, 'C1', 'Kunde', 'ap@kunde.example', 'Europe/Berlin', 'de-DE'), (${tenantId}, 'C2', 'Stumm', 'ap@stumm.example', 'Europe/Berlin', 'de-DE')`;
  // C2's only contact refuses contact: nothing may be written to C2.
  await sql`insert into customer_contacts (tenant_id, customer_id, contact_id, name, email, do_not_contact, is_primary)
            values (${tenantId}, 'C2', 'k1', 'Karl', 'karl@stumm.example', true, true)`;
});
afterAll(async () => {
  await sql?.end();
  await mail?.close();
  await sim?.close();
});

const families = async () => parsePrometheusText(await metrics.registry.metrics());
const messages = async (outcome: string) => sampleSum(await families(), 'dunning_messages_total', { channel: 'email', outcome });
const smtp = async (outcome: string) => sampleSum(await families(), 'dunning_smtp_send_duration_seconds_count', { outcome });

const mailActivities = (smtpPort: number) =>
  createMailActivities({
    sql,
    mailer: instrumentMailer(nodemailer.createTransport(`smtp://127.0.0.1:${smtpPort}`), metrics),
    mailFrom: 'Acme AR <ar@acme.example>',
    senderName: 'Acme AR',
    templates: loadEmailTemplates(),
    metrics,
  });
const send = (activities: ReturnType<typeof mailActivities>, req: DunningEmailRequest) =>
  new MockActivityEnvironment().run(activities.sendDunningEmail, req) as ReturnType<typeof activities.sendDunningEmail>;
function request(customerId = 'C1'): DunningEmailRequest {
  const number = `INV-${randomUUID().slice(0, 6)}`;
  return {
    idempotencyKey: `invoice-dunning:${tenantId}:${number}:step:reminder-1`,
    tenantId,
    invoice: { number, customerId, currency: 'EUR', amountMinor: 10_000, issueDate: '2026-09-01', dueDate: '2026-10-01' },
    customer: { id: customerId, name: 'Kunde', email: `ap@${customerId.toLowerCase()}.example`, timeZone: 'Europe/Berlin', locale: 'de-DE' },
    template: 'reminder-friendly',
    openAmountMinor: 10_000,
    daysPastDue: 3,
    stepId: 'reminder-1',
  };
}

describe('message outcomes, counted once where the activity decides them', () => {
  it('sent once, then already_sent on a retry (no second SMTP send)', async () => {
    const activities = mailActivities(mail.smtpPort);
    const req = request();
    expect((await send(activities, req)).status).toBe('sent');
    expect(await messages('sent')).toBe(1);
    expect(await smtp('ok')).toBe(1);
    expect((await send(activities, req)).status).toBe('already_sent');
    expect(await messages('sent')).toBe(1);
    expect(await messages('already_sent')).toBe(1);
    expect(await smtp('ok')).toBe(1);
    await mail.waitFor((m) => m.messageId === messageIdFor(req.idempotencyKey));
  });

  it('uncertain when an earlier attempt died mid-send, once per attempt that finds it so', async () => {
    const req = request();
    await sql`insert into outbound_messages (idempotency_key, tenant_id, invoice_number, invoice_numbers, channel, recipient, subject, status, message_id)
              values (${req.idempotencyKey}, ${tenantId}, ${req.invoice.number}, ${[req.invoice.number]}, 'email', 'x@y.example', 's', 'sending', ${messageIdFor(req.idempotencyKey)})`;
    expect((await send(mailActivities(mail.smtpPort), req)).status).toBe('uncertain');
    expect(await messages('uncertain')).toBe(1);
    expect(await smtp('ok')).toBe(1); // nothing sent
  });

  it('suppressed when no contact may be written to', async () => {
    expect((await send(mailActivities(mail.smtpPort), request('C2'))).status).toBe('do_not_contact');
    expect(await messages('suppressed')).toBe(1);
  });

  it('an SMTP server that cannot be reached: an SMTP error of kind connection, and no message outcome (the retry decides)', async () => {
    const before = { sent: await messages('sent'), uncertain: await messages('uncertain') };
    await expect(send(mailActivities(await freePort()), request())).rejects.toThrow(/ECONNREFUSED|connect/i);
    const f = await families();
    expect(sampleSum(f, 'dunning_smtp_send_duration_seconds_count', { outcome: 'error' })).toBe(1);
    expect(sampleSum(f, 'dunning_smtp_errors_total', { kind: 'connection' })).toBe(1);
    expect(await messages('sent')).toBe(before.sent);
    expect(await messages('uncertain')).toBe(before.uncertain);
  });

  it('suppressed when the ERP shows the invoice paid right before the send', async () => {
    sim.store.addInvoice({ invoiceNumber: 'MW-PAID', customerId: 'C1', currency: 'EUR', amountMinor: 5_000, issueDate: '2026-01-01', dueDate: '2026-01-31' });
    sim.store.addInvoice({ invoiceNumber: 'MW-OPEN', customerId: 'C1', currency: 'EUR', amountMinor: 5_000, issueDate: '2026-01-01', dueDate: '2026-01-31' });
    const paid = await fetch(`${sim.url}/payments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${erpKey}` },
      body: JSON.stringify({ paymentId: 'MW-PAY', invoiceNumber: 'MW-PAID', amountMinor: 5_000, currency: 'EUR' }),
    });
    expect(paid.status).toBe(201);
    const before = await messages('suppressed');
    // Nobody is asked whether MW-PAID's message is still wanted: the ERP answers first. The Temporal client is never used.
    const { recheckBeforeSend } = createBeforeSendActivities({ erp: createHttpErp({ baseUrl: sim.url, apiKey: erpKey }), temporal: new Client(), metrics });
    const verdicts = await new MockActivityEnvironment().run(recheckBeforeSend, [{ requestId: 'r1', invoiceNumber: 'MW-PAID', invoiceWorkflowId: 'none' }]);
    expect(verdicts).toEqual([{ requestId: 'r1', verdict: 'paid' }]);
    expect(await messages('suppressed')).toBe(before + 1);
  });
});

describe('steps and deferrals, counted when their audit event is inserted', () => {
  const event = (seq: number, type: string, details: Record<string, unknown>): DunningEvent => ({
    eventKey: `invoice-dunning:${tenantId}:I-S:event:${seq}`,
    eventSeq: seq,
    tenantId,
    invoiceNumber: 'I-S',
    workflowId: `invoice-dunning:${tenantId}:I-S`,
    type,
    stage: 'active',
    openAmountMinor: 10_000,
    nextStep: null,
    details,
  });

  it('counts a step once by its action, however often the activity runs, and a deferral as a deferred message', async () => {
    await sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date, workflow_id, cadence_id, cadence_version)
              values (${tenantId}, 'I-S', 'C1', 'EUR', 10000, 10000, '2026-01-01', '2026-01-31', ${`invoice-dunning:${tenantId}:I-S`}, 'standard', 1)`;
    const { recordDunningEvent } = createAuditActivities({ sql, metrics });
    const record = (e: DunningEvent) => new MockActivityEnvironment().run(recordDunningEvent, e);
    const steps = async (action: string) => sampleSum(await families(), 'dunning_steps_total', { action });
    const done = event(1, 'step_done', { stepId: 'reminder-1', action: 'email', outcome: 'sent' });
    await record(done);
    await record(done); // a retry: the row is there, nothing counted
    expect(await steps('email')).toBe(1);
    await record(event(2, 'step_done', { stepId: 'call-1', action: 'call_task', outcome: 'task_created' }));
    expect(await steps('call_task')).toBe(1);
    expect(await steps('email')).toBe(1);
    const deferred = event(3, 'step_deferred', { stepId: 'reminder-2', from: '2026-10-02T08:00:00Z', until: '2026-10-02T09:30:00Z', reason: 'send_window_or_cap' });
    await record(deferred);
    await record(deferred);
    expect(await messages('deferred')).toBe(1);
    // Other events count nothing.
    await record(event(4, 'paused', { reason: 'x' }));
    expect(sampleSum(await families(), 'dunning_steps_total')).toBe(2);
  });
});
