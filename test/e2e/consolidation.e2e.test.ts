import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import type { CaughtMessage } from '../../dev/mail-catcher';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { untilNothingCanSend } from '../support/quiescence';

/**
 * Consolidation end to end: two customers, five invoices, one email per customer per cadence step,
 * received through SMTP with the right invoices listed. The fixture cadence has two email steps:
 * reminder-1 (due date + 1 day, long past for every invoice here, so it runs at enrollment) and
 * reminder-2, eight seconds after it. No send window, no contact cap: it runs at any hour.
 */
let stack: Stack;
beforeAll(async () => {
  // Three seconds of gathering: every invoice of one customer, enrolled back to back, joins the same batch.
  stack = await startStack({ cadenceFile: 'cadence-consolidation.json', gatherSeconds: 3 });
});
afterAll(async () => {
  await stack?.stop();
});

const ZONE = 'Europe/Berlin';
const LOCALE = 'de-DE';
/** Intl formats "1.234,56 €" with a no-break space; compare as a reader sees it. */
const plain = (text: string | null | undefined) => (text ?? '').replace(/[\u00a0\u202f]/g, ' ');

interface TestInvoice {
  number: string;
  customerId: string;
  amountMinor: number;
  /** Days past due today in the customer's time zone: one per aging bucket, so the status column is checked too. */
  daysLate: number;
  /** The amount as a de-DE reader sees it, written out by hand rather than computed. */
  shown: string;
  bucket: string;
}

const today = DateTime.now().setZone(ZONE).startOf('day');
const dueDateOf = (inv: TestInvoice) => today.minus({ days: inv.daysLate }).toISODate()!;
/** The date as the templates show it (luxon DATE_MED in the customer's locale, e.g. "13. Nov. 2026"). */
const shownDueDate = (inv: TestInvoice) => DateTime.fromISO(dueDateOf(inv)).setLocale(LOCALE).toLocaleString(DateTime.DATE_MED);

const CUSTOMERS = {
  A: { id: 'CONS-A', email: 'ap@cons-a.example' },
  B: { id: 'CONS-B', email: 'ap@cons-b.example' },
} as const;
const A: TestInvoice[] = [
  { number: 'CONS-A-1', customerId: CUSTOMERS.A.id, amountMinor: 123_456, daysLate: 10, shown: '1.234,56 €', bucket: '1-30' },
  { number: 'CONS-A-2', customerId: CUSTOMERS.A.id, amountMinor: 50_000, daysLate: 45, shown: '500,00 €', bucket: '31-60' },
  { number: 'CONS-A-3', customerId: CUSTOMERS.A.id, amountMinor: 8_990, daysLate: 75, shown: '89,90 €', bucket: '61-90' },
];
const B: TestInvoice[] = [
  { number: 'CONS-B-1', customerId: CUSTOMERS.B.id, amountMinor: 250_000, daysLate: 20, shown: '2.500,00 €', bucket: '1-30' },
  { number: 'CONS-B-2', customerId: CUSTOMERS.B.id, amountMinor: 4_210, daysLate: 100, shown: '42,10 €', bucket: '91+' },
];
/** Paid in full through the ERP between the two steps: left out of A's second email. */
const PAID = A[1]!;
const numbers = (invoices: TestInvoice[]) => invoices.map((i) => i.number).sort();

const batchKey = (customerId: string, n: number) => `customer-contact:${stack.tenantId}:${customerId}:batch:${n}`;
const waitForBatch = (customerId: string, n: number, timeoutMs: number) =>
  stack.mail.waitFor((m) => m.headers['x-dunning-idempotency-key'] === batchKey(customerId, n), timeoutMs);
const listed = (m: CaughtMessage) => (m.headers['x-invoice-numbers'] ?? '').split(',').map((s) => s.trim()).filter(Boolean).sort();

/** The invoice lines of the digest's text part: "- <number>, due <date>: <amount>, <n> days past due (<bucket>)". */
const textLines = (m: CaughtMessage) => plain(m.text).split(/\r?\n/).filter((l) => l.startsWith('- ')).sort();
const expectedTextLines = (invoices: TestInvoice[]) =>
  invoices.map((i) => `- ${i.number}, due ${shownDueDate(i)}: ${i.shown}, ${i.daysLate} days past due (${i.bucket})`).sort();
/** The rows of the digest's HTML table: [invoice, due, open, status]. */
const htmlRows = (m: CaughtMessage) =>
  [...plain(m.html).matchAll(/<tr><td>(.*?)<\/td><td>(.*?)<\/td><td>(.*?)<\/td><td>(.*?)<\/td><\/tr>/g)].map((r) => r.slice(1, 5)).sort((x, y) => x[0]!.localeCompare(y[0]!));
