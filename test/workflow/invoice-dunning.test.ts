import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { WorkflowExecutionAlreadyStartedError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import { planRemainingSteps } from '../../domain/schedule';
import { dunningStateQuery, paymentNotifiedSignal, recordPaymentUpdate } from '../../workflows/messages';
import type { invoiceDunning } from '../../workflows';
import { createFakeActivities } from '../support/fake-activities';
import { createTestWorker, createTimeSkippingEnv, invoiceInput, standardCadence } from '../support/time-skipping';

let env: TestWorkflowEnvironment;
beforeAll(async () => {
  env = await createTimeSkippingEnv(inject('testServerPath'));
});
afterAll(async () => {
  await env?.teardown();
});

/** Today's date in Berlin on the test server's clock. */
async function serverToday(offsetDays = 0): Promise<string> {
  const now = await env.currentTimeMs();
  return DateTime.fromMillis(now, { zone: 'Europe/Berlin' }).plus({ days: offsetDays }).toISODate()!;
}

async function start(input: ReturnType<typeof invoiceInput>, taskQueue: string) {
  const { workflowId, ...args } = input;
  return env.client.workflow.start<typeof invoiceDunning>('invoiceDunning', {
    workflowId,
    taskQueue,
    args: [args],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
}

describe('invoice dunning workflow (time-skipping)', () => {
  it('runs the 21-day standard cadence at its dated times, re-reading the ERP balance before every step', async () => {
    const input = invoiceInput(await serverToday());
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(env, fake.activities, inject('workflowBundlePath'));
    const startedAt = new Date(await env.currentTimeMs());
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await env.sleep('30 days');
      const state = await handle.query(dunningStateQuery);
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([
        ['reminder-1', 'sent'],
        ['reminder-2', 'sent'],
        ['reminder-3', 'sent'],
        ['call-1', 'task_created'],
      ]);
      expect(state.stage).toBe('active');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'api' });
      expect((await handle.result()).stage).toBe('paid');
    });

    const planned = planRemainingSteps(standardCadence, { dueDate: input.invoice.dueDate, timeZone: 'Europe/Berlin' }, [], startedAt);
    const emails = fake.callsOf('sendDunningEmail');
    expect(emails.map((c) => c.args[0].template)).toEqual(['reminder-friendly', 'reminder-firm', 'reminder-final']);
    expect(emails.map((c) => c.args[0].idempotencyKey)).toEqual(['reminder-1', 'reminder-2', 'reminder-3'].map((s) => `${input.workflowId}:step:${s}`));
    // Each step ran at its planned local time (09:30 Berlin), within the second the test server needs to fire a timer.
    const stepCalls = fake.calls.filter((c) => c.name === 'sendDunningEmail' || c.name === 'createCallTask');
    stepCalls.forEach((call, i) => expect(Math.abs(call.scheduledAt - Date.parse(planned[i]!.at))).toBeLessThan(2_000));
    // The ERP balance is read right before every customer-facing step.
    const order = fake.calls.map((c) => c.name).filter((n) => n !== 'recordDunningEvent');
    expect(order).toEqual(['getInvoiceBalance', 'sendDunningEmail', 'getInvoiceBalance', 'sendDunningEmail', 'getInvoiceBalance', 'sendDunningEmail', 'getInvoiceBalance', 'createCallTask']);
    const task = fake.callsOf('createCallTask')[0]!.args[0];
    expect(task).toMatchObject({ invoiceNumber: input.invoice.number, collectorId: 'col-1', customerId: 'C1' });
    const events = fake.callsOf('recordDunningEvent').map((c) => c.args[0]);
    expect(events.map((e) => e.type)).toEqual(['enrolled', 'step_done', 'step_done', 'step_done', 'step_done', 'cadence_completed', 'payment_received', 'closed']);
    expect(new Set(events.map((e) => e.eventKey)).size).toBe(events.length);
    // Each event carries what the database mirror shows as the next step.
    expect(events.map((e) => e.nextStep?.stepId ?? null)).toEqual(['reminder-1', 'reminder-2', 'reminder-3', 'call-1', null, null, null, null]);
    expect(events[0]!.nextStep!.at).toBe(planned[0]!.at);
  });

  it('stops before the next step when a payment arrives between steps (update with the new state)', async () => {
    const input = invoiceInput(await serverToday());
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await env.sleep('3 days');
      const partial = await handle.executeUpdate(recordPaymentUpdate, {
        args: [{ paymentId: 'P-1', amountMinor: 25_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'api' }],
      });
      expect(partial).toEqual({ duplicate: false, stage: 'active', openAmountMinor: 100_000 });
      const again = await handle.executeUpdate(recordPaymentUpdate, {
        args: [{ paymentId: 'P-1', amountMinor: 25_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'api' }],
      });
      expect(again).toEqual({ duplicate: true, stage: 'active', openAmountMinor: 100_000 });
      const rejected = await handle
        .executeUpdate(recordPaymentUpdate, { args: [{ paymentId: 'P-X', amountMinor: 1, currency: 'USD', receivedAt: new Date().toISOString(), source: 'api' }] })
        .catch((err: Error) => err);
      expect(rejected).toBeInstanceOf(WorkflowUpdateFailedError);
      expect((rejected as WorkflowUpdateFailedError).cause?.message).toMatch(/currency USD differs/);
      const rest = await handle.executeUpdate(recordPaymentUpdate, {
        args: [{ paymentId: 'P-2', amountMinor: 100_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'api' }],
      });
      expect(rest.stage).toBe('paid');
      const final = await handle.result();
      expect(final.stage).toBe('paid');
      expect(final.steps.map((s) => s.stepId)).toEqual(['reminder-1']);
      expect(final.payments.map((p) => p.paymentId)).toEqual(['P-1', 'P-2']);
    });
    expect(fake.callsOf('sendDunningEmail')).toHaveLength(1);
    expect(fake.callsOf('createCallTask')).toHaveLength(0);
  });

  it('contacts nobody when the ERP already shows the invoice paid', async () => {
    const input = invoiceInput(await serverToday(-3));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000, openAmountMinor: 0 } });
    const { worker, taskQueue } = await createTestWorker(env, fake.activities, inject('workflowBundlePath'));
    const final = await worker.runUntil(async () => (await start(input, taskQueue)).result());
    expect(final.stage).toBe('paid');
    expect(final.steps).toEqual([]);
    expect(fake.callsOf('sendDunningEmail')).toHaveLength(0);
    expect(fake.callsOf('createCallTask')).toHaveLength(0);
    expect(fake.callsOf('getInvoiceBalance')).toHaveLength(1);
  });

  it('sends one catch-up reminder, not a burst, for an invoice enrolled 16 days late', async () => {
    const input = invoiceInput(await serverToday(-16));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await start(input, taskQueue);
      await env.sleep('1 day');
      const state = await handle.query(dunningStateQuery);
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([
        ['reminder-1', 'superseded'],
        ['reminder-2', 'superseded'],
        ['reminder-3', 'sent'],
      ]);
      expect(state.nextStep?.stepId).toBe('call-1');
      await handle.terminate('test done');
    });
    expect(fake.callsOf('sendDunningEmail').map((c) => c.args[0].template)).toEqual(['reminder-final']);
  });

  it('never starts a second workflow for the same invoice', async () => {
    const input = invoiceInput(await serverToday(5));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const first = await start(input, taskQueue);
      await expect(start(input, taskQueue)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
      await first.terminate('test done');
      // Not even after the first one closed: one invoice, one workflow id, one history.
      await expect(start(input, taskQueue)).rejects.toBeInstanceOf(WorkflowExecutionAlreadyStartedError);
    });
  });
});
