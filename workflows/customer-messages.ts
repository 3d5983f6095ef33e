import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { CustomerMessageRequest, CustomerMessageResult, MessageDeferred } from '../domain/customer-messages';

export type { CustomerMessageOutcome, CustomerMessageRequest, CustomerMessageResult } from '../domain/customer-messages';

/**
 * Messages of the per-customer contact workflow. Invoice workflows hand it their customer-facing
 * steps; it sends one message per customer per batch (consolidation), within the contact cap and
 * the send window, and tells each invoice workflow what happened to its step.
 */
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
  /** The requests of the batch being checked and sent (answered as soon as it is done). */
  inFlight?: string[];
  /** Requests already answered, so a repeated signal is not sent twice (bounded). */
  answered: string[];
}

export const queueCustomerMessageSignal = defineSignal<[CustomerMessageRequest]>('queueCustomerMessage');
export const customerMessageResultSignal = defineSignal<[CustomerMessageResult]>('customerMessageResult');
/** To an invoice workflow: its queued message waits for the customer's cap or window. */
export const messageDeferredSignal = defineSignal<[MessageDeferred]>('messageDeferred');
export const customerContactStateQuery = defineQuery<CustomerContactState>('customerContactState');

export function customerContactWorkflowId(tenantId: string, customerId: string): string {
  return `customer-contact:${tenantId}:${customerId}`;
}
