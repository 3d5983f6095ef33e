import { describe, expect, inject, it } from 'vitest';
import { DateTime } from 'luxon';
import { previewCadence } from '../../domain/preview';
import { dunningStateQuery, ledgerChangedSignal, type LedgerChange } from '../../workflows/messages';
import type { StepRecord } from '../../domain/invoice-state';
import { eventSeqOf } from '../../activities/audit';
import { createFakeActivities } from '../support/fake-activities';
import { startInvoiceWorkflow, useTimeSkippingServer } from '../support/workflow-server';
import { createTestWorker, invoiceInput, standardCadence } from '../support/time-skipping';

/**
 * The ERP sync's reconciliation as the invoice workflow takes it (issue 12): the ledger's word on the due date
 * (an extension re-plans), the open amount and the status (paid, credited, cancelled close the invoice before
 * its next customer-facing step), and a rebill that carries the original's dunning on.
 */
const server = useTimeSkippingServer();

async function berlinDate(offsetDays: number): Promise<string> {
  return DateTime.fromMillis(await server.env.currentTimeMs(), { zone: 'Europe/Berlin' }).plus({ days: offsetDays }).toISODate()!;
}
const nowIso = async (offsetMs = 0) => new Date((await server.env.currentTimeMs()) + offsetMs).toISOString();
const change = (fields: Omit<LedgerChange, 'changedAt'>, changedAt: string): LedgerChange => ({ ...fields, changedAt });

