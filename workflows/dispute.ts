import { allHandlersFinished, CancellationScope, condition, getExternalWorkflowHandle, isCancellation, setHandler, workflowInfo } from '@temporalio/workflow';
import { contact, system } from './activity-proxies';
import { daysPastDue } from '../domain/aging';
import { localDate } from '../domain/promises';
import { resolutionRefusal } from '../domain/disputes';
import { refuseIf } from './refuse';
import {
  disputeSettledSignal,
  disputeStateQuery,
  resolveDisputeUpdate,
  type DisputeInput,
  type DisputeOutcome,
  type DisputeResolution,
  type DisputeState,
} from './dispute-messages';

/**
 * One dispute, from routing to resolution (a child of the invoice workflow). The owner was assigned
 * and told by the parent; here the owner is reminded before the deadline, the owner's lead is told
 * when it passes, and the resolution (a validated update) takes effect: a credit memo through the
 * ERP (and a rebill) when the dispute is valid, a templated email and a call task when it is not.
 * The invoice workflow hears the outcome by signal; a cancellation (the invoice closed) withdraws it.
 */
export async function disputeWorkflow(input: DisputeInput): Promise<DisputeOutcome> {
  const { tenantId, disputeId, invoice, customer, route } = input;
  const { workflowId } = workflowInfo();
  const state: DisputeState = { status: 'open', reminded: false, escalated: false, outcome: null };
  let resolving = false;

  const settle = async (outcome: DisputeOutcome, note: string) => {
    await system.recordDisputeOutcome({ tenantId, invoiceNumber: invoice.number, outcome, disputedAmountMinor: input.disputedAmountMinor, note });
    await getExternalWorkflowHandle(input.invoiceWorkflowId).signal(disputeSettledSignal, outcome);
    state.outcome = outcome;
    state.status = outcome.status;
    return outcome;
  };

  setHandler(disputeStateQuery, () => state);
  setHandler(
    resolveDisputeUpdate,
    async (r: DisputeResolution): Promise<DisputeOutcome> => {
      resolving = true;
      const base = { disputeId, resolvedBy: r.actor, rootCause: r.rootCause, rebillInvoiceNumber: null as string | null };
      if (r.resolution === 'invalid') {
        // Collection resumes: the customer is told why, and the collector calls.
        await contact.sendDunningEmail({
          idempotencyKey: `${workflowId}:rejected`,
          tenantId,
          invoice,
          customer,
          template: 'dispute-rejected',
          openAmountMinor: input.disputedAmountMinor,
          daysPastDue: daysPastDue(invoice.dueDate, localDate(Date.now(), customer.timeZone)),
          note: r.note,
        });
        await system.createCallTask({
          idempotencyKey: `${workflowId}:rejected-call`,
          tenantId,
          invoiceNumber: invoice.number,
          customerId: customer.id,
          collectorId: customer.collectorId ?? null,
          dueAt: new Date().toISOString(),
          note: `Dispute ${disputeId} (${input.reasonCode}) found invalid: ${r.note}. Call the customer to collect.`,
          kind: 'dispute_rejected',
          workflowId: input.invoiceWorkflowId,
        });
        return settle({ ...base, status: 'resolved_invalid', creditAmountMinor: 0, creditMemoId: null, openAmountMinorAfter: null }, r.note);
      }
      const credit = await system.requestCreditMemo({
        invoiceNumber: invoice.number,
        amountMinor: r.creditAmountMinor!,
        currency: invoice.currency,
        reason: `dispute ${disputeId} (${input.reasonCode}): ${r.note}`,
        idempotencyKey: `${workflowId}:credit`,
      });
      if (r.rebill) {
        const rebill = await system.createRebill({
          originalInvoiceNumber: invoice.number,
          amountMinor: r.rebill.amountMinor,
          currency: invoice.currency,
          issueDate: localDate(Date.now(), customer.timeZone),
          dueDate: r.rebill.dueDate,
          idempotencyKey: `${workflowId}:rebill`,
        });
        base.rebillInvoiceNumber = rebill.invoiceNumber;
      }
      return settle(
        { ...base, status: 'resolved_valid', creditAmountMinor: r.creditAmountMinor!, creditMemoId: credit.creditMemoId, openAmountMinorAfter: credit.invoice.openAmountMinor },
        r.note,
      );
    },
    {
      validator: (r) => {
        refuseIf(resolutionRefusal(r, { disputeId, disputedAmountMinor: input.disputedAmountMinor, settled: resolving ? 'being resolved' : state.outcome?.status }));
      },
    },
  );

  const resolved = () => resolving || state.outcome !== null;
  try {
    if (route.reminderAt && !(await condition(resolved, Math.max(0, Date.parse(route.reminderAt) - Date.now())))) {
      state.reminded = true;
      // Not cancelled midway: a cancellation (the invoice closed) waits for the notice, never races its completion.
      await CancellationScope.nonCancellable(() =>
        system.disputeDeadlineEvent({ tenantId, disputeId, invoiceNumber: invoice.number, customerId: customer.id, event: 'reminder', recipientUserId: route.owner ?? route.lead, deadlineDate: route.deadlineDate }),
      );
    }
    if (!(await condition(resolved, Math.max(0, Date.parse(route.deadlineAt) - Date.now())))) {
      state.escalated = true;
      state.status = 'escalated';
      await CancellationScope.nonCancellable(() =>
        system.disputeDeadlineEvent({ tenantId, disputeId, invoiceNumber: invoice.number, customerId: customer.id, event: 'overdue', recipientUserId: route.lead, deadlineDate: route.deadlineDate }),
      );
    }
    await condition(() => state.outcome !== null && allHandlersFinished());
    return state.outcome!;
  } catch (err) {
    if (!isCancellation(err) || state.outcome) throw err;
    // The invoice closed (paid, credited, written off) while the dispute was open: it is withdrawn.
    return CancellationScope.nonCancellable(async () => {
      const outcome: DisputeOutcome = { disputeId, status: 'withdrawn', creditAmountMinor: 0, creditMemoId: null, rebillInvoiceNumber: null, openAmountMinorAfter: null, resolvedBy: 'workflow', rootCause: null };
      state.outcome = outcome;
      state.status = 'withdrawn';
      await system.recordDisputeOutcome({ tenantId, invoiceNumber: invoice.number, outcome, disputedAmountMinor: input.disputedAmountMinor, note: 'invoice closed while disputed' });
      return outcome;
    });
  }
}
