import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { ApplicationFailure } from '@temporalio/common';
import nodemailer from 'nodemailer';
import { createMailActivities, messageIdFor, type DunningEmailRequest } from '../../activities/mail';
import { loadEmailTemplates } from '../../config/load';
import { createSql, type Sql } from '../../db/sql';
import { migrate } from '../../db/migrate';
import { startMailCatcher, type MailCatcher } from '../../dev/mail-catcher';
import { freePort } from '../../dev/process';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { pass, smtpReply, startFaultProxy } from '../support/fault-proxy';

let sql: Sql;
let mail: MailCatcher;
const tenantId = `outbox-${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  await migrate(sql);
  mail = await startMailCatcher();
});
afterAll(async () => {
  await sql?.end();
  await mail?.close();
});

function activitiesFor(smtpPort: number) {
  return createMailActivities({
    sql,
    mailer: nodemailer.createTransport(`smtp://127.0.0.1:${smtpPort}`),
    mailFrom: 'Acme AR <ar@acme.example>',
    senderName: 'Acme AR',
    templates: loadEmailTemplates(),
  });
}

function request(overrides: Partial<DunningEmailRequest> = {}): DunningEmailRequest {
  const number = `INV-${randomUUID().slice(0, 6)}`;
  return {
    idempotencyKey: `invoice-dunning:${tenantId}:${number}:step:reminder-1`,
    tenantId,
    invoice: { number, customerId: 'C1', currency: 'JPY', amountMinor: 1_250_000, issueDate: '2026-09-01', dueDate: '2026-10-01' },
    customer: { id: 'C1', name: 'Tanaka <Trading> & Co', email: 'ap@tanaka.example', timeZone: 'Asia/Tokyo', locale: 'en-US' },
    template: 'reminder-firm',
    openAmountMinor: 1_000_000,
    daysPastDue: 12,
    stepId: 'reminder-1',
    ...overrides,
  };
}

const run = (activities: ReturnType<typeof activitiesFor>, req: DunningEmailRequest) =>
  new MockActivityEnvironment().run(activities.sendDunningEmail, req) as ReturnType<typeof activities.sendDunningEmail>;
const mailsWithKey = (key: string) => mail.messages().filter((m) => m.headers['x-dunning-idempotency-key'] === key);
/** When the SMTP server took it (sentAt), between the call's start and its end. */
async function sentWithin(call: Promise<{ status: string; messageId: string; sentAt?: string }>) {
  const from = Date.now();
  const result = await call;
  expect(Date.parse(result.sentAt ?? '')).toBeGreaterThanOrEqual(from);
  expect(Date.parse(result.sentAt ?? '')).toBeLessThanOrEqual(Date.now());
  return result;
}
const outboxStatus = async (key: string) => (await sql<{ status: string }[]>`select status from outbound_messages where idempotency_key = ${key}`).map((r) => r.status);

