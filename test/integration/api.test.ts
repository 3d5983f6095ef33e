import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { ERP_SIGNATURE_HEADER, ERP_TIMESTAMP_HEADER, signTimestampedWebhook, signWebhookBody, timestampedWebhookHeaders } from '../../integrations/erp/webhook-signature';
import type { PaymentAppliedEvent } from '../../integrations/erp/payment-applied-event';
import { loadCadence } from '../../config/load';
import type { Sql } from '../../db/sql';
import { startTestApp, type TestApp } from '../support/test-app';
import { invoiceWorkflowId } from '../../domain/ids';
import { collectorIdKey, customerIdKey, dunningStageKey, paymentNotifiedSignal, type PaymentNotice } from '../../workflows/messages';
import { userWithToken } from '../support/auth';

/**
 * The HTTP API in-process (app.inject) against the real PostgreSQL and the real Temporal dev server.
 * No worker polls the task queue: enrollments really start workflows, which then just wait.
 */

const webhookSecret = 'test-secret-0123456789';
const tenantId = `api-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let sql: Sql;
let client: Client;
let app: TestApp['app'];
let taskQueue: string;
/** Every call goes as this admin: the audit trail names them as the actor. */
let auth: { authorization: string };
const ADMIN = 'api-admin';
let started: Set<string>;
const standardVersion = loadCadence('config/cadences/standard.json').version;

beforeAll(async () => {
  t = await startTestApp(tenantId, { webhookSecret });
  ({ sql, client, app, taskQueue, started } = t);
  auth = (await userWithToken(sql, tenantId, { userId: ADMIN, role: 'admin' })).headers;
  await userWithToken(sql, tenantId, { userId: 'col-berta', role: 'collector' }); // the enrollments' collector
});

afterAll(async () => {
  await t?.close();
});

let seq = 0;
const uniqueNumber = (prefix = 'INV') => `${prefix}-${Date.now().toString(36)}-${++seq}`;

function enrollment(number: string, overrides: { customer?: Record<string, unknown>; invoice?: Record<string, unknown> } = {}) {
  return {
    customer: { id: 'CUST-API', name: 'Api Customer GmbH', email: 'ap@api-customer.example', timeZone: 'Europe/Berlin', locale: 'de-DE', collectorId: 'col-berta', ...overrides.customer },
    invoice: { number, currency: 'EUR', amountMinor: 99_900, issueDate: '2026-01-01', dueDate: '2026-01-31', ...overrides.invoice },
  };
}

async function api(method: 'GET' | 'POST', url: string, payload?: unknown) {
  const res = await app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any };
}

async function enroll(body: ReturnType<typeof enrollment>) {
  const res = await api('POST', '/invoices', body);
  if (res.status === 201) started.add(res.body.workflowId);
  return res;
}

/** Enrolls a fresh invoice and returns its number; fails the test if the API refuses. */
async function enrolled(prefix: string, overrides?: Parameters<typeof enrollment>[1]): Promise<string> {
  const number = uniqueNumber(prefix);
  const res = await enroll(enrollment(number, overrides));
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return number;
}

const invoiceRows = (number: string) => sql`select * from invoices where tenant_id = ${tenantId} and invoice_number = ${number}`;
const paymentRows = (number: string) =>
  sql`select payment_id, amount_minor, currency, source, received_at from payments where tenant_id = ${tenantId} and invoice_number = ${number}`;
const auditRows = (number: string) =>
  sql`select event_type, actor, workflow_id, details from audit_events where tenant_id = ${tenantId} and invoice_number = ${number} order by id`;

describe('POST /invoices: enrollment', () => {
  it('answers 201 with the deterministic workflow id, stores invoice and customer, starts the workflow, audits', async () => {
    const number = uniqueNumber('ENR');
    const res = await enroll(enrollment(number));
    expect(res.status).toBe(201);
    const workflowId = invoiceWorkflowId(tenantId, number);
    expect(workflowId).toBe(`invoice-dunning:${tenantId}:${number}`);
    expect(res.body).toEqual({ workflowId, runId: expect.any(String) });

    const [invoice] = await invoiceRows(number);
    expect(invoice).toMatchObject({
      customer_id: 'CUST-API',
      currency: 'EUR',
      amount_minor: 99_900,
      open_amount_minor: 99_900,
      workflow_id: workflowId,
      cadence_id: 'standard',
      cadence_version: standardVersion,
      stage: 'active',
      next_step_id: null,
    });
    const [dates] = await sql`select to_char(issue_date, 'YYYY-MM-DD') as issue, to_char(due_date, 'YYYY-MM-DD') as due from invoices where tenant_id = ${tenantId} and invoice_number = ${number}`;
    expect(dates).toEqual({ issue: '2026-01-01', due: '2026-01-31' });
    const customers = await sql`select name, email, time_zone, locale, collector_id from customers where tenant_id = ${tenantId} and customer_id = 'CUST-API'`;
    expect(customers).toEqual([{ name: 'Api Customer GmbH', email: 'ap@api-customer.example', time_zone: 'Europe/Berlin', locale: 'de-DE', collector_id: 'col-berta' }]);

    const description = await client.workflow.getHandle(workflowId).describe();
    expect(description.status.name).toBe('RUNNING');
    expect(description.runId).toBe(res.body.runId);
    expect(description.type).toBe('invoiceDunning');
    expect(description.taskQueue).toBe(taskQueue);
    expect(description.typedSearchAttributes.get(customerIdKey)).toBe('CUST-API');
    expect(description.typedSearchAttributes.get(collectorIdKey)).toBe('col-berta');
    expect(description.typedSearchAttributes.get(dunningStageKey)).toBe('active');

    expect(await auditRows(number)).toEqual([
      { event_type: 'invoice_enrolled', actor: ADMIN, workflow_id: workflowId, details: { cadence: { id: 'standard', version: standardVersion } } },
    ]);
  });

  it("records an unassigned collector as 'unassigned' in the search attributes", async () => {
    const number = await enrolled('NOCOL', { customer: { id: 'CUST-NOCOL', collectorId: undefined } });
    const description = await client.workflow.getHandle(invoiceWorkflowId(tenantId, number)).describe();
    expect(description.typedSearchAttributes.get(customerIdKey)).toBe('CUST-NOCOL');
    expect(description.typedSearchAttributes.get(collectorIdKey)).toBe('unassigned');
    const [customer] = await sql`select collector_id from customers where tenant_id = ${tenantId} and customer_id = 'CUST-NOCOL'`;
    expect(customer).toEqual({ collector_id: null });
  });

  it('answers a second enrollment of the same invoice with 409 already_enrolled and keeps one row and one workflow run', async () => {
    const number = await enrolled('DUP');
    const workflowId = invoiceWorkflowId(tenantId, number);
    const { runId } = await client.workflow.getHandle(workflowId).describe();

    const again = await enroll(enrollment(number));
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'already_enrolled', workflowId });
    expect(await invoiceRows(number)).toHaveLength(1);
    expect((await client.workflow.getHandle(workflowId).describe()).runId).toBe(runId);
    expect((await auditRows(number)).map((r) => r.event_type)).toEqual(['invoice_enrolled']);
  });

  it('answers the same number with other data (amount) with 409 invoice_conflict and keeps the first data', async () => {
    const number = await enrolled('CONF');
    const other = await enroll(enrollment(number, { invoice: { amountMinor: 100_000 } }));
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: 'invoice_conflict', workflowId: invoiceWorkflowId(tenantId, number) });
    const rows = await invoiceRows(number);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ amount_minor: 99_900, open_amount_minor: 99_900 });
  });

  it('changes nothing about the customer when it rejects an enrollment', async () => {
    const number = await enrolled('KEEP');
    const [before] = await sql`select c.* from customers c join invoices i using (tenant_id, customer_id) where i.tenant_id = ${tenantId} and i.invoice_number = ${number}`;
    const again = await enroll(enrollment(number, { customer: { email: 'someone-else@example.com', name: 'Renamed Ltd' } }));
    expect(again.status).toBe(409);
    const [after] = await sql`select c.* from customers c join invoices i using (tenant_id, customer_id) where i.tenant_id = ${tenantId} and i.invoice_number = ${number}`;
    expect(after).toEqual(before);
  });

  it('answers 422 no_exchange_rate for a currency the reporting configuration cannot convert, and stores nothing', async () => {
    const number = uniqueNumber('MXN');
    const res = await enroll(enrollment(number, { invoice: { currency: 'MXN' } }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'no_exchange_rate', message: 'no exchange rate from MXN to the reporting currency EUR: add it to config/reporting.json' });
    expect(await invoiceRows(number)).toHaveLength(0);
  });

  it('accepts invoice numbers with slashes and finds them again with an encoded path', async () => {
    const number = `RE/2026/${Date.now().toString(36)}`;
    const res = await enroll(enrollment(number));
    expect(res.status).toBe(201);
    expect(res.body.workflowId).toBe(invoiceWorkflowId(tenantId, number));
    const view = await api('GET', `/invoices/${encodeURIComponent(number)}`);
    expect(view.status).toBe(200);
    expect(view.body.invoice.number).toBe(number);
  });
});

describe('POST /invoices: validation', () => {
  const issuesOf = (body: any) => (body.issues as { path: string; code: string; message: string }[]).map((i) => i.path).sort();

  it('reports every bad field at once, by path, and stores nothing', async () => {
    const number = uniqueNumber('BAD');
    const res = await enroll(
      enrollment(number, {
        customer: { id: 'CUST-BAD', email: 'not-an-email', timeZone: 'Mars/Base' },
        invoice: { currency: 'EURO', amountMinor: 12.5 },
      }),
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'validation_failed', message: expect.any(String) });
    expect(issuesOf(res.body)).toEqual(['body.customer.email', 'body.customer.timeZone', 'body.invoice.amountMinor', 'body.invoice.currency']);
    for (const issue of res.body.issues) expect(issue).toEqual({ path: expect.any(String), code: expect.any(String), message: expect.any(String) });
    expect(res.body.issues.find((i: { path: string }) => i.path === 'body.customer.timeZone').message).toMatch(/IANA time zone/);
    expect(res.body.issues.find((i: { path: string }) => i.path === 'body.invoice.currency').message).toMatch(/ISO 4217/);

    expect(await invoiceRows(number)).toHaveLength(0);
    expect(await sql`select 1 from customers where tenant_id = ${tenantId} and customer_id = 'CUST-BAD'`).toHaveLength(0);
    await expect(client.workflow.getHandle(invoiceWorkflowId(tenantId, number)).describe()).rejects.toThrow(/not found/i);
  });

  it.each([
    ['a currency that is not ISO 4217', 'body.invoice.currency', { invoice: { currency: 'EURO' } }],
    ['an unknown currency code', 'body.invoice.currency', { invoice: { currency: 'XYZ' } }],
    ['a time zone that does not exist', 'body.customer.timeZone', { customer: { timeZone: 'Mars/Base' } }],
    ['a fractional amount', 'body.invoice.amountMinor', { invoice: { amountMinor: 12.5 } }],
    ['a negative amount', 'body.invoice.amountMinor', { invoice: { amountMinor: -1 } }],
    ['a zero amount', 'body.invoice.amountMinor', { invoice: { amountMinor: 0 } }],
    ['an amount as a string', 'body.invoice.amountMinor', { invoice: { amountMinor: '100' } }],
    ['a bad email', 'body.customer.email', { customer: { email: 'ap-at-example' } }],
    ['a dueDate before the issueDate', 'body.invoice.dueDate', { invoice: { issueDate: '2026-02-01', dueDate: '2026-01-31' } }],
    ['a date that is not a date', 'body.invoice.dueDate', { invoice: { dueDate: '2026-02-30' } }],
    ['an invoice number with spaces', 'body.invoice.number', { invoice: { number: 'INV 1' } }],
    ['a bad locale', 'body.customer.locale', { customer: { locale: 'not a locale!' } }],
    ['an empty name', 'body.customer.name', { customer: { name: '   ' } }],
  ] as const)('rejects %s with 400 naming %s', async (_what, path, overrides) => {
    const number = uniqueNumber('BAD');
    const body = enrollment(number, overrides as Parameters<typeof enrollment>[1]);
    const res = await enroll(body);
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(issuesOf(res.body)).toEqual([path]);
    expect(await invoiceRows(body.invoice.number)).toHaveLength(0);
  });

  it('names missing fields, and rejects malformed JSON', async () => {
    const res = await api('POST', '/invoices', { customer: { id: 'CUST-X' } });
    expect(res.status).toBe(400);
    expect(issuesOf(res.body)).toEqual(['body.customer.email', 'body.customer.name', 'body.customer.timeZone', 'body.invoice']);
    const notJson = await app.inject({ method: 'POST', url: '/invoices', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"customer":' });
    expect(notJson.statusCode).toBe(400);
  });
});

describe('GET /invoices/:invoiceNumber', () => {
  it('answers 404 for an unknown invoice', async () => {
    const res = await api('GET', `/invoices/${uniqueNumber('NOPE')}`);
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'not_found' });
  });

  it('answers 400 for an invoice number that cannot exist', async () => {
    const res = await api('GET', `/invoices/${encodeURIComponent('-starts-with-dash')}`);
    expect(res.status).toBe(400);
    expect(res.body.issues.map((i: { path: string }) => i.path)).toEqual(['params.invoiceNumber']);
  });

  it("shows a freshly enrolled invoice: stage active, no steps yet, the cadence's id and version", async () => {
    const number = await enrolled('VIEW');
    const res = await api('GET', `/invoices/${number}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      workflowId: invoiceWorkflowId(tenantId, number),
      invoice: { number, customerId: 'CUST-API', currency: 'EUR', amountMinor: 99_900, openAmountMinor: 99_900, issueDate: '2026-01-01', dueDate: '2026-01-31' },
      cadence: { id: 'standard', version: standardVersion },
      stage: 'active',
      nextStep: null, // no worker ran the workflow, so it never planned a step
      pausedUntil: null,
      promiseDate: null,
      disputedAmountMinor: 0,
      steps: [],
      workflowStatus: 'RUNNING',
      attention: null,
      claim: null,
    });
  });

  it('shows a workflow that was terminated or failed, which the mirror alone would still show active (issue 10 #2)', async () => {
    const number = await enrolled('VIEWT');
    await client.workflow.getHandle(invoiceWorkflowId(tenantId, number)).terminate('test: someone ended it by hand');
    const res = await api('GET', `/invoices/${number}`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ stage: 'active', workflowStatus: 'TERMINATED' });
  });
});

