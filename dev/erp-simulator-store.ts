export * from './erp-simulator-types';
import type { SimulatedInvoice, NewInvoice, SimulatedPayment, NewPayment, SimulatedCreditMemo, SimulatedJournalEntry, AdjustmentKind, AdjustmentRequest, RebillRequest, InvoiceSnapshot, AdjustmentRefusal, SimulatedCreditAccount, CreditAction, CreditOutcome, CreditView, CreditEvent, CreditRequest, CreditReply } from './erp-simulator-types';

/** The simulator's in-memory ledger: plain data and the rules a real ERP applies to it. */
type Recorded<T> = T & { outcome: 'created' | 'unchanged' | 'conflict' };

/**
 * Everything the simulator knows, as plain JSON: what it writes to its state file and reads back on
 * start, so a restart keeps invoices, payments (scheduled ones included), holds, memos, journals and
 * the first answers of idempotency keys.
 */
export interface ErpSimulatorState {
  version: 1;
  invoices: SimulatedInvoice[];
  payments: SimulatedPayment[];
  creditAccounts: SimulatedCreditAccount[];
  creditEvents: CreditEvent[];
  creditReplies: [string, CreditReply][];
  creditMemos: SimulatedCreditMemo[];
  journals: SimulatedJournalEntry[];
  adjustmentReplies: [string, { fingerprint: string; answer: unknown }][];
}

export class ErpSimulatorStore {
  readonly invoices = new Map<string, SimulatedInvoice>();
  readonly payments = new Map<string, SimulatedPayment>();
  readonly creditAccounts = new Map<string, SimulatedCreditAccount>();
  readonly creditEvents: CreditEvent[] = [];
  /** First answer per idempotency key, for holds and releases alike. */
  private readonly creditReplies = new Map<string, CreditReply>();
  readonly creditMemos: SimulatedCreditMemo[] = [];
  readonly journals: SimulatedJournalEntry[] = [];
  /** First answer per idempotency key for credit memos, write-offs and rebills, with what identifies the request. */
  private readonly adjustmentReplies = new Map<string, { fingerprint: string; answer: unknown }>();

  /** A copy of the whole ledger as plain JSON (nothing shared with the live store). */
  snapshot(): ErpSimulatorState {
    return structuredClone({
      version: 1,
      invoices: [...this.invoices.values()],
      payments: [...this.payments.values()],
      creditAccounts: [...this.creditAccounts.values()],
      creditEvents: this.creditEvents,
      creditReplies: [...this.creditReplies],
      creditMemos: this.creditMemos,
      journals: this.journals,
      adjustmentReplies: [...this.adjustmentReplies],
    });
  }

