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

export interface NewPayment {
  tenantId: string;
  paymentId: string;
  invoiceNumber: string;
  amountMinor: number;
  currency: string;
  receivedAt: string;
  source: PaymentRow['source'];
}

/** Stores the payment unless its id is there; the row as stored (the first one's data on a repeat). */
export async function insertPaymentOnce(db: Db, p: NewPayment): Promise<Pick<PaymentRow, 'invoice_number' | 'amount_minor' | 'currency'>> {
  const [row] = await db<Pick<PaymentRow, 'invoice_number' | 'amount_minor' | 'currency'>[]>`
    insert into payments (tenant_id, payment_id, invoice_number, amount_minor, currency, received_at, source)
    values (${p.tenantId}, ${p.paymentId}, ${p.invoiceNumber}, ${p.amountMinor}, ${p.currency}, ${p.receivedAt}, ${p.source})
    on conflict (tenant_id, payment_id) do update set payment_id = excluded.payment_id
    returning invoice_number, amount_minor, currency`;
  return row!;
}
