import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Cadence } from '../domain/cadence';
import type { BusinessCalendar } from '../domain/business-calendar';
import type { ActivePromise, PromiseRequest } from '../domain/promises';
import type { DisputeReason } from '../domain/disputes';
import type { ApprovalAction } from '../domain/authority-matrix';
import type { Role } from '../domain/roles';
import type { DisputeOutcome, DisputeRoute } from './dispute-messages';
import type { ApprovalDetails, ApprovalOutcome } from './approval-messages';

/** Messages of the invoice dunning workflow, shared by the workflow, the API and the tests. */

/** Open stages first (a derived view of the state: paused over disputed over promised over active), then terminal ones. */
export const DUNNING_STAGES = ['active', 'promised', 'awaiting_approval', 'disputed', 'paused', 'paid', 'cancelled', 'written_off', 'handed_off'] as const;
export type DunningStage = (typeof DUNNING_STAGES)[number];
export const TERMINAL_STAGES: readonly DunningStage[] = ['paid', 'cancelled', 'written_off', 'handed_off'];

export interface InvoiceRef {
  number: string;
  customerId: string;
  currency: string;
  amountMinor: number;
  issueDate: string;
  dueDate: string;
}

export interface CustomerContact {
  id: string;
  name: string;
  email: string;
  timeZone: string;
  locale: string;
  collectorId?: string;
  /** ISO 3166 country and region: business days and public holidays. */
  country?: string;
  region?: string;
  contactName?: string;
}

export interface StepRecord {
  stepId: string;
  action: Cadence['steps'][number]['action']['type'];
  at: string;
  outcome:
    | 'sent'
    | 'already_sent'
    | 'uncertain'
    | 'task_created'
    | 'superseded'
    | 'skipped'
    | 'notified'
    | 'hold_placed'
    | 'requested'
    | 'webhook_sent'
    | 'paid_before_send'
    | 'do_not_contact'
    | 'call_instead'
    | 'approval_requested';
  /** Why a step was skipped (a condition), or how many invoices its message listed. */
  detail?: string;
}

export interface PaymentNotice {
  paymentId: string;
  amountMinor: number;
  currency: string;
  receivedAt: string;
  source: 'api' | 'erp_webhook';
  /** The ERP's open amount after applying the payment, when the notice comes from the ERP. */
  openAmountMinorAfter?: number;
}

export interface DunningState {
  stage: DunningStage;
  openAmountMinor: number;
  currency: string;
  cadence: { id: string; version: number };
  /** The cadence's next step, or what a hold waits for ('resume', 'promise_check', 'promise_courtesy'). */
  nextStep: { stepId: string; action: StepRecord['action'] | 'resume' | 'promise_check' | 'promise_courtesy'; at: string } | null;
  steps: StepRecord[];
  /** The cadence ran its last step (recorded once; a migration to a longer version clears it). */
  cadenceDone?: boolean;
  payments: PaymentNotice[];
  /** Counts audit events so that each gets a deterministic idempotency key, across continue-as-new. */
  eventSeq: number;
  /** Public holidays of the customer's country and region, fetched once and kept in history. */
  calendar?: BusinessCalendar;
  /** The promise to pay or payment plan being followed: customer-facing dunning waits for it. */
  promise?: ActivePromise;
  /** Dunning paused by a person, for this invoice or its whole customer. */
  pause?: PauseState;
  /** The open dispute (its child workflow owns it): collection of the disputed amount waits. */
  dispute?: OpenDispute;
  /** The approval request being decided (its child workflow owns it): the cadence waits. */
  approval?: { requestId: string; action: ApprovalAction; requiredRole: Role; requestedBy: string; stepId?: string };
  /** An approved settlement: when its promise is kept, the rest is written off. */
  settlement?: { requestId: string; promiseId: string; settledAmountMinor: number };
  /** Outcomes signalled by the child workflows, applied by the main loop (kept in state across continue-as-new). */
  disputeOutcomes?: DisputeOutcome[];
  approvalOutcomes?: ApprovalOutcome[];
  /** Call tasks whose outcome this workflow applied: a second completion is refused. */
  handledTasks?: number[];
  /** Promises and plans broken on this invoice. */
  brokenPromises?: number;
  /** After a broken promise, the cadence resumes at once at this step (or the next one due when no id is given). */
  resumeAt?: { stepId: string | null; reason: string };
}

export interface OpenDispute {
  disputeId: string;
  reasonCode: DisputeReason;
  amountMinor: number;
  /** The whole open amount is disputed: nothing is collected until it is resolved. */
  full: boolean;
  note: string;
  openedAt: string;
  openedBy: string;
  source: 'call' | 'api' | 'erp';
  ownerTeam: string;
  owner: string | null;
  deadlineDate: string;
}

