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