describe('POST /invoices/:invoiceNumber/payments (without a worker)', () => {
  const payment = (overrides: Record<string, unknown> = {}) => ({ paymentId: `PAY-${randomUUID().slice(0, 8)}`, amountMinor: 10_000, currency: 'EUR', ...overrides });

  it('answers 404 for an unknown invoice and stores nothing', async () => {
    const number = uniqueNumber('NOPE');
    const res = await api('POST', `/invoices/${number}/payments`, payment());
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ error: 'not_found' });
    expect(await paymentRows(number)).toHaveLength(0);
  });

  it('answers 422 currency_mismatch for a payment in another currency and stores nothing', async () => {
    const number = await enrolled('CUR');
    const res = await api('POST', `/invoices/${number}/payments`, payment({ currency: 'USD' }));
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error: 'currency_mismatch' });
    expect(res.body.message).toMatch(/USD.*EUR/);
    expect(await paymentRows(number)).toHaveLength(0);
    expect((await auditRows(number)).map((r) => r.event_type)).toEqual(['invoice_enrolled']);
  });

  it('answers 400 validation_failed for a bad body and stores nothing', async () => {
    const number = await enrolled('PBAD');
    const res = await api('POST', `/invoices/${number}/payments`, { paymentId: '', amountMinor: -5, currency: 'EURO', receivedAt: 'yesterday' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['body.amountMinor', 'body.currency', 'body.paymentId', 'body.receivedAt']);
    expect(await paymentRows(number)).toHaveLength(0);
  });
});

