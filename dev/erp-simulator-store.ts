import type { ErpInvoiceBalance } from '../activities/erp/adapter';

/** The simulator's in-memory ledger: plain data and the rules a real ERP applies to it. */
export interface SimulatedInvoice {
  invoiceNumber: string;
  customerId: string;
  currency: string;
  amountMinor: number;
  /** YYYY-MM-DD */
  issueDate: string;
  /** YYYY-MM-DD */
  dueDate: string;
  openAmountMinor: number;
  status: ErpInvoiceBalance['status'];
}

export type NewInvoice = Omit<SimulatedInvoice, 'openAmountMinor' | 'status'>;

export interface SimulatedPayment {
  paymentId: string;
  invoiceNumber: string;
  amountMinor: number;
  currency: string;
  receivedAt: string;
  /** When the ERP posts it; null means on receipt. */
  postAt: string | null;
  state: 'scheduled' | 'applied';
  appliedAt: string | null;
  appliedAmountMinor: number;
  /** Overpayment left on the payment, as cash application leaves it for a refund or another invoice. */
  unappliedAmountMinor: number;
}

export type NewPayment = Pick<
  SimulatedPayment,
  'paymentId' | 'invoiceNumber' | 'amountMinor' | 'currency' | 'receivedAt' | 'postAt'
>;

/** What posting a record did; on a conflict the record is the one already stored. */
type Recorded<T> = T & { outcome: 'created' | 'unchanged' | 'conflict' };

export class ErpSimulatorStore {
  readonly invoices = new Map<string, SimulatedInvoice>();
  readonly payments = new Map<string, SimulatedPayment>();

  /** Posting the same invoice again is a retry; the same number with other data is a conflict. */
  addInvoice(input: NewInvoice): Recorded<{ invoice: SimulatedInvoice }> {
    const existing = this.invoices.get(input.invoiceNumber);
    if (existing) return { outcome: matches(existing, input) ? 'unchanged' : 'conflict', invoice: existing };
    const invoice: SimulatedInvoice = { ...input, openAmountMinor: input.amountMinor, status: 'open' };
    this.invoices.set(invoice.invoiceNumber, invoice);
    return { outcome: 'created', invoice };
  }

  /**
   * Records a payment, not yet applied. The payment id is the idempotency key; a retry is matched on
   * what identifies the money (invoice, amount, currency), not on defaulted timestamps.
   */
  addPayment(
    input: NewPayment,
  ): Recorded<{ payment: SimulatedPayment }> | { outcome: 'invoice_not_found' | 'currency_mismatch' } {
    const existing = this.payments.get(input.paymentId);
    if (existing) {
      const { invoiceNumber, amountMinor, currency } = input;
      return { outcome: matches(existing, { invoiceNumber, amountMinor, currency }) ? 'unchanged' : 'conflict', payment: existing };
    }
    const invoice = this.invoices.get(input.invoiceNumber);
    if (!invoice) return { outcome: 'invoice_not_found' };
    if (invoice.currency !== input.currency) return { outcome: 'currency_mismatch' };
    const payment: SimulatedPayment = {
      ...input,
      state: 'scheduled',
      appliedAt: null,
      appliedAmountMinor: 0,
      unappliedAmountMinor: 0,
    };
    this.payments.set(payment.paymentId, payment);
    return { outcome: 'created', payment };
  }

  /** Applies at most the open amount, so the open amount never goes below zero. */
  applyPayment(payment: SimulatedPayment, at: string): SimulatedInvoice {
    const invoice = this.invoices.get(payment.invoiceNumber);
    if (!invoice) throw new Error(`payment ${payment.paymentId} refers to unknown invoice ${payment.invoiceNumber}`);
    const applied = Math.min(payment.amountMinor, invoice.openAmountMinor);
    payment.state = 'applied';
    payment.appliedAt = at;
    payment.appliedAmountMinor = applied;
    payment.unappliedAmountMinor = payment.amountMinor - applied;
    invoice.openAmountMinor -= applied;
    if (invoice.openAmountMinor === 0 && invoice.status === 'open') invoice.status = 'paid';
    return invoice;
  }

  paymentsOf(invoiceNumber: string): SimulatedPayment[] {
    return [...this.payments.values()].filter((p) => p.invoiceNumber === invoiceNumber);
  }
}

function matches<T extends object>(record: T, fields: Partial<T>): boolean {
  return (Object.keys(fields) as (keyof T)[]).every((key) => record[key] === fields[key]);
}
