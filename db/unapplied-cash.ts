import type { ErpUnappliedPayment } from '../integrations/erp/changes';
import type { OpenItem } from '../domain/cash-matching';
import { TERMINAL_STAGES } from '../domain/invoice-state';
import { appendAuditEvent, type AuditEvent } from './audit-events';
import type { Db } from './sql';

/**
 * The unapplied-cash queue (unapplied_cash, unapplied_cash_applications: migration 016): money received that
 * no open invoice claimed, once per (source, payment id), and each application of it through the ERP once per
 * idempotency key. Also the open items the matching suggestions are drawn from (invoices in dunning and the
 * ledger's open receivables not enrolled).
 */

export type CashSource = 'erp_sync' | 'erp_webhook' | 'bank_statement';
export type CashStatus = 'open' | 'applied' | 'refund' | 'on_account';

export interface NewUnappliedCash {
  paymentId: string;
  customerId: string | null;
  payerName: string | null;
  amountMinor: number;
  currency: string;
  /** ISO instant with offset. */
  receivedAt: string;
  remittance: string;
  details?: Record<string, unknown>;
}

export interface UnappliedCashRow {
  id: number;
  tenant_id: string;
  source: CashSource;
  payment_id: string;
  customer_id: string | null;
  payer_name: string | null;
  amount_minor: number;
  currency: string;
  received_at: Date;
  remittance: string;
  details: Record<string, unknown>;
  status: CashStatus;
  applied_minor: number;
  resolution_note: string | null;
  resolved_by: string | null;
  resolved_at: Date | null;
  created_at: Date;
}

/** An item with its age in whole days (today in UTC against the day it was received) and the payer's collector. */
export type QueueRow = UnappliedCashRow & { age_days: number; collector_id: string | null };

/**
 * Adds the items not there yet (by source and payment id), in one statement, each with its audit event
 * (unapplied_cash_received, by `actor`); returns the ids of those added, by payment id. The same payment id
 * again is left as it was, whatever it says now (the first word stays: the queue never changes an item behind
 * a person's back); the caller reports it as a duplicate. Run it in a transaction: item and audit together.
 */
export async function insertUnappliedCash(db: Db, tenantId: string, source: CashSource, items: NewUnappliedCash[], actor: string): Promise<Map<string, number>> {
  if (items.length === 0) return new Map();
  const rows = items.map((i) => ({
    tenant_id: tenantId,
    source,
    payment_id: i.paymentId,
    customer_id: i.customerId,
    payer_name: i.payerName,
    amount_minor: i.amountMinor,
    currency: i.currency,
    received_at: i.receivedAt,
    remittance: i.remittance,
    details: db.json((i.details ?? {}) as never),
  }));
  const added = await db<{ id: number; payment_id: string; customer_id: string | null; amount_minor: number; currency: string }[]>`
    insert into unapplied_cash ${db(rows)}
    on conflict (tenant_id, source, payment_id) do nothing
    returning id, payment_id, customer_id, amount_minor, currency`;
  for (const r of added)
    await appendCashAuditEvent(db, tenantId, {
      type: 'unapplied_cash_received',
      eventKey: `cash-received:${tenantId}:${source}:${r.payment_id}`,
      actor,
      details: { cashId: r.id, source, paymentId: r.payment_id, amountMinor: r.amount_minor, currency: r.currency, customerId: r.customer_id },
    });
  return new Map(added.map((r) => [r.payment_id, r.id]));
}

/**
 * The change feed's unapplied payments of one page, for the ERP sync (activities/erp-sync.ts): each lands in
 * the queue once (source erp_sync, by the ERP's payment id), audited as received by 'erp-sync'; a page applied
 * again adds nothing. Returns how many were new. The ERP's later word about the same payment (partly applied in
 * the ERP meanwhile) does not change the item: applying it through the queue asks the ERP, which refuses what
 * it no longer holds.
 */
export async function recordUnappliedPayments(db: Db, tenantId: string, payments: ErpUnappliedPayment[], source: CashSource = 'erp_sync'): Promise<number> {
  const added = await insertUnappliedCash(
    db,
    tenantId,
    source,
    payments.map((p) => ({
      paymentId: p.paymentId,
      customerId: p.customerId,
      payerName: p.payerName,
      amountMinor: p.amountMinor,
      currency: p.currency,
      receivedAt: p.receivedAt,
      remittance: p.remittance,
    })),
    'erp-sync',
  );
  return added.size;
}

