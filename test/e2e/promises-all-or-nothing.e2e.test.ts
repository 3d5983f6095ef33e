import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { userWithToken } from '../support/auth';

/**
 * Promises and plans over several invoices through the API, against the product as it runs (API and
 * worker processes): an Idempotency-Key replays the first answer and never makes a second promise, a
 * request repeated without one finds its promise too (ids are derived, not random), and a promise or
 * plan that one invoice cannot take (closed, or already promised) is made on none of them.
 */
let stack: Stack;
let anna = '';
let connection: Connection;
let temporal: Client;
const CUSTOMER = 'CUST-AON';
const numbers = ['AON-1', 'AON-2', 'AON-3', 'AON-4', 'AON-5', 'AON-6', 'AON-7'] as const;

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-collector.json' });
  anna = (await userWithToken(stack.sql, stack.tenantId, { userId: 'anna', role: 'collector' })).token;
  for (const number of numbers) {
    const res = await createAndEnroll(stack, { number, customerId: CUSTOMER, amountMinor: 100_000, dueDate: '2026-09-15' }, 'ap@aon.example', { collectorId: 'anna' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  connection = await Connection.connect({ address: inject('temporalAddress') });
  temporal = new Client({ connection });
});
afterAll(async () => {
  await connection?.close();
  await stack?.stop();
});

async function call(method: string, url: string, body?: unknown, key?: string) {
  const res = await fetch(`http://127.0.0.1:${stack.env.API_PORT}${url}`, {
    method,
    headers: { authorization: `Bearer ${anna}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(key ? { 'idempotency-key': key } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const raw = await res.text();
  return { status: res.status, raw, body: JSON.parse(raw) as any, replayed: res.headers.get('idempotent-replayed') };
}
const day = (n: number) => DateTime.now().setZone('Europe/Berlin').plus({ days: n }).toISODate()!;
const promiseRows = (number: string) =>
  stack.sql<{ promise_id: string; amount_minor: number }[]>`select promise_id, amount_minor from promises where tenant_id = ${stack.tenantId} and invoice_number = ${number} order by promise_id`;
const stageOf = async (number: string) => (await call('GET', `/invoices/${number}`)).body.stage as string;
const promise = (invoices: { number: string; amountMinor: number }[], promisedDate = day(5)) => ({ customerId: CUSTOMER, madeBy: 'Jana Roth, AP', promisedDate, invoices });

describe('promises over several invoices: idempotent and all or nothing', () => {
  it('replays a promise for the same Idempotency-Key and body, refuses the key with another body, and makes one promise', async () => {
    const key = randomUUID();
    const body = promise([{ number: 'AON-1', amountMinor: 40_000 }]);
    const first = await call('POST', '/promises', body, key);
    expect(first.status, first.raw).toBe(201);
    expect(first.body.invoices).toEqual([expect.objectContaining({ invoiceNumber: 'AON-1', stage: 'promised' })]);
    const again = await call('POST', '/promises', body, key);
    expect(again).toMatchObject({ status: 201, raw: first.raw, replayed: 'true' });
    const other = await call('POST', '/promises', promise([{ number: 'AON-1', amountMinor: 50_000 }]), key);
    expect(other).toMatchObject({ status: 422, body: { error: 'idempotency_key_reused' } });
    expect(await promiseRows('AON-1')).toEqual([{ promise_id: first.body.promiseId, amount_minor: 40_000 }]);
  });

  it('derives the promise id from the request without a key: the same request again finds its promise, it makes no second one', async () => {
    const body = promise([
      { number: 'AON-2', amountMinor: 30_000 },
      { number: 'AON-6', amountMinor: 20_000 },
    ]);
    const first = await call('POST', '/promises', body);
    expect(first.status, first.raw).toBe(201);
    const again = await call('POST', '/promises', body);
    expect(again.status, again.raw).toBe(201);
    expect(again.replayed).toBeNull();
    expect(again.body.promiseId).toBe(first.body.promiseId);
    expect(again.body.invoices.map((i: { stage: string }) => i.stage)).toEqual(['promised', 'promised']);
    expect(await promiseRows('AON-2')).toEqual([{ promise_id: first.body.promiseId, amount_minor: 30_000 }]);
    expect(await promiseRows('AON-6')).toEqual([{ promise_id: first.body.promiseId, amount_minor: 20_000 }]);
  });

  it('makes no promise at all when one invoice is closed, already promised, or its workflow ended while the list still shows it open', async () => {
    // AON-3 is paid in full, as the ERP reports: closed.
    expect((await stack.erpCall('/payments', { paymentId: `PAY-${randomUUID().slice(0, 8)}`, invoiceNumber: 'AON-3', amountMinor: 100_000, currency: 'EUR' })).status).toBe(201);
    await expect.poll(() => stageOf('AON-3'), { timeout: 15_000 }).toBe('paid');
    const closed = await call('POST', '/promises', promise([{ number: 'AON-4', amountMinor: 10_000 }, { number: 'AON-3', amountMinor: 10_000 }]));
    expect(closed).toMatchObject({ status: 409, body: { error: 'invoice_closed', invoiceNumber: 'AON-3' } });

    // AON-1 follows a promise already (the first test's): a second one is refused by the same rule the workflow applies.
    const promised = await call('POST', '/promises', promise([{ number: 'AON-4', amountMinor: 10_000 }, { number: 'AON-1', amountMinor: 10_000 }]));
    expect(promised).toMatchObject({ status: 409, body: { error: 'promise_active', invoiceNumber: 'AON-1' } });

    // AON-5's workflow was terminated: the invoice list still says active, the workflow is gone.
    await temporal.workflow.getHandle(`invoice-dunning:${stack.tenantId}:AON-5`).terminate('e2e: the invoice closed behind the mirror');
    expect(await stageOf('AON-5')).toBe('active');
    const gone = await call('POST', '/promises', promise([{ number: 'AON-4', amountMinor: 10_000 }, { number: 'AON-5', amountMinor: 10_000 }]));
    expect(gone).toMatchObject({ status: 409, body: { error: 'invoice_closed', invoiceNumber: 'AON-5' } });

    // A plan over AON-4 and AON-5 likewise: no share on AON-4, no plan row.
    const plan = await call('POST', '/payment-plans', {
      customerId: CUSTOMER, madeBy: 'CFO', invoiceNumbers: ['AON-4', 'AON-5'],
      installments: [{ dueDate: day(10), amountMinor: 100_000 }, { dueDate: day(40), amountMinor: 100_000 }],
    });
    expect(plan).toMatchObject({ status: 409, body: { error: 'invoice_closed', invoiceNumber: 'AON-5' } });
    expect(await stack.sql`select plan_id from payment_plans where tenant_id = ${stack.tenantId} and customer_id = ${CUSTOMER}`).toEqual([]);

    // Nothing reached AON-4: no promise row, no promise in its workflow.
    expect(await promiseRows('AON-4')).toEqual([]);
    expect(await stageOf('AON-4')).toBe('active');
    const state = await temporal.workflow.getHandle(`invoice-dunning:${stack.tenantId}:AON-4`).query<{ stage: string; promise?: unknown }>('dunningState');
    expect([state.stage, state.promise]).toEqual(['active', undefined]);

    // And with both open, the same plan goes through once, idempotently.
    const key = randomUUID();
    const ok = { customerId: CUSTOMER, madeBy: 'CFO', invoiceNumbers: ['AON-4', 'AON-7'], installments: [{ dueDate: day(10), amountMinor: 100_000 }, { dueDate: day(40), amountMinor: 100_000 }] };
    const made = await call('POST', '/payment-plans', ok, key);
    expect(made.status, made.raw).toBe(201);
    expect(await call('POST', '/payment-plans', ok, key)).toMatchObject({ status: 201, raw: made.raw, replayed: 'true' });
    expect(await stack.sql`select plan_id from payment_plans where tenant_id = ${stack.tenantId} and customer_id = ${CUSTOMER}`).toEqual([{ plan_id: made.body.planId }]);
    expect((await promiseRows('AON-4')).map((r) => r.promise_id)).toEqual([`${made.body.planId}-AON-4`]);
  });
});

describe('pauses with an Idempotency-Key', () => {
  it('pauses once: the retry gets the first answer, the history and the workflow have one pause', async () => {
    const key = randomUUID();
    const body = { reason: 'Audit at the customer: wait a week' };
    const paused = await call('POST', '/invoices/AON-7/pause', body, key);
    expect(paused.status, paused.raw).toBe(200);
    expect(paused.body).toMatchObject({ stage: 'paused', changed: true });
    expect(await call('POST', '/invoices/AON-7/pause', body, key)).toMatchObject({ status: 200, raw: paused.raw, replayed: 'true' });
    expect(await stack.sql`select count(*)::int as n from customer_activities where tenant_id = ${stack.tenantId} and invoice_number = 'AON-7' and kind = 'pause'`).toEqual([{ n: 1 }]);
    expect(await stack.sql`select count(*)::int as n from audit_events where tenant_id = ${stack.tenantId} and invoice_number = 'AON-7' and event_type = 'paused'`).toEqual([{ n: 1 }]);
  });
});
