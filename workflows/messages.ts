import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { Cadence } from '../domain/cadence';
import type { BusinessCalendar } from '../domain/business-calendar';

/** Messages of the invoice dunning workflow, shared by the workflow, the API and the tests. */

export type DunningStage = 'active' | 'paid' | 'cancelled' | 'written_off';
export const TERMINAL_STAGES: readonly DunningStage[] = ['paid', 'cancelled', 'written_off'];

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
    | 'paid_before_send';
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
  nextStep: { stepId: string; action: StepRecord['action']; at: string } | null;
  steps: StepRecord[];
  payments: PaymentNotice[];
  /** Counts audit events so that each gets a deterministic idempotency key, across continue-as-new. */
  eventSeq: number;
  /** Public holidays of the customer's country and region, fetched once and kept in history. */
  calendar?: BusinessCalendar;
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

export const recordPaymentUpdate = defineUpdate<PaymentResult, [PaymentNotice]>('recordPayment');
export const paymentNotifiedSignal = defineSignal<[PaymentNotice]>('paymentNotified');
export const dunningStateQuery = defineQuery<DunningState>('dunningState');
/** Moves a running invoice to another cadence version; takes effect at the next step boundary. */
export const cadenceChangedSignal = defineSignal<[Cadence]>('cadenceChanged');

export const customerIdKey = defineSearchAttributeKey('CustomerId', SearchAttributeType.KEYWORD);
export const collectorIdKey = defineSearchAttributeKey('CollectorId', SearchAttributeType.KEYWORD);
export const dunningStageKey = defineSearchAttributeKey('DunningStage', SearchAttributeType.KEYWORD);
export const SEARCH_ATTRIBUTES = [customerIdKey, collectorIdKey, dunningStageKey];
