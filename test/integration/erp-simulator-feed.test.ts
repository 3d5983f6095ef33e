import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErpInvoiceNotFoundError, ErpRequestRejectedError, type ErpAdapter } from '../../integrations/erp/adapter';
import type { ErpChangePage } from '../../integrations/erp/changes';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { paymentAppliedEventSchema } from '../../integrations/erp/payment-applied-event';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';

/**
 * The simulator's side of the issue-12 contract, through the real HTTP adapter: customers, the change feed
 * (GET /changes), due-date changes, cancellations, splits, unapplied payments and cash application.
 */

const apiKey = 'feed-erp-key';
const webhookSecret = 'feed-webhook-secret-0123';
const received: string[] = [];
let receiver: ReturnType<typeof createServer>;
let sim: ErpSimulator;
let erp: ErpAdapter;

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(Buffer.concat(chunks).toString('utf8'));
      res.statusCode = 204;
      res.end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const { port } = receiver.address() as AddressInfo;
  sim = await startErpSimulator({ apiKey, webhookSecret, webhookUrl: `http://127.0.0.1:${port}/hook` });
  erp = createHttpErp({ baseUrl: sim.url, apiKey });
});

afterAll(async () => {
  await sim?.close();
  await new Promise((resolve) => receiver?.close(resolve));
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now()}-${++seq}`;

async function call(method: string, url: string, body?: unknown, key?: string) {
  const response = await fetch(`${sim.url}${url}`, {
    method,
    headers: {
      authorization: `Bearer ${apiKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as any };
}

async function invoice(customerId: string, amountMinor = 10_000, currency = 'EUR') {
  const body = { invoiceNumber: unique('INV'), customerId, currency, amountMinor, issueDate: '2026-01-10', dueDate: '2026-02-09' };
  expect((await call('POST', '/invoices', body)).status).toBe(201);
  return body.invoiceNumber;
}

/** Every page from `cursor` to the end: the items in order, and where the feed stands now. */
async function drain(cursor: string | null, limit = 100) {
  const pages: ErpChangePage[] = [];
  for (;;) {
    const page = await erp.listChanges({ cursor, limit });
    pages.push(page);
    cursor = page.nextCursor;
    if (!page.hasMore) return { cursor, pages, receivables: pages.flatMap((p) => p.receivables), customers: pages.flatMap((p) => p.customers), unapplied: pages.flatMap((p) => p.unappliedPayments) };
  }
}

const eventsFor = (invoiceNumber: string) => received.map((r) => paymentAppliedEventSchema.parse(JSON.parse(r))).filter((e) => e.invoice.invoiceNumber === invoiceNumber);

describe('customers', () => {
  it('creates a customer idempotently, updates it, and implies a minimal one for an invoice naming an unknown customer', async () => {
    const id = unique('CUST');
    const customer = { customerId: id, name: 'Acme GmbH', email: 'ap@acme.example', contactName: 'Jo Payer', country: 'DE', region: 'BE', timeZone: 'Europe/Berlin', locale: 'de-DE', category: 'enterprise', accountManager: 'AM-7' };
    const created = await call('POST', '/customers', customer);
    expect(created).toMatchObject({ status: 201, body: { ...customer, outcome: 'created' } });
    expect((await call('POST', '/customers', customer)).body.outcome).toBe('unchanged');
    expect((await call('POST', '/customers', { ...customer, email: 'billing@acme.example' })).body.outcome).toBe('updated');
    expect((await call('GET', `/customers/${id}`)).body.email).toBe('billing@acme.example');
    const bad = await call('POST', '/customers', { customerId: id, country: 'Germany' });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string[] }) => i.path[0]).sort()).toEqual(['country', 'name']);

    const start = await drain(null);
    const stranger = unique('CUST');
    const number = await invoice(stranger);
    const { receivables, customers } = await drain(start.cursor);
    expect(receivables.map((r) => r.invoiceNumber)).toEqual([number]);
    expect(customers).toEqual([{ customerId: stranger, name: stranger, email: null, contactName: null, country: null, region: null, timeZone: null, locale: null, category: null, accountManager: null }]);
    // Posting the implied customer's real data is its creation.
    expect((await call('POST', '/customers', { customerId: stranger, name: 'Stranger Ltd' })).status).toBe(201);
  });
});

