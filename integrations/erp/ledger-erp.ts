import { appendAuditEvent } from '../../db/audit-events';
import { ledgerCustomers, type LedgerAdjustmentKind } from '../../db/imports';
import {
  insertRebill,
  ledgerBalance,
  ledgerChangesAfter,
  lockPostingKey,
  postingAnswer,
  postingCount,
  rebillsOf,
  recordPosting,
  reduceOpenAmount,
  type LedgerBalanceRow,
} from '../../db/ledger-postings';
import type { LedgerStatus } from '../../db/ledger';
import type { Sql, TransactionSql } from '../../db/sql';
import {
  ErpCapabilityError,
  ErpInvoiceNotFoundError,
  ErpRequestRejectedError,
  ErpUnavailableError,
  type ErpAdapter,
  type ErpCapabilities,
  type ErpCreditMemo,
  type ErpInvoiceAdjustmentRequest,
  type ErpInvoiceBalance,
  type ErpRebill,
  type ErpWriteOff,
} from './adapter';
import type { ErpAppliedPayment, ErpChangePage, ErpCustomer, ErpReceivable } from './changes';

/**
 * Ledger mode (ERP_KIND=ledger): a team without an ERP API, whose exports (npm run import, POST /imports) fill
 * ledger_invoices and ledger_customers. That ledger is the system of record: balances are read from it (they always
 * answer: an imported invoice never fails its workflow for want of an ERP), the change feed pages it by change_seq
 * (so the ERP sync enrolls imported open invoices and closes those a new file shows paid), and a confirmed payment,
 * a credit memo, a write-off or a rebill is posted to it, once per idempotency key, with a row in ledger_adjustments
 * and one in the audit trail. It has no customer accounts to block: no credit hold (ErpCapabilityError).
 */

const CAPABILITIES: ErpCapabilities = { creditHold: false, creditMemo: true, writeOff: true, rebill: true, applyPayment: true, changeFeed: true };

const CURSOR = /^ledger:(\d{1,18})$/;

