import { describe, expect, inject, it } from 'vitest';
import { WorkflowUpdateFailedError, type WorkflowHandle } from '@temporalio/client';
import type { invoiceDunning } from '../../workflows';
import { DateTime } from 'luxon';
import { addBusinessDays } from '../../domain/business-calendar';
import { cadenceSchema, type Cadence } from '../../domain/cadence';
import {
  dunningStateQuery,
  makePromiseUpdate,
  pauseUpdate,
  recordCallOutcomeUpdate,
  resumeUpdate,
  type CallOutcomeInput,
} from '../../workflows/messages';
import { createFakeActivities } from '../support/fake-activities';
import { localClock, startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput } from '../support/time-skipping';

/**
 * People's work driving the invoice workflow on the time-skipping server: promises to pay and payment
 * plans checked against the ERP at date + tolerance, pauses, and call outcomes with their follow-ups.
 */
const GATHER_MS = 60_000;
const server = useTimeSkippingServer();
const ZONE = 'Europe/Berlin';

const { date: berlinDate, sleepUntil } = localClock(server, ZONE);

function collectCadence(collection: Record<string, unknown> = {}): Cadence {
  return cadenceSchema.parse({
    id: 'collect',
    version: 1,
    name: 'Collector work test cadence',
    sendAt: '09:30',
    steps: [
      { id: 'reminder-1', offset: { amount: 1, unit: 'days' }, action: { type: 'email', template: 'reminder-friendly' } },
      { id: 'reminder-2', offset: { amount: 10, unit: 'days' }, action: { type: 'email', template: 'reminder-firm' } },
      { id: 'reminder-3', offset: { amount: 40, unit: 'days' }, action: { type: 'email', template: 'reminder-final' } },
      { id: 'call-1', offset: { amount: 60, unit: 'days' }, action: { type: 'call_task', note: 'Call the AP contact.' } },
    ],
    collection: {
      promise: { toleranceBusinessDays: 2, maxDaysAhead: 30, courtesyReminder: { businessDaysBefore: 1, template: 'promise-courtesy' } },
      brokenPromise: { resumeAtStep: 'reminder-3' },
      ...collection,
    },
  });
}

async function setup(cadence: Cadence = collectCadence(), options: Parameters<typeof createFakeActivities>[1] = {}) {
  const input = invoiceInput(await berlinDate(), { cadence });
  const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } }, { gatherMs: GATHER_MS, ...options });
  const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
  const templatesSent = () => fake.callsOf('sendCustomerMessage').map((c) => c.args[0].items.map((i) => i.template).join('+'));
  const auditTypes = () => fake.callsOf('recordDunningEvent').map((c) => c.args[0].type);
  return { input, fake, worker, taskQueue, templatesSent, auditTypes };
}

/**
 * On day 2 the customer agrees to pay 125 000 in three installments (40 000 on day 7, 40 000 on day
 * 37, 45 000 on day 67); returns their dates with the server at 11:00 on the first one.
 */
async function agreeThreeInstallmentPlan(handle: WorkflowHandle<typeof invoiceDunning>, planId: string) {
  await sleepUntil(await berlinDate(2));
  const dates = [await berlinDate(7), await berlinDate(37), await berlinDate(67)] as const;
  await handle.executeUpdate(makePromiseUpdate, {
    args: [{ promiseId: planId, planId, madeBy: 'Jana Roth (AP)', recordedBy: 'lena', installments: [
      { dueDate: dates[0], amountMinor: 40_000 },
      { dueDate: dates[1], amountMinor: 40_000 },
      { dueDate: dates[2], amountMinor: 45_000 },
    ] }],
  });
  await sleepUntil(dates[0], '11:00');
  return dates;
}

/** A refused update's reason is the cause of the client's WorkflowUpdateFailedError. */
async function refusedWith(update: Promise<unknown>, reason: RegExp) {
  const err = await update.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkflowUpdateFailedError);
  expect((err as WorkflowUpdateFailedError).cause?.message).toMatch(reason);
}

const outcome = (taskId: number, o: CallOutcomeInput['outcome'], attempt = 1): CallOutcomeInput => ({ taskId, attempt, outcome: o, note: 'spoke with AP', actor: 'anna' });

