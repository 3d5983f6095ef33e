import { z } from 'zod';

/**
 * The ERP is the system of record for invoices and payments: activities re-read the open balance
 * here before every customer-facing step instead of trusting our read models. The schema is the
 * contract, checked wherever an ERP answer crosses the wire.
 */
export const erpInvoiceBalanceSchema = z.object({
  invoiceNumber: z.string().min(1),
  customerId: z.string().min(1),
  /** ISO 4217 code; every amount is in its minor units. */
  currency: z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code'),
  amountMinor: z.number().int().nonnegative(),
  openAmountMinor: z.number().int().nonnegative(),
  status: z.enum(['open', 'paid', 'credited', 'written_off']),
  /** ISO instant at which the ERP computed this balance. */
  asOf: z.iso.datetime({ offset: true }),
});

export type ErpInvoiceBalance = z.infer<typeof erpInvoiceBalanceSchema>;

export interface ErpAdapter {
  getInvoiceBalance(invoiceNumber: string): Promise<ErpInvoiceBalance>;
  // Later: credit memo, write-off and credit hold.
}

// Explicit names: Temporal reports an activity error's `name` as the failure type, which is what
// retry policies (nonRetryableErrorTypes) and workflows match on.

/** Permanent: retrying will not make the invoice appear. */
export class ErpInvoiceNotFoundError extends Error {
  override readonly name = 'ErpInvoiceNotFoundError';
}

/** Transient (network, timeout, 5xx): worth retrying with backoff. */
export class ErpUnavailableError extends Error {
  override readonly name = 'ErpUnavailableError';
}
