import type { Segment } from '../domain/cadence';
import { TERMINAL_STAGES, type DunningStage } from '../domain/invoice-state';
import type { Db } from './sql';

/**
 * Enrolled invoices (invoices). The ERP is the system of record for amounts; this row mirrors the
 * invoice's dunning state for lists and reports, written from the invoice workflow's events.
 */

export interface InvoiceRow {
  tenant_id: string;
  invoice_number: string;
  customer_id: string;
  currency: string;
  amount_minor: number;
  open_amount_minor: number;
  issue_date: Date;
  due_date: Date;
  workflow_id: string;
  cadence_id: string;
  cadence_version: number;
  stage: DunningStage;
  next_step_id: string | null;
  next_step_action: string | null;
  next_step_at: Date | null;
  paused_until: Date | null;
  promise_date: Date | null;
  disputed_amount_minor: number;
  mirror_seq: number | null;
  enrolled_at: Date;
  updated_at: Date;
}

/** The dunning state an event shows, as the invoice lists read it. */
export interface InvoiceMirror {
  stage: DunningStage;
  openAmountMinor: number;
  nextStep: { stepId: string; action: string; at: string } | null;
  pausedUntil: string | null;
  promiseDate: string | null;
}

/**
 * Writes the mirror as of the workflow's event number `seq`, unless the row already shows that
 * event or a later one: a late or retried activity never overwrites newer state. Without a
 * sequence number the mirror is written unconditionally and keeps the one it had.
 * Returns whether the row was written.
 */
export async function writeInvoiceMirror(
  db: Db,
  ref: { tenantId: string; invoiceNumber: string },
  mirror: InvoiceMirror,
  seq: number | undefined,
): Promise<boolean> {
  const rows = await db`
    update invoices set stage = ${mirror.stage}, open_amount_minor = ${mirror.openAmountMinor},
      next_step_id = ${mirror.nextStep?.stepId ?? null}, next_step_action = ${mirror.nextStep?.action ?? null}, next_step_at = ${mirror.nextStep?.at ?? null},
      paused_until = ${mirror.pausedUntil}, promise_date = ${mirror.promiseDate}, updated_at = now()
      ${seq === undefined ? db`` : db`, mirror_seq = ${seq}`}
    where tenant_id = ${ref.tenantId} and invoice_number = ${ref.invoiceNumber}
      ${seq === undefined ? db`` : db`and (mirror_seq is null or mirror_seq < ${seq})`}
    returning invoice_number`;
  return rows.length > 0;
}

/** The cadence version the invoice runs now (after a migration). */
export async function setInvoiceCadence(db: Db, ref: { tenantId: string; invoiceNumber: string }, cadence: { id: string; version: number }): Promise<void> {
  await db`update invoices set cadence_id = ${cadence.id}, cadence_version = ${cadence.version}
           where tenant_id = ${ref.tenantId} and invoice_number = ${ref.invoiceNumber}`;
}

/** The ERP moved the invoice's due date (an extension the sync brought in): lists and aging follow. */
export async function setInvoiceDueDate(db: Db, ref: { tenantId: string; invoiceNumber: string }, dueDate: string): Promise<void> {
  await db`update invoices set due_date = ${dueDate} where tenant_id = ${ref.tenantId} and invoice_number = ${ref.invoiceNumber}`;
}

/** Adds an opened dispute's amount to the amount under dispute, or (negative) takes a settled one off, never below 0. */
export async function changeDisputedAmount(db: Db, ref: { tenantId: string; invoiceNumber: string }, deltaMinor: number): Promise<void> {
  await db`update invoices set disputed_amount_minor = greatest(0, disputed_amount_minor + ${deltaMinor})
           where tenant_id = ${ref.tenantId} and invoice_number = ${ref.invoiceNumber}`;
}

/** An open invoice as a statement lists it: what is asked for, the disputed amount left out. */
export interface StatementLine {
  invoiceNumber: string;
  dueDate: string;
  openAmountMinor: number;
  currency: string;
}

/** The customer's invoices still in dunning with an undisputed amount open, oldest due first. */
export async function statementLinesOfCustomer(db: Db, tenantId: string, customerId: string): Promise<StatementLine[]> {
  return db<StatementLine[]>`
    select invoice_number as "invoiceNumber", to_char(due_date, 'YYYY-MM-DD') as "dueDate",
           open_amount_minor - disputed_amount_minor as "openAmountMinor", currency
    from invoices
    where tenant_id = ${tenantId} and customer_id = ${customerId} and open_amount_minor - disputed_amount_minor > 0
      and stage <> all(${TERMINAL_STAGES as string[]})
    order by due_date, invoice_number`;
}

