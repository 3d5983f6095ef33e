import { createServer, type IncomingHttpHeaders, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { ErpInvoiceNotFoundError, ErpUnavailableError } from '../../integrations/erp/adapter';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { paymentAppliedEventSchema } from '../../integrations/erp/payment-applied-event';
import { verifyTimestampedWebhook, verifyWebhookSignature } from '../../integrations/erp/webhook-signature';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';

const apiKey = 'test-erp-key';
const webhookSecret = 'test-webhook-secret-0123';

/** A real HTTP server on an ephemeral loopback port. */
async function listen(handler: RequestListener): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

// The webhook receiver keeps the raw bytes, as a real receiver must to check the signature.
const received: { headers: IncomingHttpHeaders; rawBody: string }[] = [];
let failNextDeliveries = 0;
let receiver: Awaited<ReturnType<typeof listen>>;
let sim: ErpSimulator;

beforeAll(async () => {
  receiver = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = failNextDeliveries-- > 0 ? 500 : 204;
      res.end();
    });
  });
  sim = await startErpSimulator({ apiKey, webhookSecret, webhookUrl: `${receiver.url}/erp-webhooks` });
});

afterAll(async () => {
  await sim?.close();
  await receiver?.close();
});

beforeEach(() => {
  failNextDeliveries = 0;
});

let seq = 0;
const uniqueNumber = (prefix: string) => `${prefix}-${Date.now()}-${++seq}`;

async function call(method: string, path: string, body?: unknown, key = apiKey) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function createInvoice(amountMinor = 125_000, currency = 'EUR') {
  const invoice = {
    invoiceNumber: uniqueNumber('INV'),
    customerId: 'CUST-ACME',
    currency,
    amountMinor,
    issueDate: '2025-01-15',
    dueDate: '2025-02-14',
  };
  expect((await call('POST', '/invoices', invoice)).status).toBe(201);
  return invoice;
}

const eventsFor = (invoiceNumber: string) =>
  received.filter((r) => paymentAppliedEventSchema.parse(JSON.parse(r.rawBody)).invoice.invoiceNumber === invoiceNumber);

describe('ERP simulator over HTTP', () => {
  it('answers /health without a key and 401 everything else without the right one', async () => {
    expect(await (await fetch(`${sim.url}/health`)).json()).toEqual({ ok: true });
    expect((await fetch(`${sim.url}/invoices/ANY`)).status).toBe(401);
    expect((await call('GET', '/webhook-deliveries', undefined, 'wrong-key')).status).toBe(401);
  });

  it('creates invoices idempotently and refuses the same number with other data', async () => {
    const invoice = await createInvoice();
    const again = await call('POST', '/invoices', invoice);
    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ ...invoice, openAmountMinor: 125_000, status: 'open', payments: [] });
    const conflict = await call('POST', '/invoices', { ...invoice, amountMinor: 999 });
    expect(conflict.status).toBe(409);
    expect((await call('GET', `/invoices/${invoice.invoiceNumber}`)).body.amountMinor).toBe(125_000);
  });

  it('rejects bad bodies with 400 and the zod issues', async () => {
    const bad = await call('POST', '/invoices', {
      invoiceNumber: 'INV-BAD',
      customerId: 'CUST-ACME',
      currency: 'eur',
      amountMinor: 12.5,
      issueDate: '2025-01-15',
      dueDate: '14/02/2025',
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe('invalid_body');
    expect(bad.body.issues.map((i: { path: string[] }) => i.path.join('.')).sort()).toEqual([
      'amountMinor',
      'currency',
      'dueDate',
    ]);

    const early = await call('POST', '/invoices', {
      invoiceNumber: 'INV-EARLY',
      customerId: 'CUST-ACME',
      currency: 'EUR',
      amountMinor: 100,
      issueDate: '2025-01-15',
      dueDate: '2025-01-01',
    });
    expect(early.status).toBe(400);
    expect(early.body.issues[0].path).toEqual(['dueDate']);

    const payment = await call('POST', '/payments', { paymentId: 'PAY-BAD', invoiceNumber: 'X', amountMinor: -1 });
    expect(payment.status).toBe(400);
    expect(payment.body.issues.map((i: { path: string[] }) => i.path[0]).sort()).toEqual(['amountMinor', 'currency']);

    const notJson = await fetch(`${sim.url}/payments`, {
      method: 'POST',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: '{"paymentId":',
    });
    expect(notJson.status).toBe(400);
  });

  it('refuses a payment for an unknown invoice (404) or in another currency (422)', async () => {
    const invoice = await createInvoice();
    const unknown = await call('POST', '/payments', { paymentId: uniqueNumber('PAY'), invoiceNumber: 'INV-NONE', amountMinor: 1, currency: 'EUR' });
    expect(unknown.status).toBe(404);
    const mismatch = await call('POST', '/payments', { paymentId: uniqueNumber('PAY'), invoiceNumber: invoice.invoiceNumber, amountMinor: 1, currency: 'USD' });
    expect(mismatch.status).toBe(422);
    expect((await call('GET', `/invoices/${invoice.invoiceNumber}`)).body.openAmountMinor).toBe(125_000);
  });
});

