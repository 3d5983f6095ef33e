import type { ImportedCustomer, ImportedInvoice, RowIssue } from '../domain/imports/rows';
import type { Db, TransactionSql } from './sql';

/**
 * Bulk imports (migration 015): the jobs with their progress and counts, the per-row report, the staging of one
 * file's rows inside its transaction, and the ledger's customers. The ledger's invoices themselves are written by
 * db/ledger.ts (upsertLedgerInvoices).
 */

declare module './audit-events' {
  interface AuditDetailsByType {
    /** An import job finished (api/imports-service.ts, the import CLI): its counts, whether it stored anything. */
    import_finished: { importId: number; fileName: string; preset: string | null; mode: ImportMode; status: 'succeeded' | 'failed'; stored: boolean; counts: ImportCounts; error: string | null };
    /** Ledger mode (ERP_KIND=ledger) posted a payment, credit memo, write-off or rebill to the ledger. */
    ledger_adjusted: { kind: LedgerAdjustmentKind; documentId: string; amountMinor: number; currency: string; openAmountMinorAfter: number | null };
  }
}

export type ImportMode = 'dry_run' | 'all_or_nothing' | 'keep_good';
export type ImportStatus = 'queued' | 'running' | 'succeeded' | 'failed';
export type ImportPhase = 'queued' | 'reading' | 'writing' | 'done';
export type RowOutcome = 'created' | 'updated' | 'unchanged' | 'rejected' | 'skipped';
export type LedgerAdjustmentKind = 'payment' | 'credit_memo' | 'write_off' | 'rebill';

export interface ImportCounts {
  created: number;
  updated: number;
  unchanged: number;
  rejected: number;
  skipped: number;
  customersWritten: number;
}

