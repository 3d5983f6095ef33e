import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { Cadence } from '../domain/cadence';
import type { BusinessCalendar } from '../domain/business-calendar';
import type { CustomerContact, InvoiceRef } from './messages';

/**
 * Messages of the per-customer contact workflow. Invoice workflows hand it their customer-facing
 * steps; it sends one message per customer per batch (consolidation), within the contact cap and
 * the send window, and tells each invoice workflow what happened to its step.
 */
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

export interface CustomerContactInput {
  tenantId: string;
  customerId: string;
  /** How long to wait for other invoices of the customer before sending (ms). */
  gatherMs: number;
  state?: CustomerContactState;
}

export interface CustomerContactState {
  pending: CustomerMessageRequest[];
  /** Customer-facing messages sent, for the contact cap (ISO instants, newest last, trimmed). */
  sentAt: string[];
  batchSeq: number;
  /** Requests already answered, so a repeated signal is not sent twice (bounded). */
  answered: string[];
}

export const queueCustomerMessageSignal = defineSignal<[CustomerMessageRequest]>('queueCustomerMessage');
export const customerMessageResultSignal = defineSignal<[CustomerMessageResult]>('customerMessageResult');
export const customerContactStateQuery = defineQuery<CustomerContactState>('customerContactState');

export function customerContactWorkflowId(tenantId: string, customerId: string): string {
  return `customer-contact:${tenantId}:${customerId}`;
}