/** The queue's audit events (their details are typed in db/audit-events.ts), of this tenant. */
export type CashAuditEvent =
  Extract<AuditEvent, { type: 'unapplied_cash_received' | 'unapplied_cash_applied' | 'unapplied_cash_resolved' | 'bank_statement_imported' }> extends infer E
    ? E extends unknown
      ? Omit<E, 'tenantId'>
      : never
    : never;

/** Appends one of the queue's events to the audit trail (audit_events), once per key. */
export function appendCashAuditEvent(db: Db, tenantId: string, e: CashAuditEvent): Promise<boolean> {
  return appendAuditEvent(db, { ...e, tenantId } as AuditEvent);
}

const queueColumns = (db: Db) => db`
  u.*, (current_date - (u.received_at at time zone 'UTC')::date) as age_days, c.collector_id`;

export interface QueueFilter {
  status?: CashStatus;
  customerId?: string;
  /** Only items whose payer is a customer of this collector (a portfolio). */
  collectorId?: string;
  limit: number;
  offset: number;
}

const queueWhere = (db: Db, tenantId: string, f: Omit<QueueFilter, 'limit' | 'offset'>) => db`
  u.tenant_id = ${tenantId}
  ${f.status ? db`and u.status = ${f.status}` : db``}
  ${f.customerId ? db`and u.customer_id = ${f.customerId}` : db``}
  ${f.collectorId !== undefined ? db`and c.collector_id = ${f.collectorId}` : db``}`;

/** A page of the queue, oldest received first. */
export async function pageOfUnappliedCash(db: Db, tenantId: string, f: QueueFilter): Promise<QueueRow[]> {
  return db<QueueRow[]>`
    select ${queueColumns(db)}
    from unapplied_cash u left join customers c on c.tenant_id = u.tenant_id and c.customer_id = u.customer_id
    where ${queueWhere(db, tenantId, f)}
    order by u.received_at, u.id
    limit ${f.limit} offset ${f.offset}`;
}

/** Per currency over the filter: how many items, what they leave unapplied, and the oldest's age in days. */
export async function unappliedCashTotals(
  db: Db,
  tenantId: string,
  f: Omit<QueueFilter, 'limit' | 'offset'>,
): Promise<{ currency: string; count: number; unapplied_minor: number; oldest_age_days: number }[]> {
  return db`
    select u.currency, count(*)::int as count, sum(u.amount_minor - u.applied_minor)::bigint as unapplied_minor,
           max(current_date - (u.received_at at time zone 'UTC')::date)::int as oldest_age_days
    from unapplied_cash u left join customers c on c.tenant_id = u.tenant_id and c.customer_id = u.customer_id
    where ${queueWhere(db, tenantId, f)}
    group by u.currency order by u.currency`;
}

export async function unappliedCashItem(db: Db, tenantId: string, id: number, opts: { forUpdate?: boolean } = {}): Promise<QueueRow | undefined> {
  const [row] = await db<QueueRow[]>`
    select ${queueColumns(db)}
    from unapplied_cash u left join customers c on c.tenant_id = u.tenant_id and c.customer_id = u.customer_id
    where u.tenant_id = ${tenantId} and u.id = ${id}
    ${opts.forUpdate ? db`for update of u` : db``}`;
  return row;
}

export interface CashApplicationRow {
  idempotency_key: string;
  cash_id: number;
  erp_payment_id: string;
  allocations: { invoiceNumber: string; amountMinor: number }[];
  applied_minor: number;
  erp_result: Record<string, unknown>;
  applied_by: string;
  applied_at: Date;
}

export async function cashApplication(db: Db, tenantId: string, idempotencyKey: string): Promise<CashApplicationRow | undefined> {
  const [row] = await db<CashApplicationRow[]>`
    select idempotency_key, cash_id, erp_payment_id, allocations, applied_minor, erp_result, applied_by, applied_at
    from unapplied_cash_applications where tenant_id = ${tenantId} and idempotency_key = ${idempotencyKey}`;
  return row;
}

