import type { IncomingHttpHeaders } from 'node:http';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { listen } from '../support/listen';
import { createCreditHoldActivities } from '../../activities/credit-hold';
import { createErpActionActivities } from '../../activities/erp-actions';
import { createErpActivities } from '../../activities/erp-balance';
import { ErpInvoiceNotFoundError, ErpRequestRejectedError, ErpUnavailableError } from '../../integrations/erp/adapter';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { paymentAppliedEventSchema } from '../../integrations/erp/payment-applied-event';
import { verifyTimestampedWebhook } from '../../integrations/erp/webhook-signature';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';

/**
 * Credit memos, write-offs, rebills, credit hold release and short payments: the real simulator
 * over HTTP, through the real adapter and the activities that wrap it.
 */

const apiKey = 'test-erp-key';
const webhookSecret = 'test-webhook-secret-0123';


const received: { headers: IncomingHttpHeaders; rawBody: string }[] = [];
let receiver: Awaited<ReturnType<typeof listen>>;
let sim: ErpSimulator;
let erp: ReturnType<typeof createHttpErp>;

beforeAll(async () => {
  receiver = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      res.statusCode = 204;
      res.end();
    });
  });
  sim = await startErpSimulator({ apiKey, webhookSecret, webhookUrl: `${receiver.url}/erp-webhooks` });
  erp = createHttpErp({ baseUrl: sim.url, apiKey, timeoutMs: 2_000 });
});