/** The row with its dates as ISO days and its days past due in the customer's time zone today. */
export type InvoiceWithAge = InvoiceRow & { issue_day: string; due_day: string; promise_day: string | null; days_past_due: number };

export async function invoiceWithAge(db: Db, tenantId: string, invoiceNumber: string): Promise<InvoiceWithAge | undefined> {
  const [row] = await db<InvoiceWithAge[]>`
    select i.*, to_char(i.issue_date, 'YYYY-MM-DD') as issue_day, to_char(i.due_date, 'YYYY-MM-DD') as due_day,
           to_char(i.promise_date, 'YYYY-MM-DD') as promise_day,
           ((now() at time zone c.time_zone)::date - i.due_date) as days_past_due
    from invoices i join customers c on c.tenant_id = i.tenant_id and c.customer_id = i.customer_id
    where i.tenant_id = ${tenantId} and i.invoice_number = ${invoiceNumber}`;
  return row;
}

/** An invoice as access checks and the people's services read it, with its customer's collector (the portfolio). */
export interface InvoiceAccessRow {
  customer_id: string;
  workflow_id: string;
  stage: DunningStage;
  open_amount_minor: number;
  currency: string;
  /** YYYY-MM-DD */
  due_date: string;
  cadence_id: string;
  cadence_version: number;
  collector_id: string | null;
}

export async function invoiceWithCollector(db: Db, tenantId: string, invoiceNumber: string): Promise<InvoiceAccessRow | undefined> {
  const [row] = await db<InvoiceAccessRow[]>`
    select i.customer_id, i.workflow_id, i.stage, i.open_amount_minor, i.currency, to_char(i.due_date, 'YYYY-MM-DD') as due_date,
           i.cadence_id, i.cadence_version, c.collector_id
    from invoices i join customers c on c.tenant_id = i.tenant_id and c.customer_id = i.customer_id
    where i.tenant_id = ${tenantId} and i.invoice_number = ${invoiceNumber}`;
  return row;
}

/** The customer's invoices still in dunning, by number. */
export async function openInvoicesOfCustomer(db: Db, tenantId: string, customerId: string): Promise<{ invoice_number: string; workflow_id: string }[]> {
  return db<{ invoice_number: string; workflow_id: string }[]>`
    select invoice_number, workflow_id from invoices where tenant_id = ${tenantId} and customer_id = ${customerId}
      and stage <> all(${TERMINAL_STAGES as string[]}) order by invoice_number`;
}

/** What a preview of an enrolled invoice's cadence needs: the invoice (dates as ISO days), its pinned cadence and its customer. */
export interface InvoicePreviewFacts {
  currency: string;
  amount_minor: number;
  open_amount_minor: number;
  due_date: string;
  cadence_id: string;
  cadence_version: number;
  time_zone: string;
  segment: Segment;
  country: string | null;
  region: string | null;
  do_not_contact: boolean;
}

export async function invoicePreviewFacts(db: Db, tenantId: string, invoiceNumber: string): Promise<InvoicePreviewFacts | undefined> {
  const [row] = await db<InvoicePreviewFacts[]>`
    select i.currency, i.amount_minor, i.open_amount_minor, to_char(i.due_date, 'YYYY-MM-DD') as due_date, i.cadence_id, i.cadence_version,
           c.time_zone, c.segment, c.country, c.region, c.do_not_contact
    from invoices i join customers c using (tenant_id, customer_id)
    where i.tenant_id = ${tenantId} and i.invoice_number = ${invoiceNumber}`;
  return row;
}

/** An invoice's row with its dates as ISO days, as the invoice view and enrollment read it. */
export type InvoiceDays = Omit<InvoiceRow, 'tenant_id' | 'issue_date' | 'due_date' | 'promise_date' | 'mirror_seq' | 'enrolled_at' | 'updated_at'> & {
  issue_date: string;
  due_date: string;
  promise_date: string | null;
};

export async function invoiceWithDays(db: Db, tenantId: string, invoiceNumber: string): Promise<InvoiceDays | undefined> {
  const [row] = await db<InvoiceDays[]>`
    select invoice_number, customer_id, currency, amount_minor, open_amount_minor, to_char(issue_date, 'YYYY-MM-DD') as issue_date,
           to_char(due_date, 'YYYY-MM-DD') as due_date, workflow_id, cadence_id, cadence_version, stage, next_step_id, next_step_action, next_step_at,
           paused_until, to_char(promise_date, 'YYYY-MM-DD') as promise_date, disputed_amount_minor
    from invoices where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}`;
  return row;
}