export interface ImportJob extends ImportCounts {
  id: number;
  tenantId: string;
  fileName: string;
  format: 'csv' | 'xlsx';
  preset: string | null;
  mode: ImportMode;
  status: ImportStatus;
  phase: ImportPhase;
  requestedBy: string;
  erpKind: string;
  header: string[] | null;
  bytesTotal: number;
  bytesRead: number;
  rowsRead: number;
  rowsPerSecond: number;
  stored: boolean;
  error: string | null;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

/** PostgreSQL stores no NUL in text or jsonb: a file's cells keep everything else (a rejected row's reason names it). */
const noNul = (v: string) => (v.includes('\u0000') ? v.replace(/\u0000/g, '\ufffd') : v);
const cellsWithoutNul = (cells: (string | number)[]) => cells.map((c) => (typeof c === 'string' ? noNul(c) : c));

const JOB_COLUMNS = (db: Db) => db`
  id, tenant_id as "tenantId", file_name as "fileName", format, preset, mode, status, phase, requested_by as "requestedBy",
  erp_kind as "erpKind", header, bytes_total as "bytesTotal", bytes_read as "bytesRead", rows_read as "rowsRead",
  rows_per_second as "rowsPerSecond", created, updated, unchanged, rejected, skipped, customers_written as "customersWritten",
  stored, error, created_at as "createdAt", started_at as "startedAt", finished_at as "finishedAt"`;

export async function createImportJob(
  db: Db,
  job: { tenantId: string; fileName: string; format: 'csv' | 'xlsx'; preset: string | null; mode: ImportMode; requestedBy: string; erpKind: string; bytesTotal: number },
): Promise<number> {
  const [row] = await db<{ id: number }[]>`
    insert into import_jobs (tenant_id, file_name, format, preset, mode, requested_by, erp_kind, bytes_total)
    values (${job.tenantId}, ${job.fileName}, ${job.format}, ${job.preset}, ${job.mode}, ${job.requestedBy}, ${job.erpKind}, ${job.bytesTotal})
    returning id`;
  return row!.id;
}

export async function importJob(db: Db, tenantId: string, id: number): Promise<ImportJob | undefined> {
  const [row] = await db<ImportJob[]>`select ${JOB_COLUMNS(db)} from import_jobs where tenant_id = ${tenantId} and id = ${id}`;
  return row && { ...row, createdAt: iso(row.createdAt)!, startedAt: iso(row.startedAt), finishedAt: iso(row.finishedAt) };
}

/** The tenant's jobs, newest first, before `beforeId` (paging). */
export async function importJobs(db: Db, tenantId: string, q: { beforeId?: number; limit: number }): Promise<ImportJob[]> {
  const rows = await db<ImportJob[]>`
    select ${JOB_COLUMNS(db)} from import_jobs
    where tenant_id = ${tenantId} ${q.beforeId ? db`and id < ${q.beforeId}` : db``}
    order by id desc limit ${q.limit}`;
  return rows.map((row) => ({ ...row, createdAt: iso(row.createdAt)!, startedAt: iso(row.startedAt), finishedAt: iso(row.finishedAt) }));
}

const iso = (d: unknown): string | null => (d instanceof Date ? d.toISOString() : (d as string | null));

export async function startImportJob(db: Db, id: number): Promise<void> {
  await db`update import_jobs set status = 'running', phase = 'reading', started_at = now() where id = ${id}`;
}

export async function updateImportProgress(
  db: Db,
  id: number,
  p: { phase: ImportPhase; preset?: string | null; header?: string[] | null; bytesRead: number; rowsRead: number; rowsPerSecond: number },
): Promise<void> {
  await db`
    update import_jobs set phase = ${p.phase}, bytes_read = ${p.bytesRead}, rows_read = ${p.rowsRead}, rows_per_second = ${p.rowsPerSecond},
      preset = coalesce(${p.preset ?? null}, preset), header = coalesce(${p.header ? db.json(p.header.map(noNul)) : null}, header)
    where id = ${id}`;
}

export async function finishImportJob(
  db: Db,
  id: number,
  r: ImportCounts & { status: 'succeeded' | 'failed'; stored: boolean; error: string | null; rowsRead: number; bytesRead: number; rowsPerSecond: number },
): Promise<void> {
  await db`
    update import_jobs set status = ${r.status}, phase = 'done', stored = ${r.stored}, error = ${r.error}, rows_read = ${r.rowsRead},
      bytes_read = ${r.bytesRead}, rows_per_second = ${r.rowsPerSecond}, created = ${r.created}, updated = ${r.updated},
      unchanged = ${r.unchanged}, rejected = ${r.rejected}, skipped = ${r.skipped}, customers_written = ${r.customersWritten},
      finished_at = now()
    where id = ${id}`;
}

/** Jobs a stopped process left running: their transaction never committed, so nothing of them is stored. */
export async function failInterruptedImports(db: Db, tenantId: string, note: string): Promise<number> {
  const rows = await db`
    update import_jobs set status = 'failed', phase = 'done', stored = false, error = ${note}, finished_at = now()
    where tenant_id = ${tenantId} and status in ('queued', 'running') returning id`;
  return rows.length;
}

export interface ImportReportRow {
  rowNumber: number;
  outcome: RowOutcome;
  invoiceNumber: string | null;
  issues: RowIssue[];
  cells?: (string | number)[] | null;
}

/** Appends report rows (one statement per call; the caller batches). */
export async function appendImportRows(db: Db, importId: number, rows: ImportReportRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db`insert into import_rows ${db(
    rows.map((r) => ({
      import_id: importId,
      row_number: r.rowNumber,
      outcome: r.outcome,
      invoice_number: r.invoiceNumber === null ? null : noNul(r.invoiceNumber),
      issues: db.json(r.issues.map((i) => ({ column: noNul(i.column), reason: noNul(i.reason) })) as never),
      cells: r.cells ? db.json(cellsWithoutNul(r.cells)) : null,
    })),
  )}`;
}

/** One page of the report, by row number, optionally of one outcome. */
export async function importReport(db: Db, importId: number, q: { outcome?: RowOutcome; afterRow?: number; limit: number }): Promise<ImportReportRow[]> {
  return db<ImportReportRow[]>`
    select row_number as "rowNumber", outcome, invoice_number as "invoiceNumber", issues
    from import_rows
    where import_id = ${importId} and row_number > ${q.afterRow ?? 0} ${q.outcome ? db`and outcome = ${q.outcome}` : db``}
    order by row_number limit ${q.limit}`;
}

/** The rejected rows with their cells, a thousand at a time (the reject file). */
export async function* rejectedRows(db: Db, importId: number): AsyncGenerator<{ rowNumber: number; cells: (string | number)[] | null; issues: RowIssue[] }> {
  let after = 0;
  for (;;) {
    const rows = await db<{ rowNumber: number; cells: (string | number)[] | null; issues: RowIssue[] }[]>`
      select row_number as "rowNumber", cells, issues from import_rows
      where import_id = ${importId} and outcome = 'rejected' and row_number > ${after} order by row_number limit 1000`;
    yield* rows;
    if (rows.length < 1000) return;
    after = rows[rows.length - 1]!.rowNumber;
  }
}

// ---------------------------------------------------------------------------------------- staging (one transaction)

export interface StagedRow {
  rowNumber: number;
  invoice: ImportedInvoice;
  customer: ImportedCustomer;
  fingerprint: string;
  cells: (string | number)[];
}

/** A temporary table for the file's good rows, dropped when the import's transaction ends. */
export async function createStaging(tx: TransactionSql): Promise<void> {
  await tx`
    create temporary table import_staging (
      row_number int primary key, invoice_number text not null, fingerprint text not null,
      invoice jsonb not null, customer jsonb not null, cells jsonb not null
    ) on commit drop`;
  await tx`create index on import_staging (invoice_number)`;
}

export async function stageRows(tx: TransactionSql, rows: StagedRow[]): Promise<void> {
  if (rows.length === 0) return;
  await tx`insert into import_staging ${tx(
    rows.map((r) => ({
      row_number: r.rowNumber,
      invoice_number: r.invoice.invoiceNumber,
      fingerprint: r.fingerprint,
      invoice: tx.json(r.invoice as never),
      customer: tx.json(r.customer as never),
      cells: tx.json(cellsWithoutNul(r.cells)),
    })),
  )}`;
}

/**
 * Takes out of staging every row of an invoice number that the file gives with different data (all of them are
 * rejected) and every later copy of an identical row (counted once): answers both, by row.
 */
export async function takeStagedDuplicates(tx: TransactionSql): Promise<{
  conflicting: { rowNumber: number; invoiceNumber: string; rows: number[]; cells: (string | number)[] }[];
  repeated: { rowNumber: number; invoiceNumber: string; first: number }[];
}> {
  const conflicting = await tx<{ rowNumber: number; invoiceNumber: string; rows: number[]; cells: (string | number)[] }[]>`
    with bad as (
      select invoice_number, array_agg(row_number order by row_number) as rows from import_staging
      group by invoice_number having count(distinct fingerprint) > 1
    )
    delete from import_staging s using bad where s.invoice_number = bad.invoice_number
    returning s.row_number as "rowNumber", s.invoice_number as "invoiceNumber", bad.rows, s.cells`;
  const repeated = await tx<{ rowNumber: number; invoiceNumber: string; first: number }[]>`
    with firsts as (select invoice_number, min(row_number) as first from import_staging group by invoice_number having count(*) > 1)
    delete from import_staging s using firsts where s.invoice_number = firsts.invoice_number and s.row_number > firsts.first
    returning s.row_number as "rowNumber", s.invoice_number as "invoiceNumber", firsts.first`;
  return { conflicting, repeated };
}

export async function stagedBatch(tx: TransactionSql, afterRow: number, limit: number): Promise<StagedRow[]> {
  return tx<StagedRow[]>`
    select row_number as "rowNumber", invoice, customer, fingerprint, cells from import_staging
    where row_number > ${afterRow} order by row_number limit ${limit}`;
}

/** What the ERP said of an invoice, as the ledger holds it (the fields an import also gives). */
export interface ErpOwnedInvoice {
  customerId: string;
  currency: string;
  amountMinor: number;
  openAmountMinor: number;
  status: string;
  dueDate: string;
}

/** Of these invoices, those the ERP sync wrote (with an ERP connected, the ERP's word wins), by number. */
export async function erpOwnedInvoices(db: Db, tenantId: string, invoiceNumbers: string[]): Promise<Map<string, ErpOwnedInvoice>> {
  if (invoiceNumbers.length === 0) return new Map();
  const rows = await db<(ErpOwnedInvoice & { invoiceNumber: string })[]>`
    select invoice_number as "invoiceNumber", customer_id as "customerId", currency, amount_minor as "amountMinor",
      open_amount_minor as "openAmountMinor", status, to_char(due_date, 'YYYY-MM-DD') as "dueDate"
    from ledger_invoices where tenant_id = ${tenantId} and source = 'erp' and invoice_number = any(${invoiceNumbers})`;
  return new Map(rows.map(({ invoiceNumber, ...r }) => [invoiceNumber, r]));
}

/**
 * Writes the customers of a batch: a field the file lacks keeps what the ledger knew; a customer the ERP wrote is
 * left alone. Returns how many rows were created or changed.
 */
export async function upsertLedgerCustomers(db: Db, tenantId: string, customers: ImportedCustomer[], importId: number): Promise<number> {
  if (customers.length === 0) return 0;
  const byId = new Map<string, ImportedCustomer>();
  for (const c of customers) {
    const seen = byId.get(c.customerId);
    byId.set(c.customerId, seen ? { customerId: c.customerId, name: c.name ?? seen.name, email: c.email ?? seen.email, country: c.country ?? seen.country } : c);
  }
  const rows = [...byId.values()].map((c) => ({ tenant_id: tenantId, customer_id: c.customerId, name: c.name, email: c.email, country: c.country, source: 'import', import_id: importId }));
  const written = await db`
    insert into ledger_customers ${db(rows)}
    on conflict (tenant_id, customer_id) do update set
      name = coalesce(excluded.name, ledger_customers.name), email = coalesce(excluded.email, ledger_customers.email),
      country = coalesce(excluded.country, ledger_customers.country), import_id = excluded.import_id, updated_at = now()
    where ledger_customers.source <> 'erp'
      and (ledger_customers.name, ledger_customers.email, ledger_customers.country) is distinct from
          (coalesce(excluded.name, ledger_customers.name), coalesce(excluded.email, ledger_customers.email), coalesce(excluded.country, ledger_customers.country))
    returning customer_id`;
  return written.length;
}

export interface LedgerCustomerRow {
  customerId: string;
  name: string | null;
  email: string | null;
  country: string | null;
}

export async function ledgerCustomers(db: Db, tenantId: string, customerIds: string[]): Promise<LedgerCustomerRow[]> {
  if (customerIds.length === 0) return [];
  return db<LedgerCustomerRow[]>`
    select customer_id as "customerId", name, email, country from ledger_customers
    where tenant_id = ${tenantId} and customer_id = any(${customerIds})`;
}
