import { Context } from '@temporalio/activity';
import type { createActivities } from '../../activities';
import type { ErpInvoiceBalance } from '../../activities/erp/adapter';
import type { Segment } from '../../domain/cadence';
import { customerContactWorkflowId, queueCustomerMessageSignal } from '../../workflows/customer-messages';

type Activities = ReturnType<typeof createActivities>;
export type ActivityName = keyof Activities;

export interface RecordedCall {
  name: ActivityName;
  args: unknown[];
  /** Server time at which the attempt was scheduled: skipped time in the time-skipping server. */
  scheduledAt: number;
}

/**
 * Recording fakes for workflow tests: same signatures as the real activities, an in-memory ERP
 * whose balances a test can change, and a log of every call with its (skipped) time.
 */
export interface FakeOptions {
  /** Customer facts by customer id (default: standard segment, contact allowed). */
  customers?: Record<string, { segment?: Segment; doNotContact?: boolean; preferredChannel?: 'email' | 'phone' | 'letter' }>;
  /** Public holidays the fake calendar returns. */
  holidays?: string[];
  /** The customer workflow's gathering delay. */
  gatherMs?: number;
  /** What the fake mail server reports for customer messages (default 'sent'). */
  sendStatus?: 'sent' | 'already_sent' | 'uncertain';
}

export function createFakeActivities(initial: Record<string, Partial<ErpInvoiceBalance> & { amountMinor: number }>, options: FakeOptions = {}) {
  const calls: RecordedCall[] = [];
  const erp = new Map(Object.entries(initial));
  const record = (name: ActivityName, args: unknown[]) =>
    calls.push({ name, args, scheduledAt: Context.current().info.currentAttemptScheduledTimestampMs });

  const activities: Activities = {
    async getInvoiceBalance(invoiceNumber) {
      record('getInvoiceBalance', [invoiceNumber]);
      const inv = erp.get(invoiceNumber);
      if (!inv) throw new Error(`fake ERP has no invoice ${invoiceNumber}`);
      const open = inv.openAmountMinor ?? inv.amountMinor;
      return {
        invoiceNumber,
        customerId: inv.customerId ?? 'C1',
        currency: inv.currency ?? 'EUR',
        amountMinor: inv.amountMinor,
        openAmountMinor: open,
        status: inv.status ?? (open === 0 ? 'paid' : 'open'),
        asOf: new Date(Context.current().info.currentAttemptScheduledTimestampMs).toISOString(),
      };
    },
    async sendDunningEmail(req) {
      record('sendDunningEmail', [req]);
      return { status: 'sent', messageId: `<${req.idempotencyKey}>` };
    },
    async createCallTask(req) {
      record('createCallTask', [req]);
      return { taskId: calls.length, created: true, collectorId: req.collectorId, dueAt: req.dueAt };
    },
    async recordDunningEvent(event) {
      record('recordDunningEvent', [event]);
    },
    async sendCustomerMessage(req) {
      record('sendCustomerMessage', [req]);
      return { status: options.sendStatus ?? 'sent', messageId: `<${req.idempotencyKey}>` };
    },
    async getCustomerFacts(req) {
      record('getCustomerFacts', [req]);
      const facts = options.customers?.[req.customerId];
      return { segment: facts?.segment ?? 'standard', doNotContact: facts?.doNotContact ?? false, preferredChannel: facts?.preferredChannel ?? 'email' };
    },
    async getBusinessCalendar(req) {
      record('getBusinessCalendar', [req]);
      return { holidays: options.holidays ?? [] };
    },
    /** Real: signals (and starts) the customer workflow on the test server, on the worker's own task queue. */
    async queueCustomerMessage(request) {
      record('queueCustomerMessage', [request]);
      const { client, info } = Context.current();
      const input = { tenantId: request.tenantId, customerId: request.customer.id, gatherMs: options.gatherMs ?? 60_000 };
      await client.workflow.signalWithStart('customerContact', {
        workflowId: customerContactWorkflowId(input.tenantId, input.customerId),
        taskQueue: info.taskQueue,
        args: [input],
        signal: queueCustomerMessageSignal,
        signalArgs: [request],
      });
    },
    async notifyInternal(req) {
      record('notifyInternal', [req]);
      return { notificationId: calls.length };
    },
    async placeCreditHold(req) {
      record('placeCreditHold', [req]);
      return { customerId: req.customerId, onHold: true, heldSince: new Date(Context.current().info.currentAttemptScheduledTimestampMs).toISOString() };
    },
    async postWebhook(req) {
      record('postWebhook', [req]);
      return { status: 202 };
    },
    async recordPromise(rec) {
      record('recordPromise', [rec]);
    },
    async recordPromiseVerdict(rec) {
      record('recordPromiseVerdict', [rec]);
    },
    async recordCustomerActivity(rec) {
      record('recordCustomerActivity', [rec]);
    },
  };
  return {
    activities,
    calls,
    setOpenAmount(invoiceNumber: string, openAmountMinor: number) {
      erp.get(invoiceNumber)!.openAmountMinor = openAmountMinor;
    },
    callsOf: <N extends ActivityName>(name: N) => calls.filter((c) => c.name === name) as (RecordedCall & { args: Parameters<Activities[N]> })[],
  };
}
