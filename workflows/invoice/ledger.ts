import { setHandler } from '@temporalio/workflow';
import { applyLedgerChange } from '../../domain/invoice-transitions';
import { ledgerChangedSignal } from '../messages';
import type { InvoiceRun } from './run';

/**
 * The ERP sync's reconciliation (workflows/erp-sync.ts signals it when the ledger shows the invoice changed):
 * the ERP's word applies at once. Paid, credited, written off or cancelled closes the invoice before its next
 * customer-facing step; a new open amount (a partial or short payment, a credit memo) is taken as it is; a new
 * due date (an extension) re-plans the next step from it. A change older than one already applied is ignored,
 * and one that changes nothing records nothing.
 */
export function registerLedgerHandler(run: InvoiceRun): void {
  setHandler(ledgerChangedSignal, async (change) => {
    const outcome = applyLedgerChange(run.state, run.invoice.dueDate, change);
    if (!outcome) return;
    const { state, dueDate } = outcome;
    const previous = { dueDate: run.invoice.dueDate, openAmountMinor: run.state.openAmountMinor, stage: run.state.stage };
    // The invoice's due date is the plan's anchor (and goes on in the input across continue-as-new).
    run.invoice.dueDate = dueDate;
    run.commit(state);
    if (dueDate !== previous.dueDate && !run.isClosed()) {
      // Re-plan: the loop wakes and dates the next step from the new due date.
      run.update({ nextStep: run.describeNext() });
      run.wake++;
    }
    await run.audit('ledger_changed', {
      changedAt: change.changedAt,
      status: change.status,
      ...(dueDate !== previous.dueDate ? { dueDate: { from: previous.dueDate, to: dueDate } } : {}),
      ...(state.openAmountMinor !== previous.openAmountMinor ? { openAmountMinor: { from: previous.openAmountMinor, to: state.openAmountMinor } } : {}),
      ...(state.stage !== previous.stage ? { stage: { from: previous.stage, to: state.stage } } : {}),
    });
  });
}
