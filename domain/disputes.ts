import type { DatedDisputeRoute } from './resolution-matrix';
import type { DunningStage } from './invoice-state';

/**
 * Dispute reason codes, as AR teams record them (DESIGN.md section 1): the resolution matrix maps
 * each to the team that owns it.
 */
export const DISPUTE_REASONS = [
  'pricing',
  'quantity_short_shipment',
  'damaged_goods',
  'not_received',
  'po_missing_mismatch',
  'duplicate_billing',
  'tax',
  'credit_not_applied',
  'service_quality',
  'other',
] as const;
export type DisputeReason = (typeof DISPUTE_REASONS)[number];

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

export interface OpenDisputeRequest {
  disputeId: string;
  reasonCode: DisputeReason;
  /** Default: the whole open amount. */
  amountMinor?: number;
  note: string;
  source: 'call' | 'api' | 'erp';
  actor: string;
}

export interface OpenDisputeResult {
  disputeId: string;
  disputeWorkflowId: string;
  amountMinor: number;
  route: DisputeRoute;
  stage: DunningStage;
}