describe('reminder outbox: at most one email per idempotency key, through real PostgreSQL and SMTP', () => {
  it('sends the rendered reminder once; a retry of the same step sends nothing', async () => {
    const activities = activitiesFor(mail.smtpPort);
    const req = request();
    expect(await sentWithin(run(activities, req))).toEqual({ status: 'sent', messageId: messageIdFor(req.idempotencyKey), sentAt: expect.any(String) });
    const received = await mail.waitFor((m) => m.headers['x-dunning-idempotency-key'] === req.idempotencyKey);
    expect(received.envelopeTo).toEqual(['ap@tanaka.example']);
    expect(received.subject).toBe(`Second reminder: invoice ${req.invoice.number}, ¥1,000,000 overdue`);
    expect(received.messageId).toBe(messageIdFor(req.idempotencyKey));
    expect(received.text).toContain('(original amount ¥1,250,000)');
    expect(received.html).toContain('Tanaka &#60;Trading&#62; &#38; Co');

    // Not sent by this attempt: no sentAt.
    expect(await run(activities, req)).toEqual({ status: 'already_sent', messageId: messageIdFor(req.idempotencyKey) });
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsWithKey(req.idempotencyKey)).toHaveLength(1);
    expect(await outboxStatus(req.idempotencyKey)).toEqual(['sent']);
    // The outbox records which step of which invoice the message was.
    expect(await sql`select invoice_numbers, step_ids from outbound_messages where idempotency_key = ${req.idempotencyKey}`).toEqual([{ invoice_numbers: [req.invoice.number], step_ids: ['reminder-1'] }]);
  });

  it('records no step for a message that is no cadence step (an invoice copy)', async () => {
    const activities = activitiesFor(mail.smtpPort);
    const req = request({ template: 'invoice-copy' });
    req.idempotencyKey += ':copy';
    delete req.stepId;
    expect((await run(activities, req)).status).toBe('sent');
    expect(await sql`select invoice_numbers, step_ids from outbound_messages where idempotency_key = ${req.idempotencyKey}`).toEqual([{ invoice_numbers: [req.invoice.number], step_ids: null }]);
  });

  it('never resends after an attempt that died mid-send: the outcome is recorded as uncertain', async () => {
    const activities = activitiesFor(mail.smtpPort);
    const req = request();
    // What a worker killed between the claim and the 'sent' mark leaves behind.
    await sql`insert into outbound_messages (idempotency_key, tenant_id, invoice_number, invoice_numbers, channel, recipient, subject, status, message_id)
              values (${req.idempotencyKey}, ${tenantId}, ${req.invoice.number}, ${[req.invoice.number]}, 'email', ${req.customer.email}, 's', 'sending', ${messageIdFor(req.idempotencyKey)})`;
    expect((await run(activities, req)).status).toBe('uncertain');
    expect((await run(activities, req)).status).toBe('uncertain');
    await new Promise((r) => setTimeout(r, 300));
    expect(mailsWithKey(req.idempotencyKey)).toHaveLength(0);
    expect(await outboxStatus(req.idempotencyKey)).toEqual(['uncertain']);
  });

  it('releases the claim when the SMTP server never took the mail, so the retry delivers it', async () => {
    const req = request();
    const deadPort = await freePort();
    await expect(run(activitiesFor(deadPort), req)).rejects.toThrow(/ECONNREFUSED|connect/i);
    expect(await outboxStatus(req.idempotencyKey)).toEqual([]);
    expect((await run(activitiesFor(mail.smtpPort), req)).status).toBe('sent');
    await mail.waitFor((m) => m.headers['x-dunning-idempotency-key'] === req.idempotencyKey);
    expect(mailsWithKey(req.idempotencyKey)).toHaveLength(1);
  });

  it('retries a server that answers its greeting with a 5xx (it does not serve now): the claim is released, the mail goes out later', async () => {
    const req = request();
    const proxy = await startFaultProxy({ host: '127.0.0.1', port: mail.smtpPort });
    try {
      await proxy.setMode(smtpReply('554 5.3.2 Service currently unavailable'));
      const err = await run(activitiesFor(proxy.port), req).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(err).not.toBeInstanceOf(ApplicationFailure); // before: a non-retryable SmtpRejected, the reminder failed for good
      expect(await outboxStatus(req.idempotencyKey)).toEqual([]);
      await proxy.setMode(pass);
      expect((await run(activitiesFor(proxy.port), req)).status).toBe('sent');
      expect(mailsWithKey(req.idempotencyKey)).toHaveLength(1);
    } finally {
      await proxy.close();
    }
  });

  it('fails without retry when the server rejects the message itself (a 5xx to its recipient)', async () => {
    const req = request();
    const rejecting = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      onRcptTo: (_address, _session, callback) => callback(Object.assign(new Error('5.1.1 No such mailbox'), { responseCode: 550 })),
    });
    await new Promise<void>((resolve) => rejecting.listen(0, '127.0.0.1', resolve));
    try {
      const err = await run(activitiesFor((rejecting.server.address() as AddressInfo).port), req).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ApplicationFailure);
      expect(err).toMatchObject({ type: 'SmtpRejected', nonRetryable: true });
      expect(await outboxStatus(req.idempotencyKey)).toEqual([]);
    } finally {
      await new Promise<void>((resolve) => rejecting.close(() => resolve()));
    }
  });

  it('fails without retry on an unknown template, before claiming anything', async () => {
    const req = request({ template: 'no-such-template' });
    const err = await run(activitiesFor(mail.smtpPort), req).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(await outboxStatus(req.idempotencyKey)).toEqual([]);
  });
});
