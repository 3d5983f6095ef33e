import { describe, expect, inject, it } from 'vitest';
import { DateTime } from 'luxon';
import { addBusinessDays } from '../../domain/business-calendar';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { previewCadence } from '../../domain/preview';
import { cadenceChangedSignal, dunningStateQuery, paymentNotifiedSignal } from '../../workflows/messages';
import { customerContactStateQuery, customerContactWorkflowId } from '../../workflows/customer-messages';
import { createFakeActivities } from '../support/fake-activities';
import { loadAuthorityMatrix } from '../../config/load';
import { approvalWorkflowId, decideApprovalUpdate } from '../../workflows/approval-messages';
import { startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput } from '../support/time-skipping';

const GATHER_MS = 5 * 60_000;
const server = useTimeSkippingServer();

const berlinDate = async (offsetDays: number) =>
  DateTime.fromMillis(await server.env.currentTimeMs(), { zone: 'Europe/Berlin' }).plus({ days: offsetDays }).toISODate()!;

const start = (input: ReturnType<typeof invoiceInput>, taskQueue: string) => startInvoiceWorkflow(server.env, input, taskQueue);

/** Ninety days of a firm cadence with every kind of action, in business days, with a holiday and a condition. */
const everyAction: Cadence = cadenceSchema.parse({
  id: 'every-action',
  version: 1,
  name: 'Every action kind',
  sendAt: '09:30',
  sendWindow: { days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '16:00' },
  steps: [
    { id: 'courtesy', offset: { amount: -3, unit: 'days' }, action: { type: 'email', template: 'courtesy-pre-due' } },
    { id: 'reminder-1', offset: { amount: 1, unit: 'business_days' }, action: { type: 'email', template: 'reminder-friendly' } },
    { id: 'statement-1', anchor: 'previous_step', offset: { amount: 5, unit: 'business_days' }, action: { type: 'statement' } },
    { id: 'call-1', offset: { amount: 10, unit: 'business_days' }, action: { type: 'call_task', note: 'Ask for a payment date.' } },
    { id: 'escalate-1', offset: { amount: 15, unit: 'business_days' }, action: { type: 'escalate', role: 'team_lead', note: 'No answer after three contacts.' } },
    { id: 'notify-crm', offset: { amount: 20, unit: 'business_days' }, action: { type: 'webhook', endpoint: 'crm', event: 'invoice.overdue' } },
    { id: 'hold', offset: { amount: 30, unit: 'business_days' }, action: { type: 'credit_hold', reason: '30 business days overdue' } },
    { id: 'large-only', offset: { amount: 35, unit: 'business_days' }, action: { type: 'email', template: 'reminder-final' }, conditions: { minOpenAmount: { EUR: 10_000_000 } } },
    { id: 'write-off', offset: { amount: 55, unit: 'business_days' }, action: { type: 'request_write_off', reason: 'Uncollectible small balance' } },
    { id: 'agency', offset: { amount: 60, unit: 'business_days' }, action: { type: 'handoff', to: 'agency', note: 'Hand to the agency' } },
  ],
});

