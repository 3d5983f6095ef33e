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
