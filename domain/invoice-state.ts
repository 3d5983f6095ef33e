import type { Cadence } from './cadence';
import { TERMINAL_STAGES, type DunningStage } from './stages';
import type { BusinessCalendar } from './business-calendar';
import { nextPromiseEvent, type ActivePromise, type PromiseRequest } from './promises';
import { planNextStep, type ScheduleContext } from './schedule';
import type { DisputeOutcome, DisputeReason } from './disputes';
import type { ApprovalAction, ApprovalOutcome } from './approvals';
import type { Role } from './roles';

/** The invoice's dunning state and the payloads that change it: shared by the workflow, activities and the API. */

export { DUNNING_STAGES, TERMINAL_STAGES, type DunningStage } from './stages';

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
    | 'withdrawn'
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
  nextStep: {
    stepId: string;
    action: StepRecord['action'] | 'resume' | 'promise_check' | 'promise_courtesy' | 'retry';
    at: string;
    /** The step fell due at `from` but waits, until `at`, for the send window or a contact cap (this invoice's or the customer's). */
    deferred?: { from: string; reason: 'send_window_or_cap' | 'customer_contact_cap' };
  } | null;
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
  /** Dunning paused for this invoice (by a person, or a payment claim); before customer pauses had a slot of their own, also those. */
  pause?: PauseState;
  /** Dunning paused for the invoice's whole customer: it neither replaces nor lifts the invoice's own pause. */
  customerPause?: PauseState;
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
  /** A configuration or data problem (an unknown template or endpoint, an invoice the ERP does not know) parked the cadence. */
  attention?: Attention;
  /** Times in a row the cadence was parked for attention (back to none when a step runs). */
  attentionStreak?: number;
  /** When the ERP last changed the invoice, as the last ledger change applied says: an older one is ignored. */
  ledgerChangedAt?: string;
  /** A rebill or split part: the invoice whose dunning (its steps) this one carries on. */
  carriedFrom?: string;
}

export interface Attention {
  /** The failure's type, e.g. UnknownWebhookEndpoint, UnknownTemplate, ErpInvoiceNotFound. */
  code: string;
  reason: string;
  /** The step that could not run (null: the ERP re-read before it). */
  stepId: string | null;
  since: string;
  /** How many times in a row the step was tried and parked. */
  attempts: number;
  /** When the step is tried again by itself (a resume by a person tries it at once). */
  retryAt: string;
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
  /** A payment a person reported: dunning waits for the ERP to show it, until `until`. */
  claim?: PaymentClaim;
}

export interface PaymentClaim {
  paymentId: string;
  amountMinor: number;
  currency: string;
  /** The open amount when the payment was claimed: the ERP must show less by `until`. */
  openBeforeMinor: number;
}