describe('change feed', () => {
  it('pages receivables by their last change, stably, with hasMore and the customers they name', async () => {
    const start = await drain(null);
    const cust = unique('CUST');
    await call('POST', '/customers', { customerId: cust, name: 'Paging AG', email: 'ap@paging.example' });
    const numbers = [await invoice(cust), await invoice(cust), await invoice(cust)];

    const first = await erp.listChanges({ cursor: start.cursor, limit: 2 });
    // The customer changed first, then the three invoices: a page of 2 holds the customer and the first invoice.
    expect(first.customers.map((c) => c.customerId)).toEqual([cust]);
    expect(first.receivables.map((r) => r.invoiceNumber)).toEqual([numbers[0]]);
    expect(first.hasMore).toBe(true);
    expect(await erp.listChanges({ cursor: start.cursor, limit: 2 })).toEqual(first); // stable
    const rest = await drain(first.nextCursor, 1);
    expect(rest.receivables.map((r) => r.invoiceNumber)).toEqual(numbers.slice(1));
    expect(rest.receivables[0]).toMatchObject({ customerId: cust, currency: 'EUR', amountMinor: 10_000, openAmountMinor: 10_000, status: 'open', issueDate: '2026-01-10', dueDate: '2026-02-09', settledDate: null, rebillOf: null, erpId: numbers[1] });
    const end = await erp.listChanges({ cursor: rest.cursor, limit: 10 });
    expect(end).toMatchObject({ receivables: [], customers: [], unappliedPayments: [], nextCursor: rest.cursor, hasMore: false });

    // A payment moves the first invoice to the end of the feed, with its new open amount.
    expect((await call('POST', '/payments', { paymentId: unique('PAY'), invoiceNumber: numbers[0], amountMinor: 10_000, currency: 'EUR' })).status).toBe(201);
    const after = await drain(rest.cursor);
    expect(after.receivables).toMatchObject([{ invoiceNumber: numbers[0], openAmountMinor: 0, status: 'paid', settledDate: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/) }]);
    // From the beginning, each invoice appears once, at its last change.
    const all = (await drain(null, 500)).receivables.map((r) => r.invoiceNumber);
    expect(new Set(all).size).toBe(all.length);
    expect(all.slice(-3)).toEqual([numbers[1], numbers[2], numbers[0]]);
  });

  it('refuses a cursor it did not give (400) and a limit out of range', async () => {
    await expect(erp.listChanges({ cursor: 'not-a-cursor', limit: 10 })).rejects.toMatchObject({ name: 'ErpRequestRejectedError', status: 400, code: 'invalid_cursor' });
    await expect(erp.listChanges({ cursor: null, limit: 0 })).rejects.toBeInstanceOf(ErpRequestRejectedError);
  });
});

describe('invoice changes', () => {
  it('extends a due date, cancels, splits and rebills, each a change in the feed', async () => {
    const cust = unique('CUST');
    const [extended, cancelled, split, paidPart] = [await invoice(cust, 9_000), await invoice(cust, 5_000), await invoice(cust, 12_000), await invoice(cust, 4_000)];
    const start = await drain(null);

    expect((await call('POST', `/invoices/${extended}/due-date`, { dueDate: '2026-03-31' })).body.dueDate).toBe('2026-03-31');
    expect((await call('POST', `/invoices/${extended}/due-date`, { dueDate: '2026-01-01' })).status).toBe(422); // before issue
    expect((await call('POST', `/invoices/${cancelled}/cancel`, { reason: 'raised in error' })).body).toMatchObject({ status: 'cancelled', openAmountMinor: 0 });
    expect((await call('POST', `/invoices/${cancelled}/cancel`, {})).status).toBe(200); // again: unchanged
    expect((await call('POST', `/invoices/${cancelled}/due-date`, { dueDate: '2026-04-30' })).status).toBe(422);
    await call('POST', '/payments', { paymentId: unique('PAY'), invoiceNumber: paidPart, amountMinor: 1_000, currency: 'EUR' });
    expect((await call('POST', `/invoices/${paidPart}/cancel`, {})).body.error).toBe('invoice_not_open');

    expect((await call('POST', `/invoices/${split}/split`, { parts: [{ amountMinor: 7_000, dueDate: '2026-12-31' }, { amountMinor: 4_000, dueDate: '2026-12-31' }] }, 'split-bad')).body.error).toBe('amounts_do_not_sum');
    const parts = [{ amountMinor: 7_000, dueDate: '2026-12-31' }, { amountMinor: 5_000, dueDate: '2027-01-31' }];
    const done = await call('POST', `/invoices/${split}/split`, { parts }, `split-${split}`);
    expect(done.status).toBe(201);
    expect(done.body.original).toMatchObject({ status: 'credited', openAmountMinor: 0 });
    expect(done.body.parts.map((p: { invoiceNumber: string; rebillOf: string }) => [p.invoiceNumber, p.rebillOf])).toEqual([[`${split}-S1`, split], [`${split}-S2`, split]]);
    const replay = await call('POST', `/invoices/${split}/split`, { parts }, `split-${split}`);
    expect(replay.body.parts.map((p: { invoiceNumber: string }) => p.invoiceNumber)).toEqual([`${split}-S1`, `${split}-S2`]);
    const rebill = await erp.createRebill({ originalInvoiceNumber: extended, amountMinor: 8_000, currency: 'EUR', issueDate: '2026-02-01', dueDate: '2026-03-03', idempotencyKey: `rebill-${extended}` });

    const feed = await drain(start.cursor);
    const byNumber = new Map(feed.receivables.map((r) => [r.invoiceNumber, r]));
    expect(byNumber.get(extended)).toMatchObject({ dueDate: '2026-03-31', status: 'open' });
    expect(byNumber.get(cancelled)).toMatchObject({ status: 'cancelled', openAmountMinor: 0, settledDate: expect.any(String) });
    expect(byNumber.get(paidPart)).toMatchObject({ openAmountMinor: 3_000, status: 'open' });
    expect(byNumber.get(split)).toMatchObject({ status: 'credited', openAmountMinor: 0 });
    expect(byNumber.get(`${split}-S1`)).toMatchObject({ rebillOf: split, amountMinor: 7_000, dueDate: '2026-12-31' });
    expect(byNumber.get(`${split}-S2`)).toMatchObject({ rebillOf: split, amountMinor: 5_000 });
    expect(byNumber.get(rebill.invoiceNumber)).toMatchObject({ rebillOf: extended, amountMinor: 8_000 });
    expect(feed.receivables).toHaveLength(byNumber.size);
  });
});