export function createLedgerErp(deps: { sql: Sql; tenantId: string; now?: () => Date }): ErpAdapter {
  const { sql, tenantId } = deps;
  const now = deps.now ?? (() => new Date());
  const today = () => now().toISOString().slice(0, 10);

  /** Our own refusals pass; a database that cannot answer is transient for the caller (retried). */
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ErpInvoiceNotFoundError || err instanceof ErpRequestRejectedError || err instanceof ErpCapabilityError) throw err;
      throw new ErpUnavailableError(`the ledger (PostgreSQL) did not answer: ${(err as Error).message}`, { cause: err });
    }
  };

  const balanceOf = (row: LedgerBalanceRow): ErpInvoiceBalance => ({
    invoiceNumber: row.invoiceNumber,
    customerId: row.customerId,
    currency: row.currency,
    amountMinor: row.amountMinor,
    openAmountMinor: row.openAmountMinor,
    status: row.status,
    asOf: now().toISOString(),
  });

  const audit = (tx: TransactionSql, kind: LedgerAdjustmentKind, key: string, invoiceNumber: string, details: { documentId: string; amountMinor: number; currency: string; openAmountMinorAfter: number | null }) =>
    appendAuditEvent(tx, { type: 'ledger_adjusted', eventKey: `ledger:${tenantId}:${kind}:${key}:${invoiceNumber}`, tenantId, actor: 'ledger', invoiceNumber, details: { kind, ...details } });

  const mustFind = async (tx: TransactionSql, invoiceNumber: string) => {
    const row = await ledgerBalance(tx, tenantId, invoiceNumber, { forUpdate: true });
    if (!row) throw new ErpInvoiceNotFoundError(`invoice ${invoiceNumber} is not in the ledger`);
    return row;
  };

  const checkAmount = (row: LedgerBalanceRow, amountMinor: number, currency: string) => {
    if (!Number.isSafeInteger(amountMinor) || amountMinor <= 0) throw new ErpRequestRejectedError(`amount must be a positive number of minor units, got ${amountMinor}`, 422, 'invalid_amount');
    if (currency !== row.currency) throw new ErpRequestRejectedError(`invoice ${row.invoiceNumber} is in ${row.currency}, not ${currency}`, 422, 'currency_mismatch');
    if (amountMinor > row.openAmountMinor)
      throw new ErpRequestRejectedError(`${amountMinor} is above the open amount ${row.openAmountMinor} of invoice ${row.invoiceNumber}`, 422, 'amount_exceeds_open_amount');
  };

  /** A credit memo or write-off: lowers the open amount, closing the invoice as `closedAs` at zero. */
  const adjust = <T>(kind: 'credit_memo' | 'write_off', closedAs: LedgerStatus, req: ErpInvoiceAdjustmentRequest, answer: (id: string, row: LedgerBalanceRow) => T) =>
    guard(() =>
      sql.begin(async (tx) => {
        await lockPostingKey(tx, tenantId, kind, req.idempotencyKey);
        const done = await postingAnswer<T>(tx, tenantId, kind, req.idempotencyKey);
        if (done) return done;
        const row = await mustFind(tx, req.invoiceNumber);
        checkAmount(row, req.amountMinor, req.currency);
        const n = (await postingCount(tx, tenantId, kind, req.invoiceNumber)) + 1;
        const documentId = `${kind === 'credit_memo' ? 'CM' : 'WO'}-${req.invoiceNumber}-${n}`;
        const after = await reduceOpenAmount(tx, tenantId, req.invoiceNumber, req.amountMinor, closedAs, today());
        const result = answer(documentId, after);
        await recordPosting(tx, { tenantId, kind, key: req.idempotencyKey, documentId, invoiceNumber: req.invoiceNumber, amountMinor: req.amountMinor, currency: req.currency, answer: result });
        await audit(tx, kind, req.idempotencyKey, req.invoiceNumber, { documentId, amountMinor: req.amountMinor, currency: req.currency, openAmountMinorAfter: after.openAmountMinor });
        return result;
      }),
    );

  return {
    kind: 'ledger',
    capabilities: CAPABILITIES,

    getInvoiceBalance: (invoiceNumber) =>
      guard(async () => {
        const row = await ledgerBalance(sql, tenantId, invoiceNumber);
        if (!row) throw new ErpInvoiceNotFoundError(`invoice ${invoiceNumber} is not in the ledger`);
        return balanceOf(row);
      }),

    listChanges: ({ cursor, limit }) =>
      guard(async (): Promise<ErpChangePage> => {
        let after = 0;
        if (cursor !== null) {
          const m = CURSOR.exec(cursor);
          if (!m) throw new ErpRequestRejectedError(`not a cursor of the ledger: ${JSON.stringify(cursor)}`, 400, 'invalid_cursor');
          after = Number(m[1]);
        }
        const rows = await ledgerChangesAfter(sql, tenantId, after, Math.max(1, limit) + 1);
        const page = rows.slice(0, Math.max(1, limit));
        const known = new Map((await ledgerCustomers(sql, tenantId, [...new Set(page.map((r) => r.customerId))])).map((c) => [c.customerId, c]));
        const customers: ErpCustomer[] = [...new Set(page.map((r) => r.customerId))].map((id) => {
          const c = known.get(id);
          return { customerId: id, name: c?.name ?? id, email: c?.email ?? null, contactName: null, country: c?.country ?? null, region: null, timeZone: null, locale: null, category: null, accountManager: null };
        });
        const receivables: ErpReceivable[] = page.map((r) => ({
          invoiceNumber: r.invoiceNumber,
          customerId: r.customerId,
          currency: r.currency,
          amountMinor: r.amountMinor,
          openAmountMinor: r.openAmountMinor,
          status: r.status,
          issueDate: r.issueDate,
          dueDate: r.dueDate,
          settledDate: r.status === 'open' ? null : r.settledDate,
          rebillOf: r.rebillOf,
          erpId: `ledger:${r.invoiceNumber}`,
          changedAt: r.updatedAt.toISOString(),
        }));
        const last = page[page.length - 1];
        return { receivables, customers, unappliedPayments: [], nextCursor: last ? `ledger:${last.changeSeq}` : (cursor ?? 'ledger:0'), hasMore: rows.length > page.length };
      }),

    applyPayment: (req) =>
      guard(() =>
        sql.begin(async (tx): Promise<ErpAppliedPayment> => {
          await lockPostingKey(tx, tenantId, 'payment', req.idempotencyKey);
          const done = await postingAnswer<ErpAppliedPayment>(tx, tenantId, 'payment', req.idempotencyKey);
          if (done) return done;
          if (req.allocations.length === 0) throw new ErpRequestRejectedError('a payment needs at least one allocation', 422, 'no_allocations');
          const numbers = req.allocations.map((a) => a.invoiceNumber);
          if (new Set(numbers).size !== numbers.length) throw new ErpRequestRejectedError('an invoice may be named once per payment', 422, 'duplicate_allocation');
          // Locked in one order, so that two payments over the same invoices never deadlock.
          const rows = new Map<string, LedgerBalanceRow>();
          for (const n of [...numbers].sort()) rows.set(n, await mustFind(tx, n));
          for (const a of req.allocations) checkAmount(rows.get(a.invoiceNumber)!, a.amountMinor, req.currency);
          const invoices: ErpAppliedPayment['invoices'] = [];
          for (const a of req.allocations) {
            const after = await reduceOpenAmount(tx, tenantId, a.invoiceNumber, a.amountMinor, 'paid', (req.receivedAt ?? now().toISOString()).slice(0, 10));
            invoices.push({ invoiceNumber: a.invoiceNumber, appliedMinor: a.amountMinor, openAmountMinor: after.openAmountMinor, status: after.status });
            await audit(tx, 'payment', req.idempotencyKey, a.invoiceNumber, { documentId: req.paymentId, amountMinor: a.amountMinor, currency: req.currency, openAmountMinorAfter: after.openAmountMinor });
          }
          const answer: ErpAppliedPayment = { paymentId: req.paymentId, invoices, unappliedMinor: 0 };
          const total = req.allocations.reduce((s, a) => s + a.amountMinor, 0);
          await recordPosting(tx, { tenantId, kind: 'payment', key: req.idempotencyKey, documentId: req.paymentId, invoiceNumber: numbers[0]!, amountMinor: total, currency: req.currency, answer });
          return answer;
        }),
      ),

    requestCreditMemo: (req) => adjust('credit_memo', 'credited', req, (creditMemoId, row): ErpCreditMemo => ({ creditMemoId, invoice: balanceOf(row) })),
    postWriteOff: (req) => adjust('write_off', 'written_off', req, (journalId, row): ErpWriteOff => ({ journalId, invoice: balanceOf(row) })),

    createRebill: (req) =>
      guard(() =>
        sql.begin(async (tx): Promise<ErpRebill> => {
          await lockPostingKey(tx, tenantId, 'rebill', req.idempotencyKey);
          const done = await postingAnswer<ErpRebill>(tx, tenantId, 'rebill', req.idempotencyKey);
          if (done) return done;
          const original = await mustFind(tx, req.originalInvoiceNumber);
          if (req.currency !== original.currency) throw new ErpRequestRejectedError(`invoice ${original.invoiceNumber} is in ${original.currency}, not ${req.currency}`, 422, 'currency_mismatch');
          if (!Number.isSafeInteger(req.amountMinor) || req.amountMinor < 0) throw new ErpRequestRejectedError(`amount must be a non-negative number of minor units`, 422, 'invalid_amount');
          if (req.dueDate < req.issueDate) throw new ErpRequestRejectedError(`due date ${req.dueDate} before the issue date ${req.issueDate}`, 422, 'invalid_dates');
          const invoiceNumber = `${original.invoiceNumber}-R${(await rebillsOf(tx, tenantId, original.invoiceNumber)) + 1}`;
          await insertRebill(tx, { tenantId, invoiceNumber, original, amountMinor: req.amountMinor, issueDate: req.issueDate, dueDate: req.dueDate });
          const answer: ErpRebill = { invoiceNumber };
          await recordPosting(tx, { tenantId, kind: 'rebill', key: req.idempotencyKey, documentId: invoiceNumber, invoiceNumber: original.invoiceNumber, amountMinor: req.amountMinor, currency: req.currency, answer });
          await audit(tx, 'rebill', req.idempotencyKey, invoiceNumber, { documentId: invoiceNumber, amountMinor: req.amountMinor, currency: req.currency, openAmountMinorAfter: req.amountMinor });
          return answer;
        }),
      ),

    placeCreditHold: () => Promise.reject(new ErpCapabilityError('creditHold', 'ledger')),
    releaseCreditHold: () => Promise.reject(new ErpCapabilityError('creditHold', 'ledger')),
    /** No customer accounts to block: never on hold. */
    getCreditStatus: (customerId) => Promise.resolve({ customerId, onHold: false as const }),
  };
}