describe('POST /webhooks/erp', () => {
  function paymentApplied(
    number: string,
    overrides: { paymentId?: string; amountMinor?: number; openAmountMinor?: number; occurredAt?: string; sequence?: number } = {},
  ): PaymentAppliedEvent {
    const amountMinor = overrides.amountMinor ?? 40_000;
    return {
      eventId: `evt-${randomUUID()}`,
      type: 'payment.applied',
      occurredAt: overrides.occurredAt ?? '2026-02-10T10:00:00.000Z',
      ...(overrides.sequence === undefined ? {} : { sequence: overrides.sequence }),
      payment: { paymentId: overrides.paymentId ?? `ERP-PAY-${randomUUID().slice(0, 8)}`, invoiceNumber: number, amountMinor, currency: 'EUR', receivedAt: '2026-02-10T09:59:00.000Z' },
      invoice: { invoiceNumber: number, customerId: 'CUST-API', currency: 'EUR', openAmountMinor: overrides.openAmountMinor ?? 99_900 - amountMinor, status: 'open' },
    };
  }

  const nowSeconds = () => Math.floor(Date.now() / 1000);
  async function deliver(raw: string, signature: string | undefined, timestamp: string | null = String(nowSeconds())) {
    const res = await app.inject({
      method: 'POST',
      url: '/webhooks/erp',
      headers: {
        'content-type': 'application/json',
        ...(signature === undefined ? {} : { [ERP_SIGNATURE_HEADER]: signature }),
        ...(timestamp === null ? {} : { [ERP_TIMESTAMP_HEADER]: timestamp }),
      },
      payload: raw,
    });
    return { status: res.statusCode, body: res.json() as any };
  }
  /** Signed as the ERP signs it: the timestamp (now, or `at`) and the body. */
  const signed = (event: unknown, at: Date = new Date()) => {
    const raw = JSON.stringify(event);
    const headers = timestampedWebhookHeaders(webhookSecret, raw, at);
    return deliver(raw, headers[ERP_SIGNATURE_HEADER], headers[ERP_TIMESTAMP_HEADER]);
  };

  /** The paymentNotified signals in the workflow's history, decoded. */
  async function signalsOf(number: string): Promise<PaymentNotice[]> {
    const history = await client.workflow.getHandle(invoiceWorkflowId(tenantId, number)).fetchHistory();
    return (history.events ?? [])
      .map((e) => e.workflowExecutionSignaledEventAttributes)
      .filter((a) => a?.signalName === paymentNotifiedSignal.name)
      .map((a) => defaultPayloadConverter.fromPayload<PaymentNotice>(a!.input!.payloads![0]!));
  }

  it('answers 401 to a missing or wrong signature and stores nothing', async () => {
    const number = await enrolled('SIG');
    const event = paymentApplied(number);
    const raw = JSON.stringify(event);
    const tampered = JSON.stringify({ ...event, payment: { ...event.payment, amountMinor: 1 } });
    const ts = nowSeconds();
    for (const [body, signature, timestamp] of [
      [raw, undefined, String(ts)],
      [raw, '', String(ts)],
      [raw, 'sha256=00', String(ts)],
      [raw, signTimestampedWebhook('another-secret-0123456789', ts, raw), String(ts)],
      [raw, signTimestampedWebhook(webhookSecret, ts, raw).replace('sha256=', 'sha1='), String(ts)],
      [tampered, signTimestampedWebhook(webhookSecret, ts, raw), String(ts)], // the signature of other bytes
      [raw, signWebhookBody(webhookSecret, raw), String(ts)], // the body alone: no timestamp signed (before issue 10 #13, accepted)
      [raw, signTimestampedWebhook(webhookSecret, ts, raw), null], // no timestamp header
      [raw, signTimestampedWebhook(webhookSecret, ts, raw), String(ts + 1)], // another timestamp than the one signed
    ] as const) {
      const res = await deliver(body, signature, timestamp);
      expect(res.status, `signature ${signature}`).toBe(401);
      expect(res.body).toMatchObject({ error: 'bad_signature' });
    }
    expect(await paymentRows(number)).toHaveLength(0);
    expect((await auditRows(number)).map((r) => r.event_type)).toEqual(['invoice_enrolled']);
    expect(await signalsOf(number)).toEqual([]);
  });

  it('answers 400 to a validly signed body that is not JSON or not a payment.applied event', async () => {
    const number = await enrolled('EVBAD');
    const notJson = 'not json at all';
    const res1 = await deliver(notJson, signTimestampedWebhook(webhookSecret, nowSeconds(), notJson));
    expect(res1.status).toBe(400);
    expect(res1.body).toMatchObject({ error: 'invalid_json' });

    const good = paymentApplied(number);
    const res2 = await signed({ ...good, type: 'payment.reversed', payment: { ...good.payment, amountMinor: -3 } });
    expect(res2.status).toBe(400);
    expect(res2.body.error).toBe('validation_failed');
    expect(res2.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['payment.amountMinor', 'type']);
    expect(await paymentRows(number)).toHaveLength(0);
  });

  it('answers 202 queued to a valid event for an invoice that is not ours: the payment joins the unapplied-cash queue once, not the invoice payments', async () => {
    const number = uniqueNumber('FOREIGN');
    const event = paymentApplied(number);
    const res = await signed(event);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ result: 'queued' });
    expect((await signed(event)).body).toEqual({ result: 'queued' });
    expect(await paymentRows(number)).toHaveLength(0);
    expect(await auditRows(number)).toHaveLength(0);
    const queued = await sql`select source, amount_minor from unapplied_cash where payment_id = ${event.payment.paymentId}`;
    expect(queued).toEqual([{ source: 'erp_webhook', amount_minor: event.payment.amountMinor }]);
  });

  it('applies a valid payment.applied: 202, a payment row from erp_webhook, an audit row, a signal on the workflow; idempotent', async () => {
    const number = await enrolled('HOOK');
    const event = paymentApplied(number, { amountMinor: 40_000 });
    const res = await signed(event);
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ result: 'applied' });

    const expectedRow = {
      payment_id: event.payment.paymentId,
      amount_minor: 40_000,
      currency: 'EUR',
      source: 'erp_webhook',
      received_at: new Date(event.payment.receivedAt),
    };
    expect(await paymentRows(number)).toEqual([expectedRow]);
    const audit = await auditRows(number);
    expect(audit.map((r) => r.event_type)).toEqual(['invoice_enrolled', 'payment_reported']);
    expect(audit[1]).toMatchObject({ actor: 'erp', details: { paymentId: event.payment.paymentId, source: 'erp_webhook', openAmountMinorAfter: 59_900, eventId: event.eventId } });

    // Nobody runs the workflow, but the server takes the signal into its history.
    const notice: PaymentNotice = { ...event.payment, source: 'erp_webhook', openAmountMinorAfter: 59_900 };
    expect(await signalsOf(number)).toEqual([notice]);

    // The ERP retries deliveries: the same event again stores no second payment and no second audit row.
    const again = await signed(event);
    expect(again.status).toBe(202);
    expect(again.body).toEqual({ result: 'applied' });
    expect(await paymentRows(number)).toEqual([expectedRow]);
    expect((await auditRows(number)).map((r) => r.event_type)).toEqual(['invoice_enrolled', 'payment_reported']);
    // The workflow dedups by payment id; every signal it gets carries the same payment.
    const signals = await signalsOf(number);
    expect(signals.length).toBeGreaterThanOrEqual(1);
    expect(new Set(signals.map((s) => s.paymentId))).toEqual(new Set([event.payment.paymentId]));
  });

  it('answers 409 payment_conflict when a payment id comes again with other data, keeping the first', async () => {
    const number = await enrolled('HOOKC');
    const first = paymentApplied(number, { amountMinor: 40_000 });
    expect((await signed(first)).status).toBe(202);
    const res = await signed(paymentApplied(number, { paymentId: first.payment.paymentId, amountMinor: 45_000 }));
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ error: 'payment_conflict' });
    expect((await paymentRows(number)).map((p) => p.amount_minor)).toEqual([40_000]);
  });

  it('answers 422 to an event whose currency or invoice numbers do not match, storing nothing', async () => {
    const number = await enrolled('HOOKX');
    const usd = paymentApplied(number);
    usd.payment.currency = 'USD';
    expect(await signed(usd)).toMatchObject({ status: 422, body: { error: 'currency_mismatch' } });
    const mixed = paymentApplied(number);
    mixed.invoice.invoiceNumber = `${number}-OTHER`;
    expect(await signed(mixed)).toMatchObject({ status: 422, body: { error: 'inconsistent_event' } });
    expect(await paymentRows(number)).toEqual([]);
    expect(await signalsOf(number)).toEqual([]);
  });

  it('refuses a replay: a validly signed delivery from 10 minutes ago is 401 signature_expired, and nothing is stored (issue 10 #13)', async () => {
    const number = await enrolled('REPLAY');
    const captured = paymentApplied(number, { amountMinor: 99_900, openAmountMinor: 0 });
    const res = await signed(captured, new Date(Date.now() - 10 * 60_000));
    expect(res).toMatchObject({ status: 401, body: { error: 'signature_expired' } });
    expect(await paymentRows(number)).toEqual([]);
    expect(await signalsOf(number)).toEqual([]);
    // A clock far ahead is refused alike; within the window the same event is taken.
    expect((await signed(captured, new Date(Date.now() + 10 * 60_000))).status).toBe(401);
    expect(await signed(captured, new Date(Date.now() - 60_000))).toMatchObject({ status: 202, body: { result: 'applied' } });
  });

  it("orders an invoice's events by the ERP's sequence: an older one delivered after a newer one is recorded, never applied (issue 10 #13)", async () => {
    const number = await enrolled('ORDER');
    // The ERP applied A (40.00, 599.00 left) and then B (30.00, 299.00 left); the deliveries cross.
    const a = paymentApplied(number, { amountMinor: 40_000, openAmountMinor: 59_900, occurredAt: '2026-02-10T10:00:00.000Z', sequence: 1 });
    const b = paymentApplied(number, { amountMinor: 30_000, openAmountMinor: 29_900, occurredAt: '2026-02-10T10:05:00.000Z', sequence: 2 });
    expect(await signed(b)).toMatchObject({ status: 202, body: { result: 'applied' } });
    expect(await signed(a)).toMatchObject({ status: 202, body: { result: 'stale' } });
    // Both payments are facts, stored once each; the workflow hears only B's open amount, so nothing reopens to 599.00.
    expect((await paymentRows(number)).map((p) => p.payment_id).sort()).toEqual([a.payment.paymentId, b.payment.paymentId].sort());
    expect((await signalsOf(number)).map((n) => n.openAmountMinorAfter)).toEqual([29_900]);
    const audit = (await auditRows(number)).filter((r) => r.event_type === 'payment_reported');
    expect(audit.map((r) => [r.details.paymentId, r.details.applied])).toEqual([
      [b.payment.paymentId, true],
      [a.payment.paymentId, false],
    ]);
    // A's delivery retried: still stale. B's retried: applied again (the workflow dedupes by payment id).
    expect((await signed(a)).body).toEqual({ result: 'stale' });
    expect((await signed(b)).body).toEqual({ result: 'applied' });
  });

  it("orders by the ERP's own time when its events carry no sequence", async () => {
    const number = await enrolled('ORDERT');
    const earlier = paymentApplied(number, { amountMinor: 5_000, openAmountMinor: 94_900, occurredAt: '2026-02-10T09:00:00.000Z' });
    const later = paymentApplied(number, { amountMinor: 10_000, openAmountMinor: 84_900, occurredAt: '2026-02-11T09:00:00.000Z' });
    expect((await signed(later)).body).toEqual({ result: 'applied' });
    expect((await signed(earlier)).body).toEqual({ result: 'stale' });
    expect((await signalsOf(number)).map((n) => n.openAmountMinorAfter)).toEqual([84_900]);
  });
});

