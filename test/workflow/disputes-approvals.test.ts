import { describe, expect, inject, it } from 'vitest';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { DateTime } from 'luxon';
import { addBusinessDays } from '../../domain/business-calendar';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import { dunningStateQuery, paymentNotifiedSignal, openDisputeUpdate, recordCallOutcomeUpdate, requestApprovalUpdate, type OpenDisputeRequest } from '../../workflows/messages';
import { disputeStateQuery, disputeWorkflowId, resolveDisputeUpdate } from '../../workflows/dispute-messages';
import { approvalStateQuery, approvalWorkflowId, decideApprovalUpdate } from '../../workflows/approval-messages';
import { createFakeActivities } from '../support/fake-activities';
import { localClock, startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput } from '../support/time-skipping';

/**
 * Disputes (child workflows routed by the resolution matrix) and approvals (child workflows decided
 * per the authority matrix) on the time-skipping server, with the shipped matrices.
 */
const server = useTimeSkippingServer();
const ZONE = 'Europe/Berlin';
const { date: berlinDate, sleepUntil } = localClock(server, ZONE);

const cadence = (steps: unknown[]): Cadence => cadenceSchema.parse({ id: 'people', version: 1, name: 'people', sendAt: '09:30', steps });
const reminders = cadence([
  { id: 'reminder-1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
  { id: 'reminder-2', offset: { amount: 20, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
  { id: 'reminder-3', offset: { amount: 40, unit: 'days' }, action: { type: 'email', template: 'reminder-final' } },
]);
const writeOff = cadence([
  { id: 'reminder-1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
  { id: 'write-off', offset: { amount: 5, unit: 'days' }, action: { type: 'request_write_off', reason: 'Small balance, uneconomic to chase' } },
  { id: 'reminder-2', offset: { amount: 10, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
]);

async function setup(c: Cadence, amountMinor = 125_000) {
  const input = invoiceInput(await berlinDate(), { cadence: c });
  input.invoice.amountMinor = amountMinor;
  const fake = createFakeActivities({ [input.invoice.number]: { amountMinor } }, { gatherMs: 60_000 });
  const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
  const templatesSent = () => fake.callsOf('sendCustomerMessage').map((c) => c.args[0].items.map((i) => i.template).join('+'));
  const auditTypes = () => fake.callsOf('recordDunningEvent').map((c) => c.args[0].type);
  return { input, fake, worker, taskQueue, templatesSent, auditTypes };
}

const dispute = (over: Partial<OpenDisputeRequest> = {}): OpenDisputeRequest => ({
  disputeId: 'D-1', reasonCode: 'pricing', note: 'Customer says the unit price should be 9.50, not 10.00', source: 'api', actor: 'anna', ...over,
});

async function refusedWith(update: Promise<unknown>, reason: RegExp) {
  const err = await update.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((err as WorkflowUpdateFailedError).cause?.message).toMatch(reason);
}

describe('disputes routed by the resolution matrix (time-skipping)', () => {
  it('a valid dispute with partial credit: collection waits, the ERP credits part, dunning resumes on the rest', async () => {
    const t = await setup(reminders);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      const opened = await handle.executeUpdate(openDisputeUpdate, { args: [dispute()] });
      // Pricing for a standard customer: the pricing team, Pia, 10 business days.
      expect(opened).toMatchObject({ disputeId: 'D-1', amountMinor: 125_000, stage: 'disputed', route: { ownerTeam: 'pricing', owner: 'pia', lead: 'mark', deadlineBusinessDays: 10 } });
      expect(opened.route.deadlineDate).toBe(addBusinessDays(await berlinDate(), 10));
      await refusedWith(handle.executeUpdate(openDisputeUpdate, { args: [dispute({ disputeId: 'D-2' })] }), /already disputed \(D-1\)/);
      await sleepUntil(await berlinDate(25)); // past reminder-2's day: held
      expect(t.templatesSent()).toEqual(['reminder-friendly']);
      const disputeHandle = server.env.client.workflow.getHandle(disputeWorkflowId('test', 'D-1'));
      await refusedWith(disputeHandle.executeUpdate(resolveDisputeUpdate, { args: [{ resolution: 'valid', creditAmountMinor: 200_000, rootCause: 'pricing_error', note: 'x', actor: 'pia' }] }), /between 1 and the disputed 125000/);
      const outcome = await disputeHandle.executeUpdate(resolveDisputeUpdate, {
        args: [{ resolution: 'valid', creditAmountMinor: 25_000, rootCause: 'pricing_error', note: 'Contract price is 8.00: credit the difference', actor: 'pia' }],
      });
      expect(outcome).toMatchObject({ status: 'resolved_valid', creditAmountMinor: 25_000, openAmountMinorAfter: 100_000, creditMemoId: expect.any(String), resolvedBy: 'pia' });
      await server.env.sleep('1 hour');
      const state = await handle.query(dunningStateQuery);
      expect(state).toMatchObject({ stage: 'active', openAmountMinor: 100_000 });
      expect(state.dispute).toBeUndefined();
      await sleepUntil(await berlinDate(41));
      expect(t.templatesSent()).toEqual(['reminder-friendly', 'reminder-firm', 'reminder-final']); // the late reminder-2 once, then reminder-3
      await handle.terminate('test done');
    });
    expect(t.fake.callsOf('requestCreditMemo').map((c) => c.args[0])).toEqual([expect.objectContaining({ amountMinor: 25_000, currency: 'EUR', invoiceNumber: t.input.invoice.number })]);
    expect(t.fake.callsOf('recordDisputeOutcome').map((c) => c.args[0].outcome.status)).toEqual(['resolved_valid']);
    expect(t.auditTypes()).toEqual(expect.arrayContaining(['dispute_opened', 'dispute_settled']));
  });

  it('a partial dispute leaves the undisputed rest in dunning: the next reminder asks for the rest only', async () => {
    const t = await setup(reminders);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      const opened = await handle.executeUpdate(openDisputeUpdate, { args: [dispute({ disputeId: 'D-P', amountMinor: 25_000 })] });
      expect(opened).toMatchObject({ stage: 'active', amountMinor: 25_000 });
      await sleepUntil(await berlinDate(21));
      await handle.terminate('test done');
    });
    const reminders2 = t.fake.callsOf('sendCustomerMessage').map((c) => c.args[0].items[0]!);
    expect(reminders2.map((i) => [i.template, i.openAmountMinor])).toEqual([['reminder-friendly', 125_000], ['reminder-firm', 100_000]]);
  });

  it('an invalid dispute resumes collection: the customer is told why by email, the collector gets a call task', async () => {
    const t = await setup(reminders);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      // Opened from a call outcome this time.
      const answer = await handle.executeUpdate(recordCallOutcomeUpdate, { args: [{ taskId: 5, attempt: 1, outcome: { code: 'dispute', reasonCode: 'damaged_goods' }, note: 'Pallet arrived broken', actor: 'anna' }] });
      expect(answer.stage).toBe('disputed');
      expect(answer.effects[0]).toMatch(/^dispute D-5 routed to Customer service \(cara\)/);
      await sleepUntil(await berlinDate(4));
      const outcome = await server.env.client.workflow.getHandle(disputeWorkflowId('test', 'D-5')).executeUpdate(resolveDisputeUpdate, {
        args: [{ resolution: 'invalid', rootCause: 'customer_error', note: 'The delivery note signed on receipt shows no damage.', actor: 'cara' }],
      });
      expect(outcome.status).toBe('resolved_invalid');
      await server.env.sleep('1 hour');
      expect((await handle.query(dunningStateQuery)).stage).toBe('active');
      await sleepUntil(await berlinDate(21));
      expect(t.templatesSent()).toEqual(['reminder-friendly', 'reminder-firm']);
      await handle.terminate('test done');
    });
    expect(t.fake.callsOf('sendDunningEmail').map((c) => [c.args[0].template, c.args[0].note])).toEqual([['dispute-rejected', 'The delivery note signed on receipt shows no damage.']]);
    expect(t.fake.callsOf('createCallTask').map((c) => c.args[0].kind)).toEqual(['dispute_rejected']);
    expect(t.fake.callsOf('requestCreditMemo')).toHaveLength(0);
  });

  it('an owner who misses the deadline is reminded first, then the lead is told and the dispute is escalated', async () => {
    const t = await setup(reminders);
    let deadline = '';
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      const opened = await handle.executeUpdate(openDisputeUpdate, { args: [dispute({ reasonCode: 'not_received', disputeId: 'D-9' })] });
      expect(opened.route).toMatchObject({ ownerTeam: 'logistics', owner: 'luis', lead: 'lena', deadlineBusinessDays: 5 });
      deadline = opened.route.deadlineDate;
      await sleepUntil(deadline, '18:00');
      const disputeHandle = server.env.client.workflow.getHandle(disputeWorkflowId('test', 'D-9'));
      expect(await disputeHandle.query(disputeStateQuery)).toMatchObject({ status: 'open', reminded: true, escalated: false });
      await sleepUntil(DateTime.fromISO(deadline).plus({ days: 1 }).toISODate()!, '08:00');
      expect(await disputeHandle.query(disputeStateQuery)).toMatchObject({ status: 'escalated', escalated: true });
      expect((await handle.query(dunningStateQuery)).stage).toBe('disputed');
      await handle.terminate('test done');
    });
    const events = t.fake.callsOf('disputeDeadlineEvent').map((c) => c.args[0]);
    expect(events.map((e) => [e.event, e.recipientUserId])).toEqual([['reminder', 'luis'], ['overdue', 'lena']]);
    // The reminder went out one business day before the deadline at 09:00, the escalation when the deadline day ended.
    const [reminder, overdue] = t.fake.callsOf('disputeDeadlineEvent');
    expect(DateTime.fromMillis(reminder!.scheduledAt, { zone: ZONE }).toISODate()).toBe(addBusinessDays(deadline, -1));
    expect(DateTime.fromMillis(overdue!.scheduledAt, { zone: ZONE }).toFormat('yyyy-MM-dd HH:mm')).toBe(`${DateTime.fromISO(deadline).plus({ days: 1 }).toISODate()} 00:00`);
  });
});

