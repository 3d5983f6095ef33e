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

export type CustomerMessageOutcome = 'sent' | 'already_sent' | 'uncertain' | 'paid_before_send' | 'do_not_contact';

export interface CustomerMessageResult {
  requestId: string;
  outcome: CustomerMessageOutcome;
  at: string;
  /** The batch the request went out in: how many invoices the customer's message listed. */
  batchSize: number;
}
