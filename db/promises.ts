import type { Db } from './sql';

/**
 * Promises to pay and payment plans (promises, payment_plans): one promises row per installment
 * and invoice covered; a plan groups the installments of one or more invoices.
 */

export type PromiseRowStatus = 'open' | 'kept' | 'partially_kept' | 'broken' | 'cancelled';
export type PlanStatus = 'active' | 'completed' | 'broken' | 'cancelled';

export interface PromiseRow {
  tenant_id: string;
  promise_id: string;
  invoice_number: string;
  customer_id: string;
  plan_id: string | null;
  installment_no: number | null;
  amount_minor: number;
  currency: string;
  promised_date: Date;
  check_date: Date | null;
  made_by: string;
  recorded_by: string;
  collector_id: string | null;
  status: PromiseRowStatus;
  paid_minor: number | null;
  evaluated_at: Date | null;
  created_at: Date;
}

export interface PaymentPlanRow {
  tenant_id: string;
  plan_id: string;
  customer_id: string;
  currency: string;
  total_minor: number;
  max_missed: number;
  status: PlanStatus;
  created_by: string;
  created_at: Date;
}

export interface NewPromiseRow {
  tenantId: string;
  promiseId: string;
  invoiceNumber: string;
  customerId: string;
  planId: string | null;
  installmentNo: number | null;
  amountMinor: number;
  currency: string;
  promisedDate: string;
  checkDate: string | null;
  madeBy: string;
  recordedBy: string;
  collectorId: string | null;
}

/** Writes the row unless (tenant, promise id, invoice) is there already. */
export async function insertPromiseRowOnce(db: Db, p: NewPromiseRow): Promise<void> {
  await db`
    insert into promises (tenant_id, promise_id, invoice_number, customer_id, plan_id, installment_no, amount_minor, currency,
                          promised_date, check_date, made_by, recorded_by, collector_id)
    values (${p.tenantId}, ${p.promiseId}, ${p.invoiceNumber}, ${p.customerId}, ${p.planId}, ${p.installmentNo}, ${p.amountMinor}, ${p.currency},
            ${p.promisedDate}, ${p.checkDate}, ${p.madeBy}, ${p.recordedBy}, ${p.collectorId})
    on conflict (tenant_id, promise_id, invoice_number) do nothing`;
}

/** The verdict on an open row (kept, partially kept, broken, cancelled); a settled row keeps its first verdict. */
export async function settlePromiseRow(
  db: Db,
  ref: { tenantId: string; promiseId: string; invoiceNumber: string },
  verdict: { status: Exclude<PromiseRowStatus, 'open'>; paidMinor: number | null },
): Promise<void> {
  await db`
    update promises set status = ${verdict.status}, paid_minor = ${verdict.paidMinor}, evaluated_at = now()
    where tenant_id = ${ref.tenantId} and promise_id = ${ref.promiseId} and invoice_number = ${ref.invoiceNumber} and status = 'open'`;
}

/** An active plan is broken (by any of its invoices). */
export async function breakPaymentPlan(db: Db, tenantId: string, planId: string): Promise<void> {
  await db`update payment_plans set status = 'broken' where tenant_id = ${tenantId} and plan_id = ${planId} and status = 'active'`;
}

/** A plan withdrawn as a whole (a promise over several invoices that could not be applied to all of them). */
export async function cancelPaymentPlan(db: Db, tenantId: string, planId: string): Promise<void> {
  await db`update payment_plans set status = 'cancelled' where tenant_id = ${tenantId} and plan_id = ${planId} and status = 'active'`;
}

/** An active plan is completed once none of its rows, on any invoice, is still open. */
export async function completePaymentPlanIfSettled(db: Db, tenantId: string, planId: string): Promise<void> {
  await db`update payment_plans set status = 'completed' where tenant_id = ${tenantId} and plan_id = ${planId} and status = 'active'
           and not exists (select 1 from promises where tenant_id = ${tenantId} and plan_id = ${planId} and status = 'open')`;
}

export async function promisesOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<(PromiseRow & { promised_day: string; check_day: string | null })[]> {
  return db<(PromiseRow & { promised_day: string; check_day: string | null })[]>`
    select *, to_char(promised_date, 'YYYY-MM-DD') as promised_day, to_char(check_date, 'YYYY-MM-DD') as check_day
    from promises where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by created_at, promise_id`;
}

/** The plans any of whose installments covers the invoice. */
export async function plansOfInvoice(db: Db, tenantId: string, invoiceNumber: string): Promise<PaymentPlanRow[]> {
  return db<PaymentPlanRow[]>`
    select * from payment_plans
    where tenant_id = ${tenantId} and plan_id in (select plan_id from promises where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber})
    order by created_at, plan_id`;
}

export interface NewPaymentPlan {
  tenantId: string;
  planId: string;
  customerId: string;
  currency: string;
  totalMinor: number;
  maxMissed: number;
  createdBy: string;
}

