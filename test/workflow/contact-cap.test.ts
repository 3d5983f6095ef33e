import { describe, expect, inject, it } from 'vitest';
import { DateTime } from 'luxon';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { dunningStateQuery } from '../../workflows/messages';
import { customerContactStateQuery, customerContactWorkflowId } from '../../workflows/customer-messages';
import { createFakeActivities } from '../support/fake-activities';
import { startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput } from '../support/time-skipping';

const ZONE = 'Europe/Berlin';
const DAY_MS = 86_400_000;
const GATHER_MS = 5 * 60_000;
/** Real time that passes on the server between a timer firing and the activity it leads to (ERP re-check, then send). */
const TOLERANCE_MS = 60_000;

const server = useTimeSkippingServer();

const serverNow = async () => DateTime.fromMillis(await server.env.currentTimeMs(), { zone: ZONE });

/** One email step the day after the due date, at `sendAt` Berlin time. */
function capCadence(extra: { id?: string; sendAt?: string; contactCap?: Cadence['contactCap']; sendWindow?: Cadence['sendWindow'] }): Cadence {
  return cadenceSchema.parse({
    id: extra.id ?? 'capped',
    version: 1,
    name: 'Capped reminder',
    sendAt: extra.sendAt ?? '09:30',
    contactCap: extra.contactCap ?? { maxEmails: 1, perDays: 7 },
    ...(extra.sendWindow ? { sendWindow: extra.sendWindow } : {}),
    steps: [{ id: 'reminder-1', anchor: 'due_date', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } }],
  });
}

/** Invoices of one customer (fresh id), each due on its date with its cadence. */
function invoicesOfOneCustomer(prefix: string, ...specs: { dueDate: string; cadence: Cadence }[]) {
  const inputs = specs.map(({ dueDate, cadence }) => invoiceInput(dueDate, { cadence }));
  const customerId = `${prefix}-${inputs[0]!.invoice.number}`;
  for (const input of inputs) {
    input.customer.id = customerId;
    input.invoice.customerId = customerId;
  }
  return { inputs, customerId, contactWorkflowId: customerContactWorkflowId('test', customerId) };
}

const start = (input: ReturnType<typeof invoiceInput>, taskQueue: string) => startInvoiceWorkflow(server.env, input, taskQueue);

/** Skips server time to `t` plus `slackMs`. */
async function sleepUntil(t: DateTime, slackMs = 0) {
  const ms = t.toMillis() + slackMs - (await server.env.currentTimeMs());
  if (ms > 0) await server.env.sleep(ms);
}

const local = (ms: number) => DateTime.fromMillis(ms, { zone: ZONE });

/** The instant `dueDate + 1 day` at `sendAt`, Berlin time: when the cadence's only step falls due. */
const stepInstant = (dueDate: string, sendAt: string) => DateTime.fromISO(`${dueDate}T${sendAt}`, { zone: ZONE }).plus({ days: 1 });

