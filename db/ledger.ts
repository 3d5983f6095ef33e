import type { Db } from './sql';

/**
 * The receivables ledger (ledger_invoices, migration 013): what the ERP sync and the file imports write, one
 * batch per statement. An upsert reports per invoice whether it created, changed or left the row as it was,
 * so that a re-run of the same page or file is seen to change nothing.
 */

export type LedgerStatus = 'open' | 'paid' | 'credited' | 'written_off' | 'cancelled';

export interface LedgerInvoice {
  invoiceNumber: string;
  customerId: string;
  currency: string;
  amountMinor: number;
  openAmountMinor: number;
  status: LedgerStatus;
  /** YYYY-MM-DD */
  issueDate: string;
  /** YYYY-MM-DD */
  dueDate: string;
  /** YYYY-MM-DD; null while open. */
  settledDate: string | null;
  rebillOf: string | null;
  disputed: boolean;
}

export interface LedgerSource {
  source: 'erp' | 'import';
  /** Per invoice number (sync): the ERP's id and change instant. */
  erp?: Map<string, { erpId: string; changedAt: string }>;
  /** The import job writing the rows. */
  importId?: number;
}

export type LedgerOutcome = 'created' | 'updated' | 'unchanged';

export interface LedgerRow {
  tenant_id: string;
  invoice_number: string;
  customer_id: string;
  currency: string;
  amount_minor: number;
  open_amount_minor: number;
  status: LedgerStatus;
  issue_date: string;
  due_date: string;
  settled_date: string | null;
  rebill_of: string | null;
  disputed: boolean;
  source: 'erp' | 'import';
  erp_id: string | null;
  change_seq: number;
}

/**
 * Writes a batch of invoices (one statement); returns each invoice's outcome. The row's change number
 * moves only when its data changed (trigger of migration 013).
 */
export async function upsertLedgerInvoices(db: Db, tenantId: string, invoices: LedgerInvoice[], from: LedgerSource): Promise<Map<string, LedgerOutcome>> {
  const outcomes = new Map<string, LedgerOutcome>();
  if (invoices.length === 0) return outcomes;
  const rows = invoices.map((i) => ({
    tenant_id: tenantId,
    invoice_number: i.invoiceNumber,
    customer_id: i.customerId,
    currency: i.currency,
    amount_minor: i.amountMinor,
    open_amount_minor: i.openAmountMinor,
    status: i.status,
    issue_date: i.issueDate,
    due_date: i.dueDate,
    settled_date: i.settledDate,
    rebill_of: i.rebillOf,
    disputed: i.disputed,
    source: from.source,
    erp_id: from.erp?.get(i.invoiceNumber)?.erpId ?? null,
    erp_changed_at: from.erp?.get(i.invoiceNumber)?.changedAt ?? null,
    import_id: from.importId ?? null,
  }));
  const before = new Map(
    (
      await db<{ invoice_number: string; change_seq: number }[]>`
        select invoice_number, change_seq from ledger_invoices
        where tenant_id = ${tenantId} and invoice_number = any(${invoices.map((i) => i.invoiceNumber)})`
    ).map((r) => [r.invoice_number, r.change_seq]),
  );
  const written = await db<{ invoice_number: string; change_seq: number }[]>`
    insert into ledger_invoices ${db(rows)}
    on conflict (tenant_id, invoice_number) do update set
      customer_id = excluded.customer_id, currency = excluded.currency, amount_minor = excluded.amount_minor,
      open_amount_minor = excluded.open_amount_minor, status = excluded.status, issue_date = excluded.issue_date,
      due_date = excluded.due_date, settled_date = excluded.settled_date, rebill_of = excluded.rebill_of,
      disputed = excluded.disputed, source = excluded.source,
      erp_id = coalesce(excluded.erp_id, ledger_invoices.erp_id),
      erp_changed_at = coalesce(excluded.erp_changed_at, ledger_invoices.erp_changed_at),
      import_id = coalesce(excluded.import_id, ledger_invoices.import_id)
    returning invoice_number, change_seq`;
  for (const r of written) {
    const was = before.get(r.invoice_number);
    outcomes.set(r.invoice_number, was === undefined ? 'created' : was === r.change_seq ? 'unchanged' : 'updated');
  }
  return outcomes;
}

/** One invoice of the ledger, or undefined. */
export async function ledgerInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<LedgerRow | undefined> {
  const [row] = await db<LedgerRow[]>`
    select tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, status,
      to_char(issue_date, 'YYYY-MM-DD') as issue_date, to_char(due_date, 'YYYY-MM-DD') as due_date,
      to_char(settled_date, 'YYYY-MM-DD') as settled_date, rebill_of, disputed, source, erp_id, change_seq
    from ledger_invoices where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}`;
  return row;
}