export async function applicationsOfCash(db: Db, tenantId: string, cashId: number): Promise<CashApplicationRow[]> {
  return db<CashApplicationRow[]>`
    select idempotency_key, cash_id, erp_payment_id, allocations, applied_minor, erp_result, applied_by, applied_at
    from unapplied_cash_applications where tenant_id = ${tenantId} and cash_id = ${cashId} order by applied_at, idempotency_key`;
}

/** Records an application the ERP made and moves the item's applied amount (all of it applied: status applied). */
export async function recordCashApplication(
  db: Db,
  tenantId: string,
  a: { idempotencyKey: string; cashId: number; erpPaymentId: string; allocations: { invoiceNumber: string; amountMinor: number }[]; appliedMinor: number; erpResult: unknown; appliedBy: string },
): Promise<void> {
  await db`
    insert into unapplied_cash_applications (tenant_id, idempotency_key, cash_id, erp_payment_id, allocations, applied_minor, erp_result, applied_by)
    values (${tenantId}, ${a.idempotencyKey}, ${a.cashId}, ${a.erpPaymentId}, ${db.json(a.allocations as never)}, ${a.appliedMinor}, ${db.json(a.erpResult as never)}, ${a.appliedBy})`;
  await db`
    update unapplied_cash set applied_minor = applied_minor + ${a.appliedMinor},
      status = case when applied_minor + ${a.appliedMinor} = amount_minor then 'applied' else status end,
      resolved_by = case when applied_minor + ${a.appliedMinor} = amount_minor then ${a.appliedBy} else resolved_by end,
      resolved_at = case when applied_minor + ${a.appliedMinor} = amount_minor then now() else resolved_at end
    where tenant_id = ${tenantId} and id = ${a.cashId}`;
}

/**
 * Whether each invoice's workflow was told of the application, as the last attempt found it (notified, closed,
 * not_enrolled, not_reached), kept beside the ERP's answer (erp_result.workflows) for the item's view.
 */
export async function recordCashNotifications(db: Db, tenantId: string, idempotencyKey: string, outcomes: Record<string, string>): Promise<void> {
  await db`
    update unapplied_cash_applications set erp_result = erp_result || jsonb_build_object('workflows', ${db.json(outcomes as never)}::jsonb)
    where tenant_id = ${tenantId} and idempotency_key = ${idempotencyKey}`;
}

/** Resolves what is left of an open item as a refund or on account. */
export async function resolveUnappliedCash(db: Db, tenantId: string, id: number, r: { as: 'refund' | 'on_account'; note: string; by: string }): Promise<void> {
  await db`
    update unapplied_cash set status = ${r.as}, resolution_note = ${r.note}, resolved_by = ${r.by}, resolved_at = now()
    where tenant_id = ${tenantId} and id = ${id} and status = 'open'`;
}

// ------------------------------------------------------------------------------------- open items

/**
 * Open items for matching: invoices in dunning with an open amount (their mirror), and the ledger's open
 * receivables that are not enrolled. `where` picks them: the payer's oldest (limit), those of an exact amount,
 * those whose normalized number is among `refs`.
 */
async function openItems(
  db: Db,
  tenantId: string,
  pick: { customerId?: string; currency?: string; amountMinor?: number; refs?: string[] },
  limit: number,
): Promise<OpenItem[]> {
  const cond = (t: string) => db`
    ${pick.customerId !== undefined ? db`and ${db(t)}.customer_id = ${pick.customerId}` : db``}
    ${pick.currency !== undefined ? db`and ${db(t)}.currency = ${pick.currency}` : db``}
    ${pick.amountMinor !== undefined ? db`and ${db(t)}.open_amount_minor = ${pick.amountMinor}` : db``}
    ${pick.refs !== undefined ? db`and cash_invoice_ref(${db(t)}.invoice_number) = any(${pick.refs})` : db``}`;
  return db<OpenItem[]>`
    select * from (
      select i.invoice_number as "invoiceNumber", i.customer_id as "customerId", i.currency, i.open_amount_minor as "openAmountMinor",
             to_char(i.due_date, 'YYYY-MM-DD') as "dueDate"
      from invoices i
      where i.tenant_id = ${tenantId} and i.open_amount_minor > 0 and i.stage <> all(${TERMINAL_STAGES as string[]}) ${cond('i')}
      union all
      select l.invoice_number, l.customer_id, l.currency, l.open_amount_minor, to_char(l.due_date, 'YYYY-MM-DD')
      from ledger_invoices l
      where l.tenant_id = ${tenantId} and l.status = 'open' and l.open_amount_minor > 0 ${cond('l')}
        and not exists (select 1 from invoices e where e.tenant_id = l.tenant_id and e.invoice_number = l.invoice_number)
    ) o
    order by "dueDate", "invoiceNumber"
    limit ${limit}`;
}

