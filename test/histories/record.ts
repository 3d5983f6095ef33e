/**
 * Records workflow histories for the replay tests: `npm run record-histories`. Run it when the
 * workflow's behaviour changes on purpose (bump RECORDING), and commit the new files next to the old
 * ones: old histories must keep replaying, which is what makes a workflow change safe for running
 * invoices. Existing files are never overwritten.
 */
const RECORDING = 'v2';
const INDEX = path.join(__dirname, 'workflow-ids.json'); // v1: the foundation's workflow; v2: cadences v2 with the customer contact workflow
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DateTime } from 'luxon';
import { toolPath } from '../../dev/temporal';
import { workflowsPath } from '../../worker/workflows-path';
import { paymentNotifiedSignal, recordPaymentUpdate } from '../../workflows/messages';
import { customerContactWorkflowId } from '../../workflows/customer-messages';
import { createFakeActivities } from '../support/fake-activities';
import { createTestWorker, createTimeSkippingEnv, invoiceInput } from '../support/time-skipping';

async function main() {
  const { code } = await bundleWorkflowCode({ workflowsPath });
  const bundlePath = path.join(mkdtempSync(path.join(os.tmpdir(), 'record-')), 'bundle.js');
  writeFileSync(bundlePath, code);
  // A server per scenario: time skipping is global to a server.
  let env!: TestWorkflowEnvironment;
  const today = async (days: number) => DateTime.fromMillis(await env.currentTimeMs(), { zone: 'Europe/Berlin' }).plus({ days }).toISODate()!;
  const scenarios: Record<string, (handle: any, input: ReturnType<typeof invoiceInput>) => Promise<void>> = {
    // The whole standard cadence, then the payment that closes it.
    'standard-full-cadence': async (handle) => {
      await env.sleep('30 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-11-23T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // Enrolled late (catch-up), a partial payment reported by update, then the ERP's webhook for the rest.
    'standard-late-partial-payments': async (handle) => {
      await env.sleep('2 days');
      await handle.executeUpdate(recordPaymentUpdate, { args: [{ paymentId: 'P-1', amountMinor: 25_000, currency: 'EUR', receivedAt: '2026-11-23T10:00:00Z', source: 'api' }] });
      await env.sleep('7 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-2', amountMinor: 100_000, currency: 'EUR', receivedAt: '2026-11-30T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
  };
  const dueOffsets: Record<string, number> = { 'standard-full-cadence': 0, 'standard-late-partial-payments': -10 };
  for (const [name, scenario] of Object.entries(scenarios)) {
    env = await createTimeSkippingEnv(toolPath('temporal-test-server'));
    const input = invoiceInput(await today(dueOffsets[name]!));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } }, { gatherMs: 60_000 });
    const { worker, taskQueue } = await createTestWorker(env, fake.activities, bundlePath);
    await worker.runUntil(async () => {
      input.customer.id = `C-${name}`; // a contact workflow per scenario
      const { workflowId, ...args } = input;
      const handle = await env.client.workflow.start('invoiceDunning', { workflowId, taskQueue, args: [args] });
      await scenario(handle, input);
      await handle.result();
      const save = async (workflow: string, workflowId: string) => {
        const file = path.join(__dirname, `${workflow}.${RECORDING}.${name}.json`);
        if (existsSync(file)) return console.log(`kept ${path.relative(process.cwd(), file)}`);
        const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
        writeFileSync(file, historyToJSON(history) + '\n');
        // Replay needs the original workflow id: the code derives idempotency keys and message ids from it.
        const index = existsSync(INDEX) ? JSON.parse(readFileSync(INDEX, 'utf8')) : {};
        index[path.basename(file)] = workflowId;
        writeFileSync(INDEX, JSON.stringify(index, null, 2) + '\n');
        console.log(`recorded ${history.events?.length} events to ${path.relative(process.cwd(), file)}`);
      };
      await save('invoice-dunning', workflowId);
      await save('customer-contact', customerContactWorkflowId(input.tenantId, input.customer.id));
    });
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
