export * from './erp-simulator-types';
import { randomUUID } from 'node:crypto';
import type { ErpAppliedPayment, ErpChangePage, ErpCustomer, ErpReceivable, ErpUnappliedPayment } from '../integrations/erp/changes';
import type { SimulatedInvoice, NewInvoice, SimulatedPayment, NewPayment, SimulatedCreditMemo, SimulatedJournalEntry, AdjustmentKind, AdjustmentRequest, RebillRequest, InvoiceSnapshot, AdjustmentRefusal, SimulatedCreditAccount, CreditAction, CreditOutcome, CreditView, CreditEvent, CreditRequest, CreditReply, SimulatedCustomer, NewCustomer, ChangeMark, InvoiceChangeMark, SimulatedReceipt, NewReceipt, SplitPart, InvoiceChangeRefusal, ApplyRefusal } from './erp-simulator-types';

/** The simulator's in-memory ledger: plain data and the rules a real ERP applies to it. */
type Recorded<T> = T & { outcome: 'created' | 'unchanged' | 'conflict' };

/**
 * Everything the simulator knows, as plain JSON: what it writes to its state file and reads back on
 * start, so a restart keeps invoices, payments (scheduled ones included), holds, memos, journals and
 * the first answers of idempotency keys.
 */
export interface ErpSimulatorState {
  /** 1: before the change feed (no customers, marks or receipts: they are derived on load); 2: with them. */
  version: 1 | 2;
  invoices: SimulatedInvoice[];
  payments: SimulatedPayment[];
  creditAccounts: SimulatedCreditAccount[];
  creditEvents: CreditEvent[];
  creditReplies: [string, CreditReply][];
  creditMemos: SimulatedCreditMemo[];
  journals: SimulatedJournalEntry[];
  adjustmentReplies: [string, { fingerprint: string; answer: unknown }][];
  // Version 2: the change feed and cash application. Absent in a version-1 file.
  /** Identifies this ledger's change sequence: a cursor from another ledger starts from the beginning. */
  epoch?: string;
  seq?: number;
  customers?: SimulatedCustomer[];
  invoiceMarks?: [string, InvoiceChangeMark][];
  customerMarks?: [string, ChangeMark][];
  receipts?: SimulatedReceipt[];
  receiptMarks?: [string, ChangeMark][];
  applyReplies?: [string, { fingerprint: string; answer: ErpAppliedPayment }][];
}

/** What the change feed's cursor holds (opaque to callers: base64url JSON). */
interface ChangeCursor {
  epoch: string;
  seq: number;
}

type FeedEntry = { kind: 'invoice' | 'customer' | 'receipt'; key: string };

