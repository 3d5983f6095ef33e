/**
 * Records workflow histories for the replay tests: `npm run record-histories`. Run it when the
 * workflow's behaviour changes on purpose, and commit the new files next to the old ones: old
 * histories must keep replaying, which is what makes a workflow change safe for running invoices.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DateTime } from 'luxon';
import { toolPath } from '../../dev/temporal';
import { workflowsPath } from '../../worker/workflows-path';
import { paymentNotifiedSignal, recordPaymentUpdate } from '../../workflows/messages';
import { createFakeActivities } from '../support/fake-activities';
import { createTestWorker, createTimeSkippingEnv, invoiceInput } from '../support/time-skipping';

async function main() {
  const { code } = await bundleWorkflowCode({ workflowsPath });
  const bundlePath = path.join(mkdtempSync(path.join(os.tmpdir(), 'record-')), 'bundle.js');
  writeFileSync(bundlePath, code);
  const env = await createTimeSkippingEnv(toolPath('temporal-test-server'));
  const today = (days: number) => DateTime.now().setZone('Europe/Berlin').plus({ days }).toISODate()!;
  const scenarios: Record<string, (handle: any, input: ReturnType<typeof invoiceInput>) => Promise<void>> = {
    // The whole standard cadence, then the payment that closes it.
    'standard-full-cadence': async (handle) => {
      await env.sleep('25 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-11-23T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // Enrolled late (catch-up), a partial payment by update, then the rest.
    'standard-late-partial-payments': async (handle) => {
      await env.sleep('2 days');
      await handle.executeUpdate(recordPaymentUpdate, { args: [{ paymentId: 'P-1', amountMinor: 25_000, currency: 'EUR', receivedAt: '2026-11-23T10:00:00Z', source: 'api' }] });
      await env.sleep('7 days');
      await handle.executeUpdate(recordPaymentUpdate, { args: [{ paymentId: 'P-2', amountMinor: 100_000, currency: 'EUR', receivedAt: '2026-11-30T10:00:00Z', source: 'api' }] });
    },
  };
  const dueDates: Record<string, string> = { 'standard-full-cadence': today(0), 'standard-late-partial-payments': today(-10) };
  for (const [name, scenario] of Object.entries(scenarios)) {
    const input = invoiceInput(dueDates[name]!);
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(env, fake.activities, bundlePath);
    await worker.runUntil(async () => {
      const { workflowId, ...args } = input;
      const handle = await env.client.workflow.start('invoiceDunning', { workflowId, taskQueue, args: [args] });
      await scenario(handle, input);
      await handle.result();
      const history = await handle.fetchHistory();
      const file = path.join(__dirname, `invoice-dunning.${name}.json`);
      writeFileSync(file, historyToJSON(history) + '\n');
      console.log(`recorded ${history.events?.length} events to ${path.relative(process.cwd(), file)}`);
    });
  }
  await env.teardown();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