export async function invoiceExists(db: Db, tenantId: string, invoiceNumber: string): Promise<boolean> {
  const rows = await db`select 1 from invoices where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}`;
  return rows.length > 0;
}

export interface NewInvoice {
  tenantId: string;
  invoiceNumber: string;
  customerId: string;
  currency: string;
  amountMinor: number;
  issueDate: string;
  dueDate: string;
  workflowId: string;
  cadence: { id: string; version: number };
}

/** Enrolls the invoice (its whole amount open) unless it is there already; false when it was. */
export async function insertInvoiceOnce(db: Db, i: NewInvoice): Promise<boolean> {
  const rows = await db`
    insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                          workflow_id, cadence_id, cadence_version)
    values (${i.tenantId}, ${i.invoiceNumber}, ${i.customerId}, ${i.currency}, ${i.amountMinor}, ${i.amountMinor},
            ${i.issueDate}, ${i.dueDate}, ${i.workflowId}, ${i.cadence.id}, ${i.cadence.version})
    on conflict (tenant_id, invoice_number) do nothing returning invoice_number`;
  return rows.length > 0;
}

/** An invoice as the list shows it. */
export type InvoiceListRow = Pick<
  InvoiceDays,
  'invoice_number' | 'customer_id' | 'currency' | 'amount_minor' | 'open_amount_minor' | 'due_date' | 'stage' | 'next_step_id' | 'next_step_action' | 'next_step_at' | 'paused_until' | 'promise_date'
>;

export interface InvoiceFilter {
  stage?: string;
  customerId?: string;
  /** Only customers of this collector now (a portfolio). */
  collectorId?: string;
  currency?: string;
  /** Open amount (minor units of the invoice's currency) at least / at most. */
  minAmountMinor?: number;
  maxAmountMinor?: number;
  /** Due on or after / on or before (YYYY-MM-DD). */
  dueFrom?: string;
  dueTo?: string;
  cadenceId?: string;
  /** With (true) or without (false) an open or escalated dispute. */
  disputed?: boolean;
  /** With an open promise (or installment) to pay, or without. */
  promise?: 'active' | 'none';
  /** Days past due today (in the reporting zone, report_settings) within [min, max] (either end open): an aging bucket. */
  daysPastDue?: { min?: number; max?: number };
  limit: number;
  offset: number;
  /** Keyset paging: the page after this invoice in the order (due_date, invoice_number). */
  after?: InvoiceCursor;
  /** Another order than due date ascending (offset paging). */
  sort?: InvoiceSort;
}

export type InvoiceSort = { by: 'dueDate' | 'openAmount' | 'daysPastDue' | 'invoiceNumber'; order: 'asc' | 'desc' };

/** The list's orders, on the table's columns (see pageOfInvoices); ties by invoice number. */
const INVOICE_ORDER: Record<InvoiceSort['by'], Record<InvoiceSort['order'], string>> = {
  dueDate: { asc: 'invoices.due_date asc, invoices.invoice_number asc', desc: 'invoices.due_date desc, invoices.invoice_number desc' },
  openAmount: { asc: 'invoices.open_amount_minor asc, invoices.invoice_number asc', desc: 'invoices.open_amount_minor desc, invoices.invoice_number asc' },
  // More days past due = an earlier due date.
  daysPastDue: { asc: 'invoices.due_date desc, invoices.invoice_number asc', desc: 'invoices.due_date asc, invoices.invoice_number asc' },
  invoiceNumber: { asc: 'invoices.invoice_number asc', desc: 'invoices.invoice_number desc' },
};

/** Where a page of the invoice list starts: after this invoice. */
export interface InvoiceCursor {
  /** YYYY-MM-DD */
  dueDate: string;
  invoiceNumber: string;
}

export type InvoiceWhere = Omit<InvoiceFilter, 'limit' | 'offset' | 'after' | 'sort'>;

