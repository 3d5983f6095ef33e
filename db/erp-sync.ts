import type { Db } from './sql';

/**
 * The ERP sync's tables (migration 014): the feed's cursor per tenant and connection, the runs and their errors,
 * the ERP's customers as last seen, what each enrolled invoice was last told, and rebill links.
 */

export interface SyncKey {
  tenantId: string;
  connection: string;
}

export interface SyncStateRow {
  cursor: string | null;
  interval_seconds: number | null;
}

export async function syncState(db: Db, { tenantId, connection }: SyncKey): Promise<SyncStateRow | undefined> {
  const [row] = await db<SyncStateRow[]>`
    select cursor, interval_seconds from erp_sync_state where tenant_id = ${tenantId} and connection = ${connection}`;
  return row;
}

/** The state row, created when missing, locked until the transaction ends: one page is applied at a time. */
export async function lockSyncState(tx: Db, { tenantId, connection }: SyncKey): Promise<SyncStateRow> {
  await tx`insert into erp_sync_state (tenant_id, connection) values (${tenantId}, ${connection}) on conflict do nothing`;
  const [row] = await tx<SyncStateRow[]>`
    select cursor, interval_seconds from erp_sync_state where tenant_id = ${tenantId} and connection = ${connection} for update`;
  return row!;
}

export async function setSyncCursor(tx: Db, { tenantId, connection }: SyncKey, cursor: string): Promise<void> {
  await tx`update erp_sync_state set cursor = ${cursor}, updated_at = now() where tenant_id = ${tenantId} and connection = ${connection}`;
}

export async function setSyncInterval(db: Db, { tenantId, connection }: SyncKey, seconds: number | null): Promise<void> {
  await db`
    insert into erp_sync_state (tenant_id, connection, interval_seconds) values (${tenantId}, ${connection}, ${seconds})
    on conflict (tenant_id, connection) do update set interval_seconds = excluded.interval_seconds, updated_at = now()`;
}

export const SYNC_COUNTERS = [
  'pages',
  'received',
  'created',
  'updated',
  'unchanged',
  'enrolled',
  'signalled',
  'closed',
  'linked',
  'skipped',
  'customers',
  'unapplied_payments',
  'errors',
] as const;
export type SyncCounter = (typeof SYNC_COUNTERS)[number];
export type SyncCounters = Record<SyncCounter, number>;

export const zeroCounters = (): SyncCounters => Object.fromEntries(SYNC_COUNTERS.map((c) => [c, 0])) as SyncCounters;

export interface SyncRunRow extends SyncCounters {
  id: number;
  tenant_id: string;
  connection: string;
  workflow_id: string;
  started_at: Date;
  finished_at: Date | null;
  status: 'running' | 'completed' | 'failed';
  cursor_from: string | null;
  cursor_to: string | null;
  failure: string | null;
}

/** The run's row, once per run key (a retried start finds it). */
export async function startSyncRun(db: Db, run: SyncKey & { runKey: string; workflowId: string; cursorFrom: string | null }): Promise<number> {
  const [row] = await db<{ id: number }[]>`
    insert into erp_sync_runs (tenant_id, connection, run_key, workflow_id, cursor_from)
    values (${run.tenantId}, ${run.connection}, ${run.runKey}, ${run.workflowId}, ${run.cursorFrom})
    on conflict (run_key) do update set run_key = excluded.run_key
    returning id`;
  return row!.id;
}

/** Adds a page's (or an admission batch's) counters to the run; moves its cursor_to when given. */
export async function addToSyncRun(tx: Db, runId: number, counters: Partial<SyncCounters>, cursorTo?: string): Promise<void> {
  const c = { ...zeroCounters(), ...counters };
  await tx`
    update erp_sync_runs set
      pages = pages + ${c.pages}, received = received + ${c.received}, created = created + ${c.created},
      updated = updated + ${c.updated}, unchanged = unchanged + ${c.unchanged}, enrolled = enrolled + ${c.enrolled},
      signalled = signalled + ${c.signalled}, closed = closed + ${c.closed}, linked = linked + ${c.linked},
      skipped = skipped + ${c.skipped}, customers = customers + ${c.customers},
      unapplied_payments = unapplied_payments + ${c.unapplied_payments}, errors = errors + ${c.errors},
      cursor_to = coalesce(${cursorTo ?? null}, cursor_to)
    where id = ${runId}`;
}