describe('promises, plans, pauses and call outcomes (time-skipping)', () => {
  it('a kept promise stops dunning: no reminder while promised, one courtesy reminder, the ERP payment closes the invoice, verdict kept', async () => {
    const t = await setup();
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      expect(t.templatesSent()).toEqual(['reminder-friendly']);
      const promisedDate = await berlinDate(12); // after reminder-2's day: the promise holds it back
      const answer = await handle.executeUpdate(makePromiseUpdate, {
        args: [{ promiseId: 'PTP-1', madeBy: 'Jana Roth (AP)', recordedBy: 'anna', installments: [{ dueDate: promisedDate, amountMinor: 125_000 }] }],
      });
      expect(answer.stage).toBe('promised');
      expect(answer.nextStep).toMatchObject({ action: 'promise_courtesy' });
      const state = await handle.query(dunningStateQuery);
      expect(state.promise?.installments[0]).toMatchObject({ dueDate: promisedDate, checkDate: addBusinessDays(promisedDate, 2), status: 'pending' });

      // The customer pays on the promised date; the ERP knows, nobody tells the workflow.
      await sleepUntil(promisedDate, '11:00');
      t.fake.setOpenAmount(t.input.invoice.number, 0);
      expect(t.templatesSent()).toEqual(['reminder-friendly', 'promise-courtesy']);
      const final = await handle.result();
      expect(final.stage).toBe('paid');
    });
    expect(t.templatesSent()).toEqual(['reminder-friendly', 'promise-courtesy']);
    const verdicts = t.fake.callsOf('recordPromiseVerdict').map((c) => c.args[0].settled.map((s) => s.status));
    expect(verdicts).toEqual([['kept']]);
    expect(t.auditTypes()).toEqual(expect.arrayContaining(['promise_made', 'promise_courtesy_reminder', 'closed']));
    expect(t.fake.callsOf('createCallTask')).toHaveLength(0);
  });

  it('a broken promise creates a follow-up call task and resumes the cadence at once at the escalated step', async () => {
    const t = await setup();
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      const promisedDate = await berlinDate(8);
      const answer = await handle.executeUpdate(recordCallOutcomeUpdate, {
        args: [outcome(41, { code: 'promise_to_pay', promiseId: 'PTP-2', amountMinor: 125_000, promisedDate, madeBy: 'Jana Roth (AP)' })],
      });
      expect(answer).toMatchObject({ stage: 'promised', followUpTask: null });
      const checkDate = addBusinessDays(promisedDate, 2);
      // Nothing paid. The check runs at the start of the day after the check date.
      await sleepUntil(DateTime.fromISO(checkDate).plus({ days: 1 }).toISODate()!, '06:00');
      const state = await handle.query(dunningStateQuery);
      expect(state.stage).toBe('active');
      expect(state.brokenPromises).toBe(1);
      expect(state.promise).toBeUndefined();
      // reminder-2 fell due during the promise: superseded by the escalation; reminder-3 (day 40) ran at once.
      expect(state.steps.map((s) => [s.stepId, s.outcome, s.detail ?? null])).toEqual([
        ['reminder-1', 'sent', null],
        ['reminder-2', 'superseded', 'broken_promise'],
        ['reminder-3', 'sent', null],
      ]);
      expect(Date.parse(state.steps[2]!.at) - DateTime.fromISO(checkDate, { zone: ZONE }).plus({ days: 1 }).toMillis()).toBeLessThan(2_000);
      expect(state.nextStep).toMatchObject({ stepId: 'call-1' });
      await handle.terminate('test done');
    });
    const tasks = t.fake.callsOf('createCallTask').map((c) => c.args[0]);
    expect(tasks).toHaveLength(1);
    expect(tasks[0]).toMatchObject({ kind: 'broken_promise', invoiceNumber: t.input.invoice.number, note: 'Promise to pay broken: call the customer today.' });
    expect(t.fake.callsOf('recordPromiseVerdict').map((c) => c.args[0].settled.map((s) => s.status))).toEqual([['broken']]);
    expect(t.templatesSent()).toEqual(['reminder-friendly', 'promise-courtesy', 'reminder-final']);
    expect(t.auditTypes()).toEqual(expect.arrayContaining(['call_outcome', 'promise_made', 'promise_broken']));
  });

  it('a 3-installment plan with the second installment missed breaks (no miss allowed): the third is called off, the cadence resumes escalated', async () => {
    const t = await setup();
    const n = t.input.invoice.number;
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      const dates = await agreeThreeInstallmentPlan(handle, 'PLAN-1');
      t.fake.setOpenAmount(n, 85_000); // first installment paid on its day
      await sleepUntil(DateTime.fromISO(addBusinessDays(dates[0]!, 2)).plus({ days: 1 }).toISODate()!, '06:00');
      let state = await handle.query(dunningStateQuery);
      expect(state.stage).toBe('promised');
      expect(state.promise?.installments.map((i) => i.status)).toEqual(['kept', 'pending', 'pending']);
      // The second is never paid.
      await sleepUntil(DateTime.fromISO(addBusinessDays(dates[1]!, 2)).plus({ days: 1 }).toISODate()!, '06:00');
      state = await handle.query(dunningStateQuery);
      expect(state.stage).toBe('active');
      expect(state.promise).toBeUndefined();
      expect(state.openAmountMinor).toBe(85_000);
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([
        ['reminder-1', 'sent'],
        ['reminder-2', 'superseded'],
        ['reminder-3', 'sent'],
      ]);
      await handle.terminate('test done');
    });
    const verdicts = t.fake.callsOf('recordPromiseVerdict').map((c) => ({ settled: c.args[0].settled.map((s) => [s.no, s.status]), plan: c.args[0].planStatus }));
    expect(verdicts).toEqual([
      { settled: [[1, 'kept']], plan: 'on_track' },
      { settled: [[2, 'broken'], [3, 'cancelled']], plan: 'broken' },
    ]);
    expect(t.fake.callsOf('createCallTask').map((c) => c.args[0].kind)).toEqual(['broken_promise']);
    expect(t.auditTypes()).toEqual(expect.arrayContaining(['installment_kept', 'payment_plan_broken']));
    // A courtesy reminder before each installment checked so far.
    expect(t.templatesSent().filter((x) => x === 'promise-courtesy')).toHaveLength(2);
  });

  it('a plan that allows one miss survives the missed second installment with a follow-up task and completes when the rest is paid', async () => {
    const t = await setup(collectCadence({ paymentPlan: { maxMissedInstallments: 1 } }));
    const n = t.input.invoice.number;
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      const dates = await agreeThreeInstallmentPlan(handle, 'PLAN-2');
      t.fake.setOpenAmount(n, 85_000);
      await sleepUntil(DateTime.fromISO(addBusinessDays(dates[1]!, 2)).plus({ days: 1 }).toISODate()!, '06:00');
      const state = await handle.query(dunningStateQuery);
      expect(state.stage).toBe('promised');
      expect(state.promise?.installments.map((i) => i.status)).toEqual(['kept', 'broken', 'pending']);
      await sleepUntil(dates[2]!, '11:00');
      t.fake.setOpenAmount(n, 0); // the customer catches up with the rest
      expect((await handle.result()).stage).toBe('paid');
    });
    expect(t.fake.callsOf('createCallTask').map((c) => c.args[0].kind)).toEqual(['follow_up']);
    expect(t.fake.callsOf('recordPromiseVerdict').map((c) => c.args[0].settled.map((s) => s.status))).toEqual([['kept'], ['broken'], ['kept']]);
    expect(t.templatesSent().filter((x) => x !== 'promise-courtesy')).toEqual(['reminder-friendly']);
  });

  it('pauses until a date, then resumes on its own with one catch-up step, not a burst', async () => {
    const t = await setup();
    let until = '';
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      until = DateTime.fromISO(await berlinDate(15), { zone: ZONE }).set({ hour: 8 }).toUTC().toISO()!;
      const paused = await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'Customer restructuring AP team', until, actor: 'lena', scope: 'invoice' }] });
      expect(paused).toMatchObject({ stage: 'paused', changed: true, nextStep: { action: 'resume', at: until } });
      await sleepUntil(await berlinDate(14));
      expect(t.templatesSent()).toEqual(['reminder-friendly']); // reminder-2 (day 10) held
      expect((await handle.query(dunningStateQuery)).stage).toBe('paused');
      await sleepUntil(await berlinDate(15), '10:00');
      const state = await handle.query(dunningStateQuery);
      expect(state.stage).toBe('active');
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([['reminder-1', 'sent'], ['reminder-2', 'sent']]);
      expect(Date.parse(state.steps[1]!.at) - Date.parse(until)).toBeLessThan(2_000);
      // A resume when nothing is paused changes nothing.
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'lena', note: 'again', scope: 'invoice' }] })).toMatchObject({ changed: false, stage: 'active' });
      await handle.terminate('test done');
    });
    const events = t.fake.callsOf('recordDunningEvent').map((c) => c.args[0]);
    expect(events.find((e) => e.type === 'paused')?.details).toMatchObject({ by: 'lena', reason: 'Customer restructuring AP team', until });
    expect(events.find((e) => e.type === 'resumed')?.details).toMatchObject({ by: 'schedule' });
  });

  it('an indefinite pause holds until resumed by a person; a customer-wide resume leaves an invoice paused on its own alone', async () => {
    const t = await setup();
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      await handle.executeUpdate(pauseUpdate, { args: [{ reason: 'Legal review', until: null, actor: 'mark', scope: 'invoice' }] });
      await sleepUntil(await berlinDate(30));
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'mark', note: 'customer-wide', scope: 'customer' }] })).toMatchObject({ changed: false, stage: 'paused' });
      expect(t.templatesSent()).toEqual(['reminder-friendly']);
      expect(await handle.executeUpdate(resumeUpdate, { args: [{ actor: 'mark', note: 'review done', scope: 'invoice' }] })).toMatchObject({ changed: true, stage: 'active' });
      await server.env.sleep('2 hours');
      expect(t.templatesSent()).toEqual(['reminder-friendly', 'reminder-firm']);
      await handle.terminate('test done');
    });
  });

  it('unreached calls retry per configuration up to the attempt cap, callbacks become tasks at the asked time, a task completes once', async () => {
    const t = await setup();
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(2));
      const first = await handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(7, { code: 'no_answer' })] });
      const today = await berlinDate();
      expect(first.followUpTask).toMatchObject({ kind: 'follow_up', attempt: 2, dueAt: DateTime.fromISO(addBusinessDays(today, 1), { zone: ZONE }).set({ hour: 9, minute: 30 }).toUTC().toISO() });
      // The same task again: refused by the validator, nothing recorded.
      await refusedWith(handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(7, { code: 'voicemail' })] }), /task 7 was already completed/);
      const second = await handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(first.followUpTask!.taskId, { code: 'voicemail' }, 2)] });
      expect(second.followUpTask).toMatchObject({ attempt: 3 });
      const third = await handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(second.followUpTask!.taskId, { code: 'wrong_contact' }, 3)] });
      expect(third.followUpTask).toBeNull();
      expect(third.effects).toEqual(expect.arrayContaining(['no retry: 3 attempts reached; team lead notified', 'contact flagged for update']));
      const callbackAt = DateTime.fromISO(await berlinDate(3), { zone: ZONE }).set({ hour: 15, minute: 30 }).toUTC().toISO()!;
      const cb = await handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(99, { code: 'callback_requested', callbackAt })] });
      expect(cb.followUpTask).toMatchObject({ kind: 'callback', dueAt: callbackAt });
      await refusedWith(handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(100, { code: 'callback_requested', callbackAt: '2001-01-01T00:00:00Z' })] }), /not in the future/);
      const copy = await handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(101, { code: 'request_copy' })] });
      expect(copy.effects).toEqual(['invoice copy sent']);
      const refused = await handle.executeUpdate(recordCallOutcomeUpdate, { args: [outcome(102, { code: 'refused' })] });
      expect(refused.effects).toEqual(['team lead notified']);
      expect(refused.stage).toBe('active');
      await handle.terminate('test done');
    });
    expect(t.fake.callsOf('createCallTask').map((c) => [c.args[0].kind, c.args[0].attempt, c.args[0].parentTaskId])).toEqual([
      ['follow_up', 2, 7],
      ['follow_up', 3, expect.any(Number)],
      ['callback', 1, 99],
    ]);
    expect(t.fake.callsOf('notifyInternal').map((c) => c.args[0].role)).toEqual(['team_lead', 'team_lead']);
    expect(t.fake.callsOf('sendDunningEmail').map((c) => c.args[0].template)).toEqual(['invoice-copy']);
    expect(t.fake.callsOf('recordDunningEvent').filter((c) => c.args[0].type === 'call_outcome')).toHaveLength(6);
  });

  it('refuses a promise it cannot keep track of: past date, too far ahead, more than open', async () => {
    const t = await setup();
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      const promise = async (dueDate: string, amountMinor: number) =>
        handle.executeUpdate(makePromiseUpdate, { args: [{ promiseId: 'X', madeBy: 'AP', recordedBy: 'anna', installments: [{ dueDate, amountMinor }] }] });
      await refusedWith(promise(await berlinDate(-1), 1_000), /in the past/);
      await refusedWith(promise(await berlinDate(31), 1_000), /more than 30 days ahead; agree a payment plan/);
      await refusedWith(promise(await berlinDate(5), 125_001), /exceeds the open amount 125000/);
      expect((await handle.query(dunningStateQuery)).stage).toBe('active');
      await handle.terminate('test done');
    });
    expect(t.fake.callsOf('recordPromise')).toHaveLength(0);
  });

  it('turns reminders into calls for a customer whose contact prefers the phone', async () => {
    const t = await setup(collectCadence(), { customers: { C1: { preferredChannel: 'phone' } } });
    await t.worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, t.input, t.taskQueue);
      await sleepUntil(await berlinDate(11));
      const state = await handle.query(dunningStateQuery);
      expect(state.steps.map((s) => [s.stepId, s.outcome])).toEqual([['reminder-1', 'call_instead'], ['reminder-2', 'call_instead']]);
      await handle.terminate('test done');
    });
    expect(t.templatesSent()).toEqual([]);
    expect(t.fake.callsOf('createCallTask').map((c) => c.args[0].note)).toEqual([
      'Customer prefers phone: call instead of reminder "reminder-1" (reminder-friendly).',
      'Customer prefers phone: call instead of reminder "reminder-2" (reminder-firm).',
    ]);
  });
});
