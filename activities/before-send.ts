import { ApplicationFailure } from '@temporalio/activity';
import { QueryNotRegisteredError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { ErpAdapter } from '../integrations/erp/adapter';
import type { BeforeSendItem, BeforeSendVerdict } from '../domain/customer-messages';
import { messageWantedQuery } from '../workflows/messages';
import { erpCall } from './erp-failures';
import type { WorkerMetrics } from '../telemetry/metrics';

/**
 * Right before the customer's contact workflow sends a batch: what does the ERP show open (the system of record
 * comes first: a paid invoice is answered as paid), and does each invoice still want its message (it may have
 * been promised, disputed, paused, sent for approval or closed since it queued it)? One activity per batch, so the check costs one history event pair however many invoices it lists.
 */
export function createBeforeSendActivities(deps: { erp: ErpAdapter; temporal: Client; metrics?: Pick<WorkerMetrics, 'messages'> }) {
  const stillWanted = async (item: BeforeSendItem): Promise<boolean> => {
    try {
      return await deps.temporal.workflow.getHandle(item.invoiceWorkflowId).query(messageWantedQuery, item.requestId);
    } catch (err) {
      if (err instanceof WorkflowNotFoundError) return false; // nobody is waiting for this message any more
      if (err instanceof QueryNotRegisteredError) return true; // an invoice workflow that cannot be asked keeps its message, as before
      throw err; // the worker or the server is busy or down: retried
    }
  };
  return {
    async recheckBeforeSend(items: BeforeSendItem[]): Promise<BeforeSendVerdict[]> {
      const verdicts: BeforeSendVerdict[] = [];
      for (const item of items) {
        let balance;
        try {
          balance = await erpCall(() => deps.erp.getInvoiceBalance(item.invoiceNumber));
        } catch (err) {
          // One invoice the ERP does not know must not stop the customer's other messages: that invoice parks.
          if (!(err instanceof ApplicationFailure && err.nonRetryable)) throw err;
          verdicts.push({ requestId: item.requestId, verdict: 'failed', failure: { code: err.type ?? 'ErpFailed', reason: err.message } });
          continue;
        }
        if (balance.status !== 'open' || balance.openAmountMinor <= 0) verdicts.push({ requestId: item.requestId, verdict: 'paid' });
        else if (!(await stillWanted(item))) verdicts.push({ requestId: item.requestId, verdict: 'withdrawn' });
        else verdicts.push({ requestId: item.requestId, verdict: 'send', openAmountMinor: balance.openAmountMinor });
      }
      // Counted once the whole batch is decided (a retried attempt that failed midway counted nothing): a message
      // no longer wanted (paid in the ERP, withdrawn by its invoice) is suppressed here, never sent.
      for (const v of verdicts) if (v.verdict === 'paid' || v.verdict === 'withdrawn') deps.metrics?.messages.inc({ channel: 'email', outcome: 'suppressed' });
      return verdicts;
    },
  };
}
