import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { userWithToken } from '../support/auth';

/**
 * A payment reported by a person is a claim (issue 10 #12, the API half), through the API against the
 * product as it runs: before, a collector's POST /invoices/:n/payments with 99,999,999 on a 250.00 invoice
 * answered 200 `paid` while the ERP still showed it open, and the payment was stored as one.
 */
let stack: Stack;
let anna = '';

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-collector.json' });
  anna = (await userWithToken(stack.sql, stack.tenantId, { userId: 'anna', role: 'collector' })).token;
  for (const number of ['CLAIM-1', 'CLAIM-2']) {
    const res = await createAndEnroll(stack, { number, customerId: 'CUST-CLAIM', amountMinor: 25_000, dueDate: '2026-11-02' }, 'ap@claim.example', { collectorId: 'anna' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});
afterAll(async () => {
  await stack?.stop();
});

const report = (number: string, body: Record<string, unknown>) => stack.api('POST', `/invoices/${number}/payments`, { currency: 'EUR', ...body }, anna);
const paymentRows = (number: string) => stack.sql`select payment_id from payments where tenant_id = ${stack.tenantId} and invoice_number = ${number}`;
const reported = (number: string) =>
  stack.sql<{ actor: string; details: Record<string, unknown> }[]>`
    select actor, details from audit_events where tenant_id = ${stack.tenantId} and invoice_number = ${number} and event_type = 'payment_reported'`;
async function erpInvoice(number: string) {
  const res = await fetch(`${stack.erp.url}/invoices/${number}`, { headers: { authorization: `Bearer ${stack.env.ERP_API_KEY}` } });
  return (await res.json()) as { status: string; openAmountMinor: number };
}

describe('POST /invoices/:n/payments is a claim', () => {
  it('refuses more than the open amount: 99,999,999 on a 250.00 invoice is 422 invalid_amount, and nothing is recorded', async () => {
    const res = await report('CLAIM-1', { paymentId: 'PAY-TOO-MUCH', amountMinor: 99_999_999 });
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body.error).toBe('invalid_amount');
    expect(await paymentRows('CLAIM-1')).toEqual([]);
    expect(await reported('CLAIM-1')).toEqual([]);
    expect((await stack.api('GET', '/invoices/CLAIM-1')).body.stage).toBe('active');
  });

  it('answers a valid claim 202: the invoice is paused with the claim, still open in the ERP, and nothing says paid', async () => {
    const res = await report('CLAIM-1', { paymentId: 'PAY-CLAIM-1', amountMinor: 10_000 });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toEqual({ duplicate: false, stage: 'paused', openAmountMinor: 25_000, claimed: true });

    await expect.poll(async () => (await stack.api('GET', '/invoices/CLAIM-1', undefined, anna)).body.stage, { timeout: 15_000 }).toBe('paused');
    const view = (await stack.api('GET', '/invoices/CLAIM-1', undefined, anna)).body;
    expect(view.claim).toEqual({ paymentId: 'PAY-CLAIM-1', amountMinor: 10_000, currency: 'EUR', checkAt: expect.any(String) });
    expect(view.pausedUntil).toBe(new Date(view.claim.checkAt).toISOString());
    expect(Date.parse(view.claim.checkAt)).toBeGreaterThan(Date.now() + 2 * 86_400_000); // 3 business days
    expect(view.invoice.openAmountMinor).toBe(25_000);

    expect(await erpInvoice('CLAIM-1')).toMatchObject({ status: 'open', openAmountMinor: 25_000 });
    expect(await paymentRows('CLAIM-1')).toEqual([]); // a claim is not a payment
    expect(await reported('CLAIM-1')).toEqual([{ actor: 'anna', details: expect.objectContaining({ paymentId: 'PAY-CLAIM-1', amountMinor: 10_000, source: 'api', claim: true }) }]);

    // The same claim again changes nothing; the same id with another amount is a conflict.
    expect(await report('CLAIM-1', { paymentId: 'PAY-CLAIM-1', amountMinor: 10_000 })).toMatchObject({ status: 202, body: { claimed: true } });
    expect(await report('CLAIM-1', { paymentId: 'PAY-CLAIM-1', amountMinor: 12_000 })).toMatchObject({ status: 409, body: { error: 'payment_conflict' } });
    expect(await reported('CLAIM-1')).toHaveLength(1);
  });

  it('does not close an invoice claimed in full: paused, not paid, until the ERP says so', async () => {
    const res = await report('CLAIM-2', { paymentId: 'PAY-CLAIM-2', amountMinor: 25_000 });
    expect(res).toMatchObject({ status: 202, body: { stage: 'paused', claimed: true, openAmountMinor: 25_000 } });
    await expect.poll(async () => (await stack.api('GET', '/invoices/CLAIM-2')).body.claim?.paymentId, { timeout: 15_000 }).toBe('PAY-CLAIM-2');
    expect((await stack.api('GET', '/invoices/CLAIM-2')).body.stage).toBe('paused');

    // The ERP's word closes it.
    expect((await stack.erpCall('/payments', { paymentId: 'PAY-CLAIM-2', invoiceNumber: 'CLAIM-2', amountMinor: 25_000, currency: 'EUR' })).status).toBe(201);
    await expect.poll(async () => (await stack.api('GET', '/invoices/CLAIM-2')).body.stage, { timeout: 15_000 }).toBe('paid');
    expect(await paymentRows('CLAIM-2')).toEqual([{ payment_id: 'PAY-CLAIM-2' }]);
  });
});
