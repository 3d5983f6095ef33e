import type { DatedDisputeRoute } from './resolution-matrix';
import type { DunningStage } from './stages';
import { refusal, type Refusal } from './refusals';
import type { DisputeReason } from './dispute-reasons';

export { DISPUTE_REASONS, type DisputeReason } from './dispute-reasons';

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

/** Why a resolution is refused (undefined = accepted): a dispute is resolved once, with a root cause and a note; only a valid one grants credit. */
export function resolutionRefusal(r: DisputeResolution, ctx: { disputeId: string; disputedAmountMinor: number; settled: string | undefined }): Refusal | undefined {
  if (ctx.settled) return refusal('dispute_closed', `dispute ${ctx.disputeId} is already ${ctx.settled}`);
  if (!ROOT_CAUSES.includes(r.rootCause)) return refusal('invalid_resolution', `rootCause must be one of ${ROOT_CAUSES.join(', ')}`);
  if (!r.note.trim()) return refusal('note_required', 'a resolution needs a note (an invalid one is sent to the customer)');
  if (r.resolution === 'valid') {
    const credit = r.creditAmountMinor;
    if (credit === undefined || !Number.isSafeInteger(credit) || credit <= 0 || credit > ctx.disputedAmountMinor)
      return refusal('invalid_amount', `a valid dispute needs creditAmountMinor between 1 and the disputed ${ctx.disputedAmountMinor}`);
    if (r.rebill && (!Number.isSafeInteger(r.rebill.amountMinor) || r.rebill.amountMinor <= 0)) return refusal('invalid_amount', 'rebill.amountMinor must be a positive integer');
  } else if (r.creditAmountMinor !== undefined || r.rebill) {
    return refusal('invalid_resolution', 'an invalid dispute grants no credit and no rebill');
  }
  return undefined;
}

