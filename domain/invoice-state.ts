import type { Cadence } from './cadence';
import type { BusinessCalendar } from './business-calendar';
import type { ActivePromise, PromiseRequest } from './promises';
import type { DisputeOutcome, DisputeReason } from './disputes';
import type { ApprovalAction, ApprovalOutcome } from './approvals';
import type { Role } from './roles';

/** The invoice's dunning state and the payloads that change it: shared by the workflow, activities and the API. */

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

export interface PaymentResult {
  duplicate: boolean;
  stage: DunningStage;
  openAmountMinor: number;
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