describe('contact cap across the invoices of one customer (time-skipping)', () => {
  it('holds the second invoice’s message until perDays x 24 h after the first message, and both invoices record it as sent', async () => {
    const today = (await serverNow()).toISODate()!;
    const cadence = capCadence({ contactCap: { maxEmails: 1, perDays: 7 } });
    // A's step: tomorrow 09:30; B's step: two days later, far outside the gathering delay.
    const { inputs, contactWorkflowId } = invoicesOfOneCustomer(
      'CAP',
      { dueDate: today, cadence },
      { dueDate: DateTime.fromISO(today).plus({ days: 2 }).toISODate()!, cadence },
    );
    const [invA, invB] = inputs as [ReturnType<typeof invoiceInput>, ReturnType<typeof invoiceInput>];
    const fake = createFakeActivities({ [invA.invoice.number]: { amountMinor: 125_000 }, [invB.invoice.number]: { amountMinor: 80_000 } }, { gatherMs: GATHER_MS });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const a = await start(invA, taskQueue);
      const b = await start(invB, taskQueue);

      // An hour after B's step fell due: A's message went out, B's waits in the customer workflow.
      const stepB = stepInstant(invB.invoice.dueDate, '09:30');
      await sleepUntil(stepB, 3_600_000);
      expect(fake.callsOf('sendCustomerMessage')).toHaveLength(1);
      expect(fake.callsOf('queueCustomerMessage')).toHaveLength(2); // B's invoice side did hand it over
      const waiting = await server.env.client.workflow.getHandle(contactWorkflowId).query(customerContactStateQuery);
      expect(waiting.sentAt).toHaveLength(1);
      expect(waiting.pending.map((p) => p.invoice.number)).toEqual([invB.invoice.number]);
      const heldB = await b.query(dunningStateQuery);
      expect(heldB.steps).toEqual([]);
      // B shows its step as deferred by the customer's cap, until 7 x 24 h after A's message (issue 10 #15), not at an instant now past.
      const releaseAt = Date.parse(heldB.nextStep!.at);
      expect(heldB.nextStep).toMatchObject({ stepId: 'reminder-1', deferred: { reason: 'customer_contact_cap', from: stepB.toUTC().toISO() } });
      expect(releaseAt).toBeGreaterThanOrEqual(fake.callsOf('sendCustomerMessage')[0]!.scheduledAt + 7 * DAY_MS);
      expect(fake.callsOf('recordDunningEvent').map((c) => c.args[0]).filter((e) => e.type === 'step_deferred' && e.invoiceNumber === invB.invoice.number)).toEqual([
        expect.objectContaining({ nextStep: heldB.nextStep }),
      ]);

      const firstSentAt = fake.callsOf('sendCustomerMessage')[0]!.scheduledAt;
      await sleepUntil(local(firstSentAt).plus({ milliseconds: 7 * DAY_MS }), 3_600_000);
      const messages = fake.callsOf('sendCustomerMessage');
      expect(messages.map((m) => m.args[0].items.map((i) => i.invoice.number))).toEqual([[invA.invoice.number], [invB.invoice.number]]);
      // A went out when its step fell due (after the gathering delay) ...
      const stepA = stepInstant(invA.invoice.dueDate, '09:30');
      expect(messages[0]!.scheduledAt).toBeGreaterThanOrEqual(stepA.toMillis() + GATHER_MS);
      expect(messages[0]!.scheduledAt).toBeLessThan(stepA.toMillis() + GATHER_MS + TOLERANCE_MS);
      // ... and B not before 7 x 24 h after it, nor much later.
      const gap = messages[1]!.scheduledAt - messages[0]!.scheduledAt;
      expect(gap).toBeGreaterThanOrEqual(7 * DAY_MS);
      expect(gap).toBeLessThan(7 * DAY_MS + GATHER_MS + TOLERANCE_MS);

      for (const handle of [a, b]) {
        const { steps } = await handle.query(dunningStateQuery);
        expect(steps.map((s) => [s.stepId, s.outcome, s.detail])).toEqual([['reminder-1', 'sent', undefined]]);
      }
      const after = await server.env.client.workflow.getHandle(contactWorkflowId).query(customerContactStateQuery);
      expect(after.sentAt).toHaveLength(2);
      expect(after.pending).toEqual([]);
      await a.terminate('test done');
      await b.terminate('test done');
    });
  });

  it('sends a message held by the cap at the next opening of the send window when the cap releases outside it', async () => {
    // Window Tue-Thu 10:00-12:00 Berlin. A weekly window is the same on every 7-day shift, so a 7-day cap
    // always releases inside it; a 3-day cap released after a Wednesday send falls on a Saturday.
    const sendWindow = { days: ['tue', 'wed', 'thu'], start: '10:00', end: '12:00' } as Cadence['sendWindow'];
    const cadence = capCadence({ sendAt: '10:30', sendWindow, contactCap: { maxEmails: 1, perDays: 3 } });
    const now = await serverNow();
    const wednesday = now.plus({ days: ((3 - now.weekday + 7) % 7) || 7 }).toISODate()!; // the next Wednesday after today
    const { inputs, contactWorkflowId } = invoicesOfOneCustomer(
      'WIN',
      { dueDate: DateTime.fromISO(wednesday).minus({ days: 1 }).toISODate()!, cadence }, // step Wed 10:30
      { dueDate: wednesday, cadence }, // step Thu 10:30: in the window, but within 3 days of A's message
    );
    const [invA, invB] = inputs as [ReturnType<typeof invoiceInput>, ReturnType<typeof invoiceInput>];
    const fake = createFakeActivities({ [invA.invoice.number]: { amountMinor: 125_000 }, [invB.invoice.number]: { amountMinor: 80_000 } }, { gatherMs: GATHER_MS });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    const nextTuesdayOpen = DateTime.fromISO(`${wednesday}T10:00`, { zone: ZONE }).plus({ days: 6 });
    await worker.runUntil(async () => {
      const a = await start(invA, taskQueue);
      const b = await start(invB, taskQueue);

      // Saturday, an hour after the cap released: still nothing for B (outside the window).
      const firstStep = DateTime.fromISO(`${wednesday}T10:30`, { zone: ZONE });
      await sleepUntil(firstStep.plus({ days: 3 }), GATHER_MS + 3_600_000);
      expect(fake.callsOf('sendCustomerMessage')).toHaveLength(1);
      expect((await b.query(dunningStateQuery)).steps).toEqual([]);

      await sleepUntil(nextTuesdayOpen.plus({ days: 1 }));
      const messages = fake.callsOf('sendCustomerMessage');
      expect(messages.map((m) => m.args[0].items.map((i) => i.invoice.number))).toEqual([[invA.invoice.number], [invB.invoice.number]]);
      const [first, second] = messages.map((m) => local(m.scheduledAt)) as [DateTime, DateTime];
      // A: Wednesday 10:35 (step + gathering delay), inside the window.
      expect(first.weekday).toBe(3);
      expect(first.toMillis()).toBeGreaterThanOrEqual(firstStep.toMillis() + GATHER_MS);
      expect(first.toMillis()).toBeLessThan(firstStep.toMillis() + GATHER_MS + TOLERANCE_MS);
      // B: the cap is kept, and the message waits for the window to open (next Tuesday 10:00), not Saturday.
      expect(second.toMillis() - first.toMillis()).toBeGreaterThanOrEqual(3 * DAY_MS);
      expect(['tue', 'wed', 'thu']).toContain(second.toFormat('ccc').toLowerCase());
      expect(second.toFormat('HH:mm') >= '10:00' && second.toFormat('HH:mm') < '12:00').toBe(true);
      expect(second.toMillis()).toBeGreaterThanOrEqual(nextTuesdayOpen.toMillis());
      expect(second.toMillis()).toBeLessThan(nextTuesdayOpen.toMillis() + TOLERANCE_MS);

      for (const handle of [a, b]) {
        const { steps } = await handle.query(dunningStateQuery);
        expect(steps.map((s) => [s.stepId, s.outcome])).toEqual([['reminder-1', 'sent']]);
      }
      expect((await server.env.client.workflow.getHandle(contactWorkflowId).query(customerContactStateQuery)).sentAt).toHaveLength(2);
      await a.terminate('test done');
      await b.terminate('test done');
    });
  });

  it('sends one message listing both invoices whose steps fall within the gathering delay, even with maxEmails 1', async () => {
    const today = (await serverNow()).toISODate()!;
    // Same cap on both; B's step two minutes after A's, inside the 5-minute gathering delay.
    const cadenceA = capCadence({ id: 'capped-a', sendAt: '09:30', contactCap: { maxEmails: 1, perDays: 7 } });
    const cadenceB = capCadence({ id: 'capped-b', sendAt: '09:32', contactCap: { maxEmails: 1, perDays: 7 } });
    const { inputs, contactWorkflowId } = invoicesOfOneCustomer('ONE', { dueDate: today, cadence: cadenceA }, { dueDate: today, cadence: cadenceB });
    const [invA, invB] = inputs as [ReturnType<typeof invoiceInput>, ReturnType<typeof invoiceInput>];
    const fake = createFakeActivities({ [invA.invoice.number]: { amountMinor: 125_000 }, [invB.invoice.number]: { amountMinor: 80_000 } }, { gatherMs: GATHER_MS });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const a = await start(invA, taskQueue);
      const b = await start(invB, taskQueue);
      await server.env.sleep('10 days');

      const messages = fake.callsOf('sendCustomerMessage');
      expect(messages).toHaveLength(1);
      expect(messages[0]!.args[0].items.map((i) => i.invoice.number)).toEqual([invA.invoice.number, invB.invoice.number]);
      const stepA = stepInstant(today, '09:30');
      expect(messages[0]!.scheduledAt).toBeGreaterThanOrEqual(stepA.toMillis() + GATHER_MS);
      expect(messages[0]!.scheduledAt).toBeLessThan(stepA.toMillis() + GATHER_MS + TOLERANCE_MS);
      for (const handle of [a, b]) {
        const { steps } = await handle.query(dunningStateQuery);
        expect(steps.map((s) => [s.stepId, s.outcome, s.detail])).toEqual([['reminder-1', 'sent', 'one message for 2 invoices']]);
      }
      const contactState = await server.env.client.workflow.getHandle(contactWorkflowId).query(customerContactStateQuery);
      expect(contactState.sentAt).toHaveLength(1); // one contact against the cap
      expect(contactState.pending).toEqual([]);
      await a.terminate('test done');
      await b.terminate('test done');
    });
  });
  it('a message held by the cap never goes out on a public holiday of the customer', async () => {
    const sendWindow = { days: ['tue', 'wed', 'thu'], start: '10:00', end: '12:00' } as Cadence['sendWindow'];
    const cadence = capCadence({ sendAt: '10:30', sendWindow, contactCap: { maxEmails: 1, perDays: 3 } });
    const now = await serverNow();
    const wednesday = now.plus({ days: ((3 - now.weekday + 7) % 7) || 7 }).toISODate()!;
    const { inputs } = invoicesOfOneCustomer(
      'HOL',
      { dueDate: DateTime.fromISO(wednesday).minus({ days: 1 }).toISODate()!, cadence },
      { dueDate: wednesday, cadence },
    );
    for (const i of inputs) {
      i.customer.country = 'DE';
      i.customer.region = 'BE';
    }
    const [invA, invB] = inputs as [ReturnType<typeof invoiceInput>, ReturnType<typeof invoiceInput>];
    const holidayTuesday = DateTime.fromISO(wednesday).plus({ days: 6 }).toISODate()!; // where the cap + window would put B
    const fake = createFakeActivities(
      { [invA.invoice.number]: { amountMinor: 125_000 }, [invB.invoice.number]: { amountMinor: 80_000 } },
      { gatherMs: GATHER_MS, holidays: [holidayTuesday] },
    );
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const a = await start(invA, taskQueue);
      const b = await start(invB, taskQueue);
      await server.env.sleep('14 days');
      const messages = fake.callsOf('sendCustomerMessage');
      expect(messages).toHaveLength(2);
      // The window's next non-holiday opening: Wednesday 10:00.
      expect(local(messages[1]!.scheduledAt).toFormat("yyyy-MM-dd'T'HH:mm")).toBe(`${DateTime.fromISO(holidayTuesday).plus({ days: 1 }).toISODate()}T10:00`);
      await a.terminate('test done');
      await b.terminate('test done');
    });
  });

  it('a batch keeps the strictest cap of its requests, whichever arrived first', async () => {
    const today = (await serverNow()).toISODate()!;
    const strict = (id: string, sendAt: string) => capCadence({ id, sendAt, contactCap: { maxEmails: 1, perDays: 7 } });
    const lenient = capCadence({ id: 'lenient', sendAt: '09:30', contactCap: { maxEmails: 3, perDays: 7 } });
    const later = DateTime.fromISO(today).plus({ days: 2 }).toISODate()!;
    // A (strict) is sent tomorrow; two days later the lenient invoice's step (09:30) and the strict one's (09:32) gather together.
    const { inputs } = invoicesOfOneCustomer('STRICT', { dueDate: today, cadence: strict('strict-a', '09:30') }, { dueDate: later, cadence: lenient }, { dueDate: later, cadence: strict('strict-b', '09:32') });
    const fake = createFakeActivities(Object.fromEntries(inputs.map((i) => [i.invoice.number, { amountMinor: 10_000 }])), { gatherMs: GATHER_MS });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handles = [];
      for (const input of inputs) handles.push(await start(input, taskQueue));
      await server.env.sleep('14 days');
      const messages = fake.callsOf('sendCustomerMessage');
      expect(messages).toHaveLength(2);
      // The strict invoice's cadence allows one message in 7 days: the batch containing it must wait.
      expect(messages[1]!.scheduledAt - messages[0]!.scheduledAt).toBeGreaterThanOrEqual(7 * DAY_MS);
      for (const h of handles) await h.terminate('test done');
    });
  });
});
