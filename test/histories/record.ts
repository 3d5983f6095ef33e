/**
 * Records workflow histories for the replay tests: `npm run record-histories`. Run it when the
 * workflow's behaviour changes on purpose (bump RECORDING), and commit the new files next to the old
 * ones: old histories must keep replaying, which is what makes a workflow change safe for running
 * invoices. Existing files are never overwritten.
 */
const RECORDING = 'v7';
// v1: the foundation's workflow; v2: cadences v2 with the customer contact workflow; v3: people's work (outcomes, promises, plans, pauses);
// v4: disputes and approvals as child workflows; v5: the invoice's state machine split (typed refusals), messages withdrawn at
// send time, needs_attention, payment claims, a task when the cadence runs out, steps due by their own time; v6: local reads
// (the invoice's reads as local activities: the scenarios of AGAIN were recorded once more under v6); v7: the ERP sync's
// ledger changes (an extension re-plans, the ledger's payment closes) and a rebill carrying its original's steps.
// Recorded again under v6: 'standard-full-cadence-v5', 'needs-attention-resumed', 'own-cap-deferral', 'write-off-approved', 'dispute-valid-partial-credit', 'calls-promise-broken-pause', 'promise-withdraws-reminder', 'payment-claim-unconfirmed'.
const AGAIN: string[] = [];
const INDEX = path.join(__dirname, 'workflow-ids.json');
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { DateTime } from 'luxon';
import { toolPath } from '../../dev/temporal';
import { workflowBundleOptions } from '../../worker/workflows-path';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { disputeWorkflowId, resolveDisputeUpdate } from '../../workflows/dispute-messages';
import { approvalWorkflowId, decideApprovalUpdate } from '../../workflows/approval-messages';
import { ledgerChangedSignal, makePromiseUpdate, openDisputeUpdate, paymentNotifiedSignal, pauseUpdate, recordCallOutcomeUpdate, recordPaymentUpdate, resumeUpdate } from '../../workflows/messages';
import { customerContactWorkflowId } from '../../workflows/customer-messages';
import { createFakeActivities, type FakeOptions } from '../support/fake-activities';
import { createTestWorker, createTimeSkippingEnv, invoiceInput } from '../support/time-skipping';