/** Writes the plan unless (tenant, plan id) is there already. */
export async function insertPaymentPlanOnce(db: Db, p: NewPaymentPlan): Promise<void> {
  await db`
    insert into payment_plans (tenant_id, plan_id, customer_id, currency, total_minor, max_missed, created_by)
    values (${p.tenantId}, ${p.planId}, ${p.customerId}, ${p.currency}, ${p.totalMinor}, ${p.maxMissed}, ${p.createdBy})
    on conflict (tenant_id, plan_id) do nothing`;
}

/** Removes a plan none of whose installments was written (a plan that could not be made); one with rows stays. */
export async function deletePaymentPlanWithoutPromises(db: Db, tenantId: string, planId: string): Promise<void> {
  await db`
    delete from payment_plans p where p.tenant_id = ${tenantId} and p.plan_id = ${planId}
      and not exists (select 1 from promises r where r.tenant_id = p.tenant_id and r.plan_id = p.plan_id)`;
}

/**
 * Whether a promise id is spent: a promise (or plan share) with this id was taken back or cancelled on some
 * invoice (its rows `<id>` or `<id>-<installment>` are cancelled). A promise made again needs another id: the
 * workflow dedupes its updates by an id made from it, and the rows of the first keep their verdict.
 */
export async function promiseIdSpent(db: Db, tenantId: string, promiseId: string): Promise<boolean> {
  const [row] = await db`
    select 1 from promises where tenant_id = ${tenantId} and status = 'cancelled'
      and (promise_id = ${promiseId} or left(promise_id, ${promiseId.length + 1}) = ${`${promiseId}-`}) limit 1`;
  return row !== undefined;
}

/** Whether a plan id is spent: the plan was cancelled (its shares taken back); a plan made again needs another id. */
export async function planIdSpent(db: Db, tenantId: string, planId: string): Promise<boolean> {
  const [row] = await db`select 1 from payment_plans where tenant_id = ${tenantId} and plan_id = ${planId} and status = 'cancelled'`;
  return row !== undefined;
}

/** A promise row as the list shows it, its dates as ISO days. */
export type PromiseListRow = Omit<PromiseRow, 'tenant_id' | 'promised_date' | 'check_date' | 'created_at'> & { promised_date: string; check_date: string | null };

export interface PromiseFilter {
  /** Only customers of this collector now (a collector's portfolio). */
  collectorId?: string;
  customerId?: string;
  status?: string;
  limit: number;
  offset: number;
}

/** A page of promise rows, latest promised date first, with the number of rows in all. */
export async function pageOfPromises(db: Db, tenantId: string, f: PromiseFilter): Promise<{ total: number; rows: PromiseListRow[] }> {
  const rows = await db<(PromiseListRow & { total: number })[]>`
    select p.promise_id, p.invoice_number, p.customer_id, p.plan_id, p.installment_no, p.amount_minor, p.currency, to_char(p.promised_date, 'YYYY-MM-DD') as promised_date,
           to_char(p.check_date, 'YYYY-MM-DD') as check_date, p.made_by, p.recorded_by, p.collector_id, p.status, p.paid_minor, p.evaluated_at, count(*) over ()::int as total
    from promises p join customers c on c.tenant_id = p.tenant_id and c.customer_id = p.customer_id
    where p.tenant_id = ${tenantId}
      ${f.collectorId !== undefined ? db`and c.collector_id = ${f.collectorId}` : db``}
      ${f.customerId ? db`and p.customer_id = ${f.customerId}` : db``}
      ${f.status ? db`and p.status = ${f.status}` : db``}
    order by p.promised_date desc, p.promise_id limit ${f.limit} offset ${f.offset}`;
  return { total: rows[0]?.total ?? 0, rows };
}

export interface PromiseOutcomeCounts {
  /** The collector (who owned the customer when the promise was made; '(unassigned)' for none) or the customer. */
  key: string;
  kept: number;
  partially_kept: number;
  broken: number;
  open: number;
}

/**
 * Promise rows by outcome, per collector or per customer: those checked in [from, to), and those still
 * open. `collectorId` narrows them to one collector's own (by collector) or portfolio (by customer).
 */
export async function promiseOutcomeCounts(
  db: Db,
  tenantId: string,
  q: { by: 'collector' | 'customer'; collectorId?: string; from?: string; to?: string },
): Promise<PromiseOutcomeCounts[]> {
  const key = q.by === 'collector' ? db`coalesce(p.collector_id, '(unassigned)')` : db`p.customer_id`;
  return db<PromiseOutcomeCounts[]>`
    select ${key} as key,
           count(*) filter (where p.status = 'kept')::int as kept,
           count(*) filter (where p.status = 'partially_kept')::int as partially_kept,
           count(*) filter (where p.status = 'broken')::int as broken,
           count(*) filter (where p.status = 'open')::int as open
    from promises p join customers c on c.tenant_id = p.tenant_id and c.customer_id = p.customer_id
    where p.tenant_id = ${tenantId}
      ${q.collectorId !== undefined ? (q.by === 'collector' ? db`and p.collector_id = ${q.collectorId}` : db`and c.collector_id = ${q.collectorId}`) : db``}
      ${q.from ? db`and (p.evaluated_at >= ${q.from} or p.status = 'open')` : db``}
      ${q.to ? db`and (p.evaluated_at < ${q.to} or p.status = 'open')` : db``}
    group by 1 order by 1`;
}
