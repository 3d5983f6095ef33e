import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { BusinessCalendar } from '../domain/business-calendar';
import type { DisputeReason } from '../domain/disputes';
import type { DatedDisputeRoute } from '../domain/resolution-matrix';
import type { CustomerContact, InvoiceRef } from './messages';

/**
 * Messages of the dispute workflow: a child of the invoice workflow that owns one dispute from its
 * routing to its resolution. It tells the invoice workflow the outcome by signal, so that the
 * outcome reaches the invoice's current run even after a continue-as-new.
 */
export const ROOT_CAUSES = [
  'pricing_error',
  'contract_terms_unclear',
  'shipping_error',
  'damaged_in_transit',
  'billing_error',
  'po_process',
  'tax_setup',
  'cash_application',
  'service_failure',
  'customer_error',
  'other',
] as const;
export type RootCause = (typeof ROOT_CAUSES)[number];

/** The resolution matrix's answer for a dispute, dated (domain/resolution-matrix.ts). */
export type DisputeRoute = DatedDisputeRoute;

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

export interface DisputeResolution {
  resolution: 'valid' | 'invalid';
  /** valid: the credit granted (full or part of the disputed amount). */
  creditAmountMinor?: number;
  /** valid: a corrected invoice issued for this amount. */
  rebill?: { amountMinor: number; dueDate: string };
  rootCause: RootCause;
  note: string;
  actor: string;
}

export interface DisputeOutcome {
  disputeId: string;
  status: 'resolved_valid' | 'resolved_invalid' | 'withdrawn';
  creditAmountMinor: number;
  creditMemoId: string | null;
  rebillInvoiceNumber: string | null;
  /** The ERP's open amount of the invoice after the credit. */
  openAmountMinorAfter: number | null;
  resolvedBy: string;
  rootCause: RootCause | null;
}

export interface DisputeState {
  status: 'open' | 'escalated' | DisputeOutcome['status'];
  reminded: boolean;
  escalated: boolean;
  outcome: DisputeOutcome | null;
}

export const resolveDisputeUpdate = defineUpdate<DisputeOutcome, [DisputeResolution]>('resolveDispute');
export const disputeStateQuery = defineQuery<DisputeState>('disputeState');
/** To the invoice workflow: its dispute is over. */
export const disputeSettledSignal = defineSignal<[DisputeOutcome]>('disputeSettled');

export const disputeWorkflowId = (tenantId: string, disputeId: string) => `dispute:${tenantId}:${disputeId}`;