async function main() {
  const { code } = await bundleWorkflowCode(workflowBundleOptions);
  const bundlePath = path.join(mkdtempSync(path.join(os.tmpdir(), 'record-')), 'bundle.js');
  writeFileSync(bundlePath, code);
  // A server per scenario: time skipping is global to a server.
  let env!: TestWorkflowEnvironment;
  const today = async (days: number) => DateTime.fromMillis(await env.currentTimeMs(), { zone: 'Europe/Berlin' }).plus({ days }).toISODate()!;
  type Fake = ReturnType<typeof createFakeActivities>;
  // Each scenario belongs to the recording that introduced it; a run records only the current one's.
  const since: Record<string, string> = {
    'standard-full-cadence': 'v2',
    'standard-late-partial-payments': 'v2',
    'calls-promise-broken-pause': 'v3',
    'payment-plan-kept': 'v3',
    'dispute-valid-partial-credit': 'v4',
    'write-off-approved': 'v4',
    'standard-full-cadence-v5': 'v5',
    'promise-withdraws-reminder': 'v5',
    'needs-attention-resumed': 'v5',
    'payment-claim-unconfirmed': 'v5',
    'own-cap-deferral': 'v5',
    'ledger-extension-then-paid': 'v7',
    'rebill-carried-steps': 'v7',
  };
  let webhookMissing = true;
  const fakeOptions: Record<string, FakeOptions> = { 'needs-attention-resumed': { webhookEndpointMissing: () => webhookMissing } };
  const waitFor = async (check: () => boolean) => {
    for (let i = 0; i < 100 && !check(); i++) await new Promise((r) => setTimeout(r, 100));
  };
  const scenarios: Record<string, (handle: any, input: ReturnType<typeof invoiceInput>, fake: Fake) => Promise<void>> = {
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
    // Calls that reach nobody, a callback, a promise on a call that is broken (follow-up task, escalated resume), a pause, the payment.
    'calls-promise-broken-pause': async (handle) => {
      await env.sleep('2 days');
      const outcome = (taskId: number, o: unknown) => ({ taskId, attempt: 1, outcome: o, note: 'recorded', actor: 'anna' });
      await handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(1, { code: 'no_answer' })] });
      const callbackAt = new Date((await env.currentTimeMs()) + 26 * 3_600_000).toISOString();
      await handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(2, { code: 'callback_requested', callbackAt })] });
      await handle.executeUpdate(recordCallOutcomeUpdate, {
        args: [outcome(3, { code: 'promise_to_pay', promiseId: 'PTP-REC', amountMinor: 125_000, promisedDate: await today(5), madeBy: 'AP clerk' })],
      });
      await env.sleep('10 days');
      const until = new Date((await env.currentTimeMs()) + 3 * 86_400_000).toISOString();
      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'audit', until, actor: 'lena', scope: 'invoice' }] });
      await env.sleep('5 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-12-20T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // A two-installment plan: the first paid on time, the second pays the invoice off.
    'payment-plan-kept': async (handle, input, fake) => {
      await env.sleep('2 days');
      const dates = [await today(7), await today(37)];
      await handle.executeUpdate(makePromiseUpdate, {
        args: [{ promiseId: 'PLAN-REC', planId: 'PLAN-REC', madeBy: 'AP clerk', recordedBy: 'lena', installments: [{ dueDate: dates[0], amountMinor: 60_000 }, { dueDate: dates[1], amountMinor: 65_000 }] }],
      });
      await env.sleep('7 days');
      fake.setOpenAmount(input.invoice.number, 65_000);
      await env.sleep('30 days');
      fake.setOpenAmount(input.invoice.number, 0);
    },
    // A dispute opened through the API, resolved valid with a partial credit; the rest paid later.
    'dispute-valid-partial-credit': async (handle) => {
      await env.sleep('2 days');
      await handle.executeUpdate(openDisputeUpdate, { args: [{ disputeId: 'D-REC', reasonCode: 'pricing', note: 'price', source: 'api', actor: 'anna' }] });
      await env.sleep('3 days');
      await env.client.workflow.getHandle(disputeWorkflowId('test', 'D-REC')).executeUpdate(resolveDisputeUpdate, {
        args: [{ resolution: 'valid', creditAmountMinor: 25_000, rootCause: 'pricing_error', note: 'old price list', actor: 'pia' }],
      });
      await env.sleep('10 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 100_000, currency: 'EUR', receivedAt: '2026-12-10T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // v5: the whole standard cadence (steps due by their own time; the collector's task when it runs out), then the payment.
    'standard-full-cadence-v5': async (handle) => {
      await env.sleep('30 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-11-23T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // v5: a reminder waiting in the contact workflow is withdrawn by a promise made meanwhile; the ERP's payment keeps it.
    'promise-withdraws-reminder': async (handle, _input, fake) => {
      await waitFor(() => fake.callsOf('queueCustomerMessage').length > 0);
      await handle.executeUpdate(makePromiseUpdate, { args: [{ promiseId: 'PTP-V5', madeBy: 'AP clerk', recordedBy: 'anna', installments: [{ dueDate: await today(5), amountMinor: 125_000 }] }] });
      await env.sleep('2 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-12-01T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // v5: a webhook step to an endpoint that is not configured parks the invoice; retried after an hour; fixed and resumed; paid.
    'needs-attention-resumed': async (handle) => {
      await env.sleep('2 days');
      await env.sleep('61 minutes');
      webhookMissing = false;
      await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'mark', note: 'endpoint configured', scope: 'invoice' }] });
      await env.sleep('1 day');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-12-01T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // v5: a payment reported through the API is a claim; the ERP never shows it; a task; then the ERP's payment.
    'payment-claim-unconfirmed': async (handle) => {
      await env.sleep('2 days');
      await handle.executeUpdate(recordPaymentUpdate, { args: [{ paymentId: 'CLAIM-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-12-01T10:00:00Z', source: 'api' }] });
      await env.sleep('6 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-12-09T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // v5: the second reminder waits for the contact cap, shown as deferred; then the payment.
    'own-cap-deferral': async (handle) => {
      await env.sleep('12 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: '2026-12-12T10:00:00Z', source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
    // A cadence write-off step asks for approval; an AR manager approves; the invoice is written off.
    'write-off-approved': async (_handle, input) => {
      await env.sleep('6 days');
      await env.client.workflow.getHandle(approvalWorkflowId('test', `${input.invoice.number}-write-off`)).executeUpdate(decideApprovalUpdate, {
        args: [{ decision: 'approve', note: 'uneconomic', actor: { userId: 'mark', role: 'ar_manager', approvalLimitMinor: null } }],
      });
    },
    // v7: the sync extends the due date (the first reminder moves with it), later the ledger shows the invoice paid.
    'ledger-extension-then-paid': async (handle, input, fake) => {
      await env.sleep('1 hour');
      fake.setOpenAmount(input.invoice.number, 100_000);
      const changedAt = new Date(await env.currentTimeMs()).toISOString();
      await handle.signal(ledgerChangedSignal, { dueDate: await today(20), openAmountMinor: 100_000, status: 'open', changedAt });
      await env.sleep('24 days');
      const paidAt = new Date(await env.currentTimeMs()).toISOString();
      fake.setOpenAmount(input.invoice.number, 0);
      await handle.signal(ledgerChangedSignal, { dueDate: await today(-4), openAmountMinor: 0, status: 'paid', changedAt: paidAt });
    },
    // v7: a rebill enrolled with its original's two reminders goes on with the third, then the ERP's payment closes it.
    'rebill-carried-steps': async (handle) => {
      await env.sleep('8 days');
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-R1', amountMinor: 125_000, currency: 'EUR', receivedAt: new Date(await env.currentTimeMs()).toISOString(), source: 'erp_webhook', openAmountMinorAfter: 0 });
    },
  };
  const cadences: Record<string, Cadence> = {
    'own-cap-deferral': cadenceSchema.parse({
      id: 'capped', version: 1, name: 'capped', sendAt: '09:30', contactCap: { maxEmails: 1, perDays: 7 },
      steps: [
        { id: 'reminder-1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
        { id: 'reminder-2', offset: { amount: 3, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
      ],
    }),
    'needs-attention-resumed': cadenceSchema.parse({
      id: 'webhook', version: 1, name: 'webhook', sendAt: '09:30',
      steps: [
        { id: 'crm-notice', offset: { amount: 1, unit: 'days' }, action: { type: 'webhook', endpoint: 'crm', event: 'invoice.overdue' } },
        { id: 'reminder-1', offset: { amount: 10, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
      ],
    }),
    'write-off-approved': cadenceSchema.parse({
      id: 'write-off', version: 1, name: 'write-off', sendAt: '09:30',
      steps: [
        { id: 'reminder-1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
        { id: 'write-off', offset: { amount: 5, unit: 'days' }, action: { type: 'request_write_off', reason: 'small balance' } },
      ],
    }),
  };
  /** Child workflows to record with the invoice's. */
  const children: Record<string, (input: ReturnType<typeof invoiceInput>) => { type: string; id: string }[]> = {
    'dispute-valid-partial-credit': () => [{ type: 'dispute', id: disputeWorkflowId('test', 'D-REC') }],
    'write-off-approved': (input) => [{ type: 'approval', id: approvalWorkflowId('test', `${input.invoice.number}-write-off`) }],
  };
 const carried: Record<string, () => Promise<NonNullable<ReturnType<typeof invoiceInput>['carriedFrom']>>> = {
    'rebill-carried-steps': async () => {
      const at = async (days: number) => new Date((await env.currentTimeMs()) + days * 86_400_000).toISOString();
      return { invoiceNumber: 'INV-ORIGINAL', steps: [
        { stepId: 'reminder-1', action: 'email', at: await at(-8), outcome: 'sent' },
        { stepId: 'reminder-2', action: 'email', at: await at(-2), outcome: 'sent' },
      ] };
    },
  };
  const dueOffsets: Record<string, number> = { 'ledger-extension-then-paid': 2, 'rebill-carried-steps': -9, 'own-cap-deferral': 0, 'standard-full-cadence-v5': 0, 'promise-withdraws-reminder': -7, 'needs-attention-resumed': 0, 'payment-claim-unconfirmed': 0, 'standard-full-cadence': 0, 'standard-late-partial-payments': -10, 'calls-promise-broken-pause': 0, 'payment-plan-kept': 0, 'dispute-valid-partial-credit': 0, 'write-off-approved': 0 };
  for (const [name, scenario] of Object.entries(scenarios)) {
    if (since[name] !== RECORDING && !AGAIN.includes(name)) continue;
    env = await createTimeSkippingEnv(toolPath('temporal-test-server'));
    const input = invoiceInput(await today(dueOffsets[name]!), { ...(cadences[name] ? { cadence: cadences[name] } : {}), ...(carried[name] ? { carriedFrom: await carried[name]() } : {}) });
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } }, { gatherMs: 60_000, ...fakeOptions[name] });
    const { worker, taskQueue } = await createTestWorker(env, fake.activities, bundlePath);
    await worker.runUntil(async () => {
      input.customer.id = `C-${name}`; // a contact workflow per scenario
      const { workflowId, ...args } = input;
      const handle = await env.client.workflow.start('invoiceDunning', { workflowId, taskQueue, args: [args] });
      await scenario(handle, input, fake);
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
      // A scenario that never wrote to the customer has no contact workflow.
      await save('customer-contact', customerContactWorkflowId(input.tenantId, input.customer.id)).catch((err: { code?: number }) => {
        if (err.code !== 5) throw err; // NOT_FOUND
      });
      for (const child of children[name]?.(input) ?? []) await save(child.type, child.id);
    });
    await env.teardown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
