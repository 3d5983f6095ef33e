import type { ErpInvoiceBalance, ErpRebillRequest } from '../integrations/erp/adapter';
import type { ErpCustomer } from '../integrations/erp/changes';
import type { DisputeReason } from '../domain/disputes';

/** The simulator's ledger records and requests (dev/erp-simulator-store.ts keeps them). */

export interface SimulatedInvoice {
  invoiceNumber: string;
  customerId: string;
  currency: string;
  amountMinor: number;
  /** YYYY-MM-DD */
  issueDate: string;
  /** YYYY-MM-DD */
  dueDate: string;
  openAmountMinor: number;
  status: ErpInvoiceBalance['status'];
  /** For a rebill: the invoice it corrects. */
  rebillOf?: string;
}

export type NewInvoice = Omit<SimulatedInvoice, 'openAmountMinor' | 'status' | 'rebillOf'>;

/** A short payment: the customer paid less than the open amount and said why (remittance advice). */
export interface SimulatedDeduction {
  amountMinor: number;
  reasonCode: DisputeReason;
}

export interface SimulatedPayment {
  paymentId: string;
  invoiceNumber: string;
  amountMinor: number;
  currency: string;
  receivedAt: string;
  /** When the ERP posts it; null means on receipt. */
  postAt: string | null;
  state: 'scheduled' | 'applied';
  appliedAt: string | null;
  appliedAmountMinor: number;
  /** Overpayment left on the payment, as cash application leaves it for a refund or another invoice. */
  unappliedAmountMinor: number;
  /** What the customer deducted, with the reason code; it stays open on the invoice. */
  deduction: SimulatedDeduction | null;
}

export type NewPayment = Pick<
  SimulatedPayment,
  'paymentId' | 'invoiceNumber' | 'amountMinor' | 'currency' | 'receivedAt' | 'postAt' | 'deduction'
>;

/** A credit memo against an invoice: the claim was valid, the open amount goes down. */
export interface SimulatedCreditMemo {
  creditMemoId: string;
  invoiceNumber: string;
  customerId: string;
  amountMinor: number;
  currency: string;
  reason: string;
  idempotencyKey: string;
  issuedAt: string;
}

/** A write-off journal entry: debit bad-debt expense, credit the receivable. */
export interface SimulatedJournalEntry {
  journalId: string;
  invoiceNumber: string;
  customerId: string;
  amountMinor: number;
  currency: string;
  reason: string;
  idempotencyKey: string;
  postedAt: string;
  account: 'bad_debt_expense';
  offsetAccount: 'accounts_receivable';
}

export type AdjustmentKind = 'credit_memo' | 'write_off';

export interface AdjustmentRequest {
  invoiceNumber: string;
  amountMinor: number;
  currency: string;
  reason: string;
  idempotencyKey: string;
}

/** The simulator takes what the adapter sends. */
export type RebillRequest = ErpRebillRequest;

/** The invoice's balance right after an adjustment: what a retry of the same key gets again. */
export type InvoiceSnapshot = ErpInvoiceBalance;

export type AdjustmentRefusal = 'invoice_not_found' | 'key_conflict' | 'currency_mismatch' | 'amount_exceeds_open_amount';

/** The credit side of a customer account; absent until the first hold. */
export interface SimulatedCreditAccount {
  customerId: string;
  onHold: boolean;
  heldSince: string | null;
  /** Why the current hold was placed; null when not on hold. */
  reason: string | null;
  releasedAt: string | null;
}

export type CreditAction = 'hold' | 'release';
export type CreditOutcome = 'placed' | 'already_on_hold' | 'released' | 'not_on_hold';

/** What the account looked like right after a hold or release: the answer a retry gets again. */
export type CreditView =
  | { customerId: string; onHold: true; heldSince: string; reason: string }
  | { customerId: string; onHold: false; releasedAt: string | null };

/** One hold or release request that changed (or confirmed) the account; a replayed key adds none. */
export interface CreditEvent {
  seq: number;
  customerId: string;
  action: CreditAction;
  outcome: CreditOutcome;
  reason: string;
  idempotencyKey: string;
  at: string;
}

export interface CreditRequest {
  customerId: string;
  reason: string;
  idempotencyKey: string;
}

export interface CreditReply {
  customerId: string;
  action: CreditAction;
  outcome: CreditOutcome;
  view: CreditView;
}

/** What posting a record did; on a conflict the record is the one already stored. */

/** A customer account as the simulator holds it (the change feed's shape); `implied` when only an invoice named it. */
export type SimulatedCustomer = ErpCustomer & { implied: boolean };

export type NewCustomer = Pick<ErpCustomer, 'customerId' | 'name'> & Partial<Omit<ErpCustomer, 'customerId' | 'name'>>;

/** Where an invoice, customer or receipt stands in the change sequence: its last change. */
export interface ChangeMark {
  seq: number;
  changedAt: string;
}

/** An invoice's change mark, plus the date it left 'open' (null while open). */
export interface InvoiceChangeMark extends ChangeMark {
  settledDate: string | null;
}

/** Money received that names no invoice the simulator knows: held unapplied until applied by cash application. */
export interface SimulatedReceipt {
  paymentId: string;
  customerId: string | null;
  payerName: string | null;
  amountMinor: number;
  currency: string;
  receivedAt: string;
  remittance: string;
  /** What stays unapplied: amountMinor less every allocation. */
  unappliedMinor: number;
  allocations: { invoiceNumber: string; amountMinor: number; at: string; paymentRecordId: string }[];
}

export type NewReceipt = Pick<SimulatedReceipt, 'paymentId' | 'customerId' | 'payerName' | 'amountMinor' | 'currency' | 'receivedAt' | 'remittance'>;

/** A part of a split: a new invoice `${original}-S<n>` for part of the original's open amount. */
export interface SplitPart {
  amountMinor: number;
  /** YYYY-MM-DD */
  dueDate: string;
}

export type InvoiceChangeRefusal = 'invoice_not_found' | 'invoice_not_open' | 'key_conflict' | 'amounts_do_not_sum' | 'due_before_issue';

export type ApplyRefusal =
  | { outcome: 'payment_not_found' | 'key_conflict' | 'currency_mismatch' | 'amount_exceeds_unapplied' | 'not_an_unapplied_payment'; message: string }
  | { outcome: 'invoice_not_found' | 'amount_exceeds_open_amount' | 'invoice_not_open'; message: string; invoiceNumber: string };
