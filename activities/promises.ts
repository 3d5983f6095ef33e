import { appendCustomerActivity } from '../db/customer-activities';
import { collectorOfCustomer } from '../db/customers';
import { breakPaymentPlan, cancelPaymentPlan, completePaymentPlanIfSettled, insertPromiseRowOnce, settlePromiseRow } from '../db/promises';
import type { Sql } from '../db/sql';
import type { ActivePromise, PromiseInstallment } from '../domain/promises';

/** Each installment of a plan is a row; a single promise's row carries the promise id itself. */
export const installmentRowId = (promise: Pick<ActivePromise, 'promiseId' | 'installments'>, no: number) =>
  promise.installments.length === 1 ? promise.promiseId : `${promise.promiseId}-${no}`;

export interface PromiseRecord {
  tenantId: string;
  invoiceNumber: string;
  customerId: string;
  promise: ActivePromise;
}

export interface PromiseVerdictRecord extends PromiseRecord {
  /** Installments settled now; `closing` settles every pending one as the invoice closes. */
  settled: (Omit<PromiseInstallment, 'status'> & { status: PromiseInstallment['status'] | 'cancelled' })[];
  planStatus?: 'on_track' | 'completed' | 'broken' | 'cancelled';
  /** Idempotency of the activity history row. */
  eventKey: string;
}

export function createPromiseActivities(deps: { sql: Sql }) {
  return {
    /** The promise's rows (one per installment), its customer's activity history; written once. */
    async recordPromise(rec: PromiseRecord): Promise<void> {
      const { promise: p } = rec;
      await deps.sql.begin(async (tx) => {
        const customer = await collectorOfCustomer(tx, rec.tenantId, rec.customerId);
        for (const inst of p.installments) {
          await insertPromiseRowOnce(tx, {
            tenantId: rec.tenantId,
            promiseId: installmentRowId(p, inst.no),
            invoiceNumber: rec.invoiceNumber,
            customerId: rec.customerId,
            planId: p.planId ?? null,
            installmentNo: p.installments.length > 1 || p.planId ? inst.no : null,
            amountMinor: inst.amountMinor,
            currency: p.currency,
            promisedDate: inst.dueDate,
            checkDate: inst.checkDate,
            madeBy: p.madeBy,
            recordedBy: p.recordedBy,
            collectorId: customer?.collectorId ?? null,
          });
        }
        const total = p.installments.reduce((s, i) => s + i.amountMinor, 0);
        await appendCustomerActivity(tx, {
          eventKey: `promise:${rec.tenantId}:${p.promiseId}:${rec.invoiceNumber}`,
          tenantId: rec.tenantId,
          customerId: rec.customerId,
          invoiceNumber: rec.invoiceNumber,
          actor: p.recordedBy,
          kind: p.planId ? 'payment_plan' : 'promise',
          note: `${p.madeBy} promised ${total} ${p.currency} in ${p.installments.length} installment(s), first on ${p.installments[0]!.dueDate}`,
          details: { promiseId: p.promiseId, planId: p.planId ?? null, installments: p.installments.map((i) => ({ no: i.no, dueDate: i.dueDate, amountMinor: i.amountMinor, checkDate: i.checkDate })) },
        });
      });
    },

    /** Verdicts of installments (kept, partially kept, broken, cancelled), the plan's status, and the history row. */
    async recordPromiseVerdict(rec: PromiseVerdictRecord): Promise<void> {
      const { promise: p } = rec;
      await deps.sql.begin(async (tx) => {
        for (const inst of rec.settled) {
          if (inst.status === 'pending') continue; // not settled: nothing to write (the row would refuse it)
          await settlePromiseRow(
            tx,
            { tenantId: rec.tenantId, promiseId: installmentRowId(p, inst.no), invoiceNumber: rec.invoiceNumber },
            { status: inst.status, paidMinor: inst.paidMinor ?? null },
          );
        }
        if (p.planId && rec.planStatus && rec.planStatus !== 'on_track') {
          // A plan is broken by any of its invoices; completed only when none of its rows is still open.
          if (rec.planStatus === 'broken') await breakPaymentPlan(tx, rec.tenantId, p.planId);
          else if (rec.planStatus === 'cancelled') await cancelPaymentPlan(tx, rec.tenantId, p.planId);
          else await completePaymentPlanIfSettled(tx, rec.tenantId, p.planId);
        }
        const summary = rec.settled.map((i) => `${i.dueDate}: ${i.status}${i.paidMinor !== undefined ? ` (${i.paidMinor} of ${i.amountMinor})` : ''}`).join('; ');
        await appendCustomerActivity(tx, {
          eventKey: rec.eventKey,
          tenantId: rec.tenantId,
          customerId: rec.customerId,
          invoiceNumber: rec.invoiceNumber,
          actor: 'workflow',
          kind: 'promise_verdict',
          outcome: rec.planStatus === 'broken' ? 'broken' : (rec.settled[rec.settled.length - 1]?.status ?? null),
          note: summary,
          details: { promiseId: p.promiseId, planId: p.planId ?? null, planStatus: rec.planStatus ?? null, settled: rec.settled.map((i) => ({ no: i.no, status: i.status, paidMinor: i.paidMinor ?? null })) },
        });
      });
    },

    /** An entry in the customer's activity history written by the workflow (a pause that ended, a step done instead by phone). */
    async recordCustomerActivity(rec: { eventKey: string; tenantId: string; customerId: string; invoiceNumber: string | null; kind: 'pause' | 'resume' | 'call_outcome'; note: string; details?: Record<string, unknown> }): Promise<void> {
      await appendCustomerActivity(deps.sql, { ...rec, actor: 'workflow' });
    },
  };
}