describe('approvals decided per the authority matrix (time-skipping)', () => {
  const mark = { userId: 'mark', role: 'ar_manager' as const, approvalLimitMinor: 5_000_000 };

  it('a cadence write-off step waits for approval; approved, the ERP posts the journal and the invoice is written off', async () => {
    const t = await setup(writeOff);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(6));
      const state = await handle.query(dunningStateQuery);
      expect(state.stage).toBe('awaiting_approval');
      expect(state.steps.at(-1)).toMatchObject({ stepId: 'write-off', outcome: 'approval_requested' });
      const approval = server.env.client.workflow.getHandle(approvalWorkflowId('test', `${t.input.invoice.number}-write-off`));
      // 1 250.00 EUR: above a team lead's 500.00, within an AR manager's rule.
      expect(await approval.query(approvalStateQuery)).toMatchObject({ status: 'pending', requiredRole: 'ar_manager' });
      await refusedWith(approval.executeUpdate(decideApprovalUpdate, { args: [{ decision: 'approve', note: 'ok', actor: { userId: 'lena', role: 'team_lead', approvalLimitMinor: 1_000_000 } }] }), /needs an ar_manager or above/);
      await refusedWith(approval.executeUpdate(decideApprovalUpdate, { args: [{ decision: 'approve', note: 'ok', actor: { userId: 'tom', role: 'ar_manager', approvalLimitMinor: 100_000 } }] }), /above the approval limit 100000 of tom/);
      await approval.executeUpdate(decideApprovalUpdate, { args: [{ decision: 'approve', note: 'Uneconomic to pursue', actor: mark }] });
      const final = await handle.result();
      expect(final.stage).toBe('written_off');
      expect(final.openAmountMinor).toBe(0);
    });
    expect(t.fake.callsOf('postWriteOff').map((c) => c.args[0])).toEqual([expect.objectContaining({ amountMinor: 125_000, currency: 'EUR' })]);
    expect(t.fake.callsOf('recordApprovalEffect')[0]!.args[0].effect).toMatchObject({ journalId: expect.any(String), writtenOffMinor: 125_000 });
    expect(t.templatesSent()).toEqual(['reminder-friendly']);
    expect(t.auditTypes()).toEqual(expect.arrayContaining(['approval_requested', 'approval_approved', 'closed']));
  });

  it('a rejected write-off lets the cadence go on', async () => {
    const t = await setup(writeOff);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(6));
      const approval = server.env.client.workflow.getHandle(approvalWorkflowId('test', `${t.input.invoice.number}-write-off`));
      await approval.executeUpdate(decideApprovalUpdate, { args: [{ decision: 'reject', note: 'Customer is solvent: keep collecting', actor: mark }] });
      await server.env.sleep('1 hour');
      expect((await handle.query(dunningStateQuery)).stage).toBe('active');
      await sleepUntil(await berlinDate(11));
      expect(t.templatesSent()).toEqual(['reminder-friendly', 'reminder-firm']);
      await handle.terminate('test done');
    });
    expect(t.fake.callsOf('postWriteOff')).toHaveLength(0);
    expect(t.fake.callsOf('recordApprovalDecision').map((c) => [c.args[0].status, c.args[0].decidedBy])).toEqual([['rejected', 'mark']]);
  });

  it('an undecided request escalates to the next level after the configured time, and the requester can never decide it', async () => {
    const t = await setup(writeOff);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(5), '09:40'); // the write-off step ran at 09:30
      const approval = server.env.client.workflow.getHandle(approvalWorkflowId('test', `${t.input.invoice.number}-write-off`));
      await server.env.sleep('47 hours');
      expect(await approval.query(approvalStateQuery)).toMatchObject({ requiredRole: 'ar_manager', level: 0 });
      await server.env.sleep('2 hours'); // 48 h (escalateAfterHours) passed
      expect(await approval.query(approvalStateQuery)).toMatchObject({ requiredRole: 'admin', level: 1 });
      await refusedWith(approval.executeUpdate(decideApprovalUpdate, { args: [{ decision: 'approve', note: 'ok', actor: mark }] }), /needs an admin or above/);
      await refusedWith(approval.executeUpdate(decideApprovalUpdate, { args: [{ decision: 'approve', note: 'ok', actor: { userId: 'cadence', role: 'admin', approvalLimitMinor: null } }] }), /requester cannot decide/);
      await server.env.sleep('10 days'); // at the top there is nobody to escalate to: it waits
      expect(await approval.query(approvalStateQuery)).toMatchObject({ requiredRole: 'admin', level: 1, status: 'pending' });
      await approval.executeUpdate(decideApprovalUpdate, { args: [{ decision: 'reject', note: 'No', actor: { userId: 'root', role: 'admin', approvalLimitMinor: null } }] });
      await server.env.sleep('1 hour');
      expect((await handle.query(dunningStateQuery)).stage).toBe('active');
      await handle.terminate('test done');
    });
    expect(t.fake.callsOf('escalateApprovalRequest').map((c) => [c.args[0].toRole, c.args[0].level])).toEqual([['admin', 1]]);
  });

  it('an approved settlement becomes a promise for the settled amount; when it is paid, the remainder is written off', async () => {
    const t = await setup(reminders);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      const payBy = await berlinDate(10);
      const asked = await handle.executeUpdate(requestApprovalUpdate, {
        args: [{ requestId: 'S-1', action: 'settlement', reason: 'Customer pays 1 000.00 now if we drop the rest', actor: 'anna', details: { settlement: { amountMinor: 100_000, payBy } } }],
      });
      // What the company gives up is what needs authority: 250.00 EUR, a team lead's.
      expect(asked).toMatchObject({ requestId: 'S-1', requiredRole: 'team_lead', amountMinor: 25_000, stage: 'awaiting_approval' });
      await server.env.client.workflow.getHandle(approvalWorkflowId('test', 'S-1')).executeUpdate(decideApprovalUpdate, {
        args: [{ decision: 'approve', note: 'Better 1 000.00 now', actor: { userId: 'lena', role: 'team_lead', approvalLimitMinor: 1_000_000 } }],
      });
      await server.env.sleep('1 hour');
      expect(await handle.query(dunningStateQuery)).toMatchObject({ stage: 'promised', settlement: { requestId: 'S-1', settledAmountMinor: 100_000 } });
      await sleepUntil(payBy, '11:00');
      t.fake.setOpenAmount(t.input.invoice.number, 25_000); // the settled amount arrived
      const final = await handle.result();
      expect(final).toMatchObject({ stage: 'written_off', openAmountMinor: 0 });
    });
    expect(t.fake.callsOf('postWriteOff').map((c) => c.args[0].amountMinor)).toEqual([25_000]);
    expect(t.fake.callsOf('recordApprovalEffect').map((c) => c.args[0].effect)).toEqual([
      expect.objectContaining({ promiseId: 'SETTLE-S-1', settledAmountMinor: 100_000 }),
      expect.objectContaining({ settledAmountMinor: 100_000, writtenOffMinor: 25_000, journalId: expect.any(String) }),
    ]);
  });

  it('an approved agency hand-off produces the hand-off package and ends customer-facing dunning', async () => {
    const t = await setup(reminders);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      const asked = await handle.executeUpdate(requestApprovalUpdate, { args: [{ requestId: 'H-1', action: 'agency_handoff', reason: 'No contact for 90 days', actor: 'lena', details: {} }] });
      expect(asked.requiredRole).toBe('ar_manager');
      await server.env.client.workflow.getHandle(approvalWorkflowId('test', 'H-1')).executeUpdate(decideApprovalUpdate, { args: [{ decision: 'approve', note: 'Hand to Credita', actor: mark }] });
      expect((await handle.result()).stage).toBe('handed_off');
    });
    expect(t.fake.callsOf('buildHandoffPackage').map((c) => c.args[0])).toEqual([expect.objectContaining({ handedTo: 'agency', requestId: 'H-1', approvedBy: 'mark' })]);
    expect(t.templatesSent()).toEqual(['reminder-friendly']);
  });

  it('an invoice paid while a request is pending cancels the request', async () => {
    const t = await setup(writeOff);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(6)); // the write-off request is pending
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-1', amountMinor: 125_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'erp_webhook', openAmountMinorAfter: 0 });
      expect((await handle.result()).stage).toBe('paid');
      const approval = server.env.client.workflow.getHandle(approvalWorkflowId('test', `${t.input.invoice.number}-write-off`));
      expect(await approval.result()).toMatchObject({ status: 'cancelled' });
    });
    expect(t.fake.callsOf('recordApprovalDecision').map((c) => c.args[0].status)).toEqual(['cancelled']);
  });
});

describe('a dispute overtaken by payment (time-skipping)', () => {
  it('an invoice paid while disputed withdraws the dispute', async () => {
    const t = await setup(reminders);
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      await handle.executeUpdate(openDisputeUpdate, { args: [dispute({ disputeId: 'D-W' })] });
      await handle.signal(paymentNotifiedSignal, { paymentId: 'P-2', amountMinor: 125_000, currency: 'EUR', receivedAt: new Date().toISOString(), source: 'erp_webhook', openAmountMinorAfter: 0 });
      expect((await handle.result()).stage).toBe('paid');
      expect(await server.env.client.workflow.getHandle(disputeWorkflowId('test', 'D-W')).result()).toMatchObject({ status: 'withdrawn' });
    });
    expect(t.fake.callsOf('recordDisputeOutcome').map((c) => c.args[0].outcome.status)).toEqual(['withdrawn']);
  });
});
