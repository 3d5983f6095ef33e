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
  planStatus?: 'on_track' | 'completed' | 'broken';
  /** Idempotency of the activity history row. */
  eventKey: string;
}

export function createPromiseActivities(deps: { sql: Sql }) {
  return {
    /** The promise's rows (one per installment), its customer's activity history; written once. */
    async recordPromise(rec: PromiseRecord): Promise<void> {
      const { promise: p } = rec;
      await deps.sql.begin(async (tx) => {
        const [customer] = await tx<{ collector_id: string | null }[]>`
          select collector_id from customers where tenant_id = ${rec.tenantId} and customer_id = ${rec.customerId}`;
        for (const inst of p.installments) {
          await tx`
            insert into promises (tenant_id, promise_id, invoice_number, customer_id, plan_id, installment_no, amount_minor, currency,
                                  promised_date, check_date, made_by, recorded_by, collector_id)
            values (${rec.tenantId}, ${installmentRowId(p, inst.no)}, ${rec.invoiceNumber}, ${rec.customerId}, ${p.planId ?? null},
                    ${p.installments.length > 1 || p.planId ? inst.no : null}, ${inst.amountMinor}, ${p.currency}, ${inst.dueDate}, ${inst.checkDate},
                    ${p.madeBy}, ${p.recordedBy}, ${customer?.collector_id ?? null})
            on conflict (tenant_id, promise_id, invoice_number) do nothing`;
        }
        const total = p.installments.reduce((s, i) => s + i.amountMinor, 0);
        await tx`
          insert into customer_activities (event_key, tenant_id, customer_id, invoice_number, actor, kind, note, details)
          values (${`promise:${rec.tenantId}:${p.promiseId}:${rec.invoiceNumber}`}, ${rec.tenantId}, ${rec.customerId}, ${rec.invoiceNumber}, ${p.recordedBy},
                  ${p.planId ? 'payment_plan' : 'promise'},
                  ${`${p.madeBy} promised ${total} ${p.currency} in ${p.installments.length} installment(s), first on ${p.installments[0]!.dueDate}`},
                  ${tx.json({ promiseId: p.promiseId, planId: p.planId ?? null, installments: p.installments.map((i) => ({ no: i.no, dueDate: i.dueDate, amountMinor: i.amountMinor, checkDate: i.checkDate })) })})
          on conflict (event_key) do nothing`;
      });
    },

    /** Verdicts of installments (kept, partially kept, broken, cancelled), the plan's status, and the history row. */
    async recordPromiseVerdict(rec: PromiseVerdictRecord): Promise<void> {
      const { promise: p } = rec;
      await deps.sql.begin(async (tx) => {
        for (const inst of rec.settled) {
          await tx`
            update promises set status = ${inst.status}, paid_minor = ${inst.paidMinor ?? null}, evaluated_at = now()
            where tenant_id = ${rec.tenantId} and promise_id = ${installmentRowId(p, inst.no)} and invoice_number = ${rec.invoiceNumber} and status = 'open'`;
        }
        if (p.planId && rec.planStatus && rec.planStatus !== 'on_track') {
          // A plan is broken by any of its invoices; completed only when none of its rows is still open.
          if (rec.planStatus === 'broken')
            await tx`update payment_plans set status = 'broken' where tenant_id = ${rec.tenantId} and plan_id = ${p.planId} and status = 'active'`;
          else
            await tx`update payment_plans set status = 'completed' where tenant_id = ${rec.tenantId} and plan_id = ${p.planId} and status = 'active'
                     and not exists (select 1 from promises where tenant_id = ${rec.tenantId} and plan_id = ${p.planId} and status = 'open')`;
        }
        const summary = rec.settled.map((i) => `${i.dueDate}: ${i.status}${i.paidMinor !== undefined ? ` (${i.paidMinor} of ${i.amountMinor})` : ''}`).join('; ');
        await tx`
          insert into customer_activities (event_key, tenant_id, customer_id, invoice_number, actor, kind, outcome, note, details)
          values (${rec.eventKey}, ${rec.tenantId}, ${rec.customerId}, ${rec.invoiceNumber}, 'workflow', 'promise_verdict',
                  ${rec.planStatus === 'broken' ? 'broken' : (rec.settled[rec.settled.length - 1]?.status ?? null)}, ${summary},
                  ${tx.json({ promiseId: p.promiseId, planId: p.planId ?? null, planStatus: rec.planStatus ?? null, settled: rec.settled.map((i) => ({ no: i.no, status: i.status, paidMinor: i.paidMinor ?? null })) })})
          on conflict (event_key) do nothing`;
      });
    },

    /** An entry in the customer's activity history written by the workflow (a pause that ended, a step done instead by phone). */
    async recordCustomerActivity(rec: { eventKey: string; tenantId: string; customerId: string; invoiceNumber: string | null; kind: 'pause' | 'resume' | 'call_outcome'; note: string; details?: Record<string, unknown> }): Promise<void> {
      await deps.sql`
        insert into customer_activities (event_key, tenant_id, customer_id, invoice_number, actor, kind, note, details)
        values (${rec.eventKey}, ${rec.tenantId}, ${rec.customerId}, ${rec.invoiceNumber}, 'workflow', ${rec.kind}, ${rec.note}, ${deps.sql.json((rec.details ?? {}) as never)})
        on conflict (event_key) do nothing`;
    },
  };
}