describe('GET /invoices', () => {
  it('lists the enrolled invoices by due date with filters, pagination and the total', async () => {
    const a = await enrolled('LIST', { customer: { id: 'CUST-LIST' }, invoice: { dueDate: '2026-02-01' } });
    const b = await enrolled('LIST', { customer: { id: 'CUST-LIST' }, invoice: { dueDate: '2026-01-20' } });
    const page = await api('GET', '/invoices?customerId=CUST-LIST&limit=1');
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(2);
    expect(page.body.items.map((i: { number: string }) => i.number)).toEqual([b]);
    // The cursor of the first page gives the second, as the offset does.
    expect(page.body.nextCursor).toEqual(expect.any(String));
    const byCursor = await api('GET', `/invoices?customerId=CUST-LIST&limit=1&cursor=${encodeURIComponent(page.body.nextCursor)}`);
    expect(byCursor.body.items.map((i: { number: string }) => i.number)).toEqual([a]);
    expect(byCursor.body.nextCursor).toBeNull();
    const next = await api('GET', '/invoices?customerId=CUST-LIST&limit=1&offset=1');
    expect(next.body.items).toEqual([
      { number: a, customerId: 'CUST-LIST', currency: 'EUR', amountMinor: 99_900, openAmountMinor: 99_900, dueDate: '2026-02-01', stage: 'active', nextStep: null, pausedUntil: null, promiseDate: null },
    ]);
    expect((await api('GET', '/invoices?customerId=CUST-LIST&stage=paid')).body).toEqual({ total: 0, items: [], nextCursor: null });
    const bad = await api('GET', '/invoices?limit=0&stage=sleeping');
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path).sort()).toEqual(['querystring.limit', 'querystring.stage']);
  });
});

