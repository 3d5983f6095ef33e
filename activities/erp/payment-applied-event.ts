import { z } from 'zod';
import { erpInvoiceBalanceSchema } from './adapter';

/**
 * The webhook the ERP posts after it applies a payment. The receiver verifies the signature on the
 * raw body first (webhook-signature.ts), then parses it here; deliveries are retried, so the event
 * id is the idempotency key.
 */
export const ERP_EVENT_ID_HEADER = 'x-erp-event-id';

const { invoiceNumber, currency, asOf: isoInstant } = erpInvoiceBalanceSchema.shape;

export const paymentAppliedEventSchema = z.object({
  eventId: z.string().min(1),
  type: z.literal('payment.applied'),
  occurredAt: isoInstant,
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
});

export type PaymentAppliedEvent = z.infer<typeof paymentAppliedEventSchema>;
