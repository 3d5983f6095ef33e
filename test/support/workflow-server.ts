import { afterEach, beforeEach, inject } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { DateTime } from 'luxon';
import type { invoiceDunning } from '../../workflows';
import { createTimeSkippingEnv, type invoiceInput } from './time-skipping';

/**
 * A time-skipping test server per test: time skipping is global to a server, and a customer's contact
 * workflow (shared by every invoice of the customer) outlives the test worker that started it.
 * Every test starts on a Monday at 07:00 in Berlin (the server's clock is moved there first), so that
 * no test depends on the day or hour it happens to run at.
 */
export function useTimeSkippingServer() {
  const server = {} as { env: TestWorkflowEnvironment };
  beforeEach(async () => {
    server.env = await createTimeSkippingEnv(inject('testServerPath'));
    const now = DateTime.fromMillis(await server.env.currentTimeMs(), { zone: 'Europe/Berlin' });
    const monday = now.startOf('week').plus({ weeks: 1, hours: 7 }); // luxon weeks start on Monday
    await server.env.sleep(monday.toMillis() - now.toMillis());
  });
  afterEach(async () => {
    await server.env?.teardown();
  });
  return server;
}

/** Starts an invoice workflow as the API does: one workflow id per invoice, never a second run. */
export function startInvoiceWorkflow(env: TestWorkflowEnvironment, input: ReturnType<typeof invoiceInput>, taskQueue: string) {
  const { workflowId, ...args } = input;
  return env.client.workflow.start<typeof invoiceDunning>('invoiceDunning', {
    workflowId,
    taskQueue,
    args: [args],
    workflowIdConflictPolicy: 'FAIL',
    workflowIdReusePolicy: 'REJECT_DUPLICATE',
  });
}

/** The test server's clock in a customer's zone: today's date (plus days), and sleeping until a local date and time. */
export function localClock(server: { env: TestWorkflowEnvironment }, zone: string) {
  return {
    date: async (offsetDays = 0) => DateTime.fromMillis(await server.env.currentTimeMs(), { zone }).plus({ days: offsetDays }).toISODate()!,
    /** Sleeps the server until `date` at `time` (HH:mm) local; no-op when that is past. */
    async sleepUntil(date: string, time = '12:00') {
      const [hour, minute] = time.split(':').map(Number) as [number, number];
      const target = DateTime.fromISO(date, { zone }).set({ hour, minute }).toMillis();
      const now = await server.env.currentTimeMs();
      if (target > now) await server.env.sleep(target - now);
    },
  };
}
