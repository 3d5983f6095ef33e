import { describe, expect, inject, it } from 'vitest';
import { cadenceSchema } from '../../domain/cadence';
import { dunningStateQuery, makePromiseUpdate, openDisputeUpdate, pauseUpdate, requestApprovalUpdate } from '../../workflows/messages';
import { createFakeActivities } from '../support/fake-activities';
import { localClock, startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput } from '../support/time-skipping';

/**
 * A reminder queued with the customer's contact workflow goes out only if the invoice still wants it when
 * the batch is sent: a promise, a dispute, a pause or an approval request recorded during the gathering
 * delay withdraws it (issue 10 #3: the reminder used to go out seconds after the invoice was promised).
 */
const GATHER_MS = 10 * 60_000;
const ZONE = 'Europe/Berlin';
const server = useTimeSkippingServer();
const { date: berlinDate } = localClock(server, ZONE);

const cadence = cadenceSchema.parse({
  id: 'one-reminder',
  version: 1,
  name: 'One reminder, then a call',
  sendAt: '00:00',
  steps: [
    { id: 'reminder-1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
    { id: 'call-1', offset: { amount: 60, unit: 'days' }, action: { type: 'call_task', note: 'Call the AP contact.' } },
  ],
});

/** An invoice of its own customer, due `dueOffset` days from the test's Monday, with a worker on the fakes. */
async function setup(dueOffset: number, openAmountMinor = 125_000) {
  const input = invoiceInput(await berlinDate(dueOffset), { cadence });
  input.customer.id = `NS-${input.invoice.number}`;
  const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000, openAmountMinor } }, { gatherMs: GATHER_MS });
  const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
  return { input, fake, worker, taskQueue };
}

describe('a message the invoice no longer wants is not sent (time-skipping)', () => {
  it.each([
    ['a promise to pay', 'promised'],
    ['a dispute of the whole amount', 'disputed'],
    ['a pause', 'paused'],
    ['a write-off request', 'awaiting_approval'],
  ] as const)('%s recorded while the reminder waits in the contact workflow withdraws it', async (what, stage) => {
    // Overdue for a week: the first reminder falls due at once and waits the gathering delay in the contact workflow.
    const { input, fake, worker, taskQueue } = await setup(-7);
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      for (let i = 0; i < 50 && fake.callsOf('queueCustomerMessage').length === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(fake.callsOf('queueCustomerMessage')).toHaveLength(1);
      const actor = 'anna';
      if (stage === 'promised')
        await handle.executeUpdate(makePromiseUpdate, { args: [{ promiseId: 'P1', madeBy: 'AP clerk', recordedBy: actor, installments: [{ dueDate: await berlinDate(10), amountMinor: 125_000 }] }] });
      if (stage === 'disputed') await handle.executeUpdate(openDisputeUpdate, { args: [{ disputeId: 'D1', reasonCode: 'pricing', note: 'price differs from the PO', source: 'api', actor }] });
      if (stage === 'paused') await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'customer asked to wait', until: null, actor, scope: 'invoice' }] });
      if (stage === 'awaiting_approval') await handle.executeUpdate(requestApprovalUpdate, { args: [{ requestId: 'R1', action: 'write_off', reason: 'customer insolvent', actor, details: {} }] });
      // Past the gathering delay: the batch is checked and the step answered.
      await server.env.sleep(GATHER_MS + 60_000);
      const state = await handle.query(dunningStateQuery);
      expect(state.stage, what).toBe(stage);
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([['reminder-1', 'withdrawn']]);
      await handle.terminate('test done');
    });
    expect(fake.callsOf('sendCustomerMessage')).toHaveLength(0);
    expect(fake.callsOf('recheckBeforeSend')).toHaveLength(1);
  });

  it('a reminder for an invoice with nothing holding it still goes out', async () => {
    const { input, fake, worker, taskQueue } = await setup(-7);
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      await server.env.sleep(GATHER_MS + 60_000);
      expect((await handle.query(dunningStateQuery)).steps.map((s) => [s.stepId, s.outcome])).toEqual([['reminder-1', 'sent']]);
      await handle.terminate('test done');
    });
    expect(fake.callsOf('sendCustomerMessage')).toHaveLength(1);
  });
});

describe('an open invoice always has a next step, a hold with an end, or a task for someone (time-skipping)', () => {
  it('when every step of the cadence has run and money is still open, the collector gets a task (once)', async () => {
    const { input, fake, worker, taskQueue } = await setup(-70, 66_39);
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      await server.env.sleep('3 days');
      const state = await handle.query(dunningStateQuery);
      expect(state).toMatchObject({ stage: 'active', openAmountMinor: 66_39, nextStep: null, cadenceDone: true });
      await server.env.sleep('30 days');
      await handle.terminate('test done');
    });
    const tasks = fake.callsOf('createCallTask').map((c) => c.args[0]);
    // 70 days late: reminder-1 is superseded, call-1 is the catch-up step; then the cadence is over with 66.39 open.
    expect(tasks.map((t) => t.kind ?? 'cadence')).toEqual(['cadence', 'follow_up']);
    expect(tasks[1]).toMatchObject({ collectorId: 'col-1', idempotencyKey: `${input.workflowId}:cadence-done:one-reminder:1` });
    expect(tasks[1]!.note).toMatch(/66,39\s€ is still open/);
  });
});