export interface PaymentResult {
  duplicate: boolean;
  stage: DunningStage;
  openAmountMinor: number;
  /** A payment reported by a person is a claim: it pauses dunning until the ERP shows it (or the claim's time runs out). */
  claimed?: boolean;
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

/** A promise taken back (a promise over several invoices that could not be applied to all of them). */
export interface WithdrawPromiseRequest {
  promiseId: string;
  actor: string;
  reason: string;
}

/** A promise made outside a call task (or for a further invoice of the same call), or a plan's share. */
export type PromiseUpdateInput = PromiseRequest;

/*
 * The state machine. Stages: `active` (the cadence runs), the holds `promised`, `awaiting_approval`,
 * `disputed` (a dispute of the whole open amount) and `paused`, and the terminal `paid`, `cancelled`,
 * `written_off`, `handed_off`. An open invoice's stage is derived from what holds it (a pause over a
 * full dispute over a pending approval over a promise); a terminal stage is final. Every transition
 * below is pure: it takes a state and returns the next one, and the workflow commits it.
 */

export const isClosed = (s: Pick<DunningState, 'stage'>): boolean => TERMINAL_STAGES.includes(s.stage);

/** A partial dispute leaves the undisputed rest in dunning; a full one holds the cadence. */
export const fullDispute = (s: Pick<DunningState, 'dispute'>): boolean => s.dispute !== undefined && s.dispute.full;

/** Whether the cadence waits: for a pause, a full dispute, a decision or a promise. */
/** Paused for the invoice or its customer. */
export const isPaused = (s: Pick<DunningState, 'pause' | 'customerPause'>): boolean => s.pause !== undefined || s.customerPause !== undefined;

/** When every pause has ended (the later of their ends); null while one of them is indefinite; undefined when not paused. */
export function pausedUntil(s: Pick<DunningState, 'pause' | 'customerPause'>): string | null | undefined {
  const pauses = [s.pause, s.customerPause].filter((p): p is PauseState => p !== undefined);
  if (pauses.length === 0) return undefined;
  if (pauses.some((p) => p.until === null)) return null;
  return pauses.map((p) => p.until!).reduce((a, b) => (Date.parse(a) >= Date.parse(b) ? a : b));
}

export const onHold = (s: DunningState): boolean =>
  isPaused(s) || s.attention !== undefined || fullDispute(s) || s.approval !== undefined || s.promise !== undefined;

/** The stage of an open invoice, derived from what holds it. */
export const openStage = (s: DunningState): DunningStage =>
  isPaused(s) ? 'paused' : s.attention ? 'needs_attention' : fullDispute(s) ? 'disputed' : s.approval ? 'awaiting_approval' : s.promise ? 'promised' : 'active';

/** The ERP's status of an invoice (integrations/erp/adapter.ts validates it). */
export type ErpInvoiceStatus = 'open' | 'paid' | 'credited' | 'written_off' | 'cancelled';

/** The stage of an invoice the ERP shows closed, or with nothing left open. */
export const closedStageOf = (status: ErpInvoiceStatus): DunningStage => (status === 'credited' || status === 'cancelled' ? 'cancelled' : status === 'written_off' ? 'written_off' : 'paid');

export const withStage = (s: DunningState, stage: DunningStage): DunningState => (s.stage === stage ? s : { ...s, stage });

/**
 * The ERP's balance, the system of record: the open amount follows it, and an invoice it shows closed
 * (or with nothing open) takes the matching terminal stage. A closed invoice stays as it is.
 */
export function applyBalance(s: DunningState, balance: { status: ErpInvoiceStatus; openAmountMinor: number }): { state: DunningState; open: boolean } {
  if (isClosed(s)) return { state: s, open: false };
  const next = { ...s, openAmountMinor: balance.openAmountMinor };
  if (balance.status === 'open' && balance.openAmountMinor > 0) return { state: next, open: true };
  return { state: withStage(next, closedStageOf(balance.status)), open: false };
}

/**
 * A payment: recorded once by id; it lowers the open amount (to the ERP's figure when the notice has
 * one) and closes the invoice as paid at zero. A payment for a closed invoice is recorded and changes nothing.
 */
export function applyPayment(s: DunningState, payment: PaymentNotice): { state: DunningState; result: PaymentResult } {
  const duplicate = s.payments.some((p) => p.paymentId === payment.paymentId);
  let next = s;
  if (!duplicate && !isClosed(s)) {
    const openAmountMinor = Math.max(0, payment.openAmountMinorAfter ?? s.openAmountMinor - payment.amountMinor);
    next = { ...s, payments: [...s.payments, payment], openAmountMinor };
    if (openAmountMinor === 0) next = withStage(next, 'paid');
  } else if (!duplicate) {
    next = { ...s, payments: [...s.payments, payment] };
  }
  return { state: next, result: { duplicate, stage: next.stage, openAmountMinor: next.openAmountMinor } };
}

/** What the plan needs besides the state: the cadence in force, the customer's calendar and zone, the instant. */
export interface PlanContext {
  cadence: Cadence;
  schedule: ScheduleContext;
  now: Date;
}

/** The cadence's next step as of now (what the database mirror shows as "next step"). */
export function upcomingStep(s: DunningState, ctx: PlanContext): DunningState['nextStep'] {
  const next = planNextStep(ctx.cadence, ctx.schedule, s.steps, ctx.now)?.next;
  return next ? { stepId: next.step.id, action: next.step.action.type, at: next.at } : null;
}

/** What the invoice waits for next: the end of a pause, a promise's courtesy reminder or check, or the cadence's next step. */
export function describeNext(s: DunningState, ctx: PlanContext): DunningState['nextStep'] {
  if (isClosed(s)) return null;
  if (isPaused(s)) {
    const until = pausedUntil(s);
    return until ? { stepId: 'pause-ends', action: 'resume', at: until } : null;
  }
  if (s.attention) return { stepId: s.attention.stepId ?? 'erp-recheck', action: 'retry', at: s.attention.retryAt };
  if (fullDispute(s) || s.approval) return null;
  if (s.promise) {
    const event = nextPromiseEvent(s.promise, { timeZone: ctx.schedule.timeZone, sendAt: ctx.cadence.sendAt });
    return event ? { stepId: `promise-${event.installment.no}`, action: event.kind === 'check' ? 'promise_check' : 'promise_courtesy', at: event.at } : null;
  }
  return upcomingStep(s, ctx);
}

/** After people's work changed what holds the invoice: the stage is derived again and the next step re-described. */
export function changeCourse(s: DunningState, ctx: PlanContext): DunningState {
  const staged = isClosed(s) ? s : withStage(s, openStage(s));
  return { ...staged, nextStep: describeNext(staged, ctx) };
}

/** The answer of a people's-work update: where the invoice stands now. */
export const stageResult = (s: DunningState, changed: boolean): StageResult => ({ stage: s.stage, openAmountMinor: s.openAmountMinor, nextStep: s.nextStep, changed });
