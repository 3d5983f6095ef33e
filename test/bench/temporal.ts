import type { TestProject } from 'vitest/node';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { DateTime } from 'luxon';
import { toolPath } from '../../dev/temporal';
import type { invoiceDunning } from '../../workflows';
import { paymentNotifiedSignal, type DunningState } from '../../workflows/messages';
import bundleForTests from '../support/setup-workflow';
import { createFakeActivities } from '../support/fake-activities';
import { createTestWorker, createTimeSkippingEnv, invoiceInput } from '../support/time-skipping';
import { check, onTeardown } from './harness';

/** One time-skipping server and one workflow bundle for all Temporal benchmarks of a run (the bundle is built as for the tests). */
let shared: Promise<{ env: TestWorkflowEnvironment; bundlePath: string }> | undefined;
export function benchEnv() {
  shared ??= (async () => {
    const provided: Record<string, string> = {};
    await bundleForTests({ provide: (key: string, value: string) => (provided[key] = value) } as unknown as TestProject);
    const env = await createTimeSkippingEnv(toolPath('temporal-test-server'));
    onTeardown(() => env.teardown());
    return { env, bundlePath: provided.workflowBundlePath! };
  })();
  return shared;
}

type Handle = WorkflowHandleWithFirstExecutionRunId<typeof invoiceDunning>;

/** `count` invoices due today on the server's clock, a worker with recording fakes, and helpers to drive them. */
export async function invoiceRun(count: number) {
  const { env, bundlePath } = await benchEnv();
  const dueDate = DateTime.fromMillis(await env.currentTimeMs(), { zone: 'Europe/Berlin' }).toISODate()!;
  const inputs = Array.from({ length: count }, () => invoiceInput(dueDate));
  const fake = createFakeActivities(Object.fromEntries(inputs.map((i) => [i.invoice.number, { amountMinor: i.invoice.amountMinor }])));
  const { worker, taskQueue } = await createTestWorker(env, fake.activities, bundlePath);
  return {
    env,
    worker,
    calls: fake.calls,
    start: (): Promise<Handle[]> =>
      Promise.all(inputs.map(({ workflowId, ...args }) => env.client.workflow.start<typeof invoiceDunning>('invoiceDunning', { workflowId, taskQueue, args: [args] }))),
    /** The full payment that closes each invoice once its cadence has run. */
    pay: (handles: Handle[]) =>
      Promise.all(
        handles.map((h, i) =>
          h.signal(paymentNotifiedSignal, { paymentId: `P-${i}`, amountMinor: inputs[i]!.invoice.amountMinor, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'erp_webhook', openAmountMinorAfter: 0 }),
        ),
      ),
  };
}

const FULL_CADENCE = ['reminder-1:sent', 'reminder-2:sent', 'reminder-3:sent', 'call-1:task_created'].join();
/** Every invoice ran the whole standard cadence (4 steps) and ended paid. */
export function checkPaidAfterFullCadence(results: DunningState[]) {
  const wrong = results.filter((r) => r.stage !== 'paid' || r.steps.map((s) => `${s.stepId}:${s.outcome}`).join() !== FULL_CADENCE);
  check(wrong.length === 0, `${wrong.length} of ${results.length} workflows did not end paid after the 4 standard steps, e.g. ${JSON.stringify(wrong[0])}`);
}

/** Activity calls per workflow over a full standard cadence then payment: enrolled, 4 × (balance, send/task, step_done), cadence_completed, payment_received, closed. */
export const CALLS_PER_FULL_RUN = 16;
