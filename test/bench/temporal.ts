import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { WorkflowClient, type WorkflowHandleWithFirstExecutionRunId } from '@temporalio/client';
import { DateTime } from 'luxon';
import { toolPath } from '../../dev/temporal';
import type { invoiceDunning } from '../../workflows';
import { dunningStateQuery, paymentNotifiedSignal, type DunningState } from '../../workflows/messages';
import { createFakeActivities } from '../support/fake-activities';
import { createTestWorker, createTimeSkippingEnv, invoiceInput } from '../support/time-skipping';
import { check, onTeardown } from './harness';

/** One time-skipping server per benchmark process, stopped by run.ts when the benchmark is done. */
let shared: Promise<TestWorkflowEnvironment> | undefined;
const benchEnv = () =>
  (shared ??= createTimeSkippingEnv(toolPath('temporal-test-server')).then((env) => {
    onTeardown(() => env.teardown());
    return env;
  }));

type Handle = WorkflowHandleWithFirstExecutionRunId<typeof invoiceDunning>;

/** `count` invoices due today on the server's clock, a worker with recording fakes, and helpers to drive them. */
export async function invoiceRun(count: number) {
  const bundlePath = process.env.BENCH_WORKFLOW_BUNDLE;
  check(!!bundlePath, 'BENCH_WORKFLOW_BUNDLE is not set: run the benchmarks through test/bench/run.ts');
  const env = await benchEnv();
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
    state: (handles: Handle[]) => Promise.all(handles.map((h) => h.query(dunningStateQuery))),
    /**
     * Sends each invoice its full payment and awaits all results. Not through `env.client`: its `result()`
     * unlocks time skipping per call, and hundreds of concurrent unlocks break the test server's lock count.
     */
    close: async (handles: Handle[]): Promise<DunningState[]> => {
      const plain = new WorkflowClient({ connection: env.connection, namespace: env.namespace });
      const pay = (h: Handle, i: number) =>
        h.signal(paymentNotifiedSignal, { paymentId: `P-${i}`, amountMinor: inputs[i]!.invoice.amountMinor, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'erp_webhook', openAmountMinorAfter: 0 });
      await Promise.all(handles.map(pay));
      return Promise.all(handles.map((h) => plain.getHandle<typeof invoiceDunning>(h.workflowId).result()));
    },
  };
}

const FULL_CADENCE = 'reminder-1:sent reminder-2:sent reminder-3:sent call-1:task_created';
const summary = (state: DunningState) => `${state.stage}, steps ${state.steps.map((s) => `${s.stepId}:${s.outcome}`).join(' ') || 'none'}`;
/** Every invoice ran the whole standard cadence (its 4 steps) and is in `stage`. */
export function checkFullCadence(states: DunningState[], stage: DunningState['stage']) {
  const wrong = states.filter((state) => summary(state) !== `${stage}, steps ${FULL_CADENCE}`);
  check(wrong.length === 0, `${wrong.length} of ${states.length} workflows are not "${stage}, steps ${FULL_CADENCE}"; first: "${wrong[0] && summary(wrong[0])}"`);
}
