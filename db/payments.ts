import type { Db } from './sql';

/** Payments reported by people or the ERP (payments), stored once per payment id. */

export interface PaymentRow {
  tenant_id: string;
  payment_id: string;
  invoice_number: string;
  amount_minor: number;
  currency: string;
  received_at: Date;
  source: 'api' | 'erp_webhook';
  recorded_at: Date;
}

export async function paymentsOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<PaymentRow[]> {
  return db<PaymentRow[]>`
    select * from payments where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by received_at, payment_id`;
}
