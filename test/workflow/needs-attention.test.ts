import { ApplicationFailure } from '@temporalio/activity';
import { describe, expect, inject, it } from 'vitest';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { customerContactWorkflowId } from '../../workflows/customer-messages';
import { dunningStateQuery, resumeUpdate } from '../../workflows/messages';
import { createFakeActivities } from '../support/fake-activities';
import { localClock, startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput } from '../support/time-skipping';

/**
 * A configuration or data problem never fails an invoice's workflow (issue 10 #2, #5): it parks the invoice as
 * needs_attention with the reason, tells an AR manager, tries again by itself later, and resumes when fixed.
 */
const server = useTimeSkippingServer();
const { date: berlinDate } = localClock(server, 'Europe/Berlin');

const cadenceWith = (action: Record<string, unknown>): Cadence =>
  cadenceSchema.parse({
    id: 'attention',
    version: 1,
    name: 'One step',
    sendAt: '00:00',
    steps: [{ id: 'step-1', offset: { amount: 1, unit: 'days' }, action }],
  });

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, what: string): Promise<T> {
  for (let i = 0; i < 100; i++) {
    const v = await read();
    if (ok(v)) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('needs attention instead of a failed workflow (time-skipping)', () => {
  it('a webhook step naming an endpoint that is not configured parks the invoice, tells a manager, retries, and runs once fixed', async () => {
    const input = invoiceInput(await berlinDate(-3), { cadence: cadenceWith({ type: 'webhook', endpoint: 'crm', event: 'invoice.overdue' }) });
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    let configured = false;
    const activities = {
      ...fake.activities,
      async postWebhook(req: Parameters<typeof fake.activities.postWebhook>[0]) {
        if (!configured) throw ApplicationFailure.nonRetryable(`webhook endpoint "${req.endpoint}" is not configured (WEBHOOK_ENDPOINTS)`, 'UnknownWebhookEndpoint');
        return fake.activities.postWebhook(req);
      },
    };
    const { worker, taskQueue } = await createTestWorker(server.env, activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      const parked = await until(() => handle.query(dunningStateQuery), (s) => s.stage === 'needs_attention', 'the invoice to park');
      expect(parked.attention).toMatchObject({ code: 'UnknownWebhookEndpoint', stepId: 'step-1', attempts: 1 });
      expect(parked.attention!.reason).toMatch(/"crm" is not configured/);
      expect(parked.nextStep).toMatchObject({ stepId: 'step-1', action: 'retry', at: parked.attention!.retryAt });
      expect(fake.callsOf('notifyInternal').map((c) => c.args[0])).toEqual([
        expect.objectContaining({ role: 'ar_manager', invoiceNumber: input.invoice.number, note: expect.stringMatching(/parked at step step-1.*UnknownWebhookEndpoint/) }),
      ]);
      // Tried again by itself after an hour, then after two more: still broken, still running.
      await server.env.sleep('61 minutes');
      const again = await until(() => handle.query(dunningStateQuery), (s) => s.attention?.attempts === 2, 'the second attempt');
      expect(Date.parse(again.attention!.retryAt) - Date.parse(again.attention!.since)).toBe(2 * 3_600_000);
      expect((await handle.describe()).status.name).toBe('RUNNING');
      // Fixed, and resumed by a person: the step runs at once.
      configured = true;
      const resumed = await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'mark', note: 'crm endpoint configured', scope: 'invoice' }] });
      expect(resumed.changed).toBe(true);
      const done = await until(() => handle.query(dunningStateQuery), (s) => s.steps.length === 1, 'the step');
      expect(done.steps[0]).toMatchObject({ stepId: 'step-1', outcome: 'webhook_sent' });
      expect(done.stage).toBe('active');
      expect(done.attention).toBeUndefined();
      await handle.terminate('test done');
    });
    const types = fake.callsOf('recordDunningEvent').map((c) => c.args[0].type);
    expect(types.filter((t) => t === 'needs_attention')).toHaveLength(2);
    expect(types.filter((t) => t === 'attention_retry')).toHaveLength(2);
  });

  it('an invoice the ERP does not know parks instead of failing, and so does a message with an unknown template, without stopping the customer’s contact workflow', async () => {
    const unknown = invoiceInput(await berlinDate(-3), { cadence: cadenceWith({ type: 'email', template: 'reminder-friendly' }) });
    unknown.customer.id = `ATT-${unknown.invoice.number}`;
    const badTemplate = invoiceInput(await berlinDate(-3), { cadence: cadenceWith({ type: 'email', template: 'no-such-template' }) });
    badTemplate.customer.id = `ATT-${badTemplate.invoice.number}`;
    const fake = createFakeActivities({ [badTemplate.invoice.number]: { amountMinor: 125_000 } }, { gatherMs: 60_000 });
    const activities = {
      ...fake.activities,
      async getInvoiceBalance(n: string) {
        if (n === unknown.invoice.number) throw ApplicationFailure.nonRetryable(`ERP has no invoice ${n}`, 'ErpInvoiceNotFound');
        return fake.activities.getInvoiceBalance(n);
      },
      async sendCustomerMessage(req: Parameters<typeof fake.activities.sendCustomerMessage>[0]) {
        const missing = req.items.find((i) => i.template === 'no-such-template');
        if (missing) throw ApplicationFailure.nonRetryable(`unknown email template "${missing.template}"`, 'UnknownTemplate');
        return fake.activities.sendCustomerMessage(req);
      },
    };
    const { worker, taskQueue } = await createTestWorker(server.env, activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const a = await startInvoiceWorkflow(server.env, unknown, taskQueue);
      const b = await startInvoiceWorkflow(server.env, badTemplate, taskQueue);
      const parkedA = await until(() => a.query(dunningStateQuery), (s) => s.stage === 'needs_attention', 'the unknown invoice to park');
      expect(parkedA.attention).toMatchObject({ code: 'ErpInvoiceNotFound', stepId: 'step-1' });
      await server.env.sleep('5 minutes');
      const parkedB = await until(() => b.query(dunningStateQuery), (s) => s.stage === 'needs_attention', 'the bad template to park');
      expect(parkedB.attention).toMatchObject({ code: 'UnknownTemplate', stepId: 'step-1' });
      expect(parkedB.attention!.reason).toMatch(/no-such-template/);
      const contact = server.env.client.workflow.getHandle(customerContactWorkflowId('test', badTemplate.customer.id));
      expect((await contact.describe()).status.name).toBe('RUNNING');
      for (const h of [a, b]) {
        expect((await h.describe()).status.name).toBe('RUNNING');
        await h.terminate('test done');
      }
      await contact.terminate('test done');
    });
  });
});