export interface PauseState {
  reason: string;
  /** ISO instant; null = until someone resumes. */
  until: string | null;
  by: string;
  since: string;
  scope: 'invoice' | 'customer';
}

export interface InvoiceDunningInput {
  tenantId: string;
  invoice: InvoiceRef;
  customer: CustomerContact;
  cadence: Cadence;
  /** Carried across continue-as-new. */
  state?: DunningState;
}

export interface PaymentResult {
  duplicate: boolean;
  stage: DunningStage;
  openAmountMinor: number;
}

/** What a collector records when completing a call task. */
export type CallOutcome =
  | { code: 'promise_to_pay'; promiseId: string; amountMinor: number; promisedDate: string; madeBy: string }
  | { code: 'will_pay' }
  | { code: 'dispute'; reasonCode: DisputeReason }
  | { code: 'refused' }
  | { code: 'request_copy' }
  | { code: 'no_answer' }
  | { code: 'voicemail' }
  | { code: 'wrong_contact'; contactId?: string }
  | { code: 'callback_requested'; callbackAt: string };
export type CallOutcomeCode = CallOutcome['code'];
export const REACHED_OUTCOMES: readonly CallOutcomeCode[] = ['promise_to_pay', 'will_pay', 'dispute', 'refused', 'request_copy'];
export const NOT_REACHED_OUTCOMES: readonly CallOutcomeCode[] = ['no_answer', 'voicemail', 'wrong_contact', 'callback_requested'];

export interface CallOutcomeInput {
  taskId: number;
  /** Which attempt of the call this task was (1 = first). */
  attempt: number;
  outcome: CallOutcome;
  note: string;
  actor: string;
}

export interface FollowUpTask {
  taskId: number;
  kind: 'follow_up' | 'callback' | 'broken_promise';
  dueAt: string;
  attempt: number;
}

export interface CallOutcomeResult {
  stage: DunningStage;
  openAmountMinor: number;
  nextStep: DunningState['nextStep'];
  followUpTask: FollowUpTask | null;
  /** What else happened: a copy sent, the team lead told, a promise recorded. */
  effects: string[];
}

export interface PauseRequest {
  reason: string;
  until: string | null;
  actor: string;
  scope: 'invoice' | 'customer';
}

export interface ResumeRequest {
  actor: string;
  note: string;
  /** A customer-wide resume only lifts pauses placed for the whole customer. */
  scope: 'invoice' | 'customer';
}

export interface StageResult {
  stage: DunningStage;
  openAmountMinor: number;
  nextStep: DunningState['nextStep'];
  /** False when nothing changed (resuming an invoice that was not paused by that scope). */
  changed: boolean;
}

/** A promise made outside a call task (or for a further invoice of the same call), or a plan's share. */
export type PromiseUpdateInput = PromiseRequest;

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

export interface ApprovalRequestInput {
  requestId: string;
  action: ApprovalAction;
  reason: string;
  actor: string;
  /** Default: the open amount (for a settlement, the amount given up). */
  amountMinor?: number;
  details: ApprovalDetails;
}

export interface ApprovalRequestResult {
  requestId: string;
  approvalWorkflowId: string;
  requiredRole: Role;
  amountMinor: number;
  amountReportingMinor: number;
  stage: DunningStage;
}

export const openDisputeUpdate = defineUpdate<OpenDisputeResult, [OpenDisputeRequest]>('openDispute');
export const requestApprovalUpdate = defineUpdate<ApprovalRequestResult, [ApprovalRequestInput]>('requestApproval');

export const recordCallOutcomeUpdate = defineUpdate<CallOutcomeResult, [CallOutcomeInput]>('recordCallOutcome');
export const makePromiseUpdate = defineUpdate<StageResult, [PromiseUpdateInput]>('makePromise');
export const pauseUpdate = defineUpdate<StageResult, [PauseRequest]>('pause');
export const resumeUpdate = defineUpdate<StageResult, [ResumeRequest]>('resume');

export const recordPaymentUpdate = defineUpdate<PaymentResult, [PaymentNotice]>('recordPayment');
export const paymentNotifiedSignal = defineSignal<[PaymentNotice]>('paymentNotified');
export const dunningStateQuery = defineQuery<DunningState>('dunningState');
/** The customer moved to another collector's portfolio. */
export const collectorChangedSignal = defineSignal<[string]>('collectorChanged');
/** Moves a running invoice to another cadence version; takes effect at the next step boundary. */
export const cadenceChangedSignal = defineSignal<[Cadence]>('cadenceChanged');

export const customerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const collectorIdKey = defineSearchAttributeKey('CollectorId', SearchAttributeType.KEYWORD);
export const dunningStageKey = defineSearchAttributeKey('DunningStage', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [customerIdKey, collectorIdKey, dunningStageKey];