/** What the suggestions for one payment draw from: the payer's oldest open items, equal amounts, the remittance's references. */
export async function matchingCandidates(
  db: Db,
  tenantId: string,
  p: { customerId: string | null; currency: string; amountMinor: number; refs: string[] },
  poolSize: number,
): Promise<OpenItem[]> {
  const [own, equal, named] = await Promise.all([
    p.customerId !== null ? openItems(db, tenantId, { customerId: p.customerId, currency: p.currency }, poolSize) : Promise.resolve([]),
    openItems(db, tenantId, { currency: p.currency, amountMinor: p.amountMinor }, 20),
    p.refs.length > 0 ? openItems(db, tenantId, { refs: p.refs.slice(0, 50) }, 50) : Promise.resolve([]),
  ]);
  return [...named, ...own, ...equal];
}

/** The enrolled invoices among these numbers, with their workflow and customer (whatever their stage). */
export async function enrolledInvoices(db: Db, tenantId: string, invoiceNumbers: string[]): Promise<Map<string, { workflowId: string; customerId: string; currency: string }>> {
  const rows = await db<{ invoice_number: string; workflow_id: string; customer_id: string; currency: string }[]>`
    select invoice_number, workflow_id, customer_id, currency from invoices where tenant_id = ${tenantId} and invoice_number = any(${invoiceNumbers})`;
  return new Map(rows.map((r) => [r.invoice_number, { workflowId: r.workflow_id, customerId: r.customer_id, currency: r.currency }]));
}

/** The tenant's customer whose name is exactly this (case and surrounding blanks ignored), when only one is. */
export async function customerByName(db: Db, tenantId: string, name: string): Promise<string | undefined> {
  const rows = await db<{ customer_id: string }[]>`
    select customer_id from customers where tenant_id = ${tenantId} and lower(btrim(name)) = lower(btrim(${name})) limit 2`;
  return rows.length === 1 ? rows[0]!.customer_id : undefined;
}

/** Whether the invoice is known at all (enrolled or in the ledger): a webhook payment for one that is not is unapplied cash. */
export async function invoiceKnown(db: Db, tenantId: string, invoiceNumber: string): Promise<boolean> {
  const rows = await db`
    select 1 from invoices where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}
    union all select 1 from ledger_invoices where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}
    limit 1`;
  return rows.length > 0;
}

/** The queue's ids of these payment ids of a source. */
export async function cashIdsOf(db: Db, tenantId: string, source: CashSource, paymentIds: string[]): Promise<Map<string, number>> {
  if (paymentIds.length === 0) return new Map();
  const rows = await db<{ id: number; payment_id: string }[]>`
    select id, payment_id from unapplied_cash where tenant_id = ${tenantId} and source = ${source} and payment_id = any(${paymentIds})`;
  return new Map(rows.map((r) => [r.payment_id, r.id]));
}

/** Invoices known here (in dunning, else in the ledger) among these numbers, with their customer and its collector. */
export async function knownInvoiceOwners(db: Db, tenantId: string, invoiceNumbers: string[]): Promise<Map<string, { customerId: string; collectorId: string | null }>> {
  const rows = await db<{ invoice_number: string; customer_id: string; collector_id: string | null }[]>`
    select k.invoice_number, k.customer_id, c.collector_id from (
      select invoice_number, customer_id from invoices where tenant_id = ${tenantId} and invoice_number = any(${invoiceNumbers})
      union
      select invoice_number, customer_id from ledger_invoices l where tenant_id = ${tenantId} and invoice_number = any(${invoiceNumbers})
        and not exists (select 1 from invoices e where e.tenant_id = l.tenant_id and e.invoice_number = l.invoice_number)
    ) k left join customers c on c.tenant_id = ${tenantId} and c.customer_id = k.customer_id`;
  return new Map(rows.map((r) => [r.invoice_number, { customerId: r.customer_id, collectorId: r.collector_id }]));
}
