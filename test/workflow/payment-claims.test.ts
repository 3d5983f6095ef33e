import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, inject, it } from 'vitest';
import { dunningStateQuery, paymentNotifiedSignal, recordPaymentUpdate } from '../../workflows/messages';
import { createFakeActivities } from '../support/fake-activities';
import { localClock, startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput } from '../support/time-skipping';

/**
 * A payment reported by a person is a claim (issue 10 #12): bounded by the open amount, it pauses dunning until
 * the ERP shows it, and only the ERP's word closes the invoice; unconfirmed after 3 business days, dunning resumes
 * with a task for the collector.
 */
const server = useTimeSkippingServer();
const { date: berlinDate } = localClock(server, 'Europe/Berlin');
const claim = (paymentId: string, amountMinor: number) => ({ paymentId, amountMinor, currency: 'EUR', receivedAt: new Date(0).toISOString(), source: 'api' as const });

describe('payments reported through the API are claims (time-skipping)', () => {
  it('refuses a claim above the open amount; a claim pauses dunning and, unconfirmed by the ERP, ends in a task', async () => {
    const input = invoiceInput(await berlinDate(2)); // the Monday start: due Wednesday, first reminder Thursday
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 25_000 } });
    input.invoice.amountMinor = 25_000;
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      const refused = await handle.executeUpdate(recordPaymentUpdate, { args: [claim('PAY-BIG', 99_999_999)] }).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(WorkflowUpdateFailedError);
      expect(((refused as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe('invalid_amount');

      const claimed = await handle.executeUpdate(recordPaymentUpdate, { args: [claim('PAY-1', 25_000)] });
      expect(claimed).toMatchObject({ duplicate: false, claimed: true, stage: 'paused', openAmountMinor: 25_000 });
      expect(await handle.executeUpdate(recordPaymentUpdate, { args: [claim('PAY-1', 25_000)] })).toMatchObject({ duplicate: true });
      const paused = await handle.query(dunningStateQuery);
      expect(paused.pause?.claim).toMatchObject({ paymentId: 'PAY-1', openBeforeMinor: 25_000 });
      // Monday + 3 business days = Thursday, at sendAt; the reminder due Thursday waits too.
      expect(paused.nextStep).toMatchObject({ action: 'resume', at: expect.stringMatching(new RegExp(`^${await berlinDate(3)}T`)) });
      await server.env.sleep('2 days');
      expect(fake.callsOf('queueCustomerMessage')).toHaveLength(0);
      await server.env.sleep('2 days'); // the ERP never showed it
      const after = await handle.query(dunningStateQuery);
      expect(after.stage).toBe('active');
      expect(after.openAmountMinor).toBe(25_000);
      const tasks = fake.callsOf('createCallTask').map((c) => c.args[0]);
      expect(tasks).toEqual([expect.objectContaining({ kind: 'follow_up', idempotencyKey: `${input.workflowId}:claim:PAY-1`, note: expect.stringMatching(/ERP does not show it/) })]);
      await handle.terminate('test done');
    });
    const types = fake.callsOf('recordDunningEvent').map((c) => c.args[0].type);
    expect(types).toContain('payment_claimed');
    expect(types).toContain('payment_claim_unconfirmed');
    expect(types).not.toContain('payment_received');
  });

  it('a claim never closes an invoice; the ERP’s payment does', async () => {
    const input = invoiceInput(await berlinDate(-5));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    const final = await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      await handle.executeUpdate(recordPaymentUpdate, { args: [claim('PAY-1', 125_000)] });
      expect((await handle.query(dunningStateQuery)).stage).toBe('paused');
      fake.setOpenAmount(input.invoice.number, 0);
      await handle.signal(paymentNotifiedSignal, { paymentId: 'ERP-PAY-1', amountMinor: 125_000, currency: 'EUR', receivedAt: new Date(0).toISOString(), source: 'erp_webhook', openAmountMinorAfter: 0 });
      return handle.result();
    });
    expect(final.stage).toBe('paid');
    expect(final.payments.map((p) => p.paymentId)).toEqual(['ERP-PAY-1']);
  });
});
