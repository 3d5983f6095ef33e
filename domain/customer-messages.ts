import type { Cadence } from './cadence';
import type { BusinessCalendar } from './business-calendar';
import type { CustomerContact, InvoiceRef } from './invoice-state';

export interface CustomerMessageRequest {
  /** The invoice step's idempotency key: workflow id + step id. */
  requestId: string;
  tenantId: string;
  invoiceWorkflowId: string;
  stepId: string;
  kind: 'email' | 'statement';
  template: string;
  invoice: InvoiceRef;
  customer: CustomerContact;
  daysPastDue: number;
  /** When the step fell due; requests of one customer within the gathering delay go out together. */
  requestedAt: string;
  contactCap?: Cadence['contactCap'];
  sendWindow?: Cadence['sendWindow'];
  /** The customer's public holidays, so that a held message never goes out on one. */
  calendar?: BusinessCalendar;
  /** The part of the invoice under an open dispute: not asked for while the owner team works it. */
  disputedAmountMinor?: number;
}

/** failed: not sent, for a reason retrying cannot fix (the invoice parks for attention).
 * withdrawn: the invoice no longer wanted the message when its batch went (promised, disputed, paused, awaiting a decision, closed). */
export type CustomerMessageOutcome = 'sent' | 'already_sent' | 'uncertain' | 'paid_before_send' | 'do_not_contact' | 'withdrawn' | 'failed';

/** What the contact workflow asks right before sending, per request: the invoice's own wish and the ERP's balance. */
export interface BeforeSendItem {
  requestId: string;
  invoiceNumber: string;
  invoiceWorkflowId: string;
}
export type BeforeSendVerdict =
  | { requestId: string; verdict: 'send'; openAmountMinor: number }
  | { requestId: string; verdict: 'paid' | 'withdrawn' }
  | { requestId: string; verdict: 'failed'; failure: { code: string; reason: string } };

export interface CustomerMessageResult {
  requestId: string;
  outcome: CustomerMessageOutcome;
  at: string;
  /** The batch the request went out in: how many invoices the customer's message listed. */
  batchSize: number;
  /** failed: why (a problem retrying cannot fix, e.g. an unknown template), with the failure's type. */
  failure?: { code: string; reason: string };
}

/** From the customer's contact workflow: a queued message waits, until `until`, for the customer's contact cap or send window. */
export interface MessageDeferred {
  requestId: string;
  until: string;
}

