import { describe, expect, inject, it } from 'vitest';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { DateTime } from 'luxon';
import { previewCadence } from '../../domain/preview';
import { dunningStateQuery, paymentNotifiedSignal, recordPaymentUpdate } from '../../workflows/messages';
import { createFakeActivities } from '../support/fake-activities';
import { startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput, standardCadence } from '../support/time-skipping';

const GATHER_MS = 60_000;
const server = useTimeSkippingServer();

/** Today's date in Berlin on the test server's clock. */
async function serverToday(offsetDays = 0): Promise<string> {
  const now = await server.env.currentTimeMs();
  return DateTime.fromMillis(now, { zone: 'Europe/Berlin' }).plus({ days: offsetDays }).toISODate()!;
}

const start = (input: ReturnType<typeof invoiceInput>, taskQueue: string) => startInvoiceWorkflow(server.env, input, taskQueue);

describe('invoice dunning workflow (time-skipping)', () => {
  it('runs the standard cadence exactly as previewCadence dates it, re-reading the ERP balance before every step', async () => {
    const input = invoiceInput(await serverToday());
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } }, { gatherMs: GATHER_MS });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    const startedAt = new Date(await server.env.currentTimeMs());
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await server.env.sleep('35 days');
      const state = await handle.query(dunningStateQuery);
      const preview = previewCadence({
        cadence: standardCadence,
        dueDate: input.invoice.dueDate,
        currency: 'EUR',
        openAmountMinor: 125_000,
        timeZone: 'Europe/Berlin',
        segment: 'standard',
        asOf: startedAt.toISOString(),
      });
      // The workflow and the preview share the scheduler: same steps, same instants, same verdicts.
      expect(state.steps.map((s) => ({ stepId: s.stepId, at: s.at }))).toEqual(preview.map((p) => ({ stepId: p.stepId, at: p.at })));
      expect(preview.every((p) => p.status === 'scheduled')).toBe(true);
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([
        ['reminder-1', 'sent'],
        ['reminder-2', 'sent'],
        ['reminder-3', 'sent'],
        ['call-1', 'task_created'],
      ]);
      expect(state.stage).toBe('active');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'api' });
      expect((await handle.result()).stage).toBe('paid');

      const messages = fake.callsOf('sendCustomerMessage');
      expect(messages.map((c) => c.args[0].items.map((i) => i.template))).toEqual([['reminder-friendly'], ['reminder-firm'], ['reminder-final']]);
      expect(messages.map((c) => c.args[0].items[0]!.requestId)).toEqual(['reminder-1', 'reminder-2', 'reminder-3'].map((s) => `${input.workflowId}:step:${s}`));
      // Each message left after the customer workflow's gathering delay, counted from its step's instant.
      messages.forEach((call, i) => expect(Math.abs(call.scheduledAt - Date.parse(preview[i]!.at) - GATHER_MS)).toBeLessThan(2_000));
      const task = fake.callsOf('createCallTask')[0]!;
      expect(Math.abs(task.scheduledAt - Date.parse(preview[3]!.at))).toBeLessThan(2_000);
      expect(task.args[0]).toMatchObject({ invoiceNumber: input.invoice.number, collectorId: 'col-1', customerId: 'C1' });
    });
    // The invoice re-reads before each of its 4 steps; the contact workflow re-checks each of the 3 messages right before sending.
    expect(fake.callsOf('getInvoiceBalance')).toHaveLength(4);
    expect(fake.callsOf('recheckBeforeSend')).toHaveLength(3);
    const events = fake.callsOf('recordDunningEvent').map((c) => c.args[0]);
    expect(events.map((e) => e.type)).toEqual(['enrolled', 'step_done', 'step_done', 'step_done', 'step_done', 'cadence_completed', 'payment_received', 'closed']);
    expect(new Set(events.map((e) => e.eventKey)).size).toBe(events.length);
    expect(events.map((e) => e.nextStep?.stepId ?? null)).toEqual(['reminder-1', 'reminder-2', 'reminder-3', 'call-1', null, null, null, null]);
  });

  it('stops before the next step when a payment arrives between steps (an ERP payment by update, answered with the new state; payments reported by people are claims, see payment-claims.test.ts)', async () => {
    const input = invoiceInput(await serverToday());
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await server.env.sleep('5 days');
      const partial = await handle.executeUpdate(recordPaymentUpdate, {
        args: [{ paymentId: 'P-1', amountMinor: 25_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'erp_webhook' }],
      });
      expect(partial).toEqual({ duplicate: false, stage: 'active', openAmountMinor: 100_000 });
      const again = await handle.executeUpdate(recordPaymentUpdate, {
        args: [{ paymentId: 'P-1', amountMinor: 25_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'erp_webhook' }],
      });
      expect(again).toEqual({ duplicate: true, stage: 'active', openAmountMinor: 100_000 });
      const rejected = await handle
        .executeUpdate(recordPaymentUpdate, { args: [{ paymentId: 'P-X', amountMinor: 1, currency: 'USD', receivedAt: new Date().toISOString(), source: 'erp_webhook' }] })
        .catch((err: Error) => err);
      expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((rejected as WorkflowUpdateFailedError).cause?.message).toMatch(/currency USD differs/);
      const rest = await handle.executeUpdate(recordPaymentUpdate, {
        args: [{ paymentId: 'P-2', amountMinor: 100_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'erp_webhook' }],
      });
      expect(rest.stage).toBe('paid');
      const final = await handle.result();
      expect(final.stage).toBe('paid');
      expect(final.steps.map((s) => s.stepId)).toEqual(['reminder-1']);
      expect(final.payments.map((p) => p.paymentId)).toEqual(['P-1', 'P-2']);
    });
    expect(fake.callsOf('sendCustomerMessage')).toHaveLength(1);
    expect(fake.callsOf('createCallTask')).toHaveLength(0);
  });

  it('contacts nobody when the ERP already shows the invoice paid', async () => {
    const input = invoiceInput(await serverToday(-3));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000, openAmountMinor: 0 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    const final = await worker.runUntil(async () => (await start(input, taskQueue)).result());
    expect(final.stage).toBe('paid');
    expect(final.steps).toEqual([]);
    expect(fake.callsOf('sendCustomerMessage')).toHaveLength(0);
    expect(fake.callsOf('queueCustomerMessage')).toHaveLength(0);
    expect(fake.callsOf('createCallTask')).toHaveLength(0);
    expect(fake.callsOf('getInvoiceBalance')).toHaveLength(1);
  });

  it('sends one catch-up reminder, not a burst, for an invoice enrolled 16 days late', async () => {
    const input = invoiceInput(await serverToday(-16));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await server.env.sleep('3 days');
      const state = await handle.query(dunningStateQuery);
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([
        ['reminder-1', 'superseded'],
        ['reminder-2', 'superseded'],
        ['reminder-3', 'sent'],
      ]);
      expect(state.nextStep?.stepId).toBe('call-1');
      await handle.terminate('test done');
    });
    expect(fake.callsOf('sendCustomerMessage').map((c) => c.args[0].items.map((i) => i.template))).toEqual([['reminder-final']]);
  });

  it('never starts a second workflow for the same invoice', async () => {
    const input = invoiceInput(await serverToday(5));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const first = await start(input, taskQueue);
      await expect(start(input, taskQueue)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      await first.terminate('test done');
      // Not even after the first one closed: one invoice, one workflow id, one history.
      await expect(start(input, taskQueue)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    });
  });
});