describe('HTTP ERP adapter against the simulator', () => {
  it('reads the balance before and after partial, full and over-payment', async () => {
    const erp = createHttpErp({ baseUrl: `${sim.url}/`, apiKey });
    const invoice = await createInvoice(125_000);

    const before = await erp.getInvoiceBalance(invoice.invoiceNumber);
    expect(before).toEqual({
      invoiceNumber: invoice.invoiceNumber,
      customerId: 'CUST-ACME',
      currency: 'EUR',
      amountMinor: 125_000,
      openAmountMinor: 125_000,
      status: 'open',
      asOf: expect.any(String),
    });

    const pay = (amountMinor: number) =>
      call('POST', '/payments', { paymentId: uniqueNumber('PAY'), invoiceNumber: invoice.invoiceNumber, amountMinor, currency: 'EUR' });

    expect((await pay(25_000)).status).toBe(201);
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 100_000, status: 'open' });

    const over = await pay(130_000);
    expect(over.body).toMatchObject({ state: 'applied', appliedAmountMinor: 100_000, unappliedAmountMinor: 30_000 });
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 0, status: 'paid' });
  });

  it('maps an unknown invoice to ErpInvoiceNotFoundError', async () => {
    const erp = createHttpErp({ baseUrl: sim.url, apiKey });
    await expect(erp.getInvoiceBalance('INV-DOES-NOT-EXIST')).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
  });

  it('maps a wrong key to a plain error that names the problem', async () => {
    const erp = createHttpErp({ baseUrl: sim.url, apiKey: 'wrong-key' });
    const err = await erp.getInvoiceBalance('INV-ANY').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(ErpUnavailableError);
    expect((err as Error).message).toMatch(/HTTP 401.*ERP_API_KEY/);
  });

  it('maps a closed port, a 5xx and a timeout to ErpUnavailableError', async () => {
    const gone = await listen((_req, res) => res.end());
    await gone.close();
    await expect(createHttpErp({ baseUrl: gone.url, apiKey }).getInvoiceBalance('INV-1')).rejects.toThrow(
      expect.objectContaining({ name: 'ErpUnavailableError', message: expect.stringContaining('ECONNREFUSED') }),
    );

    const failing = await listen((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    const stalled = await listen(() => undefined); // never answers
    try {
      await expect(createHttpErp({ baseUrl: failing.url, apiKey }).getInvoiceBalance('INV-1')).rejects.toBeInstanceOf(
        ErpUnavailableError,
      );
      await expect(
        createHttpErp({ baseUrl: stalled.url, apiKey, timeoutMs: 200 }).getInvoiceBalance('INV-1'),
      ).rejects.toBeInstanceOf(ErpUnavailableError);
    } finally {
      await failing.close();
      await stalled.close();
    }
  });

  it('rejects a malformed balance with a message naming the bad fields', async () => {
    const broken = await listen((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ invoiceNumber: 'INV-1', customerId: 'C', currency: 'EUR', amountMinor: '100' }));
    });
    try {
      const err = await createHttpErp({ baseUrl: broken.url, apiKey }).getInvoiceBalance('INV-1').catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(ErpUnavailableError);
      expect((err as Error).message).toMatch(/malformed balance for invoice INV-1/);
      expect((err as Error).message).toMatch(/amountMinor/);
      expect((err as Error).message).toMatch(/openAmountMinor/);
    } finally {
      await broken.close();
    }
  });
});

