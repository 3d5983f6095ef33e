import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Cadence } from '../domain/cadence';
import type { OpenDisputeRequest, OpenDisputeResult } from '../domain/disputes';
import type { ApprovalRequestInput, ApprovalRequestResult } from '../domain/approvals';
import type { CallOutcomeInput, CallOutcomeResult } from '../domain/call-outcomes';
import type {
  CustomerContact,
  DunningState,
  InvoiceRef,
  PauseRequest,
  PaymentNotice,
  PaymentResult,
  PromiseUpdateInput,
  ResumeRequest,
  StageResult,
  StepRecord,
  WithdrawPromiseRequest,
} from '../domain/invoice-state';

export * from '../domain/invoice-state';
export * from '../domain/call-outcomes';
export type { OpenDisputeRequest, OpenDisputeResult } from '../domain/disputes';
export type { ApprovalRequestInput, ApprovalRequestResult } from '../domain/approvals';

/** Messages of the invoice dunning workflow, shared by the workflow, the API and the tests. */

export interface InvoiceDunningInput {
  tenantId: string;
  invoice: InvoiceRef;
  customer: CustomerContact;
  cadence: Cadence;
  /** Carried across continue-as-new. */
  state?: DunningState;
  /**
   * A rebill or split part of an invoice that was being dunned: the original's steps, so that the cadence goes
   * on where it was instead of starting again (set by the ERP sync; the steps count by id as if done here).
   */
  carriedFrom?: { invoiceNumber: string; steps: StepRecord[] };
}

/** What the ERP sync saw change on an enrolled invoice in the ledger (the ERP's word). */
export interface LedgerChange {
  /** YYYY-MM-DD; a new due date (an extension) re-plans the next step. */
  dueDate: string;
  openAmountMinor: number;
  status: 'open' | 'paid' | 'credited' | 'written_off' | 'cancelled';
  /** When the ERP changed it (ISO instant): an older change than one already applied is ignored. */
  changedAt: string;
}

export const openDisputeUpdate = defineUpdate<OpenDisputeResult, [OpenDisputeRequest]>('openDispute');
export const requestApprovalUpdate = defineUpdate<ApprovalRequestResult, [ApprovalRequestInput]>('requestApproval');

export const recordCallOutcomeUpdate = defineUpdate<CallOutcomeResult, [CallOutcomeInput]>('recordCallOutcome');
export const makePromiseUpdate = defineUpdate<StageResult, [PromiseUpdateInput]>('makePromise');
export const pauseUpdate = defineUpdate<StageResult, [PauseRequest]>('pause');
/** Takes back a promise still being followed (idempotent: another or no promise answers changed false). */
export const withdrawPromiseUpdate = defineUpdate<StageResult, [WithdrawPromiseRequest]>('withdrawPromise');
export const resumeUpdate = defineUpdate<StageResult, [ResumeRequest]>('resume');

export const recordPaymentUpdate = defineUpdate<PaymentResult, [PaymentNotice]>('recordPayment');
export const paymentNotifiedSignal = defineSignal<[PaymentNotice]>('paymentNotified');
/** The ERP sync's reconciliation: a changed due date, open amount or status (paid, credited, cancelled close it). */
export const ledgerChangedSignal = defineSignal<[LedgerChange]>('ledgerChanged');
export const dunningStateQuery = defineQuery<DunningState>('dunningState');
/** Asked by the customer's contact workflow (through an activity) right before it sends: does the invoice still want this message? */
export const messageWantedQuery = defineQuery<boolean, [string]>('messageWanted');
/** The customer moved to another collector's portfolio. */
export const collectorChangedSignal = defineSignal<[string]>('collectorChanged');
/** Moves a running invoice to another cadence version; takes effect at the next step boundary. */
export const cadenceChangedSignal = defineSignal<[Cadence]>('cadenceChanged');

export const customerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const collectorIdKey = defineSearchAttributeKey('CollectorId', SearchAttributeType.KEYWORD);
export const dunningStageKey = defineSearchAttributeKey('DunningStage', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [customerIdKey, collectorIdKey, dunningStageKey];