describe('unapplied payments and cash application', () => {
  it('holds a payment without an invoice as unapplied, applies it across invoices with a webhook per invoice, once per key', async () => {
    const cust = unique('CUST');
    const [a, b] = [await invoice(cust, 6_000), await invoice(cust, 4_000)];
    const start = await drain(null);
    const paymentId = unique('PAY');
    const held = await call('POST', '/payments', { paymentId, amountMinor: 12_000, currency: 'EUR', customerId: cust, payerName: 'Acme', remittance: `pay ${a} ${b}`, receivedAt: '2026-02-01T09:00:00Z' });
    expect(held).toMatchObject({ status: 201, body: { state: 'unapplied', unappliedMinor: 12_000 } });
    const feed = await drain(start.cursor);
    expect(feed.unapplied).toEqual([{ paymentId, customerId: cust, payerName: 'Acme', amountMinor: 12_000, currency: 'EUR', receivedAt: '2026-02-01T09:00:00Z', remittance: `pay ${a} ${b}` }]);

    // Refused, changing nothing: above an open amount, another currency, more than the payment holds, an unknown invoice.
    const refuse = (allocations: { invoiceNumber: string; amountMinor: number }[], currency = 'EUR') => erp.applyPayment({ paymentId, currency, allocations, idempotencyKey: unique('k') });
    await expect(refuse([{ invoiceNumber: a, amountMinor: 6_001 }])).rejects.toMatchObject({ status: 422, code: 'amount_exceeds_open_amount' });
    await expect(refuse([{ invoiceNumber: a, amountMinor: 3_000 }, { invoiceNumber: a, amountMinor: 3_001 }])).rejects.toMatchObject({ status: 422 });
    await expect(refuse([{ invoiceNumber: a, amountMinor: 100 }], 'USD')).rejects.toMatchObject({ status: 422, code: 'currency_mismatch' });
    await expect(refuse([{ invoiceNumber: 'INV-NOBODY', amountMinor: 100 }])).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
    expect((await erp.getInvoiceBalance(a)).openAmountMinor).toBe(6_000);

    const key = unique('apply');
    const applied = await erp.applyPayment({ paymentId, currency: 'EUR', allocations: [{ invoiceNumber: a, amountMinor: 6_000 }, { invoiceNumber: b, amountMinor: 1_500 }], idempotencyKey: key });
    expect(applied).toEqual({
      paymentId,
      invoices: [
        { invoiceNumber: a, paymentId: `${paymentId}#1`, appliedMinor: 6_000, openAmountMinor: 0, status: 'paid' },
        { invoiceNumber: b, paymentId: `${paymentId}#2`, appliedMinor: 1_500, openAmountMinor: 2_500, status: 'open' },
      ],
      unappliedMinor: 4_500,
    });
    expect(await erp.applyPayment({ paymentId, currency: 'EUR', allocations: [{ invoiceNumber: a, amountMinor: 6_000 }, { invoiceNumber: b, amountMinor: 1_500 }], idempotencyKey: key })).toEqual(applied);
    await expect(refuse([{ invoiceNumber: b, amountMinor: 2_500 }, { invoiceNumber: a, amountMinor: 0 + 1 }])).rejects.toMatchObject({ status: 422 }); // a is paid
    await expect(erp.applyPayment({ paymentId, currency: 'EUR', allocations: [{ invoiceNumber: b, amountMinor: 1 }], idempotencyKey: key })).rejects.toMatchObject({ status: 409 });
    expect((await erp.getInvoiceBalance(b)).openAmountMinor).toBe(2_500);

    await expect.poll(() => eventsFor(a).length + eventsFor(b).length).toBe(2);
    expect(eventsFor(a)[0]).toMatchObject({ payment: { paymentId: `${paymentId}#1`, amountMinor: 6_000, receivedAt: '2026-02-01T09:00:00Z' }, invoice: { status: 'paid', openAmountMinor: 0 } });
    expect(eventsFor(b)[0]).toMatchObject({ payment: { amountMinor: 1_500 }, invoice: { status: 'open', openAmountMinor: 2_500 } });

    // The feed shows both invoices changed and the payment again with what it still has unapplied.
    const later = await drain(feed.cursor);
    expect(later.receivables.map((r) => r.invoiceNumber).sort()).toEqual([a, b].sort());
    expect(later.unapplied).toMatchObject([{ paymentId, amountMinor: 4_500 }]);
  });

  it('applies a new receipt when the id is unknown and receivedAt is given; 404 without receivedAt', async () => {
    const number = await invoice(unique('CUST'), 3_000);
    await expect(erp.applyPayment({ paymentId: unique('PAY'), currency: 'EUR', allocations: [{ invoiceNumber: number, amountMinor: 3_000 }], idempotencyKey: unique('k') })).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
    const paymentId = unique('PAY');
    const start = await drain(null);
    const applied = await erp.applyPayment({ paymentId, currency: 'EUR', allocations: [{ invoiceNumber: number, amountMinor: 3_000 }], receivedAt: '2026-02-02T10:00:00Z', idempotencyKey: unique('k') });
    expect(applied).toEqual({ paymentId, invoices: [{ invoiceNumber: number, paymentId: `${paymentId}#1`, appliedMinor: 3_000, openAmountMinor: 0, status: 'paid' }], unappliedMinor: 0 });
    const feed = await drain(start.cursor);
    expect(feed.unapplied).toEqual([]); // fully applied: nothing for the unapplied-cash queue
    expect(feed.receivables).toMatchObject([{ invoiceNumber: number, status: 'paid' }]);
  });
});

