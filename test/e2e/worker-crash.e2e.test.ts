import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { untilNothingCanSend } from '../support/quiescence';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-crash.json' });
});
afterAll(async () => {
  await stack?.stop();
});

const INVOICES = ['CRASH-1', 'CRASH-2', 'CRASH-3'];
const STEPS = ['reminder-1', 'reminder-2', 'reminder-3', 'reminder-4', 'reminder-5'];

it('completes every cadence with each reminder delivered exactly once when the worker is SIGKILLed mid-cadence', async () => {
  for (const [i, number] of INVOICES.entries()) {
    const res = await createAndEnroll(stack, { number, customerId: `CRASH-C${i}`, amountMinor: 10_000 + i, dueDate: '2026-09-01' }, `ap${i}@crash.example`);
    expect(res.status).toBe(201);
  }
  // Let the cadences get going, then kill the worker hard (no shutdown, no cleanup) between two steps,
  // while the workflows sleep on their timers. A kill inside an SMTP transaction is a different case:
  // the send is then 'uncertain' and, at most once, never repeated (test/integration/reminder-outbox.test.ts).
  await expect.poll(() => stack.mail.messages().length, { timeout: 30_000 }).toBeGreaterThanOrEqual(INVOICES.length * 2);
  await expect
    .poll(async () => (await stack.sql`select status from outbound_messages where tenant_id = ${stack.tenantId}`).map((r) => r.status), { interval: 50 })
    .not.toContain('sending');
  await stack.killWorker();
  const sentBeforeCrash = stack.mail.messages().length;
  await new Promise((r) => setTimeout(r, 5_000)); // steps fall due while no worker runs
  expect(stack.mail.messages().length).toBe(sentBeforeCrash);
  stack.restartWorker();

  // Each customer has one invoice here, so each step is one batch of its customer's contact workflow.
  const expectedKeys = INVOICES.flatMap((_, i) => STEPS.map((_s, n) => `customer-contact:${stack.tenantId}:CRASH-C${i}:batch:${n + 1}`)).sort();
  await expect
    .poll(() => stack.mail.messages().length, { timeout: 150_000, interval: 500 })
    .toBeGreaterThanOrEqual(expectedKeys.length)
    .catch(async (err: Error) => {
      // What the outbox and the workflows say, to tell a lost send from a stuck workflow.
      const outbox = await stack.sql`select idempotency_key, status from outbound_messages where tenant_id = ${stack.tenantId} order by idempotency_key`;
      const invoices = await stack.sql`select invoice_number, stage, next_step_id, next_step_at from invoices where tenant_id = ${stack.tenantId}`;
      throw new Error(`${err.message}\noutbox: ${JSON.stringify(outbox)}\ninvoices: ${JSON.stringify(invoices)}`);
    });
  // Nothing can still be sent (no activity pending, nothing queued or in flight): a duplicate would be here by now.
  await untilNothingCanSend({ tenantId: stack.tenantId, invoiceNumbers: INVOICES, customerIds: INVOICES.map((_, i) => `CRASH-C${i}`) });
  const keys = stack.mail.messages().map((m) => m.headers['x-dunning-idempotency-key']).sort();
  expect(keys).toEqual(expectedKeys);
  for (const number of INVOICES) expect(stack.mail.messages().filter((m) => m.headers['x-invoice-number'] === number)).toHaveLength(STEPS.length);

  for (const number of INVOICES) {
    await expect.poll(async () => (await stack.api('GET', `/invoices/${number}`)).body.steps.map((s: { stepId: string }) => s.stepId), { timeout: 10_000 }).toEqual(STEPS);
  }
  // One outbox row per reminder. A kill that lands between SMTP's acceptance and the 'sent' mark
  // leaves the row 'uncertain' (never resent): the mail above still arrived exactly once.
  const outbox = await stack.sql<{ idempotency_key: string; status: string }[]>`
    select idempotency_key, status from outbound_messages where tenant_id = ${stack.tenantId} order by idempotency_key`;
  expect(outbox.map((r) => r.idempotency_key).sort()).toEqual(expectedKeys);
  expect(outbox.filter((r) => r.status !== 'sent' && r.status !== 'uncertain')).toEqual([]);
}, 240_000);
