import { describe, expect, inject, it } from 'vitest';
import type { customerContact } from '../../workflows';
import { customerContactStateQuery, queueCustomerMessageSignal } from '../../workflows/customer-messages';
import type { CustomerMessageRequest } from '../../domain/customer-messages';
import { createFakeActivities } from '../support/fake-activities';
import { useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput } from '../support/time-skipping';

const server = useTimeSkippingServer();

/** A customer message request as an invoice workflow queues it. */
function request(requestId: string, invoice = invoiceInput('2026-01-05')): CustomerMessageRequest {
  return {
    requestId,
    tenantId: 'test',
    invoiceWorkflowId: invoice.workflowId,
    stepId: 'reminder-1',
    kind: 'email',
    template: 'reminder-friendly',
    invoice: invoice.invoice,
    customer: invoice.customer,
    daysPastDue: 3,
    requestedAt: new Date(0).toISOString(),
  };
}

async function until(check: () => Promise<boolean> | boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe("the customer's contact workflow sends each request at most once (time-skipping)", () => {
  it('a request signalled again while its batch is in flight (a retried activity after a worker crash) is not queued again', async () => {
    const first = request('step-key-1');
    const second = request('step-key-2', invoiceInput('2026-01-05'));
    const fakes = createFakeActivities({
      [first.invoice.number]: { amountMinor: first.invoice.amountMinor },
      [second.invoice.number]: { amountMinor: second.invoice.amountMinor },
    });
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const sends: string[][] = [];
    const activities = {
      ...fakes.activities,
      // No invoice workflows here: every invoice wants its message.
      async recheckBeforeSend(items: Parameters<typeof fakes.activities.recheckBeforeSend>[0]) {
        return items.map((i) => ({ requestId: i.requestId, verdict: 'send' as const, openAmountMinor: 125_000 }));
      },
      // The SMTP send is slow: the duplicate signal arrives while the batch is in flight.
      async sendCustomerMessage(req: Parameters<typeof fakes.activities.sendCustomerMessage>[0]) {
        sends.push(req.items.map((i) => i.requestId));
        if (sends.length === 1) await released;
        return { status: 'sent' as const, messageId: `<${req.idempotencyKey}>` };
      },
    };
    const { worker, taskQueue } = await createTestWorker(server.env, activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await server.env.client.workflow.start<typeof customerContact>('customerContact', {
        workflowId: `customer-contact:test:dedupe-${first.invoice.number}`,
        taskQueue,
        args: [{ tenantId: 'test', customerId: first.customer.id, gatherMs: 0 }],
      });
      await handle.signal(queueCustomerMessageSignal, first);
      await until(() => sends.length === 1, 'the first send');
      await handle.signal(queueCustomerMessageSignal, first); // the retried activity's signal
      const inFlight = await handle.query(customerContactStateQuery);
      expect(inFlight.pending).toEqual([]);
      release();
      await until(async () => (await handle.query(customerContactStateQuery)).answered.includes(first.requestId), 'the answer');
      // A later request goes in a batch of its own, without the first.
      await handle.signal(queueCustomerMessageSignal, second);
      await until(async () => (await handle.query(customerContactStateQuery)).answered.includes(second.requestId), 'the second answer');
      await handle.signal(queueCustomerMessageSignal, first); // and once answered, never again
      const state = await handle.query(customerContactStateQuery);
      expect(state.pending).toEqual([]);
      expect(sends).toEqual([['step-key-1'], ['step-key-2']]);
      await handle.terminate('test done');
    });
  });
});
