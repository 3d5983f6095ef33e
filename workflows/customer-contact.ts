import {
  ActivityFailure,
  ApplicationFailure,
  condition,
  continueAsNew,
  getExternalWorkflowHandle,
  patched,
  setHandler,
  sleep,
  workflowInfo,
  type SignalDefinition,
} from '@temporalio/workflow';
import { contact, system } from './activity-proxies';
import { applyContactCap } from '../domain/schedule';
import {
  customerContactStateQuery,
  customerMessageResultSignal,
  messageDeferredSignal,
  queueCustomerMessageSignal,
  type CustomerContactInput,
  type CustomerContactState,
  type CustomerMessageOutcome,
  type CustomerMessageRequest,
  type CustomerMessageResult,
} from './customer-messages';

const CAP_MEMORY_MS = 90 * 86_400_000;
const ANSWERED_MEMORY = 500;

/**
 * One per customer: the account-level view that invoice workflows cannot have alone. Invoices of the
 * customer whose customer-facing steps fall due close together go out as one message; the contact
 * cap and the send window hold across all of them; every invoice is re-checked in the ERP right
 * before sending, and each invoice workflow is told what became of its step.
 */
/**
 * The send, or 'failed' when it fails for a reason retrying cannot fix (an unknown template, nobody to write to):
 * each invoice then parks for attention, and the customer's other messages keep flowing.
 */
async function sendOrFail(req: Parameters<typeof contact.sendCustomerMessage>[0]): Promise<{ status: CustomerMessageOutcome; failure?: { code: string; reason: string } }> {
  try {
    return await contact.sendCustomerMessage(req);
  } catch (err) {
    if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure && err.cause.nonRetryable)
      return { status: 'failed', failure: { code: err.cause.type ?? 'SendFailed', reason: err.cause.message } };
    throw err;
  }
}

/** Signals an invoice workflow; one that has closed (paid meanwhile) is waiting for nothing. */
async function tell<T>(invoiceWorkflowId: string, signal: SignalDefinition<[T]>, arg: T): Promise<void> {
  try {
    await getExternalWorkflowHandle(invoiceWorkflowId).signal(signal, arg);
  } catch {
    // closed
  }
}

export async function customerContact(input: CustomerContactInput): Promise<void> {
  const { workflowId } = workflowInfo();
  const state: CustomerContactState = input.state ?? { pending: [], sentAt: [], batchSeq: 0, answered: [] };

  setHandler(customerContactStateQuery, () => state);
  // A request is known while pending, while its batch is in flight and once answered: a signal repeated by a
  // retried activity (a worker that died after signalling) never queues it a second time.
  const known = (requestId: string) =>
    state.answered.includes(requestId) || state.pending.some((p) => p.requestId === requestId) || (state.inFlight ?? []).includes(requestId);
  setHandler(queueCustomerMessageSignal, (request) => {
    if (!known(request.requestId)) state.pending.push(request);
  });

  const answer = async (request: CustomerMessageRequest, result: Omit<CustomerMessageResult, 'requestId'>) => {
    state.answered.push(request.requestId);
    if (state.answered.length > ANSWERED_MEMORY) state.answered.splice(0, state.answered.length - ANSWERED_MEMORY);
    await tell(request.invoiceWorkflowId, customerMessageResultSignal, { requestId: request.requestId, ...result });
  };

  for (;;) {
    await condition(() => state.pending.length > 0);
    const first = state.pending.reduce((a, b) => (a.requestedAt <= b.requestedAt ? a : b));
    const gatherUntil = Date.parse(first.requestedAt) + input.gatherMs;
    if (gatherUntil > Date.now()) await sleep(gatherUntil - Date.now());

    // Every request's own cap and window must hold: the batch goes when the strictest of them allows.
    const now = new Date().toISOString();
    const sendAt = state.pending
      .map((p) => applyContactCap(now, state.sentAt, p.contactCap, p.sendWindow, { dueDate: p.invoice.dueDate, timeZone: p.customer.timeZone, calendar: p.calendar }))
      .reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
    if (Date.parse(sendAt) > Date.now()) {
      // Each invoice shows its step as deferred, with until when (it would show an instant in the past otherwise).
      if (patched('tell-deferral')) for (const request of state.pending) await tell(request.invoiceWorkflowId, messageDeferredSignal, { requestId: request.requestId, until: sendAt });
      await sleep(Date.parse(sendAt) - Date.now());
      continue; // requests that arrived meanwhile join this batch
    }

    const batch = state.pending.splice(0);
    state.inFlight = batch.map((r) => r.requestId);
    const live: (CustomerMessageRequest & { openAmountMinor: number })[] = [];
    // A partly disputed invoice asks only for the undisputed rest.
    const keep = (request: CustomerMessageRequest, openAmountMinor: number) => live.push({ ...request, openAmountMinor: Math.max(0, openAmountMinor - (request.disputedAmountMinor ?? 0)) });
    if (patched('ask-invoice-before-send')) {
      // Each invoice is asked whether it still wants its message (promised, disputed, paused or closed since), then the ERP.
      const verdicts = await system.recheckBeforeSend(batch.map((r) => ({ requestId: r.requestId, invoiceNumber: r.invoice.number, invoiceWorkflowId: r.invoiceWorkflowId })));
      for (const request of batch) {
        const v = verdicts.find((x) => x.requestId === request.requestId);
        const at = new Date().toISOString();
        if (v?.verdict === 'send') keep(request, v.openAmountMinor);
        else if (v?.verdict === 'failed') await answer(request, { outcome: 'failed', at, batchSize: 0, failure: v.failure });
        else await answer(request, { outcome: v?.verdict === 'paid' ? 'paid_before_send' : 'withdrawn', at, batchSize: 0 });
      }
    } else {
      for (const request of batch) {
        const balance = await system.getInvoiceBalance(request.invoice.number);
        if (balance.status === 'open' && balance.openAmountMinor > 0) keep(request, balance.openAmountMinor);
        else await answer(request, { outcome: 'paid_before_send', at: new Date().toISOString(), batchSize: 0 });
      }
    }
    if (live.length > 0) {
      const sent = await sendOrFail({
        idempotencyKey: `${workflowId}:batch:${++state.batchSeq}`,
        tenantId: input.tenantId,
        customer: live[0]!.customer,
        items: live.map(({ invoice, stepId, kind, template, openAmountMinor, daysPastDue, requestId }) => ({
          requestId,
          invoice,
          stepId,
          kind,
          template,
          openAmountMinor,
          daysPastDue,
        })),
      });
      const at = new Date().toISOString();
      if (sent.status === 'sent') state.sentAt.push(at);
      for (const request of live) await answer(request, { outcome: sent.status, at, batchSize: live.length, ...(sent.failure ? { failure: sent.failure } : {}) });
    }
    state.inFlight = [];
    state.sentAt = state.sentAt.filter((t) => Date.parse(t) > Date.now() - CAP_MEMORY_MS);

    if (workflowInfo().continueAsNewSuggested && state.pending.length === 0) {
      await continueAsNew<typeof customerContact>({ ...input, state });
    }
  }
}
