import { ApplicationFailure } from '@temporalio/activity';
import { ErpInvoiceNotFoundError, type ErpAdapter, type ErpInvoiceBalance } from '../integrations/erp/adapter';

export function createErpActivities(deps: { erp: ErpAdapter }) {
  return {
    /** An invoice the ERP does not know is a permanent error; anything else (ERP down) is retried. */
    async getInvoiceBalance(invoiceNumber: string): Promise<ErpInvoiceBalance> {
      try {
        return await deps.erp.getInvoiceBalance(invoiceNumber);
      } catch (err) {
        if (err instanceof ErpInvoiceNotFoundError) throw ApplicationFailure.nonRetryable(err.message, 'ErpInvoiceNotFound');
        throw err;
      }
    },
  };
}