describe('cadence v2 on the time-skipping server', () => {
  it('runs 90 days of every action kind at the instants the preview gives, business days and holidays included', async () => {
    const dueDate = await berlinDate(6);
    const holiday = addBusinessDays(dueDate, 1); // reminder-1's natural day is a public holiday: it moves a business day later
    const input = invoiceInput(dueDate, { cadence: everyAction });
    input.customer.country = 'DE';
    input.customer.region = 'BE';
    // Credit holds without approval here (the shipped matrix asks for one): this test is about the cadence's instants.
    const authorityMatrix = { ...loadAuthorityMatrix(), creditHoldNeedsApproval: false };
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } }, { holidays: [holiday], gatherMs: GATHER_MS, authorityMatrix });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    const startedAt = new Date(await server.env.currentTimeMs()).toISOString();
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      const preview = previewCadence({
        cadence: everyAction,
        dueDate,
        currency: 'EUR',
        openAmountMinor: 125_000,
        timeZone: 'Europe/Berlin',
        segment: 'standard',
        calendar: { holidays: [holiday] },
        asOf: startedAt,
      });
      // The write-off step asks for an approval; an AR manager rejects it, so the cadence goes on to the agency step.
      const writeOffAt = Date.parse(preview.find((p) => p.stepId === 'write-off')!.at);
      await server.env.sleep(writeOffAt + 3_600_000 - (await server.env.currentTimeMs()));
      expect((await handle.query(dunningStateQuery)).stage).toBe('awaiting_approval');
      await server.env.client.workflow.getHandle(approvalWorkflowId('test', `${input.invoice.number}-write-off`)).executeUpdate(decideApprovalUpdate, {
        args: [{ decision: 'reject', note: 'Keep collecting: the customer is solvent.', actor: { userId: 'mark', role: 'ar_manager', approvalLimitMinor: null } }],
      });
      await server.env.sleep(Date.parse(startedAt) + 100 * 86_400_000 - (await server.env.currentTimeMs()));
      const state = await handle.query(dunningStateQuery);
      expect(state.steps.map((s) => ({ stepId: s.stepId, at: s.at }))).toEqual(preview.map((p) => ({ stepId: p.stepId, at: p.at })));
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([
        ['courtesy', 'sent'],
        ['reminder-1', 'sent'],
        ['statement-1', 'sent'],
        ['call-1', 'task_created'],
        ['escalate-1', 'notified'],
        ['notify-crm', 'webhook_sent'],
        ['hold', 'hold_placed'],
        ['large-only', 'skipped'],
        ['write-off', 'approval_requested'],
        ['agency', 'approval_requested'],
      ]);
      expect(state.stage).toBe('awaiting_approval'); // the hand-off waits for its approver
      expect(state.steps.find((s) => s.stepId === 'large-only')!.detail).toMatch(/below/);
      // The holiday moved reminder-1 to the next business day, 09:30 Berlin time.
      const reminderDay = DateTime.fromISO(state.steps[1]!.at, { zone: 'Europe/Berlin' });
      expect(reminderDay.toISODate()).toBe(addBusinessDays(holiday, 1));
      expect(reminderDay.toFormat('HH:mm')).toBe('09:30');
      await handle.terminate('test done');
    });
    expect(fake.callsOf('getBusinessCalendar').map((c) => c.args[0])).toEqual([expect.objectContaining({ country: 'DE', region: 'BE' })]);
    expect(fake.callsOf('sendCustomerMessage').map((c) => c.args[0].items.map((i) => `${i.kind}:${i.template}`))).toEqual([
      ['email:courtesy-pre-due'],
      ['email:reminder-friendly'],
      ['statement:statement'],
    ]);
    expect(fake.callsOf('notifyInternal')[0]!.args[0]).toMatchObject({ role: 'team_lead', invoiceNumber: input.invoice.number });
    expect(fake.callsOf('postWebhook')[0]!.args[0]).toMatchObject({ endpoint: 'crm', event: 'invoice.overdue', idempotencyKey: `${input.workflowId}:step:notify-crm` });
    expect(fake.callsOf('placeCreditHold')[0]!.args[0]).toMatchObject({ customerId: 'C1', reason: '30 business days overdue' });
  });

  it("consolidates one customer's invoices due the same day into one message, and leaves out an invoice paid meanwhile", async () => {
    const dueDate = await berlinDate(0);
    const first = invoiceInput(dueDate);
    const second = invoiceInput(dueDate);
    const customerId = `CONS-${first.invoice.number}`;
    for (const inv of [first, second]) {
      inv.customer.id = customerId;
      inv.invoice.customerId = customerId;
    }
    const fake = createFakeActivities({ [first.invoice.number]: { amountMinor: 125_000 }, [second.invoice.number]: { amountMinor: 80_000 } }, { gatherMs: GATHER_MS });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const a = await start(first, taskQueue);
      const b = await start(second, taskQueue);
      await server.env.sleep('5 days');
      const messages = fake.callsOf('sendCustomerMessage');
      expect(messages).toHaveLength(1);
      expect(messages[0]!.args[0].items.map((i) => i.invoice.number).sort()).toEqual([first.invoice.number, second.invoice.number].sort());
      for (const handle of [a, b]) {
        const step = (await handle.query(dunningStateQuery)).steps[0]!;
        expect(step).toMatchObject({ stepId: 'reminder-1', outcome: 'sent', detail: 'one message for 2 invoices' });
      }
      // The second invoice is paid in the ERP before the next reminder: the customer workflow re-checks and leaves it out.
      fake.setOpenAmount(second.invoice.number, 0);
      await server.env.sleep('5 days');
      const next = fake.callsOf('sendCustomerMessage');
      expect(next).toHaveLength(2);
      expect(next[1]!.args[0].items.map((i) => i.invoice.number)).toEqual([first.invoice.number]);
      expect(next[1]!.args[0].idempotencyKey).toBe(`${customerContactWorkflowId('test', customerId)}:batch:2`);
      const customerState = await server.env.client.workflow.getHandle(customerContactWorkflowId('test', customerId)).query(customerContactStateQuery);
      expect(customerState.sentAt).toHaveLength(2);
      // The paid invoice's own workflow saw the zero balance before its next step and closed.
      expect((await b.result()).stage).toBe('paid');
      await a.terminate('test done');
    });
  });

  it('never sends customer-facing steps to a do-not-contact customer, but still creates the call task', async () => {
    const input = invoiceInput(await berlinDate(0));
    input.customer.id = `DNC-${input.invoice.number}`;
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } }, { customers: { [input.customer.id]: { doNotContact: true } } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await server.env.sleep('30 days');
      const { steps } = await handle.query(dunningStateQuery);
      expect(steps.map((s) => [s.stepId, s.outcome])).toEqual([
        ['reminder-1', 'skipped'],
        ['reminder-2', 'skipped'],
        ['reminder-3', 'skipped'],
        ['call-1', 'task_created'],
      ]);
      await handle.terminate('test done');
    });
    expect(fake.callsOf('queueCustomerMessage')).toHaveLength(0);
  });

  it('moves a running invoice to a new cadence version at the next step boundary', async () => {
    const v1: Cadence = cadenceSchema.parse({
      id: 'migrating',
      version: 1,
      name: 'v1',
      sendAt: '10:00',
      steps: [
        { id: 'call-a', offset: { amount: 1, unit: 'days' }, action: { type: 'call_task', note: 'first' } },
        { id: 'call-b', offset: { amount: 10, unit: 'days' }, action: { type: 'call_task', note: 'v1 second' } },
      ],
    });
    const v2: Cadence = { ...v1, version: 2, name: 'v2', steps: [v1.steps[0]!, { id: 'call-c', anchor: 'due_date', offset: { amount: 4, unit: 'days' }, action: { type: 'call_task', note: 'v2 second' } }] };
    const input = invoiceInput(await berlinDate(0), { cadence: v1 });
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await server.env.sleep('2 days');
      await handle.signal(cadenceChangedSignal, v2);
      await server.env.sleep('15 days');
      const state = await handle.query(dunningStateQuery);
      expect(state.cadence).toEqual({ id: 'migrating', version: 2 });
      expect(state.steps.map((s) => s.stepId)).toEqual(['call-a', 'call-c']);
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-01-01T00:00:00Z', source: 'api' });
      await handle.result();
    });
    // The two cadence call tasks, then the collector's task when the cadence ran out with money still open.
    expect(fake.callsOf('createCallTask').map((c) => c.args[0].note)).toEqual(['first', 'v2 second', expect.stringMatching(/^Every step of cadence migrating v2 has run/)]);
    const migrated = fake.callsOf('recordDunningEvent').map((c) => c.args[0]).find((e) => e.type === 'cadence_migrated');
    expect(migrated?.details).toEqual({ from: { id: 'migrating', version: 1 }, to: { id: 'migrating', version: 2 } });
  });

  it.each([
    // [case, gathering delay, ERP open amount when the customer workflow re-checks, recorded outcome]
    ['already on its way', GATHER_MS, 125_000, 'sent'],
    ['not yet sent, and the ERP shows it paid', 2 * 86_400_000, 0, 'paid_before_send'],
  ] as const)('records the step of an invoice paid while its message is %s', async (_case, gatherMs, erpOpenAtSend, outcome) => {
    const input = invoiceInput(await berlinDate(-1));
    input.customer.id = `RACE-${input.invoice.number}`;
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } }, { gatherMs });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    const final = await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      // Until the reminder is handed to the customer workflow (inside the send window, whatever the hour now).
      for (let i = 0; i < 120 && fake.callsOf('queueCustomerMessage').length === 0; i++) await server.env.sleep('1 hour');
      expect(fake.callsOf('queueCustomerMessage')).toHaveLength(1);
      fake.setOpenAmount(input.invoice.number, erpOpenAtSend);
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-01-01T00:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
      return handle.result();
    });
    expect(final.stage).toBe('paid');
    expect(final.steps.map((s) => [s.stepId, s.outcome])).toEqual([['reminder-1', outcome]]);
    expect(fake.callsOf('sendCustomerMessage')).toHaveLength(outcome === 'sent' ? 1 : 0);
  });

  it('hands an uncertain delivery to a person instead of resending it', async () => {
    const input = invoiceInput(await berlinDate(0));
    input.customer.id = `UNC-${input.invoice.number}`;
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } }, { gatherMs: GATHER_MS, sendStatus: 'uncertain' });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await server.env.sleep('5 days');
      expect((await handle.query(dunningStateQuery)).steps[0]).toMatchObject({ stepId: 'reminder-1', outcome: 'uncertain' });
      await handle.terminate('test done');
    });
    expect(fake.callsOf('sendCustomerMessage')).toHaveLength(1);
    expect(fake.callsOf('notifyInternal').map((c) => c.args[0])).toEqual([
      expect.objectContaining({ role: 'ar_manager', idempotencyKey: `${input.workflowId}:step:reminder-1:uncertain`, invoiceNumber: input.invoice.number }),
    ]);
  });
});