const expectedHtmlRows = (invoices: TestInvoice[]) =>
  invoices.map((i) => [i.number, shownDueDate(i), i.shown, `${i.daysLate} days past due (${i.bucket})`]).sort((x, y) => x[0]!.localeCompare(y[0]!));

/** One consolidated email: to the customer, listing exactly `invoices` in headers, subject, text and HTML. */
function expectDigest(m: CaughtMessage, customer: { id: string; email: string }, invoices: TestInvoice[], total: string) {
  expect(m.envelopeTo).toEqual([customer.email]);
  expect(plain(m.subject)).toBe(`${invoices.length} invoices past due: ${total} open`);
  expect(listed(m)).toEqual(numbers(invoices));
  expect(m.headers['x-invoice-number']).toBeUndefined(); // only single-invoice mail names one invoice
  expect(textLines(m)).toEqual(expectedTextLines(invoices));
  expect(plain(m.text)).toContain(`past due, ${total} in total:`);
  expect(htmlRows(m)).toEqual(expectedHtmlRows(invoices));
  expect(plain(m.html)).toContain(`<strong>${total}</strong> in total`);
}

describe('consolidation end to end: one email per customer per step, through SMTP', () => {
  it('sends two customers with five invoices one email per customer per step, listing the right invoices', async () => {
    // Back to back: A's three invoices, then B's two.
    for (const inv of [...A, ...B]) {
      const email = inv.customerId === CUSTOMERS.A.id ? CUSTOMERS.A.email : CUSTOMERS.B.email;
      const res = await createAndEnroll(stack, { number: inv.number, customerId: inv.customerId, amountMinor: inv.amountMinor, dueDate: dueDateOf(inv) }, email);
      expect(res.status, `enrolling ${inv.number}: ${JSON.stringify(res.body)}`).toBe(201);
    }

    // Step 1: one email per customer, with all of its invoices.
    const firstA = await waitForBatch(CUSTOMERS.A.id, 1, 30_000);
    const firstB = await waitForBatch(CUSTOMERS.B.id, 1, 30_000);

    // Between the two steps: once each of A's invoices has recorded its first step, pay one of them in
    // full. (Not the moment the mail arrives: a payment landing before the contact workflow has told the
    // invoice workflow "sent" closes it without recording the step that did go out; see the report.)
    for (const inv of A) {
      await expect.poll(async () => (await stack.api('GET', `/invoices/${inv.number}`)).body.steps.length, { timeout: 15_000 }).toBe(1);
    }
    const before = (await stack.api('GET', `/invoices/${PAID.number}`)).body;
    expect(before.nextStep).toMatchObject({ stepId: 'reminder-2', action: 'email' });
    expect(Date.parse(before.nextStep.at), 'the payment must come before the second step').toBeGreaterThan(Date.now());
    const paid = await stack.erpCall('/payments', { paymentId: 'PAY-CONS-A-2', invoiceNumber: PAID.number, amountMinor: PAID.amountMinor, currency: 'EUR' });
    expect(paid.status).toBe(201);

    expectDigest(firstA, CUSTOMERS.A, A, '1.824,46 €');
    expectDigest(firstB, CUSTOMERS.B, B, '2.542,10 €');
    // Nothing else went out for step 1: no single-invoice reminder, no second message to either customer.
    expect(stack.mail.messages()).toHaveLength(2);

    // The payment reaches the invoice's workflow through the ERP webhook: it closes as paid.
    await expect.poll(async () => (await stack.api('GET', `/invoices/${PAID.number}`)).body.stage, { timeout: 15_000 }).toBe('paid');

    // Step 2: again one email per customer; A's no longer lists the paid invoice.
    const openA = A.filter((i) => i !== PAID);
    const secondA = await waitForBatch(CUSTOMERS.A.id, 2, 45_000);
    const secondB = await waitForBatch(CUSTOMERS.B.id, 2, 45_000);
    expectDigest(secondA, CUSTOMERS.A, openA, '1.324,46 €');
    expectDigest(secondB, CUSTOMERS.B, B, '2.542,10 €');

    // Every open invoice's cadence is over and the paid one is closed: nothing is left to send ...
    for (const inv of [...openA, ...B]) {
      await expect
        .poll(async () => (await stack.sql`select 1 from audit_events where tenant_id = ${stack.tenantId} and invoice_number = ${inv.number} and event_type = 'cadence_completed'`).length, { timeout: 20_000 })
        .toBe(1);
    }
    // ... nor can anything still be sent: still four messages, nothing duplicated, nothing late.
    await untilNothingCanSend({ tenantId: stack.tenantId, invoiceNumbers: [...A, ...B].map((i) => i.number), customerIds: [CUSTOMERS.A.id, CUSTOMERS.B.id] });
    const all = stack.mail.messages();
    expect(all.map((m) => m.headers['x-dunning-idempotency-key']).sort()).toEqual(
      [batchKey(CUSTOMERS.A.id, 1), batchKey(CUSTOMERS.A.id, 2), batchKey(CUSTOMERS.B.id, 1), batchKey(CUSTOMERS.B.id, 2)].sort(),
    );
    // No email lists another customer's invoice, or goes to another customer.
    for (const m of all) {
      const [customer, own] = m.envelopeTo[0] === CUSTOMERS.A.email ? [CUSTOMERS.A, A] : [CUSTOMERS.B, B];
      expect(m.envelopeTo).toEqual([customer.email]);
      expect(m.headers['x-dunning-idempotency-key']).toMatch(new RegExp(`:${customer.id}:batch:`));
      for (const n of listed(m)) expect(numbers(own)).toContain(n);
      const others = (own === A ? B : A).map((i) => i.number);
      for (const n of others) expect(`${m.subject}\n${m.text}\n${m.html}`).not.toContain(n);
    }

    // The API: each invoice recorded its own steps, each one sent.
    for (const inv of [...openA, ...B]) {
      const view = (await stack.api('GET', `/invoices/${inv.number}`)).body;
      expect(view.stage).toBe('active');
      expect(view.nextStep).toBeNull();
      expect(view.steps.map((s: { stepId: string; outcome: string }) => `${s.stepId}:${s.outcome}`)).toEqual(['reminder-1:sent', 'reminder-2:sent']);
    }
    const paidView = (await stack.api('GET', `/invoices/${PAID.number}`)).body;
    expect(paidView).toMatchObject({ stage: 'paid', nextStep: null });
    expect(paidView.steps.map((s: { stepId: string; outcome: string }) => `${s.stepId}:${s.outcome}`)).toEqual(['reminder-1:sent']);

    // The outbox: one row per email, naming the invoices it listed.
    const outbox = await stack.sql<{ idempotency_key: string; invoice_number: string; invoice_numbers: string[]; recipient: string; status: string }[]>`
      select idempotency_key, invoice_number, invoice_numbers, recipient, status from outbound_messages where tenant_id = ${stack.tenantId} order by idempotency_key`;
    expect(outbox.map((r) => ({ ...r, invoice_numbers: [...r.invoice_numbers].sort() }))).toEqual(
      [
        { key: batchKey(CUSTOMERS.A.id, 1), customer: CUSTOMERS.A, invoices: A },
        { key: batchKey(CUSTOMERS.A.id, 2), customer: CUSTOMERS.A, invoices: openA },
        { key: batchKey(CUSTOMERS.B.id, 1), customer: CUSTOMERS.B, invoices: B },
        { key: batchKey(CUSTOMERS.B.id, 2), customer: CUSTOMERS.B, invoices: B },
      ]
        .sort((x, y) => x.key.localeCompare(y.key))
        .map(({ key, customer, invoices }) => ({
          idempotency_key: key,
          invoice_number: expect.toBeOneOf(numbers(invoices)),
          invoice_numbers: numbers(invoices),
          recipient: customer.email,
          status: 'sent',
        })),
    );
    // The outbox rows and the emails agree.
    for (const row of outbox) {
      const mail = all.find((m) => m.headers['x-dunning-idempotency-key'] === row.idempotency_key)!;
      expect(listed(mail)).toEqual([...row.invoice_numbers].sort());
      expect(row.invoice_number).toBe(mail.headers['x-invoice-numbers']!.split(',')[0]!.trim());
    }

    // The audit trail: each invoice records its own step_done events, saying how many invoices its message listed.
    const stepsDone = async (number: string) =>
      (await stack.sql<{ details: { stepId: string; outcome: string; detail?: string } }[]>`
        select details from audit_events where tenant_id = ${stack.tenantId} and invoice_number = ${number} and event_type = 'step_done' order by id`).map(
        (r) => `${r.details.stepId}:${r.details.outcome}:${r.details.detail}`,
      );
    for (const inv of openA) expect(await stepsDone(inv.number)).toEqual(['reminder-1:sent:one message for 3 invoices', 'reminder-2:sent:one message for 2 invoices']);
    for (const inv of B) expect(await stepsDone(inv.number)).toEqual(['reminder-1:sent:one message for 2 invoices', 'reminder-2:sent:one message for 2 invoices']);
    expect(await stepsDone(PAID.number)).toEqual(['reminder-1:sent:one message for 3 invoices']);
    const paidEvents = (await stack.sql`select event_type from audit_events where tenant_id = ${stack.tenantId} and invoice_number = ${PAID.number} order by id`).map((r) => r.event_type);
    expect(paidEvents).toEqual(expect.arrayContaining(['step_done', 'payment_received', 'closed']));
    expect(paidEvents.filter((e) => e === 'step_done')).toHaveLength(1);
  }, 150_000);
});
