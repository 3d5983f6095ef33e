import { afterEach, beforeEach, inject } from 'vitest';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { invoiceDunning } from '../../workflows';
import { createTimeSkippingEnv, type invoiceInput } from './time-skipping';

/**
 * A time-skipping test server per test: time skipping is global to a server, and a customer's contact
 * workflow (shared by every invoice of the customer) outlives the test worker that started it.
 */
export function useTimeSkippingServer() {
  const server = {} as { env: TestWorkflowEnvironment };
  beforeEach(async () => {
    server.env = await createTimeSkippingEnv(inject('testServerPath'));
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
