import type { ErpInvoiceBalance } from '../activities/erp/adapter';

/** The simulator's in-memory ledger: plain data and the rules a real ERP applies to it. */
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
}

export type NewInvoice = Omit<SimulatedInvoice, 'openAmountMinor' | 'status'>;

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
}

export type NewPayment = Pick<
  SimulatedPayment,
  'paymentId' | 'invoiceNumber' | 'amountMinor' | 'currency' | 'receivedAt' | 'postAt'
>;

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

interface CreditReply {
  customerId: string;
  action: CreditAction;
  outcome: CreditOutcome;
  view: CreditView;
}

/** What posting a record did; on a conflict the record is the one already stored. */
type Recorded<T> = T & { outcome: 'created' | 'unchanged' | 'conflict' };

export class ErpSimulatorStore {
  readonly invoices = new Map<string, SimulatedInvoice>();
  readonly payments = new Map<string, SimulatedPayment>();
  readonly creditAccounts = new Map<string, SimulatedCreditAccount>();
  readonly creditEvents: CreditEvent[] = [];
  /** First answer per idempotency key, for holds and releases alike. */
  private readonly creditReplies = new Map<string, CreditReply>();

  /** Posting the same invoice again is a retry; the same number with other data is a conflict. */
  addInvoice(input: NewInvoice): Recorded<{ invoice: SimulatedInvoice }> {
    const existing = this.invoices.get(input.invoiceNumber);
    if (existing) return { outcome: matches(existing, input) ? 'unchanged' : 'conflict', invoice: existing };
    const invoice: SimulatedInvoice = { ...input, openAmountMinor: input.amountMinor, status: 'open' };
    this.invoices.set(invoice.invoiceNumber, invoice);
    return { outcome: 'created', invoice };
  }

  /**
   * Records a payment, not yet applied. The payment id is the idempotency key; a retry is matched on
   * what identifies the money (invoice, amount, currency), not on defaulted timestamps.
   */
  addPayment(
    input: NewPayment,
  ): Recorded<{ payment: SimulatedPayment }> | { outcome: 'invoice_not_found' | 'currency_mismatch' } {
    const existing = this.payments.get(input.paymentId);
    if (existing) {
      const { invoiceNumber, amountMinor, currency } = input;
      return { outcome: matches(existing, { invoiceNumber, amountMinor, currency }) ? 'unchanged' : 'conflict', payment: existing };
    }
    const invoice = this.invoices.get(input.invoiceNumber);
    if (!invoice) return { outcome: 'invoice_not_found' };
    if (invoice.currency !== input.currency) return { outcome: 'currency_mismatch' };
    const payment: SimulatedPayment = {
      ...input,
      state: 'scheduled',
      appliedAt: null,
      appliedAmountMinor: 0,
      unappliedAmountMinor: 0,
    };
    this.payments.set(payment.paymentId, payment);
    return { outcome: 'created', payment };
  }

  /** Applies at most the open amount, so the open amount never goes below zero. */
  applyPayment(payment: SimulatedPayment, at: string): SimulatedInvoice {
    const invoice = this.invoices.get(payment.invoiceNumber);
    if (!invoice) throw new Error(`payment ${payment.paymentId} refers to unknown invoice ${payment.invoiceNumber}`);
    const applied = Math.min(payment.amountMinor, invoice.openAmountMinor);
    payment.state = 'applied';
    payment.appliedAt = at;
    payment.appliedAmountMinor = applied;
    payment.unappliedAmountMinor = payment.amountMinor - applied;
    invoice.openAmountMinor -= applied;
    if (invoice.openAmountMinor === 0 && invoice.status === 'open') invoice.status = 'paid';
    return invoice;
  }

  /** The simulator knows a customer through its invoices (or an account it already holds). */
  knowsCustomer(customerId: string): boolean {
    return this.creditAccounts.has(customerId) || [...this.invoices.values()].some((i) => i.customerId === customerId);
  }

  creditStatus(customerId: string): CreditView {
    const account = this.creditAccounts.get(customerId);
    if (account?.onHold) return { customerId, onHold: true, heldSince: account.heldSince!, reason: account.reason! };
    return { customerId, onHold: false, releasedAt: account?.releasedAt ?? null };
  }

  /**
   * Places or releases a credit hold once per idempotency key: the same key again returns the first
   * answer (`replayed`) and logs nothing; the same key for another customer or action is a conflict.
   * A hold on an account already on hold keeps the existing hold (and its heldSince).
   */
  changeCreditHold(
    action: CreditAction,
    req: CreditRequest,
    at: string,
  ):
    | { outcome: CreditOutcome; view: CreditView; replayed: boolean }
    | { outcome: 'customer_not_found' | 'key_conflict' } {
    const first = this.creditReplies.get(req.idempotencyKey);
    if (first) {
      if (first.customerId !== req.customerId || first.action !== action) return { outcome: 'key_conflict' };
      return { outcome: first.outcome, view: first.view, replayed: true };
    }
    if (!this.knowsCustomer(req.customerId)) return { outcome: 'customer_not_found' };

    const account = this.creditAccounts.get(req.customerId) ?? {
      customerId: req.customerId,
      onHold: false,
      heldSince: null,
      reason: null,
      releasedAt: null,
    };
    this.creditAccounts.set(req.customerId, account);
    let outcome: CreditOutcome;
    if (action === 'hold') {
      outcome = account.onHold ? 'already_on_hold' : 'placed';
      if (!account.onHold) Object.assign(account, { onHold: true, heldSince: at, reason: req.reason });
    } else {
      outcome = account.onHold ? 'released' : 'not_on_hold';
      if (account.onHold) Object.assign(account, { onHold: false, heldSince: null, reason: null, releasedAt: at });
    }
    const view = this.creditStatus(req.customerId);
    this.creditReplies.set(req.idempotencyKey, { customerId: req.customerId, action, outcome, view });
    this.creditEvents.push({ seq: this.creditEvents.length + 1, customerId: req.customerId, action, outcome, reason: req.reason, idempotencyKey: req.idempotencyKey, at });
    return { outcome, view, replayed: false };
  }

  creditEventsOf(customerId: string): CreditEvent[] {
    return this.creditEvents.filter((e) => e.customerId === customerId);
  }

  paymentsOf(invoiceNumber: string): SimulatedPayment[] {
    return [...this.payments.values()].filter((p) => p.invoiceNumber === invoiceNumber);
  }
}

function matches<T extends object>(record: T, fields: Partial<T>): boolean {
  return (Object.keys(fields) as (keyof T)[]).every((key) => record[key] === fields[key]);
}