export interface SyncErrorInput {
  erpId: string;
  invoiceNumber: string | null;
  customerId: string | null;
  code: string;
  reason: string;
}

/** Records errors once per (run, ERP id, code); returns how many were new. */
export async function recordSyncErrors(tx: Db, runId: number, errors: SyncErrorInput[]): Promise<number> {
  if (errors.length === 0) return 0;
  const rows = errors.map((e) => ({ run_id: runId, erp_id: e.erpId, invoice_number: e.invoiceNumber, customer_id: e.customerId, code: e.code, reason: e.reason.slice(0, 2000) }));
  const written = await tx`insert into erp_sync_errors ${tx(rows)} on conflict (run_id, erp_id, code) do nothing returning id`;
  return written.length;
}

export async function finishSyncRun(db: Db, runId: number, outcome: { status: 'completed' | 'failed'; failure?: string }): Promise<void> {
  await db`
    update erp_sync_runs set status = ${outcome.status}, failure = ${outcome.failure ?? null}, finished_at = coalesce(finished_at, now())
    where id = ${runId}`;
}

export async function syncRuns(db: Db, key: SyncKey, opts: { limit: number; beforeId?: number }): Promise<SyncRunRow[]> {
  return db<SyncRunRow[]>`
    select * from erp_sync_runs
    where tenant_id = ${key.tenantId} and connection = ${key.connection} and id < ${opts.beforeId ?? Number.MAX_SAFE_INTEGER}
    order by id desc limit ${opts.limit}`;
}

export async function syncRun(db: Db, key: SyncKey, runId: number): Promise<SyncRunRow | undefined> {
  const [row] = await db<SyncRunRow[]>`
    select * from erp_sync_runs where tenant_id = ${key.tenantId} and connection = ${key.connection} and id = ${runId}`;
  return row;
}

export interface SyncErrorRow {
  erp_id: string;
  invoice_number: string | null;
  customer_id: string | null;
  code: string;
  reason: string;
  at: Date;
}

export async function syncRunErrors(db: Db, runId: number, limit = 1000): Promise<SyncErrorRow[]> {
  return db<SyncErrorRow[]>`
    select erp_id, invoice_number, customer_id, code, reason, at from erp_sync_errors where run_id = ${runId} order by id limit ${limit}`;
}

/** The ERP's customer accounts as the feed last gave them; returns the ids of those new or changed. */
export async function upsertSyncCustomers(db: Db, tenantId: string, customers: { customerId: string; erp: Record<string, unknown> }[]): Promise<Set<string>> {
  if (customers.length === 0) return new Set();
  const rows = customers.map((c) => ({ tenant_id: tenantId, customer_id: c.customerId, erp: db.json(c.erp as never) }));
  const written = await db<{ customer_id: string }[]>`
    insert into erp_sync_customers ${db(rows)}
    on conflict (tenant_id, customer_id) do update set erp = excluded.erp, updated_at = now()
    where erp_sync_customers.erp is distinct from excluded.erp
    returning customer_id`;
  return new Set(written.map((r) => r.customer_id));
}

export async function syncCustomers(db: Db, tenantId: string, customerIds: string[]): Promise<Map<string, Record<string, unknown>>> {
  if (customerIds.length === 0) return new Map();
  const rows = await db<{ customer_id: string; erp: Record<string, unknown> }[]>`
    select customer_id, erp from erp_sync_customers where tenant_id = ${tenantId} and customer_id = any(${customerIds})`;
  return new Map(rows.map((r) => [r.customer_id, r.erp]));
}

export interface EnrolledFacts {
  invoice_number: string;
  customer_id: string;
  workflow_id: string;
  due_date: string;
  open_amount_minor: number;
  stage: string;
}

/** The enrolled invoices among these numbers, with what the mirror holds of them. */
export async function enrolledFacts(db: Db, tenantId: string, numbers: string[]): Promise<Map<string, EnrolledFacts>> {
  if (numbers.length === 0) return new Map();
  const rows = await db<EnrolledFacts[]>`
    select invoice_number, customer_id, workflow_id, to_char(due_date, 'YYYY-MM-DD') as due_date, open_amount_minor, stage
    from invoices where tenant_id = ${tenantId} and invoice_number = any(${numbers})`;
  return new Map(rows.map((r) => [r.invoice_number, r]));
}

