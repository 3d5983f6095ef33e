import { z } from 'zod';
import type { ERP_KINDS } from '../../config/env';

/**
 * The ERP's change feed and cash application: what the ledger sync (workflows/erp-sync.ts) pages through and
 * what the unapplied-cash queue applies. Every adapter (simulator, Tryton, ledger) answers with these shapes;
 * the schemas are the contract, checked wherever an answer crosses the wire.
 */

export { ERP_KINDS } from '../../config/env';
export type ErpKind = (typeof ERP_KINDS)[number];

const currency = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code');
const isoDate = z.iso.date();
const isoInstant = z.iso.datetime({ offset: true });

/**
 * A customer account as the ERP holds it. Fields the ERP does not have are null; the sync fills them from the
 * mapping (config/erp-mapping.json: default time zone and locale by country, collector by the ERP's account
 * manager code, segment by the ERP's category).
 */
export const erpCustomerSchema = z.object({
  customerId: z.string().min(1),
  name: z.string().min(1),
  /** The dunning contact's address (the ERP's invoice/billing contact). */
  email: z.string().nullable(),
  contactName: z.string().nullable(),
  /** ISO 3166-1 alpha-2. */
  country: z.string().regex(/^[A-Z]{2}$/).nullable(),
  /** ISO 3166-2 subdivision code without the country (e.g. 'CA' for US-CA), as date-holidays names it. */
  region: z.string().nullable(),
  /** IANA zone. */
  timeZone: z.string().nullable(),
  /** BCP 47. */
  locale: z.string().nullable(),
  /** The ERP's customer category / classification, mapped to a segment. */
  category: z.string().nullable(),
  /** The ERP's account manager / salesperson code, mapped to a collector. */
  accountManager: z.string().nullable(),
});
export type ErpCustomer = z.infer<typeof erpCustomerSchema>;

/** A receivable (customer invoice) with everything the sync needs to enroll or reconcile it. */
export const erpReceivableSchema = z.object({
  invoiceNumber: z.string().min(1),
  customerId: z.string().min(1),
  currency,
  amountMinor: z.number().int().nonnegative(),
  openAmountMinor: z.number().int().nonnegative(),
  status: z.enum(['open', 'paid', 'credited', 'written_off', 'cancelled']),
  issueDate: isoDate,
  dueDate: isoDate,
  /** When settled (paid, credited, written off, cancelled): the date it was; null while open. */
  settledDate: isoDate.nullable(),
  /** A rebill or a split part: the invoice it replaces. The sync carries that invoice's dunning over. */
  rebillOf: z.string().min(1).nullable(),
  /** The ERP's own id of the record (Tryton's invoice id, ...), for error reports. */
  erpId: z.string().min(1),
  /** When the ERP last changed it. */
  changedAt: isoInstant,
});
export type ErpReceivable = z.infer<typeof erpReceivableSchema>;

/** Money received that the ERP could not apply to an invoice (no reference, a wrong one, an overpayment). */
export const erpUnappliedPaymentSchema = z.object({
  paymentId: z.string().min(1),
  /** Null when the payer is not even known. */
  customerId: z.string().min(1).nullable(),
  payerName: z.string().nullable(),
  amountMinor: z.number().int().positive(),
  currency,
  receivedAt: isoInstant,
  /** The remittance text as the bank or the customer gave it (invoice numbers are often in it). */
  remittance: z.string(),
});
export type ErpUnappliedPayment = z.infer<typeof erpUnappliedPaymentSchema>;

export interface ErpChangesRequest {
  /** Null: from the beginning (a first sync). */
  cursor: string | null;
  /** At most this many receivables in the page (customers and unapplied payments ride along). */
  limit: number;
}

export const erpChangePageSchema = z.object({
  receivables: z.array(erpReceivableSchema),
  /** The customers the page's receivables name (and customers changed since the cursor). */
  customers: z.array(erpCustomerSchema),
  unappliedPayments: z.array(erpUnappliedPaymentSchema),
  nextCursor: z.string(),
  /** More changes wait after nextCursor. */
  hasMore: z.boolean(),
});
export type ErpChangePage = z.infer<typeof erpChangePageSchema>;

export interface ErpApplyPaymentRequest {
  /** The received payment (an unapplied one from the feed, or a new receipt). */
  paymentId: string;
  currency: string;
  /** Positive amounts in minor units; each at most the invoice's open amount. */
  allocations: { invoiceNumber: string; amountMinor: number }[];
  /** For a new receipt; omitted when applying a payment the ERP already holds as unapplied. */
  receivedAt?: string;
  idempotencyKey: string;
}

export const erpAppliedPaymentSchema = z.object({
  paymentId: z.string().min(1),
  /** Each invoice as the ERP left it. */
  invoices: z.array(
    z.object({
      invoiceNumber: z.string().min(1),
      /**
       * The ERP's id of the payment record this allocation made on the invoice, when it keeps one per allocation:
       * the id its payment webhook names, so that whoever tells the invoice's workflow uses the same id (a
       * workflow records a payment once by id). Absent: the caller derives one from the payment and invoice.
       */
      paymentId: z.string().min(1).optional(),
      appliedMinor: z.number().int().positive(),
      openAmountMinor: z.number().int().nonnegative(),
      status: erpReceivableSchema.shape.status,
    }),
  ),
  /** What stays unapplied on the payment after these allocations. */
  unappliedMinor: z.number().int().nonnegative(),
});
export type ErpAppliedPayment = z.infer<typeof erpAppliedPaymentSchema>;
