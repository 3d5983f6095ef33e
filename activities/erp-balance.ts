import type { ErpAdapter, ErpInvoiceBalance } from '../integrations/erp/adapter';
import { erpCall } from './erp-failures';

export function createErpActivities(deps: { erp: ErpAdapter }) {
  return {
    /** The ERP's balance of the invoice (the system of record); an invoice the ERP does not know is a permanent error. */
    async getInvoiceBalance(invoiceNumber: string): Promise<ErpInvoiceBalance> {
      return erpCall(() => deps.erp.getInvoiceBalance(invoiceNumber));
    },
  };
}