describe('payments and webhooks', () => {
  it('applies a payment id once: a repeat answers 200 with the first result and sends no second webhook', async () => {
    const invoice = await createInvoice(50_000);
    const payment = { paymentId: uniqueNumber('PAY'), invoiceNumber: invoice.invoiceNumber, amountMinor: 20_000, currency: 'EUR' };

    const first = await call('POST', '/payments', payment);
    expect(first.status).toBe(201);
    const repeat = await call('POST', '/payments', payment);
    expect(repeat.status).toBe(200);
    expect(repeat.body).toEqual(first.body);
    expect((await call('POST', '/payments', { ...payment, amountMinor: 20_001 })).status).toBe(409);

    const balance = await call('GET', `/invoices/${invoice.invoiceNumber}`);
    expect(balance.body.openAmountMinor).toBe(30_000);
    expect(balance.body.payments).toHaveLength(1);

    await vi.waitFor(() => expect(eventsFor(invoice.invoiceNumber)).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 300)); // room for a wrong second delivery to show up
    expect(eventsFor(invoice.invoiceNumber)).toHaveLength(1);
  });

  it('delivers a signed payment.applied event that the receiver can verify', async () => {
    const invoice = await createInvoice(80_000, 'USD');
    const paymentId = uniqueNumber('PAY');
    const receivedAt = '2025-03-03T09:30:00.000Z';
    await call('POST', '/payments', { paymentId, invoiceNumber: invoice.invoiceNumber, amountMinor: 80_000, currency: 'USD', receivedAt });

    await vi.waitFor(() => expect(eventsFor(invoice.invoiceNumber)).toHaveLength(1));
    const [delivery] = eventsFor(invoice.invoiceNumber);
    const event = paymentAppliedEventSchema.parse(JSON.parse(delivery!.rawBody));
    expect(event).toMatchObject({
      type: 'payment.applied',
      payment: { paymentId, invoiceNumber: invoice.invoiceNumber, amountMinor: 80_000, currency: 'USD', receivedAt },
      invoice: { invoiceNumber: invoice.invoiceNumber, customerId: 'CUST-ACME', currency: 'USD', openAmountMinor: 0, status: 'paid' },
    });
    expect(delivery!.headers['x-erp-event-id']).toBe(event.eventId);

    // Signed with the time of the attempt (issue 10 #13): "<x-erp-timestamp>.<body>"; the event carries the invoice's sequence.
    const signed = { signature: delivery!.headers['x-erp-signature'], timestamp: delivery!.headers['x-erp-timestamp'] };
    expect(Math.abs(Number(signed.timestamp) - Date.now() / 1000)).toBeLessThan(60);
    expect(verifyTimestampedWebhook(webhookSecret, delivery!.rawBody, signed)).toBe('ok');
    expect(verifyTimestampedWebhook(webhookSecret, delivery!.rawBody.replace('80000', '8000'), signed)).toBe('bad_signature');
    expect(verifyWebhookSignature(webhookSecret, delivery!.rawBody, signed.signature)).toBe(false); // not the body alone
    expect(event.sequence).toBe(1);

    const log = await call('GET', '/webhook-deliveries');
    expect(log.body.filter((d: { eventId: string }) => d.eventId === event.eventId)).toEqual([
      expect.objectContaining({ attempt: 1, status: 204, error: null }),
    ]);
  });

  it('retries a delivery the receiver refused, with the same event id', async () => {
    failNextDeliveries = 1;
    const invoice = await createInvoice(10_000);
    await call('POST', '/payments', { paymentId: uniqueNumber('PAY'), invoiceNumber: invoice.invoiceNumber, amountMinor: 10_000, currency: 'EUR' });

    await vi.waitFor(() => expect(eventsFor(invoice.invoiceNumber)).toHaveLength(2), { timeout: 3_000 });
    const [first, second] = eventsFor(invoice.invoiceNumber);
    expect(second!.headers['x-erp-event-id']).toBe(first!.headers['x-erp-event-id']);
    const log = await call('GET', '/webhook-deliveries');
    expect(log.body.filter((d: { eventId: string }) => d.eventId === first!.headers['x-erp-event-id'])).toEqual([
      expect.objectContaining({ attempt: 1, status: 500, error: 'HTTP 500' }),
      expect.objectContaining({ attempt: 2, status: 204, error: null }),
    ]);
  });

  it('holds a payment with a future postAt (202) and applies it when due', async () => {
    const invoice = await createInvoice(40_000);
    const postAt = new Date(Date.now() + 500).toISOString();
    const scheduled = await call('POST', '/payments', {
      paymentId: uniqueNumber('PAY'),
      invoiceNumber: invoice.invoiceNumber,
      amountMinor: 15_000,
      currency: 'EUR',
      postAt,
    });
    expect(scheduled.status).toBe(202);
    expect(scheduled.body).toMatchObject({ state: 'scheduled', postAt, receivedAt: postAt, appliedAt: null });

    const erp = createHttpErp({ baseUrl: sim.url, apiKey });
    expect((await erp.getInvoiceBalance(invoice.invoiceNumber)).openAmountMinor).toBe(40_000);
    expect(eventsFor(invoice.invoiceNumber)).toHaveLength(0);

    await vi.waitFor(async () => expect((await erp.getInvoiceBalance(invoice.invoiceNumber)).openAmountMinor).toBe(25_000), {
      timeout: 3_000,
      interval: 50,
    });
    const applied = (await call('GET', `/invoices/${invoice.invoiceNumber}`)).body.payments[0];
    expect(Date.parse(applied.appliedAt)).toBeGreaterThanOrEqual(Date.parse(postAt));
    await vi.waitFor(() => expect(eventsFor(invoice.invoiceNumber)).toHaveLength(1));
  });
});

