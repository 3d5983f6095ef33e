import { z } from 'zod';
import type { ErpApplyPaymentRequest, ErpAppliedPayment, ErpChangePage, ErpChangesRequest, ErpKind } from './changes';

export type { ErpApplyPaymentRequest, ErpAppliedPayment, ErpChangePage, ErpChangesRequest, ErpKind } from './changes';

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
  /** 'cancelled': voided in the ERP (never owed); it closes the invoice's workflow like a credit. */
  status: z.enum(['open', 'paid', 'credited', 'written_off', 'cancelled']),
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

/**
 * What an ERP connection can do. An adapter whose ERP lacks a concept (Tryton has no credit hold) says so
 * here and refuses the call with ErpCapabilityError: never a silent success.
 */
export interface ErpCapabilities {
  creditHold: boolean;
  creditMemo: boolean;
  writeOff: boolean;
  rebill: boolean;
  applyPayment: boolean;
  /** listChanges pages through the ERP's receivables; false for an ERP we only ever ask about known invoices. */
  changeFeed: boolean;
}

export interface ErpAdapter {
  /** 'simulator' (the reference ERP over HTTP), 'tryton' (JSON-RPC), 'ledger' (the imported ledger in PostgreSQL). */
  readonly kind: ErpKind;
  readonly capabilities: ErpCapabilities;
  /**
   * One page of the receivables (customer invoices) changed since `cursor` (null: from the beginning), oldest
   * change first, with the customers they name and the payments that arrived without an invoice to apply to.
   * The cursor is opaque to the caller; `nextCursor` is where the next page starts (equal to the given cursor
   * when nothing changed). Stable: the same cursor gives the same items until the ERP changes them again.
   */
  listChanges(req: ErpChangesRequest): Promise<ErpChangePage>;
  /**
   * Applies a received payment to one or more invoices (cash application). Idempotent by key. The ERP refuses
   * (ErpRequestRejectedError 422) an allocation above an invoice's open amount or in another currency.
   */
  applyPayment(req: ErpApplyPaymentRequest): Promise<ErpAppliedPayment>;
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

/** Permanent: this ERP connection has no such concept (see ErpCapabilities); the message says which. */
export class ErpCapabilityError extends Error {
  override readonly name = 'ErpCapabilityError';
  constructor(
    readonly capability: keyof ErpCapabilities,
    readonly erp: ErpKind,
  ) {
    super(`the ${erp} ERP connection cannot ${CAPABILITY_VERBS[capability]}`);
  }
}

const CAPABILITY_VERBS: Record<keyof ErpCapabilities, string> = {
  creditHold: 'place or release a credit hold (it has no credit-hold concept)',
  creditMemo: 'post a credit memo',
  writeOff: 'post a write-off',
  rebill: 'create a rebill',
  applyPayment: 'apply a payment',
  changeFeed: 'list changed receivables',
};

/** Transient (network, timeout, 5xx): worth retrying with backoff. */
export class ErpUnavailableError extends Error {
  override readonly name = 'ErpUnavailableError';
}
