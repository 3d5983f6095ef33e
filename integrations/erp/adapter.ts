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

/**
 * Adjustments of an invoice's open amount: a credit memo (the claim was valid) or a write-off
 * journal (bad debt). Idempotent by key like holds: a retry gets the first answer and changes
 * nothing. The ERP refuses (ErpRequestRejectedError, 422) an amount above the open amount or in
 * another currency than the invoice's. At 0 open the invoice's status becomes 'credited' or
 * 'written_off'.
 */
export interface ErpInvoiceAdjustmentRequest {
  invoiceNumber: string;
  /** Positive, in the minor units of `currency`; at most the open amount. */
  amountMinor: number;
  currency: string;
  reason: string;
  idempotencyKey: string;
}

export type ErpCreditMemoRequest = ErpInvoiceAdjustmentRequest;
export type ErpWriteOffRequest = ErpInvoiceAdjustmentRequest;

/** A new invoice for the corrected amount after a credit, numbered `${original}-R1`, `-R2`, ... */
export interface ErpRebillRequest {
  originalInvoiceNumber: string;
  amountMinor: number;
  /** Must be the original invoice's currency. */
  currency: string;
  /** YYYY-MM-DD */
  issueDate: string;
  /** YYYY-MM-DD, not before issueDate */
  dueDate: string;
  idempotencyKey: string;
}

/** The invoice as the ERP left it right after the adjustment. */
export const erpCreditMemoSchema = z.object({ creditMemoId: z.string().min(1), invoice: erpInvoiceBalanceSchema });
export const erpWriteOffSchema = z.object({ journalId: z.string().min(1), invoice: erpInvoiceBalanceSchema });
export const erpRebillSchema = z.object({ invoiceNumber: erpInvoiceBalanceSchema.shape.invoiceNumber });

export type ErpCreditMemo = z.infer<typeof erpCreditMemoSchema>;
export type ErpWriteOff = z.infer<typeof erpWriteOffSchema>;
export type ErpRebill = z.infer<typeof erpRebillSchema>;

export interface ErpAdapter {
  getInvoiceBalance(invoiceNumber: string): Promise<ErpInvoiceBalance>;
  placeCreditHold(req: ErpCreditHoldRequest): Promise<ErpCreditHold>;
  releaseCreditHold(req: ErpCreditHoldRequest): Promise<ErpCreditRelease>;
  getCreditStatus(customerId: string): Promise<ErpCreditStatus>;
  /** ErpInvoiceNotFoundError for an unknown invoice; ErpRequestRejectedError (422) over the open amount or in another currency. */
  requestCreditMemo(req: ErpCreditMemoRequest): Promise<ErpCreditMemo>;
  /** As requestCreditMemo, posting a bad-debt journal entry instead. */
  postWriteOff(req: ErpWriteOffRequest): Promise<ErpWriteOff>;
  /** ErpInvoiceNotFoundError for an unknown original; ErpRequestRejectedError (422) in another currency. */
  createRebill(req: ErpRebillRequest): Promise<ErpRebill>;
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
    /** The ERP's error code when it gave one (`amount_exceeds_open_amount`, `currency_mismatch`, ...). */
    readonly code?: string,
  ) {
    super(message);
  }
}

/** Transient (network, timeout, 5xx): worth retrying with backoff. */
export class ErpUnavailableError extends Error {
  override readonly name = 'ErpUnavailableError';
}
