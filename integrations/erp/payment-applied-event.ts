import { z } from 'zod';
import { DISPUTE_REASONS } from '../../domain/disputes';
import { erpInvoiceBalanceSchema } from './adapter';

/**
 * The webhook the ERP posts after it applies a payment. The receiver verifies the signature on the
 * raw body first (webhook-signature.ts), then parses it here; deliveries are retried, so the event
 * id is the idempotency key.
 */
export const ERP_EVENT_ID_HEADER = 'x-erp-event-id';

const { invoiceNumber, currency, asOf: isoInstant } = erpInvoiceBalanceSchema.shape;

/**
 * A short payment: the customer paid less and gave a reason code (in the payment's currency). The
 * deducted amount stays open on the invoice; the receiver opens a dispute from it.
 */
export const paymentDeductionSchema = z.object({
  amountMinor: z.number().int().positive(),
  reasonCode: z.enum(DISPUTE_REASONS),
});

export type PaymentDeduction = z.infer<typeof paymentDeductionSchema>;

export const paymentAppliedEventSchema = z.object({
  eventId: z.string().min(1),
  type: z.literal('payment.applied'),
  /** When the ERP applied the payment, by its own clock: a later event of the invoice shows newer state. */
  occurredAt: isoInstant,
  /**
   * The ERP's count of changes to this invoice, this one included, when it keeps one: orders the invoice's
   * events where two share an instant. Without it, occurredAt alone orders them.
   */
  sequence: z.number().int().positive().optional(),
  payment: z.object({
    paymentId: z.string().min(1),
    invoiceNumber,
    amountMinor: z.number().int().positive(),
    currency,
    receivedAt: isoInstant,
  }),
  invoice: erpInvoiceBalanceSchema.pick({
    invoiceNumber: true,
    customerId: true,
    currency: true,
    openAmountMinor: true,
    status: true,
  }),
  /** Only on short payments; events without it (all before deductions existed) stay valid. */
  deduction: paymentDeductionSchema.optional(),
});

export type PaymentAppliedEvent = z.infer<typeof paymentAppliedEventSchema>;