describe('service endpoints', () => {
  it('publishes the OpenAPI document with the invoice routes and hides the webhook', async () => {
    const res = await api('GET', '/openapi.json');
    expect(res.status).toBe(200);
    expect(res.body.openapi).toMatch(/^3\./);
    expect(res.body.info.title).toBe('Dunning Orchestrator API');
    const paths = res.body.paths as Record<string, Record<string, unknown>>;
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['/invoices', '/invoices/{invoiceNumber}', '/invoices/{invoiceNumber}/payments']));
    expect(Object.keys(paths['/invoices']!)).toContain('post');
    expect(Object.keys(paths['/invoices/{invoiceNumber}']!)).toContain('get');
    expect(Object.keys(paths['/invoices/{invoiceNumber}/payments']!)).toContain('post');
    expect(paths['/webhooks/erp']).toBeUndefined();
    expect(paths['/openapi.json']).toBeUndefined();
    // People's work is documented with its shapes too.
    expect(Object.keys(paths)).toEqual(
      expect.arrayContaining(['/worklist', '/tasks/{taskId}/outcome', '/disputes', '/disputes/{disputeId}/resolution', '/approval-requests', '/approval-requests/{requestId}/decision', '/notifications']),
    );
    const queue = (paths['/approval-requests'] as any).get.responses['200'].content['application/json'].schema;
    expect(Object.keys(queue.properties.items.items.properties)).toEqual(expect.arrayContaining(['requestId', 'requiredRole', 'canDecide']));
    const outcome = (paths['/disputes/{disputeId}/resolution'] as any).post.requestBody.content['application/json'].schema;
    expect(JSON.stringify(outcome)).toContain('creditAmountMinor');
  });

  it('answers GET /health with ok after touching the database', async () => {
    const res = await api('GET', '/health');
    expect(res).toEqual({ status: 200, body: { ok: true } });
  });
});