describe('state file', () => {
  it('loads a file written before the change feed (version 1), and keeps the feed and cursors across a restart', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'erp-feed-'));
    try {
      const stateFile = path.join(dir, 'erp.json');
      const v1 = {
        version: 1,
        invoices: [
          { invoiceNumber: 'OLD-1', customerId: 'CUST-OLD', currency: 'EUR', amountMinor: 5_000, issueDate: '2025-06-01', dueDate: '2025-07-01', openAmountMinor: 0, status: 'paid' },
          { invoiceNumber: 'OLD-2', customerId: 'CUST-OLD', currency: 'EUR', amountMinor: 7_000, issueDate: '2025-06-02', dueDate: '2025-07-02', openAmountMinor: 7_000, status: 'open' },
        ],
        payments: [],
        creditAccounts: [],
        creditEvents: [],
        creditReplies: [],
        creditMemos: [],
        journals: [],
        adjustmentReplies: [],
      };
      writeFileSync(stateFile, JSON.stringify(v1));
      let old = await startErpSimulator({ apiKey, webhookSecret, stateFile });
      const oldErp = createHttpErp({ baseUrl: old.url, apiKey });
      const first = await oldErp.listChanges({ cursor: null, limit: 10 });
      expect(first.receivables.map((r) => [r.invoiceNumber, r.status, r.settledDate])).toEqual([['OLD-1', 'paid', '2025-06-01'], ['OLD-2', 'open', null]]);
      expect(first.customers.map((c) => c.customerId)).toEqual(['CUST-OLD']);
      await old.close();

      old = await startErpSimulator({ apiKey, webhookSecret, stateFile });
      const again = createHttpErp({ baseUrl: old.url, apiKey });
      expect(await again.listChanges({ cursor: first.nextCursor, limit: 10 })).toMatchObject({ receivables: [], hasMore: false });
      await again.applyPayment({ paymentId: 'P-OLD', currency: 'EUR', allocations: [{ invoiceNumber: 'OLD-2', amountMinor: 7_000 }], receivedAt: '2026-01-01T00:00:00Z', idempotencyKey: 'k-old' });
      await old.close();

      // A third start reads the version-2 file: the cursor still points where it did.
      old = await startErpSimulator({ apiKey, webhookSecret, stateFile });
      const third = createHttpErp({ baseUrl: old.url, apiKey });
      expect((await third.listChanges({ cursor: first.nextCursor, limit: 10 })).receivables).toMatchObject([{ invoiceNumber: 'OLD-2', status: 'paid' }]);
      await old.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