describe('credit hold over HTTP', () => {
  const customerPath = (customerId: string) => `/customers/${encodeURIComponent(customerId)}`;
  async function creditCall(method: 'GET' | 'POST', path: string, opts: { key?: string; body?: unknown } = {}) {
    const response = await fetch(`${sim.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${apiKey}`,
        ...(opts.key === undefined ? {} : { 'idempotency-key': opts.key }),
        ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    });
    return { status: response.status, replayed: response.headers.get('idempotent-replayed'), body: (await response.json()) as any };
  }
  /** A customer the simulator knows, through an invoice of its own. */
  async function newCustomer() {
    const customerId = uniqueNumber('CUST');
    expect(
      (await call('POST', '/invoices', { invoiceNumber: uniqueNumber('INV'), customerId, currency: 'EUR', amountMinor: 1_000, issueDate: '2025-01-15', dueDate: '2025-02-14' }))
        .status,
    ).toBe(201);
    return customerId;
  }

  it('places a hold once per key: 201, then the same answer replayed and nothing new logged', async () => {
    const customerId = await newCustomer();
    expect(await creditCall('GET', `${customerPath(customerId)}/credit-status`)).toMatchObject({
      status: 200,
      body: { customerId, onHold: false, releasedAt: null },
    });

    const first = await creditCall('POST', `${customerPath(customerId)}/credit-hold`, { key: 'hold-1', body: { reason: '60 days overdue' } });
    expect(first).toMatchObject({ status: 201, replayed: null, body: { customerId, onHold: true, reason: '60 days overdue', outcome: 'placed' } });
    const repeat = await creditCall('POST', `${customerPath(customerId)}/credit-hold`, { key: 'hold-1', body: { reason: '60 days overdue' } });
    expect(repeat).toEqual({ ...first, replayed: 'true' });

    const other = await creditCall('POST', `${customerPath(customerId)}/credit-hold`, { key: 'hold-2', body: { reason: 'second invoice' } });
    expect(other).toMatchObject({ status: 200, body: { onHold: true, heldSince: first.body.heldSince, reason: '60 days overdue', outcome: 'already_on_hold' } });

    const events = await creditCall('GET', `${customerPath(customerId)}/credit-events`);
    expect(events.body).toEqual([
      expect.objectContaining({ action: 'hold', outcome: 'placed', idempotencyKey: 'hold-1', reason: '60 days overdue' }),
      expect.objectContaining({ action: 'hold', outcome: 'already_on_hold', idempotencyKey: 'hold-2', reason: 'second invoice' }),
    ]);
  });

  it('releases a hold; a release without a hold is logged as not_on_hold', async () => {
    const customerId = await newCustomer();
    await creditCall('POST', `${customerPath(customerId)}/credit-hold`, { key: `${customerId}:hold`, body: { reason: 'overdue' } });
    const released = await creditCall('POST', `${customerPath(customerId)}/credit-hold/release`, { key: `${customerId}:release`, body: { reason: 'paid' } });
    expect(released).toMatchObject({ status: 200, body: { customerId, onHold: false, outcome: 'released' } });
    expect((await creditCall('GET', `${customerPath(customerId)}/credit-status`)).body).toEqual({ customerId, onHold: false, releasedAt: released.body.releasedAt });

    const again = await creditCall('POST', `${customerPath(customerId)}/credit-hold/release`, { key: `${customerId}:release-2`, body: { reason: 'paid' } });
    expect(again.body.outcome).toBe('not_on_hold');
    expect((await creditCall('GET', `${customerPath(customerId)}/credit-events`)).body.map((e: { outcome: string }) => e.outcome)).toEqual([
      'placed',
      'released',
      'not_on_hold',
    ]);
  });

  it('refuses a missing key or reason (400), an unknown customer (404) and a key reused for something else (409)', async () => {
    const customerId = await newCustomer();
    const hold = `${customerPath(customerId)}/credit-hold`;
    expect(await creditCall('POST', hold, { body: { reason: 'overdue' } })).toMatchObject({ status: 400, body: { error: 'missing_idempotency_key' } });
    expect(await creditCall('POST', hold, { key: 'k-empty', body: { reason: ' ' } })).toMatchObject({ status: 400, body: { error: 'invalid_body' } });
    expect(await creditCall('POST', '/customers/CUST-NOBODY/credit-hold', { key: 'k-nobody', body: { reason: 'overdue' } })).toMatchObject({ status: 404 });
    expect((await creditCall('GET', '/customers/CUST-NOBODY/credit-status')).status).toBe(404);

    const key = `${customerId}:hold`;
    expect((await creditCall('POST', hold, { key, body: { reason: 'overdue' } })).status).toBe(201);
    expect(await creditCall('POST', `${customerPath(customerId)}/credit-hold/release`, { key, body: { reason: 'paid' } })).toMatchObject({
      status: 409,
      body: { error: 'idempotency_key_reused' },
    });
    const otherCustomer = await newCustomer();
    expect((await creditCall('POST', `${customerPath(otherCustomer)}/credit-hold`, { key, body: { reason: 'overdue' } })).status).toBe(409);
    expect((await creditCall('GET', `${customerPath(otherCustomer)}/credit-status`)).body.onHold).toBe(false);
    expect((await creditCall('GET', `${customerPath(customerId)}/credit-events`)).body).toHaveLength(1);
  });
});
