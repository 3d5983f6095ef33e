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

const { customerId, asOf: isoInstant } = erpInvoiceBalanceSchema.shape;

/**
 * Credit hold lives on the customer account in the ERP: while it is on, the ERP blocks new orders
 * and deliveries for the customer. We only ask the ERP to place or release it and read it back.
 */
export const erpCreditHoldSchema = z.object({ customerId, onHold: z.literal(true), heldSince: isoInstant });
export const erpCreditReleaseSchema = z.object({ customerId, onHold: z.literal(false) });
export const erpCreditStatusSchema = z.discriminatedUnion('onHold', [
  erpCreditHoldSchema.extend({ reason: z.string() }),
  erpCreditReleaseSchema,
]);

export type ErpCreditHold = z.infer<typeof erpCreditHoldSchema>;
export type ErpCreditRelease = z.infer<typeof erpCreditReleaseSchema>;
export type ErpCreditStatus = z.infer<typeof erpCreditStatusSchema>;

/**
 * The idempotency key goes to the ERP (header `Idempotency-Key`): a retry with the same key is
 * answered with the first result and changes nothing. A hold requested while the account is already
 * on hold answers with the hold in place (its original heldSince).
 */
export interface ErpCreditHoldRequest {
  customerId: string;
  reason: string;
  idempotencyKey: string;
}

export interface ErpAdapter {
  getInvoiceBalance(invoiceNumber: string): Promise<ErpInvoiceBalance>;
  placeCreditHold(req: ErpCreditHoldRequest): Promise<ErpCreditHold>;
  releaseCreditHold(req: ErpCreditHoldRequest): Promise<ErpCreditRelease>;
  getCreditStatus(customerId: string): Promise<ErpCreditStatus>;
  // Later: credit memo and write-off.
}

// Explicit names: Temporal reports an activity error's `name` as the failure type, which is what
// retry policies (nonRetryableErrorTypes) and workflows match on.

/** Permanent: retrying will not make the invoice appear. */
export class ErpInvoiceNotFoundError extends Error {
  override readonly name = 'ErpInvoiceNotFoundError';
}

/** Permanent: the ERP has no such customer account. */
export class ErpCustomerNotFoundError extends Error {
  override readonly name = 'ErpCustomerNotFoundError';
}

/** Permanent: the ERP refused the request itself (4xx other than auth); the message is the ERP's. */
export class ErpRequestRejectedError extends Error {
  override readonly name = 'ErpRequestRejectedError';
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

/** Transient (network, timeout, 5xx): worth retrying with backoff. */
export class ErpUnavailableError extends Error {
  override readonly name = 'ErpUnavailableError';
}