const invoiceListWhere = (db: Db, tenantId: string, f: InvoiceWhere) => db`
  invoices.tenant_id = ${tenantId}
  ${f.stage ? db`and invoices.stage = ${f.stage}` : db``}
  ${f.customerId ? db`and invoices.customer_id = ${f.customerId}` : db``}
  ${f.collectorId !== undefined ? db`and invoices.collector_id = ${f.collectorId}` : db``}
  ${f.currency !== undefined ? db`and invoices.currency = ${f.currency}` : db``}
  ${f.minAmountMinor !== undefined ? db`and invoices.open_amount_minor >= ${f.minAmountMinor}` : db``}
  ${f.maxAmountMinor !== undefined ? db`and invoices.open_amount_minor <= ${f.maxAmountMinor}` : db``}
  ${f.dueFrom !== undefined ? db`and invoices.due_date >= ${f.dueFrom}::date` : db``}
  ${f.dueTo !== undefined ? db`and invoices.due_date <= ${f.dueTo}::date` : db``}
  ${f.cadenceId !== undefined ? db`and invoices.cadence_id = ${f.cadenceId}` : db``}
  ${f.daysPastDue?.min !== undefined ? db`and invoices.due_date <= ar_zone_today(${tenantId}, now()) - ${f.daysPastDue.min}::int` : db``}
  ${f.daysPastDue?.max !== undefined ? db`and invoices.due_date >= ar_zone_today(${tenantId}, now()) - ${f.daysPastDue.max}::int` : db``}
  ${f.disputed !== undefined
    ? db`and ${f.disputed ? db`` : db`not`} exists (select 1 from disputes d where d.tenant_id = invoices.tenant_id and d.invoice_number = invoices.invoice_number and d.status in ('open', 'escalated'))`
    : db``}
  ${f.promise !== undefined
    ? db`and ${f.promise === 'active' ? db`` : db`not`} exists (select 1 from promises p where p.tenant_id = invoices.tenant_id and p.invoice_number = invoices.invoice_number and p.status = 'open')`
    : db``}`;

/**
 * A page of invoices, the earliest due first; one row more than the limit is read: whether a next page
 * exists. An index serves the order and the filters (migrations 010 and 012: for everyone, per stage, per
 * customer, per collector through invoices.collector_id, which follows the customer's). The order names
 * the table's columns: a bare `due_date` would be the select list's text column of the same name, which
 * sorts the same but no index serves (every invoice of the filter was read and sorted).
 */
export async function pageOfInvoices(db: Db, tenantId: string, f: InvoiceFilter): Promise<{ rows: InvoiceListRow[]; more: boolean }> {
  const rows = await db<InvoiceListRow[]>`
    select invoice_number, customer_id, currency, amount_minor, open_amount_minor, to_char(due_date, 'YYYY-MM-DD') as due_date,
           stage, next_step_id, next_step_action, next_step_at, paused_until, to_char(promise_date, 'YYYY-MM-DD') as promise_date
    from invoices
    where ${invoiceListWhere(db, tenantId, f)}
      ${f.after ? db`and (invoices.due_date, invoices.invoice_number) > (${f.after.dueDate}::date, ${f.after.invoiceNumber})` : db``}
    ${f.sort ? db`order by ${db.unsafe(INVOICE_ORDER[f.sort.by][f.sort.order])}` : db`order by invoices.due_date, invoices.invoice_number`}
    limit ${f.limit + 1} offset ${f.after ? 0 : f.offset}`;
  return { rows: rows.slice(0, f.limit), more: rows.length > f.limit };
}

/** How many invoices the list's filter selects (an index-only count on the list's indexes). */
export async function countOfInvoices(db: Db, tenantId: string, f: InvoiceWhere): Promise<number> {
  const [row] = await db<{ total: number }[]>`select count(*)::int as total from invoices where ${invoiceListWhere(db, tenantId, f)}`;
  return row!.total;
}

/** The open amounts of the invoices the list's filter selects, summed per currency (the caller converts each sum once). */
export async function openAmountsOfInvoices(db: Db, tenantId: string, f: InvoiceWhere): Promise<{ currency: string; count: number; open_minor: string }[]> {
  return db<{ currency: string; count: number; open_minor: string }[]>`
    select invoices.currency, count(*)::int as count, sum(invoices.open_amount_minor)::text as open_minor
    from invoices where ${invoiceListWhere(db, tenantId, f)}
    group by invoices.currency order by invoices.currency`;
}

/** The cadence's invoices in active dunning on another version (all, or those named), by number. */
export async function invoicesToMigrate(
  db: Db,
  tenantId: string,
  target: { cadenceId: string; version: number },
  invoiceNumbers?: string[],
): Promise<{ invoice_number: string; workflow_id: string; cadence_version: number }[]> {
  return db<{ invoice_number: string; workflow_id: string; cadence_version: number }[]>`
    select invoice_number, workflow_id, cadence_version from invoices
    where tenant_id = ${tenantId} and cadence_id = ${target.cadenceId} and cadence_version <> ${target.version} and stage = 'active'
      ${invoiceNumbers ? db`and invoice_number = any(${invoiceNumbers})` : db``}
    order by invoice_number`;
}