export interface SignalledFacts {
  invoice_number: string;
  due_date: string;
  open_amount_minor: number;
  status: 'open' | 'paid' | 'credited' | 'written_off' | 'cancelled';
}

export async function signalledFacts(db: Db, tenantId: string, numbers: string[]): Promise<Map<string, SignalledFacts>> {
  if (numbers.length === 0) return new Map();
  const rows = await db<SignalledFacts[]>`
    select invoice_number, to_char(due_date, 'YYYY-MM-DD') as due_date, open_amount_minor, status
    from erp_sync_signals where tenant_id = ${tenantId} and invoice_number = any(${numbers})`;
  return new Map(rows.map((r) => [r.invoice_number, r]));
}

/** What an invoice was just told. */
export async function recordSignalled(
  db: Db,
  tenantId: string,
  facts: { invoiceNumber: string; dueDate: string; openAmountMinor: number; status: string; changedAt: string },
): Promise<void> {
  await db`
    insert into erp_sync_signals (tenant_id, invoice_number, due_date, open_amount_minor, status, changed_at)
    values (${tenantId}, ${facts.invoiceNumber}, ${facts.dueDate}, ${facts.openAmountMinor}, ${facts.status}, ${facts.changedAt})
    on conflict (tenant_id, invoice_number) do update set due_date = excluded.due_date, open_amount_minor = excluded.open_amount_minor,
      status = excluded.status, changed_at = excluded.changed_at, signalled_at = now()`;
}

export async function recordLink(db: Db, tenantId: string, link: { invoiceNumber: string; originalNumber: string; carriedSteps: number }): Promise<void> {
  await db`
    insert into erp_sync_links (tenant_id, invoice_number, original_number, carried_steps)
    values (${tenantId}, ${link.invoiceNumber}, ${link.originalNumber}, ${link.carriedSteps}) on conflict do nothing`;
}

export async function linkOf(db: Db, tenantId: string, invoiceNumber: string): Promise<{ original_number: string; carried_steps: number } | undefined> {
  const [row] = await db<{ original_number: string; carried_steps: number }[]>`
    select original_number, carried_steps from erp_sync_links where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}`;
  return row;
}

export interface AdmissibleRow {
  invoice_number: string;
  customer_id: string;
  currency: string;
  amount_minor: number;
  open_amount_minor: number;
  status: 'open';
  issue_date: string;
  due_date: string;
  rebill_of: string | null;
  erp_id: string | null;
  erp_changed_at: Date | null;
}

/**
 * Open ledger invoices due on or before `horizon` that are not enrolled, after `after` in invoice-number order:
 * what comes within the enrollment window without the ERP changing it.
 */
export async function admissibleLedgerInvoices(db: Db, tenantId: string, opts: { horizon: string; after: string; limit: number }): Promise<AdmissibleRow[]> {
  return db<AdmissibleRow[]>`
    select l.invoice_number, l.customer_id, l.currency, l.amount_minor, l.open_amount_minor, l.status,
      to_char(l.issue_date, 'YYYY-MM-DD') as issue_date, to_char(l.due_date, 'YYYY-MM-DD') as due_date, l.rebill_of, l.erp_id, l.erp_changed_at
    from ledger_invoices l
    where l.tenant_id = ${tenantId} and l.status = 'open' and l.due_date <= ${opts.horizon} and l.invoice_number > ${opts.after}
      and not exists (select 1 from invoices i where i.tenant_id = l.tenant_id and i.invoice_number = l.invoice_number)
    order by l.invoice_number limit ${opts.limit}`;
}

declare module './audit-events' {
  interface AuditDetailsByType {
    /** The sync's runs and the schedule's changes (api/erp-sync-service.ts, activities/erp-sync.ts; docs/erp-sync.md). */
    erp_sync_run_started: Record<string, unknown>;
    erp_sync_run_finished: Record<string, unknown>;
    erp_sync_triggered: Record<string, unknown>;
    erp_sync_paused: Record<string, unknown>;
    erp_sync_resumed: Record<string, unknown>;
    erp_sync_interval_changed: Record<string, unknown>;
    /** A rebill or split part enrolled with its original's dunning. */
    invoice_rebill_linked: Record<string, unknown>;
  }
}