afterAll(async () => {
  await sim?.close();
  await receiver?.close();
});

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now()}-${++seq}`;

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

async function createInvoice(amountMinor = 100_000, currency = 'EUR', customerId = unique('CUST')) {
  const invoice = { invoiceNumber: unique('INV'), customerId, currency, amountMinor, issueDate: '2025-01-15', dueDate: '2025-02-14' };
  expect((await call('POST', '/invoices', invoice)).status).toBe(201);
  return invoice;
}

const memo = (invoiceNumber: string, amountMinor: number, idempotencyKey = unique('cm'), currency = 'EUR') => ({
  invoiceNumber,
  amountMinor,
  currency,
  reason: 'dispute D-1 (pricing): agreed price was 10% lower',
  idempotencyKey,
});

describe('credit memos', () => {
  it('reduces the open amount, partial then full: the invoice ends credited and both memos are listed', async () => {
    const invoice = await createInvoice(100_000);
    const first = await erp.requestCreditMemo(memo(invoice.invoiceNumber, 30_000));
    expect(first).toEqual({
      creditMemoId: expect.stringMatching(/^CM-/),
      invoice: {
        invoiceNumber: invoice.invoiceNumber,
        customerId: invoice.customerId,
        currency: 'EUR',
        amountMinor: 100_000,
        openAmountMinor: 70_000,
        status: 'open',
        asOf: expect.any(String),
      },
    });
    const second = await erp.requestCreditMemo(memo(invoice.invoiceNumber, 70_000));
    expect(second.creditMemoId).not.toBe(first.creditMemoId);
    expect(second.invoice).toMatchObject({ openAmountMinor: 0, status: 'credited' });
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 0, status: 'credited' });

    const listed = await call('GET', `/credit-memos?invoiceNumber=${encodeURIComponent(invoice.invoiceNumber)}`);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([
      expect.objectContaining({ creditMemoId: first.creditMemoId, invoiceNumber: invoice.invoiceNumber, customerId: invoice.customerId, amountMinor: 30_000, currency: 'EUR', reason: expect.stringContaining('D-1') }),
      expect.objectContaining({ creditMemoId: second.creditMemoId, amountMinor: 70_000, issuedAt: expect.any(String) }),
    ]);
    expect((await call('GET', `/credit-memos?customerId=${encodeURIComponent(invoice.customerId)}`)).body).toHaveLength(2);
  });

  it('refuses an amount above the open amount or in another currency (422), and an unknown invoice (404), changing nothing', async () => {
    const invoice = await createInvoice(50_000);
    const over = await erp.requestCreditMemo(memo(invoice.invoiceNumber, 50_001)).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(ErpRequestRejectedError);
    expect(over).toMatchObject({ status: 422, code: 'amount_exceeds_open_amount', message: expect.stringMatching(/HTTP 422.*open amount.*50000 EUR/) });

    const usd = await erp.requestCreditMemo(memo(invoice.invoiceNumber, 1_000, unique('cm'), 'USD')).catch((e: unknown) => e);
    expect(usd).toMatchObject({ name: 'ErpRequestRejectedError', status: 422, code: 'currency_mismatch' });

    await expect(erp.requestCreditMemo(memo('INV-NONE', 1_000))).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);

    // A paid invoice has nothing left to credit.
    await call('POST', '/payments', { paymentId: unique('PAY'), invoiceNumber: invoice.invoiceNumber, amountMinor: 50_000, currency: 'EUR' });
    await expect(erp.requestCreditMemo(memo(invoice.invoiceNumber, 1))).rejects.toMatchObject({ status: 422, code: 'amount_exceeds_open_amount' });
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 0, status: 'paid' });
    expect((await call('GET', `/credit-memos?invoiceNumber=${invoice.invoiceNumber}`)).body).toEqual([]);
  });

  it('answers a retry of the same key with the first answer and issues no second memo; the key for another request is 409', async () => {
    const invoice = await createInvoice(80_000);
    const req = memo(invoice.invoiceNumber, 20_000, `credit-dispute:t1:${invoice.invoiceNumber}:credit`);
    const first = await erp.requestCreditMemo(req);
    await new Promise((resolve) => setTimeout(resolve, 5)); // a new answer would carry a later asOf
    expect(await erp.requestCreditMemo(req)).toEqual(first);

    const raw = await call('POST', `/invoices/${invoice.invoiceNumber}/credit-memos`, { amountMinor: 20_000, currency: 'EUR', reason: 'retry' }, { 'idempotency-key': req.idempotencyKey });
    expect(raw.status).toBe(201);
    expect(raw.headers.get('idempotent-replayed')).toBe('true');
    expect(raw.body).toEqual(first);

    expect(sim.store.creditMemosOf({ invoiceNumber: invoice.invoiceNumber })).toHaveLength(1);
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 60_000, status: 'open' });

    const reused = await erp.requestCreditMemo({ ...req, amountMinor: 25_000 }).catch((e: unknown) => e);
    expect(reused).toMatchObject({ name: 'ErpRequestRejectedError', status: 409, code: 'idempotency_key_reused' });
    // The same key cannot become a write-off either.
    await expect(erp.postWriteOff(req)).rejects.toMatchObject({ status: 409 });
  });

  it('refuses a request without an Idempotency-Key or with a bad body (400)', async () => {
    const invoice = await createInvoice(10_000);
    const path = `/invoices/${invoice.invoiceNumber}/credit-memos`;
    expect(await call('POST', path, { amountMinor: 100, currency: 'EUR', reason: 'x' })).toMatchObject({ status: 400, body: { error: 'missing_idempotency_key' } });
    const bad = await call('POST', path, { amountMinor: 0, currency: 'eur', reason: ' ' }, { 'idempotency-key': unique('k') });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string[] }) => i.path.join('.')).sort()).toEqual(['amountMinor', 'currency', 'reason']);
  });
});

describe('write-offs', () => {
  it('posts a bad-debt journal entry; the remainder after a partial payment closes the invoice as written_off', async () => {
    const invoice = await createInvoice(90_000);
    await call('POST', '/payments', { paymentId: unique('PAY'), invoiceNumber: invoice.invoiceNumber, amountMinor: 60_000, currency: 'EUR' });
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 30_000, status: 'open' });

    const req = { invoiceNumber: invoice.invoiceNumber, amountMinor: 30_000, currency: 'EUR', reason: 'settlement remainder, approval A-7', idempotencyKey: unique('wo') };
    const written = await erp.postWriteOff(req);
    expect(written).toEqual({
      journalId: expect.stringMatching(/^JE-/),
      invoice: expect.objectContaining({ invoiceNumber: invoice.invoiceNumber, openAmountMinor: 0, status: 'written_off' }),
    });
    expect(await erp.postWriteOff(req)).toEqual(written);
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 0, status: 'written_off' });

    const journals = await call('GET', `/journals?invoiceNumber=${encodeURIComponent(invoice.invoiceNumber)}`);
    expect(journals.status).toBe(200);
    expect(journals.body).toEqual([
      {
        journalId: written.journalId,
        invoiceNumber: invoice.invoiceNumber,
        customerId: invoice.customerId,
        amountMinor: 30_000,
        currency: 'EUR',
        reason: 'settlement remainder, approval A-7',
        idempotencyKey: req.idempotencyKey,
        postedAt: expect.any(String),
        account: 'bad_debt_expense',
        offsetAccount: 'accounts_receivable',
      },
    ]);
    // A later payment finds nothing open and leaves the write-off standing.
    const late = await call('POST', '/payments', { paymentId: unique('PAY'), invoiceNumber: invoice.invoiceNumber, amountMinor: 5_000, currency: 'EUR' });
    expect(late.body).toMatchObject({ appliedAmountMinor: 0, unappliedAmountMinor: 5_000 });
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ status: 'written_off' });
  });

  it('a partial write-off leaves the invoice open; over the open amount is refused', async () => {
    const invoice = await createInvoice(40_000, 'USD');
    const partial = await erp.postWriteOff({ invoiceNumber: invoice.invoiceNumber, amountMinor: 15_000, currency: 'USD', reason: 'small balance', idempotencyKey: unique('wo') });
    expect(partial.invoice).toMatchObject({ openAmountMinor: 25_000, status: 'open' });
    await expect(
      erp.postWriteOff({ invoiceNumber: invoice.invoiceNumber, amountMinor: 25_001, currency: 'USD', reason: 'x', idempotencyKey: unique('wo') }),
    ).rejects.toMatchObject({ name: 'ErpRequestRejectedError', status: 422, code: 'amount_exceeds_open_amount' });
    expect((await call('GET', `/journals?invoiceNumber=${invoice.invoiceNumber}`)).body).toHaveLength(1);
  });
});

describe('rebills', () => {
  it('numbers rebills -R1, -R2 for the original customer and currency; a retry returns the same number', async () => {
    const invoice = await createInvoice(100_000);
    const req = { originalInvoiceNumber: invoice.invoiceNumber, amountMinor: 85_000, currency: 'EUR', issueDate: '2025-03-01', dueDate: '2025-03-31', idempotencyKey: unique('rb') };
    const first = await erp.createRebill(req);
    expect(first).toEqual({ invoiceNumber: `${invoice.invoiceNumber}-R1` });
    expect(await erp.createRebill(req)).toEqual(first);
    const second = await erp.createRebill({ ...req, amountMinor: 80_000, idempotencyKey: unique('rb') });
    expect(second).toEqual({ invoiceNumber: `${invoice.invoiceNumber}-R2` });

    expect(await erp.getInvoiceBalance(first.invoiceNumber)).toMatchObject({
      customerId: invoice.customerId,
      currency: 'EUR',
      amountMinor: 85_000,
      openAmountMinor: 85_000,
      status: 'open',
    });
    expect((await call('GET', `/invoices/${first.invoiceNumber}`)).body).toMatchObject({ rebillOf: invoice.invoiceNumber, issueDate: '2025-03-01', dueDate: '2025-03-31' });
    // The original is untouched: crediting it is a separate request.
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 100_000 });
  });

  it('refuses another currency (422), an unknown original (404) and a due date before the issue date (400)', async () => {
    const invoice = await createInvoice(10_000);
    const base = { originalInvoiceNumber: invoice.invoiceNumber, amountMinor: 9_000, currency: 'EUR', issueDate: '2025-03-01', dueDate: '2025-03-31' };
    await expect(erp.createRebill({ ...base, currency: 'GBP', idempotencyKey: unique('rb') })).rejects.toMatchObject({ status: 422, code: 'currency_mismatch' });
    await expect(erp.createRebill({ ...base, originalInvoiceNumber: 'INV-NONE', idempotencyKey: unique('rb') })).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
    await expect(erp.createRebill({ ...base, dueDate: '2025-02-01', idempotencyKey: unique('rb') })).rejects.toMatchObject({
      status: 400,
      message: expect.stringMatching(/dueDate: must not be before issueDate/),
    });
    expect(sim.store.invoices.has(`${invoice.invoiceNumber}-R1`)).toBe(false);
  });
});

describe('credit hold on the customer account', () => {
  it('shows a placed and a released hold through the simulator GETs', async () => {
    const { customerId } = await createInvoice(10_000);
    const hold = await erp.placeCreditHold({ customerId, reason: 'approved: A-1', idempotencyKey: unique('hold') });
    expect((await call('GET', `/customers/${customerId}/credit-status`)).body).toEqual({ customerId, onHold: true, heldSince: hold.heldSince, reason: 'approved: A-1' });

    const activities = createCreditHoldActivities({ erp });
    const release = { customerId, reason: 'approved: A-2', idempotencyKey: unique('release') };
    const env = new MockActivityEnvironment();
    expect(await env.run(activities.releaseCreditHold, release)).toEqual({ customerId, onHold: false });
    expect(await env.run(activities.releaseCreditHold, release)).toEqual({ customerId, onHold: false });

    expect((await call('GET', `/customers/${customerId}/credit-status`)).body).toEqual({ customerId, onHold: false, releasedAt: expect.any(String) });
    expect((await call('GET', `/customers/${customerId}/credit-events`)).body).toEqual([
      expect.objectContaining({ action: 'hold', outcome: 'placed', reason: 'approved: A-1' }),
      expect.objectContaining({ action: 'release', outcome: 'released', reason: 'approved: A-2', idempotencyKey: release.idempotencyKey }),
    ]);
  });
});

describe('short payments', () => {
  const eventsFor = (invoiceNumber: string) =>
    received.map((r) => ({ ...r, event: paymentAppliedEventSchema.parse(JSON.parse(r.rawBody)) })).filter((r) => r.event.invoice.invoiceNumber === invoiceNumber);

  it('carries the deduction and its reason code in the signed payment.applied event; the deducted amount stays open', async () => {
    const invoice = await createInvoice(120_000);
    const paymentId = unique('PAY');
    const posted = await call('POST', '/payments', {
      paymentId,
      invoiceNumber: invoice.invoiceNumber,
      amountMinor: 100_000,
      currency: 'EUR',
      deduction: { amountMinor: 20_000, reasonCode: 'damaged_goods' },
    });
    expect(posted.status).toBe(201);
    expect(posted.body).toMatchObject({ appliedAmountMinor: 100_000, deduction: { amountMinor: 20_000, reasonCode: 'damaged_goods' } });

    await vi.waitFor(() => expect(eventsFor(invoice.invoiceNumber)).toHaveLength(1));
    const [delivery] = eventsFor(invoice.invoiceNumber);
    expect(verifyTimestampedWebhook(webhookSecret, delivery!.rawBody, { signature: delivery!.headers['x-erp-signature'], timestamp: delivery!.headers['x-erp-timestamp'] })).toBe('ok');
    expect(delivery!.event).toMatchObject({
      type: 'payment.applied',
      payment: { paymentId, amountMinor: 100_000, currency: 'EUR' },
      invoice: { openAmountMinor: 20_000, status: 'open' },
      deduction: { amountMinor: 20_000, reasonCode: 'damaged_goods' },
    });
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 20_000, status: 'open' });

    // The same payment id with another deduction is another payment: 409.
    const changed = await call('POST', '/payments', { paymentId, invoiceNumber: invoice.invoiceNumber, amountMinor: 100_000, currency: 'EUR', deduction: { amountMinor: 20_000, reasonCode: 'pricing' } });
    expect(changed.status).toBe(409);
  });

  it('leaves deduction out of events for full payments; old events without it still parse', async () => {
    const invoice = await createInvoice(5_000);
    await call('POST', '/payments', { paymentId: unique('PAY'), invoiceNumber: invoice.invoiceNumber, amountMinor: 5_000, currency: 'EUR' });
    await vi.waitFor(() => expect(eventsFor(invoice.invoiceNumber)).toHaveLength(1));
    const [delivery] = eventsFor(invoice.invoiceNumber);
    expect(JSON.parse(delivery!.rawBody)).not.toHaveProperty('deduction');
    expect(delivery!.event.deduction).toBeUndefined();
  });

  it('refuses an unknown reason code (400) and a deduction beyond the open amount (422)', async () => {
    const invoice = await createInvoice(10_000);
    const base = { invoiceNumber: invoice.invoiceNumber, amountMinor: 6_000, currency: 'EUR' };
    const unknown = await call('POST', '/payments', { ...base, paymentId: unique('PAY'), deduction: { amountMinor: 4_000, reasonCode: 'bad_mood' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues[0].path).toEqual(['deduction', 'reasonCode']);
    const beyond = await call('POST', '/payments', { ...base, paymentId: unique('PAY'), deduction: { amountMinor: 4_001, reasonCode: 'pricing' } });
    expect(beyond).toMatchObject({ status: 422, body: { error: 'deduction_exceeds_open_amount' } });
    expect(await erp.getInvoiceBalance(invoice.invoiceNumber)).toMatchObject({ openAmountMinor: 10_000 });
  });
});

describe('ERP action activities', () => {
  const env = () => new MockActivityEnvironment();
  type Actions = ReturnType<typeof createErpActionActivities>;

  it('run credit memo, write-off and rebill through the adapter', async () => {
    const activities = createErpActionActivities({ erp });
    const invoice = await createInvoice(100_000);
    const credit = (await env().run(activities.requestCreditMemo, memo(invoice.invoiceNumber, 40_000))) as Awaited<ReturnType<Actions['requestCreditMemo']>>;
    expect(credit.invoice).toMatchObject({ openAmountMinor: 60_000, status: 'open' });
    const rebill = await env().run(activities.createRebill, {
      originalInvoiceNumber: invoice.invoiceNumber,
      amountMinor: 60_000,
      currency: 'EUR',
      issueDate: '2025-03-01',
      dueDate: '2025-03-31',
      idempotencyKey: unique('rb'),
    });
    expect(rebill).toEqual({ invoiceNumber: `${invoice.invoiceNumber}-R1` });
    const written = (await env().run(activities.postWriteOff, { ...memo(invoice.invoiceNumber, 60_000), reason: 'write-off approved' })) as Awaited<
      ReturnType<Actions['postWriteOff']>
    >;
    expect(written.invoice).toMatchObject({ openAmountMinor: 0, status: 'written_off' });
  });

  it('fail without retry for a refused request, an unknown invoice or customer, or an invalid request', async () => {
    const activities = createErpActionActivities({ erp });
    const invoice = await createInvoice(10_000);
    const over = await env().run(activities.requestCreditMemo, memo(invoice.invoiceNumber, 10_001)).catch((e: unknown) => e);
    expect(over).toBeInstanceOf(ApplicationFailure);
    expect(over).toMatchObject({ nonRetryable: true, type: 'ErpRequestRejected', details: [{ status: 422, code: 'amount_exceeds_open_amount' }] });

    const unknown = await env().run(activities.postWriteOff, memo('INV-NONE', 1)).catch((e: unknown) => e);
    expect(unknown).toMatchObject({ nonRetryable: true, type: 'ErpInvoiceNotFound' });

    const nobody = await env().run(createCreditHoldActivities({ erp }).releaseCreditHold, { customerId: 'CUST-NOBODY', reason: 'x', idempotencyKey: unique('k') }).catch((e: unknown) => e);
    expect(nobody).toMatchObject({ nonRetryable: true, type: 'ErpCustomerNotFound' });

    const invalid = await env().run(activities.requestCreditMemo, { ...memo(invoice.invoiceNumber, 0), currency: 'eur', reason: '' }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ nonRetryable: true, type: 'InvalidErpRequest', message: expect.stringMatching(/amountMinor[\s\S]*currency[\s\S]*reason/) });
    expect((await call('GET', `/credit-memos?invoiceNumber=${invoice.invoiceNumber}`)).body).toEqual([]);
  });

  it('map ERP errors alike in every ERP activity: the balance read and the credit hold too', async () => {
    // An invoice the ERP does not know: retried twice (an ERP mid-sync may answer 404 once), then for good.
    const read = (attempt: number) => new MockActivityEnvironment({ attempt }).run(createErpActivities({ erp }).getInvoiceBalance, 'INV-NONE').catch((e: unknown) => e);
    expect(await read(1)).toMatchObject({ nonRetryable: false, type: 'ErpInvoiceNotFound' });
    expect(await read(2)).toMatchObject({ nonRetryable: false, type: 'ErpInvoiceNotFound' });
    const balance = await read(3);
    expect(balance).toBeInstanceOf(ApplicationFailure);
    expect(balance).toMatchObject({ nonRetryable: true, type: 'ErpInvoiceNotFound' });

    const holds = createCreditHoldActivities({ erp });
    const { customerId } = await createInvoice(10_000);
    const key = unique('hold');
    await env().run(holds.placeCreditHold, { idempotencyKey: key, customerId, reason: 'overdue' });
    const { customerId: other } = await createInvoice(10_000);
    const reused = await env().run(holds.placeCreditHold, { idempotencyKey: key, customerId: other, reason: 'overdue' }).catch((e: unknown) => e);
    expect(reused).toMatchObject({ nonRetryable: true, type: 'ErpRequestRejected', details: [{ status: 409, code: 'idempotency_key_reused' }] });

    const invalid = await env().run(holds.releaseCreditHold, { idempotencyKey: ' ', customerId, reason: '' }).catch((e: unknown) => e);
    expect(invalid).toMatchObject({ nonRetryable: true, type: 'InvalidErpRequest' });
  });

  it('let Temporal retry while the ERP is unavailable', async () => {
    const down = await listen((_req, res) => {
      res.statusCode = 503;
      res.end();
    });
    try {
      const activities = createErpActionActivities({ erp: createHttpErp({ baseUrl: down.url, apiKey, timeoutMs: 1_000 }) });
      const err = await env().run(activities.requestCreditMemo, memo('INV-1', 100)).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ErpUnavailableError);
      expect(err).not.toBeInstanceOf(ApplicationFailure);
    } finally {
      await down.close();
    }
  });
});
