import { ApplicationFailure, Context } from '@temporalio/activity';
import type { ErpAdapter, ErpInvoiceBalance } from '../integrations/erp/adapter';
import { erpCall } from './erp-failures';

/** Attempts before an invoice the ERP does not know counts as a data problem (an ERP that answers 404 once may be mid-sync). */
const NOT_FOUND_ATTEMPTS = 3;

const attempt = () => {
  try {
    return Context.current().info.attempt;
  } catch {
    return NOT_FOUND_ATTEMPTS; // called outside an activity (a test): no retries to wait for
  }
};

export function createErpActivities(deps: { erp: ErpAdapter }) {
  return {
    /**
     * The ERP's balance of the invoice (the system of record). An invoice the ERP does not know is retried a few
     * times, then a permanent ErpInvoiceNotFound: the invoice workflow parks it for attention.
     */
    async getInvoiceBalance(invoiceNumber: string): Promise<ErpInvoiceBalance> {
      try {
        return await erpCall(() => deps.erp.getInvoiceBalance(invoiceNumber));
      } catch (err) {
        if (err instanceof ApplicationFailure && err.type === 'ErpInvoiceNotFound' && attempt() < NOT_FOUND_ATTEMPTS) throw ApplicationFailure.retryable(err.message, 'ErpInvoiceNotFound');
        throw err;
      }
    },
  };
}
