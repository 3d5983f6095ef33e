import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BusinessCalendar } from '../domain/business-calendar';
import type { DisputeOutcome, DisputeReason, DisputeResolution, DisputeRoute, DisputeState } from '../domain/disputes';
import type { CustomerContact, InvoiceRef } from '../domain/invoice-state';

export { ROOT_CAUSES, type DisputeOutcome, type DisputeResolution, type DisputeRoute, type DisputeState, type RootCause } from '../domain/disputes';

/**
 * Messages of the dispute workflow: a child of the invoice workflow that owns one dispute from its
 * routing to its resolution. It tells the invoice workflow the outcome by signal, so that the
 * outcome reaches the invoice's current run even after a continue-as-new.
 */
export interface DisputeInput {
  tenantId: string;
  disputeId: string;
  invoiceWorkflowId: string;
  invoice: InvoiceRef;
  customer: CustomerContact;
  disputedAmountMinor: number;
  reasonCode: DisputeReason;
  note: string;
  source: 'call' | 'api' | 'erp';
  openedBy: string;
  route: DisputeRoute;
  calendar?: BusinessCalendar;
}

export const resolveDisputeUpdate = defineUpdate<DisputeOutcome, [DisputeResolution]>('resolveDispute');
export const disputeStateQuery = defineQuery<DisputeState>('disputeState');
/** To the invoice workflow: its dispute is over. */
export const disputeSettledSignal = defineSignal<[DisputeOutcome]>('disputeSettled');

export const disputeWorkflowId = (tenantId: string, disputeId: string) => `dispute:${tenantId}:${disputeId}`;