const nowIso = () => new Date().toISOString();

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

  // The change feed: every change of an invoice, customer or unapplied receipt takes the next number of one
  // monotonic sequence; `feed` holds each record once, at its last change, in sequence order (a Map iterates in
  // insertion order, and a bumped record is deleted and inserted again).
  epoch: string = randomUUID();
  private seq = 0;
  readonly customers = new Map<string, SimulatedCustomer>();
  readonly invoiceMarks = new Map<string, InvoiceChangeMark>();
  readonly customerMarks = new Map<string, ChangeMark>();
  readonly receipts = new Map<string, SimulatedReceipt>();
  readonly receiptMarks = new Map<string, ChangeMark>();
  private readonly feed = new Map<number, FeedEntry>();
  private readonly applyReplies = new Map<string, { fingerprint: string; answer: ErpAppliedPayment }>();

  /** A copy of the whole ledger as plain JSON (nothing shared with the live store). */
  snapshot(): ErpSimulatorState {
    return structuredClone({
      version: 2,
      invoices: [...this.invoices.values()],
      payments: [...this.payments.values()],
      creditAccounts: [...this.creditAccounts.values()],
      creditEvents: this.creditEvents,
      creditReplies: [...this.creditReplies],
      creditMemos: this.creditMemos,
      journals: this.journals,
      adjustmentReplies: [...this.adjustmentReplies],
      epoch: this.epoch,
      seq: this.seq,
      customers: [...this.customers.values()],
      invoiceMarks: [...this.invoiceMarks],
      customerMarks: [...this.customerMarks],
      receipts: [...this.receipts.values()],
      receiptMarks: [...this.receiptMarks],
      applyReplies: [...this.applyReplies],
    });
  }

  /** A store holding what `snapshot()` gave (e.g. read back from the state file). */
  static fromSnapshot(state: ErpSimulatorState): ErpSimulatorStore {
    if (state?.version !== 1 && state?.version !== 2) throw new Error(`unknown ERP simulator state version ${String(state?.version)}`);
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
    if (copy.epoch) store.epoch = copy.epoch;
    for (const customer of copy.customers ?? []) store.customers.set(customer.customerId, customer);
    for (const receipt of copy.receipts ?? []) store.receipts.set(receipt.paymentId, receipt);
    for (const [key, reply] of copy.applyReplies ?? []) store.applyReplies.set(key, reply);
    const marks: [number, FeedEntry, ChangeMark][] = [];
    for (const [key, mark] of copy.invoiceMarks ?? []) marks.push([mark.seq, { kind: 'invoice', key }, mark]);
    for (const [key, mark] of copy.customerMarks ?? []) marks.push([mark.seq, { kind: 'customer', key }, mark]);
    for (const [key, mark] of copy.receiptMarks ?? []) marks.push([mark.seq, { kind: 'receipt', key }, mark]);
    marks.sort((a, b) => a[0] - b[0]);
    for (const [seq, entry, mark] of marks) {
      store.feed.set(seq, entry);
      store.marksOf(entry.kind).set(entry.key, mark as InvoiceChangeMark);
    }
    store.seq = Math.max(copy.seq ?? 0, marks.at(-1)?.[0] ?? 0);
    // A file written before the change feed: each invoice (and the customer it names) enters the sequence once,
    // in the order the file holds them, as changed when it was issued.
    for (const invoice of store.invoices.values()) {
      if (store.invoiceMarks.has(invoice.invoiceNumber)) continue;
      const at = `${invoice.issueDate}T00:00:00.000Z`;
      store.implyCustomer(invoice.customerId, at);
      store.touchInvoice(invoice, at);
    }
    return store;
  }

  private marksOf(kind: FeedEntry['kind']): Map<string, ChangeMark> {
    return kind === 'invoice' ? this.invoiceMarks : kind === 'customer' ? this.customerMarks : this.receiptMarks;
  }

  /** Moves a record to the end of the change sequence. */
  private bump(kind: FeedEntry['kind'], key: string, at: string): ChangeMark {
    const marks = this.marksOf(kind);
    const previous = marks.get(key);
    if (previous) this.feed.delete(previous.seq);
    const seq = ++this.seq;
    this.feed.set(seq, { kind, key });
    const mark = { ...previous, seq, changedAt: at };
    marks.set(key, mark as InvoiceChangeMark);
    return mark;
  }

  /** Records a change of an invoice: a new place in the sequence, and the settlement date when it left 'open'. */
  private touchInvoice(invoice: SimulatedInvoice, at: string): void {
    const mark = this.bump('invoice', invoice.invoiceNumber, at) as InvoiceChangeMark;
    if (invoice.status === 'open') mark.settledDate = null;
    else mark.settledDate ??= at.slice(0, 10);
  }

  /** An invoice naming a customer the simulator does not hold implies a minimal account (its id as its name). */
  private implyCustomer(customerId: string, at: string): void {
    if (this.customers.has(customerId)) return;
    this.customers.set(customerId, { ...blankCustomer(customerId, customerId), implied: true });
    this.bump('customer', customerId, at);
  }

  /** Creates or updates a customer account; the same data again changes nothing (an implied account is replaced). */
  upsertCustomer(input: NewCustomer, at = nowIso()): { outcome: 'created' | 'updated' | 'unchanged'; customer: SimulatedCustomer } {
    const next: SimulatedCustomer = { ...blankCustomer(input.customerId, input.name), ...definedOnly(input), implied: false };
    const existing = this.customers.get(input.customerId);
    if (existing && JSON.stringify(existing) === JSON.stringify(next)) return { outcome: 'unchanged', customer: existing };
    this.customers.set(next.customerId, next);
    this.bump('customer', next.customerId, at);
    return { outcome: existing && !existing.implied ? 'updated' : 'created', customer: next };
  }

  /**
   * One page of the change feed after `cursor` (null, or a cursor of another ledger: from the beginning): at most
   * `limit` records in sequence order (receivables, customers changed, unapplied receipts), with the customers the
   * receivables name. The cursor is an opaque base64url string; 'invalid' when it cannot be read.
   */
  changesSince(cursor: string | null, limit: number): ErpChangePage | 'invalid_cursor' {
    let after = 0;
    if (cursor !== null) {
      const decoded = decodeCursor(cursor);
      if (!decoded) return 'invalid_cursor';
      if (decoded.epoch === this.epoch) after = decoded.seq;
    }
    const receivables: ErpReceivable[] = [];
    const customerIds = new Set<string>();
    const unappliedPayments: ErpUnappliedPayment[] = [];
    let last = after;
    let taken = 0;
    let hasMore = false;
    for (const [seq, entry] of this.feed) {
      if (seq <= after) continue;
      if (taken === limit) {
        hasMore = true;
        break;
      }
      taken++;
      last = seq;
      if (entry.kind === 'invoice') {
        const invoice = this.invoices.get(entry.key)!;
        receivables.push(this.receivableOf(invoice));
        customerIds.add(invoice.customerId);
      } else if (entry.kind === 'customer') {
        customerIds.add(entry.key);
      } else {
        const receipt = this.receipts.get(entry.key)!;
        if (receipt.unappliedMinor > 0) unappliedPayments.push(unappliedOf(receipt));
      }
    }
    const customers = [...customerIds].map((id) => this.customerOf(id));
    return { receivables, customers, unappliedPayments, nextCursor: encodeCursor({ epoch: this.epoch, seq: last }), hasMore };
  }

  receivableOf(invoice: SimulatedInvoice): ErpReceivable {
    const mark = this.invoiceMarks.get(invoice.invoiceNumber);
    const { invoiceNumber, customerId, currency, amountMinor, openAmountMinor, status, issueDate, dueDate } = invoice;
    return {
      invoiceNumber,
      customerId,
      currency,
      amountMinor,
      openAmountMinor,
      status,
      issueDate,
      dueDate,
      settledDate: mark?.settledDate ?? null,
      rebillOf: invoice.rebillOf ?? null,
      erpId: invoiceNumber,
      changedAt: mark?.changedAt ?? `${issueDate}T00:00:00.000Z`,
    };
  }

  customerOf(customerId: string): ErpCustomer {
    const { implied, ...customer } = this.customers.get(customerId) ?? { ...blankCustomer(customerId, customerId), implied: true };
    void implied;
    return customer;
  }

  /** Extends (or moves) an open invoice's due date; the same date again changes nothing. */
  changeDueDate(invoiceNumber: string, dueDate: string, at = nowIso()): { outcome: 'changed' | 'unchanged'; invoice: SimulatedInvoice } | { outcome: InvoiceChangeRefusal } {
    const invoice = this.invoices.get(invoiceNumber);
    if (!invoice) return { outcome: 'invoice_not_found' };
    if (invoice.dueDate === dueDate) return { outcome: 'unchanged', invoice };
    if (invoice.status !== 'open') return { outcome: 'invoice_not_open' };
    if (dueDate < invoice.issueDate) return { outcome: 'due_before_issue' };
    invoice.dueDate = dueDate;
    this.touchInvoice(invoice, at);
    return { outcome: 'changed', invoice };
  }

  /** Voids an open invoice nothing was applied to (never owed); cancelling it again changes nothing. */
  cancelInvoice(invoiceNumber: string, at = nowIso()): { outcome: 'changed' | 'unchanged'; invoice: SimulatedInvoice } | { outcome: InvoiceChangeRefusal } {
    const invoice = this.invoices.get(invoiceNumber);
    if (!invoice) return { outcome: 'invoice_not_found' };
    if (invoice.status === 'cancelled') return { outcome: 'unchanged', invoice };
    if (invoice.status !== 'open' || invoice.openAmountMinor !== invoice.amountMinor) return { outcome: 'invoice_not_open' };
    invoice.status = 'cancelled';
    invoice.openAmountMinor = 0;
    this.touchInvoice(invoice, at);
    return { outcome: 'changed', invoice };
  }

  /**
   * Splits an open invoice's open amount into new invoices `${original}-S1`, `-S2`, ... (rebillOf: the original),
   * issued on the day of the split; the original is credited in full by a credit memo. The parts must sum to the
   * open amount. Once per idempotency key, as rebills are.
   */
  splitInvoice(
    invoiceNumber: string,
    parts: SplitPart[],
    idempotencyKey: string,
    at = nowIso(),
  ): { outcome: 'created'; parts: SimulatedInvoice[]; replayed: boolean } | { outcome: InvoiceChangeRefusal } {
    const fingerprint = JSON.stringify(['split', invoiceNumber, parts]);
    const first = this.adjustmentReplies.get(idempotencyKey);
    if (first) {
      if (first.fingerprint !== fingerprint) return { outcome: 'key_conflict' };
      return { outcome: 'created', parts: (first.answer as string[]).map((n) => this.invoices.get(n)!), replayed: true };
    }
    const original = this.invoices.get(invoiceNumber);
    if (!original) return { outcome: 'invoice_not_found' };
    if (original.status !== 'open') return { outcome: 'invoice_not_open' };
    if (parts.reduce((sum, p) => sum + p.amountMinor, 0) !== original.openAmountMinor) return { outcome: 'amounts_do_not_sum' };
    const issueDate = at.slice(0, 10);
    if (parts.some((p) => p.dueDate < issueDate)) return { outcome: 'due_before_issue' };

    const memo = this.adjustInvoice(
      'credit_memo',
      { invoiceNumber, amountMinor: original.openAmountMinor, currency: original.currency, reason: `split into ${parts.length} invoices`, idempotencyKey: `${idempotencyKey}:split-credit` },
      at,
    );
    if (memo.outcome !== 'created') return { outcome: 'invoice_not_open' };
    let n = 1;
    const created = parts.map((part) => {
      while (this.invoices.has(`${invoiceNumber}-S${n}`)) n++;
      const invoice: SimulatedInvoice = {
        invoiceNumber: `${invoiceNumber}-S${n}`,
        customerId: original.customerId,
        currency: original.currency,
        amountMinor: part.amountMinor,
        issueDate,
        dueDate: part.dueDate,
        openAmountMinor: part.amountMinor,
        status: 'open',
        rebillOf: invoiceNumber,
      };
      this.invoices.set(invoice.invoiceNumber, invoice);
      this.touchInvoice(invoice, at);
      return invoice;
    });
    this.adjustmentReplies.set(idempotencyKey, { fingerprint, answer: created.map((i) => i.invoiceNumber) });
    return { outcome: 'created', parts: created, replayed: false };
  }

  /** Money that names no invoice: held unapplied. The payment id identifies it; the same receipt again changes nothing. */
  addReceipt(input: NewReceipt, at = nowIso()): { outcome: 'created' | 'unchanged' | 'conflict'; receipt?: SimulatedReceipt } {
    if (this.payments.has(input.paymentId)) return { outcome: 'conflict' };
    const existing = this.receipts.get(input.paymentId);
    if (existing) {
      const { customerId, amountMinor, currency } = input;
      return { outcome: matches(existing, { customerId, amountMinor, currency }) ? 'unchanged' : 'conflict', receipt: existing };
    }
    const receipt: SimulatedReceipt = { ...input, unappliedMinor: input.amountMinor, allocations: [] };
    this.receipts.set(receipt.paymentId, receipt);
    this.bump('receipt', receipt.paymentId, at);
    return { outcome: 'created', receipt };
  }

  /**
   * Cash application: applies an unapplied receipt (or, when the id is unknown and `receivedAt` is given, a new
   * receipt of exactly the allocations' sum) to open invoices, all allocations or none. Each allocation is at
   * most the invoice's open amount (allocations to the same invoice count together) and in its currency; their
   * sum is at most what the receipt has unapplied. Once per idempotency key: the same request again gets the
   * first answer; the key with another request is a conflict. Returns the payment records it applied, for the
   * payment.applied webhooks.
   */
  applyReceipt(
    req: { paymentId: string; currency: string; allocations: { invoiceNumber: string; amountMinor: number }[]; receivedAt?: string; idempotencyKey: string },
    at = nowIso(),
  ): { outcome: 'applied'; answer: ErpAppliedPayment; applied: SimulatedPayment[]; replayed: boolean } | ApplyRefusal {
    const fingerprint = JSON.stringify([req.paymentId, req.currency, req.allocations, req.receivedAt ?? null]);
    const first = this.applyReplies.get(req.idempotencyKey);
    if (first) {
      if (first.fingerprint !== fingerprint) return { outcome: 'key_conflict', message: `Idempotency-Key ${req.idempotencyKey} was used for another request` };
      return { outcome: 'applied', answer: first.answer, applied: [], replayed: true };
    }
    if (this.payments.has(req.paymentId)) {
      return { outcome: 'not_an_unapplied_payment', message: `payment ${req.paymentId} was received for an invoice and applied to it` };
    }
    const existing = this.receipts.get(req.paymentId);
    const total = req.allocations.reduce((sum, a) => sum + a.amountMinor, 0);
    if (!existing && !req.receivedAt) {
      return { outcome: 'payment_not_found', message: `payment ${req.paymentId} is not held as unapplied (give receivedAt to apply a new receipt)` };
    }
    if (existing && existing.currency !== req.currency) {
      return { outcome: 'currency_mismatch', message: `payment ${req.paymentId} is in ${existing.currency}, not ${req.currency}` };
    }
    if (existing && total > existing.unappliedMinor) {
      return { outcome: 'amount_exceeds_unapplied', message: `the allocations (${total}) exceed what payment ${req.paymentId} has unapplied (${existing.unappliedMinor} ${existing.currency})` };
    }
    const wanted = new Map<string, number>();
    for (const { invoiceNumber, amountMinor } of req.allocations) {
      const invoice = this.invoices.get(invoiceNumber);
      if (!invoice) return { outcome: 'invoice_not_found', invoiceNumber, message: `invoice ${invoiceNumber} does not exist` };
      if (invoice.currency !== req.currency) return { outcome: 'currency_mismatch', message: `invoice ${invoiceNumber} is in ${invoice.currency}, not ${req.currency}` };
      if (invoice.status !== 'open') return { outcome: 'invoice_not_open', invoiceNumber, message: `invoice ${invoiceNumber} is ${invoice.status}` };
      const sum = (wanted.get(invoiceNumber) ?? 0) + amountMinor;
      if (sum > invoice.openAmountMinor) {
        return { outcome: 'amount_exceeds_open_amount', invoiceNumber, message: `${sum} exceeds the open amount of invoice ${invoiceNumber} (${invoice.openAmountMinor} ${invoice.currency})` };
      }
      wanted.set(invoiceNumber, sum);
    }

    const receipt =
      existing ??
      this.addReceipt(
        {
          paymentId: req.paymentId,
          customerId: this.invoices.get(req.allocations[0]!.invoiceNumber)!.customerId,
          payerName: null,
          amountMinor: total,
          currency: req.currency,
          receivedAt: req.receivedAt!,
          remittance: '',
        },
        at,
      ).receipt!;
    const applied: SimulatedPayment[] = [];
    const invoices: ErpAppliedPayment['invoices'] = [];
    for (const { invoiceNumber, amountMinor } of req.allocations) {
      const payment: SimulatedPayment = {
        paymentId: `${receipt.paymentId}#${receipt.allocations.length + 1}`,
        invoiceNumber,
        amountMinor,
        currency: receipt.currency,
        receivedAt: receipt.receivedAt,
        postAt: null,
        state: 'scheduled',
        appliedAt: null,
        appliedAmountMinor: 0,
        unappliedAmountMinor: 0,
        deduction: null,
      };
      this.payments.set(payment.paymentId, payment);
      const invoice = this.applyPayment(payment, at);
      receipt.allocations.push({ invoiceNumber, amountMinor, at, paymentRecordId: payment.paymentId });
      receipt.unappliedMinor -= amountMinor;
      applied.push(payment);
      invoices.push({ invoiceNumber, paymentId: payment.paymentId, appliedMinor: amountMinor, openAmountMinor: invoice.openAmountMinor, status: invoice.status });
    }
    this.bump('receipt', receipt.paymentId, at);
    const answer: ErpAppliedPayment = { paymentId: receipt.paymentId, invoices, unappliedMinor: receipt.unappliedMinor };
    this.applyReplies.set(req.idempotencyKey, { fingerprint, answer });
    return { outcome: 'applied', answer, applied, replayed: false };
  }


  /** Posting the same invoice again is a retry; the same number with other data is a conflict. */
  addInvoice(input: NewInvoice, at = nowIso()): Recorded<{ invoice: SimulatedInvoice }> {
    const existing = this.invoices.get(input.invoiceNumber);
    if (existing) return { outcome: matches(existing, input) ? 'unchanged' : 'conflict', invoice: existing };
    const invoice: SimulatedInvoice = { ...input, openAmountMinor: input.amountMinor, status: 'open' };
    this.invoices.set(invoice.invoiceNumber, invoice);
    this.implyCustomer(invoice.customerId, at);
    this.touchInvoice(invoice, at);
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
    if (applied > 0) this.touchInvoice(invoice, at);
    return invoice;
  }

  /** The simulator knows a customer through its invoices (or an account it already holds). */
  knowsCustomer(customerId: string): boolean {
    return this.customers.has(customerId) || this.creditAccounts.has(customerId) || [...this.invoices.values()].some((i) => i.customerId === customerId);
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
    this.touchInvoice(invoice, at);
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
    at = nowIso(),
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
    this.touchInvoice(invoice, at);
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

function blankCustomer(customerId: string, name: string): ErpCustomer {
  return { customerId, name, email: null, contactName: null, country: null, region: null, timeZone: null, locale: null, category: null, accountManager: null };
}

function unappliedOf(receipt: SimulatedReceipt): ErpUnappliedPayment {
  const { paymentId, customerId, payerName, currency, receivedAt, remittance } = receipt;
  // What is still to apply: the feed carries a receipt again, with its remainder, after each partial application.
  return { paymentId, customerId, payerName, amountMinor: receipt.unappliedMinor, currency, receivedAt, remittance };
}

function encodeCursor(cursor: ChangeCursor): string {
  return Buffer.from(JSON.stringify([cursor.epoch, cursor.seq])).toString('base64url');
}

function decodeCursor(text: string): ChangeCursor | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && Number.isSafeInteger(value[1]) && (value[1] as number) >= 0) {
      return { epoch: value[0], seq: value[1] as number };
    }
  } catch {
    // not base64url JSON
  }
  return undefined;
}

function definedOnly<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function matches<T extends object>(record: T, fields: Partial<T>): boolean {
  return (Object.keys(fields) as (keyof T)[]).every((key) => record[key] === fields[key]);
}