  /** A store holding what `snapshot()` gave (e.g. read back from the state file). */
  static fromSnapshot(state: ErpSimulatorState): ErpSimulatorStore {
    if (state?.version !== 1) throw new Error(`unknown ERP simulator state version ${String(state?.version)}`);
    const store = new ErpSimulatorStore();
    const copy = structuredClone(state);
    for (const invoice of copy.invoices) store.invoices.set(invoice.invoiceNumber, invoice);
    for (const payment of copy.payments) store.payments.set(payment.paymentId, payment);
    for (const account of copy.creditAccounts) store.creditAccounts.set(account.customerId, account);
    store.creditEvents.push(...copy.creditEvents);
    for (const [key, reply] of copy.creditReplies) store.creditReplies.set(key, reply);
    store.creditMemos.push(...copy.creditMemos);
    store.journals.push(...copy.journals);
    for (const [key, reply] of copy.adjustmentReplies) store.adjustmentReplies.set(key, reply);
    return store;
  }

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
  ): Recorded<{ payment: SimulatedPayment }> | { outcome: 'invoice_not_found' | 'currency_mismatch' | 'deduction_exceeds_open_amount' } {
    const existing = this.payments.get(input.paymentId);
    if (existing) {
      const { invoiceNumber, amountMinor, currency } = input;
      const sameDeduction = JSON.stringify(existing.deduction) === JSON.stringify(input.deduction);
      return { outcome: matches(existing, { invoiceNumber, amountMinor, currency }) && sameDeduction ? 'unchanged' : 'conflict', payment: existing };
    }
    const invoice = this.invoices.get(input.invoiceNumber);
    if (!invoice) return { outcome: 'invoice_not_found' };
    if (invoice.currency !== input.currency) return { outcome: 'currency_mismatch' };
    // A short payment explains a shortfall: payment and deduction together cannot exceed what is open.
    if (input.deduction && input.amountMinor + input.deduction.amountMinor > invoice.openAmountMinor) return { outcome: 'deduction_exceeds_open_amount' };
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

  /**
   * A credit memo or a write-off journal, once per idempotency key: the same key and request again
   * returns the first answer (`replayed`) and posts nothing; the same key for anything else is a
   * conflict. The amount must be positive, at most the open amount and in the invoice's currency; at
   * 0 open the invoice is 'credited' or 'written_off'.
   */
  adjustInvoice(
    kind: AdjustmentKind,
    req: AdjustmentRequest,
    at: string,
  ):
    | { outcome: 'created'; answer: { id: string; invoice: InvoiceSnapshot }; replayed: boolean }
    | { outcome: AdjustmentRefusal; invoice?: SimulatedInvoice } {
    const fingerprint = JSON.stringify([kind, req.invoiceNumber, req.amountMinor, req.currency]);
    const first = this.adjustmentReplies.get(req.idempotencyKey);
    if (first) {
      if (first.fingerprint !== fingerprint) return { outcome: 'key_conflict' };
      return { outcome: 'created', answer: first.answer as { id: string; invoice: InvoiceSnapshot }, replayed: true };
    }
    const invoice = this.invoices.get(req.invoiceNumber);
    if (!invoice) return { outcome: 'invoice_not_found' };
    if (invoice.currency !== req.currency) return { outcome: 'currency_mismatch', invoice };
    if (req.amountMinor > invoice.openAmountMinor) return { outcome: 'amount_exceeds_open_amount', invoice };

    invoice.openAmountMinor -= req.amountMinor;
    if (invoice.openAmountMinor === 0 && invoice.status === 'open') invoice.status = kind === 'credit_memo' ? 'credited' : 'written_off';
    const common = { invoiceNumber: invoice.invoiceNumber, customerId: invoice.customerId, amountMinor: req.amountMinor, currency: req.currency, reason: req.reason, idempotencyKey: req.idempotencyKey };
    let id: string;
    if (kind === 'credit_memo') {
      id = `CM-${String(this.creditMemos.length + 1).padStart(6, '0')}`;
      this.creditMemos.push({ creditMemoId: id, ...common, issuedAt: at });
    } else {
      id = `JE-${String(this.journals.length + 1).padStart(6, '0')}`;
      this.journals.push({ journalId: id, ...common, postedAt: at, account: 'bad_debt_expense', offsetAccount: 'accounts_receivable' });
    }
    const answer = { id, invoice: snapshot(invoice, at) };
    this.adjustmentReplies.set(req.idempotencyKey, { fingerprint, answer });
    return { outcome: 'created', answer, replayed: false };
  }

  /**
   * A new invoice for the corrected amount, for the original's customer and in its currency,
   * numbered `${original}-R1`, `-R2`, ...; once per idempotency key as above.
   */
  createRebill(
    req: RebillRequest,
  ):
    | { outcome: 'created'; invoice: SimulatedInvoice; replayed: boolean }
    | { outcome: 'invoice_not_found' | 'key_conflict' | 'currency_mismatch' } {
    const fingerprint = JSON.stringify(['rebill', req.originalInvoiceNumber, req.amountMinor, req.currency, req.issueDate, req.dueDate]);
    const first = this.adjustmentReplies.get(req.idempotencyKey);
    if (first) {
      if (first.fingerprint !== fingerprint) return { outcome: 'key_conflict' };
      return { outcome: 'created', invoice: this.invoices.get(first.answer as string)!, replayed: true };
    }
    const original = this.invoices.get(req.originalInvoiceNumber);
    if (!original) return { outcome: 'invoice_not_found' };
    if (original.currency !== req.currency) return { outcome: 'currency_mismatch' };
    let n = 1;
    while (this.invoices.has(`${original.invoiceNumber}-R${n}`)) n++;
    const invoice: SimulatedInvoice = {
      invoiceNumber: `${original.invoiceNumber}-R${n}`,
      customerId: original.customerId,
      currency: original.currency,
      amountMinor: req.amountMinor,
      issueDate: req.issueDate,
      dueDate: req.dueDate,
      openAmountMinor: req.amountMinor,
      status: 'open',
      rebillOf: original.invoiceNumber,
    };
    this.invoices.set(invoice.invoiceNumber, invoice);
    this.adjustmentReplies.set(req.idempotencyKey, { fingerprint, answer: invoice.invoiceNumber });
    return { outcome: 'created', invoice, replayed: false };
  }

  creditMemosOf(filter: { invoiceNumber?: string; customerId?: string }): SimulatedCreditMemo[] {
    return this.creditMemos.filter((m) => matches(m, definedOnly(filter)));
  }

  journalsOf(filter: { invoiceNumber?: string; customerId?: string }): SimulatedJournalEntry[] {
    return this.journals.filter((j) => matches(j, definedOnly(filter)));
  }
}

function snapshot(invoice: SimulatedInvoice, asOf: string): InvoiceSnapshot {
  const { invoiceNumber, customerId, currency, amountMinor, openAmountMinor, status } = invoice;
  return { invoiceNumber, customerId, currency, amountMinor, openAmountMinor, status, asOf };
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function matches<T extends object>(record: T, fields: Partial<T>): boolean {
  return (Object.keys(fields) as (keyof T)[]).every((key) => record[key] === fields[key]);
}
