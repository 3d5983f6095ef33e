import type { LedgerAdjustmentKind } from './imports';
import type { LedgerInvoice, LedgerStatus } from './ledger';
import type { Db, TransactionSql } from './sql';

/**
 * Ledger mode (ERP_KIND=ledger, integrations/erp/ledger-erp.ts): the imported ledger is the system of record, and
 * this is what it posts to it: payments applied, credit memos, write-offs, rebills, each once per idempotency key
 * (ledger_adjustments, migration 015), and the change feed over ledger_invoices.change_seq.
 */

/** A ledger row as the ledger adapter reads it: the invoice (without the import's disputed flag) and its change number. */
export type LedgerBalanceRow = Omit<LedgerInvoice, 'disputed'> & { changeSeq: number; updatedAt: Date };

const BALANCE_COLUMNS = (db: Db) => db`
  invoice_number as "invoiceNumber", customer_id as "customerId", currency, amount_minor as "amountMinor",
  open_amount_minor as "openAmountMinor", status, to_char(issue_date, 'YYYY-MM-DD') as "issueDate",
  to_char(due_date, 'YYYY-MM-DD') as "dueDate", to_char(settled_date, 'YYYY-MM-DD') as "settledDate",
  rebill_of as "rebillOf", change_seq as "changeSeq", updated_at as "updatedAt"`;

export async function ledgerBalance(db: Db, tenantId: string, invoiceNumber: string, opts: { forUpdate?: boolean } = {}): Promise<LedgerBalanceRow | undefined> {
  const [row] = await db<LedgerBalanceRow[]>`
    select ${BALANCE_COLUMNS(db)} from ledger_invoices where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}
    ${opts.forUpdate ? db`for update` : db``}`;
  return row;
}

/** The ledger's rows changed after `afterSeq`, oldest change first. */
export async function ledgerChangesAfter(db: Db, tenantId: string, afterSeq: number, limit: number): Promise<LedgerBalanceRow[]> {
  return db<LedgerBalanceRow[]>`
    select ${BALANCE_COLUMNS(db)} from ledger_invoices where tenant_id = ${tenantId} and change_seq > ${afterSeq}
    order by change_seq limit ${limit}`;
}

/** Serialises postings of one key (a retry racing its first attempt waits for it, then finds its answer). */
export async function lockPostingKey(tx: TransactionSql, tenantId: string, kind: LedgerAdjustmentKind, key: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(hashtext(${`ledger-posting:${tenantId}:${kind}:${key}`}))`;
}

export async function postingAnswer<T>(db: Db, tenantId: string, kind: LedgerAdjustmentKind, key: string): Promise<T | undefined> {
  const [row] = await db<{ answer: T }[]>`
    select answer from ledger_adjustments where tenant_id = ${tenantId} and kind = ${kind} and idempotency_key = ${key}`;
  return row?.answer;
}

export async function recordPosting(
  tx: TransactionSql,
  p: { tenantId: string; kind: LedgerAdjustmentKind; key: string; documentId: string; invoiceNumber: string; amountMinor: number; currency: string; answer: unknown },
): Promise<void> {
  await tx`
    insert into ledger_adjustments (tenant_id, kind, idempotency_key, document_id, invoice_number, amount_minor, currency, answer)
    values (${p.tenantId}, ${p.kind}, ${p.key}, ${p.documentId}, ${p.invoiceNumber}, ${p.amountMinor}, ${p.currency}, ${tx.json(p.answer as never)})`;
}

/** How many postings of this kind the invoice has had (numbers the next credit memo or journal). */
export async function postingCount(db: Db, tenantId: string, kind: LedgerAdjustmentKind, invoiceNumber: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`
    select count(*)::int as n from ledger_adjustments where tenant_id = ${tenantId} and kind = ${kind} and invoice_number = ${invoiceNumber}`;
  return row!.n;
}

/** Lowers the open amount; at zero the invoice takes `closedAs` and is settled on `today` (not before its issue date). */
export async function reduceOpenAmount(tx: TransactionSql, tenantId: string, invoiceNumber: string, amountMinor: number, closedAs: LedgerStatus, today: string): Promise<LedgerBalanceRow> {
  const [row] = await tx<LedgerBalanceRow[]>`
    update ledger_invoices set
      open_amount_minor = open_amount_minor - ${amountMinor},
      status = case when open_amount_minor - ${amountMinor} = 0 then ${closedAs} else status end,
      settled_date = case when open_amount_minor - ${amountMinor} = 0 then greatest(issue_date, ${today}::date) else settled_date end
    where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}
    returning ${BALANCE_COLUMNS(tx)}`;
  return row!;
}

export async function rebillsOf(db: Db, tenantId: string, invoiceNumber: string): Promise<number> {
  const [row] = await db<{ n: number }[]>`select count(*)::int as n from ledger_invoices where tenant_id = ${tenantId} and rebill_of = ${invoiceNumber}`;
  return row!.n;
}

export async function insertRebill(
  tx: TransactionSql,
  r: { tenantId: string; invoiceNumber: string; original: LedgerBalanceRow; amountMinor: number; issueDate: string; dueDate: string },
): Promise<void> {
  await tx`
    insert into ledger_invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, status, issue_date, due_date,
      settled_date, rebill_of, disputed, source)
    values (${r.tenantId}, ${r.invoiceNumber}, ${r.original.customerId}, ${r.original.currency}, ${r.amountMinor}, ${r.amountMinor},
      ${r.amountMinor > 0 ? 'open' : 'paid'}, ${r.issueDate}, ${r.dueDate}, ${r.amountMinor > 0 ? null : r.issueDate}, ${r.original.invoiceNumber}, false, 'import')`;
}