describe('ledger changes from the ERP sync (time-skipping)', () => {
  it('re-plans the next step from an extended due date, ignores an older change, and mirrors the new due date', async () => {
    const input = invoiceInput(await berlinDate(2));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      await server.env.sleep('1 hour');
      const extended = await berlinDate(30);
      const asOf = await nowIso();
      await handle.signal(ledgerChangedSignal, change({ dueDate: extended, openAmountMinor: 125_000, status: 'open' }, asOf));
      // A change the sync read earlier (a page re-run) arrives late: it is older than the one applied, and ignored.
      await handle.signal(ledgerChangedSignal, change({ dueDate: input.invoice.dueDate, openAmountMinor: 125_000, status: 'open' }, new Date(Date.parse(asOf) - 60_000).toISOString()));
      await server.env.sleep('10 days');
      let state = await handle.query(dunningStateQuery);
      // Nothing ran at the old due date + 1: the first reminder is planned from the new due date, as the preview dates it.
      expect(state.steps).toEqual([]);
      const preview = previewCadence({ cadence: standardCadence, dueDate: extended, currency: 'EUR', openAmountMinor: 125_000, timeZone: 'Europe/Berlin', segment: 'standard', asOf: await nowIso() });
      expect(state.nextStep).toMatchObject({ stepId: 'reminder-1', at: preview[0]!.at });
      expect(state.ledgerChangedAt).toBe(asOf);
      await server.env.sleep('23 days');
      state = await handle.query(dunningStateQuery);
      expect(state.steps.map((s) => [s.stepId, s.outcome, s.at])).toEqual([['reminder-1', 'sent', preview[0]!.at]]);
      await handle.terminate('test done');
    });
    const ledgerEvents = fake.callsOf('recordDunningEvent').map((c) => c.args[0]).filter((e) => e.type === 'ledger_changed');
    // One event: the stale change recorded nothing.
    expect(ledgerEvents).toHaveLength(1);
    expect(ledgerEvents[0]!.details).toMatchObject({ dueDate: { from: input.invoice.dueDate, to: await berlinDate(30 - 33) } });
  });

  it('takes a new open amount as the ERP has it, then closes as cancelled without contacting anyone', async () => {
    const input = invoiceInput(await berlinDate(2));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      await server.env.sleep('1 hour');
      fake.setOpenAmount(input.invoice.number, 100_000); // a credit memo of 250.00 in the ERP
      await handle.signal(ledgerChangedSignal, change({ dueDate: input.invoice.dueDate, openAmountMinor: 100_000, status: 'open' }, await nowIso()));
      await server.env.sleep('1 hour');
      const state = await handle.query(dunningStateQuery);
      expect(state).toMatchObject({ openAmountMinor: 100_000, stage: 'active' });
      // The same change again (the sync re-ran the page): nothing new.
      await handle.signal(ledgerChangedSignal, change({ dueDate: input.invoice.dueDate, openAmountMinor: 100_000, status: 'open' }, await nowIso()));
      await handle.signal(ledgerChangedSignal, change({ dueDate: input.invoice.dueDate, openAmountMinor: 100_000, status: 'cancelled' }, await nowIso(1_000)));
      expect((await handle.result()).stage).toBe('cancelled');
    });
    expect(fake.callsOf('queueCustomerMessage')).toHaveLength(0);
    // In the workflow's order (the activities of one workflow task may run in any order).
    const events = fake.callsOf('recordDunningEvent').map((c) => c.args[0]).sort((a, b) => eventSeqOf(a)! - eventSeqOf(b)!);
    expect(events.map((e) => e.type)).toEqual(['enrolled', 'ledger_changed', 'ledger_changed', 'closed']);
    expect(events[1]!.details).toMatchObject({ openAmountMinor: { from: 125_000, to: 100_000 } });
    expect(events[2]!).toMatchObject({ stage: 'cancelled', details: { status: 'cancelled', stage: { from: 'active', to: 'cancelled' } } });
  });

  it('a payment the ledger shows stops the cadence before its next customer-facing step', async () => {
    const input = invoiceInput(await berlinDate(2));
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      await server.env.sleep('5 days'); // the first reminder has gone (due + 1 day)
      expect((await handle.query(dunningStateQuery)).steps.map((s) => s.stepId)).toEqual(['reminder-1']);
      fake.setOpenAmount(input.invoice.number, 0);
      await handle.signal(ledgerChangedSignal, change({ dueDate: input.invoice.dueDate, openAmountMinor: 0, status: 'paid' }, await nowIso()));
      expect((await handle.result()).stage).toBe('paid');
    });
    expect(fake.callsOf('queueCustomerMessage')).toHaveLength(1);
    // Closed by the ledger's word at once, not by the balance re-read before the second reminder.
    expect(fake.callsOf('getInvoiceBalance')).toHaveLength(1);
  });

  it('a rebill carries the original invoice\'s steps on: the cadence goes on where it was, not from the first reminder', async () => {
    // The original was due 9 days ago and had its first two reminders; its rebill (new number, same due date) goes on.
    const dueDate = await berlinDate(-9);
    const carried: StepRecord[] = [
      { stepId: 'reminder-1', action: 'email', at: await nowIso(-8 * 86_400_000), outcome: 'sent' },
      { stepId: 'reminder-2', action: 'email', at: await nowIso(-2 * 86_400_000), outcome: 'sent' },
    ];
    const input = invoiceInput(dueDate, { carriedFrom: { invoiceNumber: 'INV-ORIGINAL', steps: carried } });
    const fake = createFakeActivities({ [input.invoice.number]: { amountMinor: 125_000 } });
    const { worker, taskQueue } = await createTestWorker(server.env, fake.activities, inject('workflowBundlePath'));
    await worker.runUntil(async () => {
      const handle = await startInvoiceWorkflow(server.env, input, taskQueue);
      await server.env.sleep('1 hour');
      const state = await handle.query(dunningStateQuery);
      expect(state.carriedFrom).toBe('INV-ORIGINAL');
      expect(state.nextStep?.stepId).toBe('reminder-3');
      await server.env.sleep('8 days');
      const after = await handle.query(dunningStateQuery);
      expect(after.steps.map((s) => [s.stepId, s.outcome])).toEqual([
        ['reminder-1', 'sent'],
        ['reminder-2', 'sent'],
        ['reminder-3', 'sent'],
      ]);
      await handle.terminate('test done');
    });
    const templates = fake.callsOf('queueCustomerMessage').map((c) => c.args[0].template);
    expect(templates).toEqual(['reminder-final']);
    const enrolled = fake.callsOf('recordDunningEvent').map((c) => c.args[0]).find((e) => e.type === 'enrolled')!;
    expect(enrolled.details).toMatchObject({ carriedFrom: 'INV-ORIGINAL', carriedSteps: ['reminder-1', 'reminder-2'] });
  });
});
