import { randomUUID } from 'node:crypto';
import { collectionPolicyOf } from '../domain/collection-policy';
import type { StageResult } from '../domain/invoice-state';
import { allocatePlan } from '../domain/promises';
import { makePromiseUpdate } from '../workflows/messages';
import { assertCustomerAccess, invoiceForUser, portfolioScope, requireRole, type AuthUser } from './auth';
import type { CadenceService } from './cadence-service';
import type { CollectorWork } from './collector-work';
import { DomainError } from './errors';

/** Promises to pay and payment plans over a customer's invoices (each invoice's workflow follows its share), their list and the promise-kept rate. */
export function createPromisesService(work: CollectorWork, cadences: Pick<CadenceService, 'getVersion'>) {
  const { sql, tenantId } = work;

  return {
    /** A promise over one or more invoices of one customer, made outside a task (or for further invoices of a call). */
    async makePromise(user: AuthUser, body: { customerId: string; madeBy: string; promisedDate: string; invoices: { number: string; amountMinor: number }[] }) {
      await assertCustomerAccess(sql, user, body.customerId);
      const promiseId = `PTP-${randomUUID().slice(0, 8)}`;
      const results: { invoiceNumber: string; stage: string; nextStep: StageResult['nextStep'] }[] = [];
      // Every invoice is checked before any promise is made.
      const parts = [];
      for (const part of body.invoices) {
        const inv = await invoiceForUser(sql, user, part.number);
        if (inv.customer_id !== body.customerId) throw new DomainError('invoice_of_other_customer', `invoice ${part.number} belongs to customer ${inv.customer_id}`);
        parts.push({ part, inv });
      }
      for (const { part, inv } of parts) {
        const r = await work.update(inv.workflow_id, (h) =>
          h.executeUpdate(makePromiseUpdate, { updateId: `${promiseId}-${part.number}`, args: [{ promiseId, madeBy: body.madeBy, recordedBy: user.userId, installments: [{ dueDate: body.promisedDate, amountMinor: part.amountMinor }] }] }),
        );
        if (!r) throw new DomainError('invoice_closed', `invoice ${part.number} is no longer in dunning`);
        results.push({ invoiceNumber: part.number, stage: r.stage, nextStep: r.nextStep });
      }
      return { promiseId, invoices: results };
    },

    /**
     * A payment plan: installments over one or more invoices of one customer, allocated oldest invoice
     * first; each invoice's workflow follows its share. The installments must add up to the open total.
     */
    async createPaymentPlan(user: AuthUser, body: { customerId: string; madeBy: string; invoiceNumbers: string[]; installments: { dueDate: string; amountMinor: number }[] }) {
      requireRole(user, 'collector');
      await assertCustomerAccess(sql, user, body.customerId);
      const invoices = [];
      for (const number of body.invoiceNumbers) {
        const inv = await invoiceForUser(sql, user, number);
        if (inv.customer_id !== body.customerId) throw new DomainError('invoice_of_other_customer', `invoice ${number} belongs to customer ${inv.customer_id}`);
        if (!['active', 'paused'].includes(inv.stage)) throw new DomainError('invoice_not_active', `invoice ${number} is ${inv.stage}: a plan needs invoices in active dunning`);
        invoices.push({ number, ...inv });
      }
      const currencies = new Set(invoices.map((i) => i.currency));
      if (currencies.size > 1) throw new DomainError('mixed_currencies', `a plan covers invoices of one currency, got ${[...currencies].join(', ')}`);
      const ordered = [...invoices].sort((a, b) => a.due_date.localeCompare(b.due_date) || a.number.localeCompare(b.number));
      let shares: Map<string, { dueDate: string; amountMinor: number }[]>;
      try {
        shares = allocatePlan(ordered.map((i) => ({ number: i.number, openAmountMinor: i.open_amount_minor })), body.installments);
      } catch (err) {
        throw new DomainError('plan_does_not_add_up', (err as Error).message);
      }
      const policy = collectionPolicyOf((await cadences.getVersion(ordered[0]!.cadence_id, ordered[0]!.cadence_version)).definition);
      const planId = `PLAN-${randomUUID().slice(0, 8)}`;
      const total = body.installments.reduce((s, i) => s + i.amountMinor, 0);
      await sql`
        insert into payment_plans (tenant_id, plan_id, customer_id, currency, total_minor, max_missed, created_by)
        values (${tenantId}, ${planId}, ${body.customerId}, ${ordered[0]!.currency}, ${total}, ${policy.paymentPlan.maxMissedInstallments}, ${user.userId})`;
      const results = [];
      for (const inv of ordered) {
        const installments = shares.get(inv.number)!;
        if (installments.length === 0) continue;
        const r = await work.update(inv.workflow_id, (h) =>
          h.executeUpdate(makePromiseUpdate, { updateId: `${planId}-${inv.number}`, args: [{ promiseId: `${planId}-${inv.number}`, planId, madeBy: body.madeBy, recordedBy: user.userId, installments }] }),
        );
        if (!r) throw new DomainError('invoice_closed', `invoice ${inv.number} closed while the plan was made`);
        results.push({ invoiceNumber: inv.number, installments, stage: r.stage });
      }
      await work.audit({ eventKey: `plan:${tenantId}:${planId}:created`, actor: user.userId, type: 'payment_plan_created', details: { planId, customerId: body.customerId, madeBy: body.madeBy, installments: body.installments, invoices: results.map((r) => r.invoiceNumber) } });
      return { planId, customerId: body.customerId, currency: ordered[0]!.currency, totalMinor: total, maxMissedInstallments: policy.paymentPlan.maxMissedInstallments, invoices: results };
    },

    async promises(user: AuthUser, filter: { customerId?: string; status?: string; limit: number; offset: number }) {
      if (filter.customerId) await assertCustomerAccess(sql, user, filter.customerId);
      const scope = portfolioScope(user);
      const rows = await sql<{ promise_id: string; invoice_number: string; customer_id: string; plan_id: string | null; installment_no: number | null; amount_minor: number; currency: string; promised_date: string; check_date: string | null; made_by: string; recorded_by: string; collector_id: string | null; status: string; paid_minor: number | null; evaluated_at: Date | null; total: number }[]>`
        select p.promise_id, p.invoice_number, p.customer_id, p.plan_id, p.installment_no, p.amount_minor, p.currency, to_char(p.promised_date, 'YYYY-MM-DD') as promised_date,
               to_char(p.check_date, 'YYYY-MM-DD') as check_date, p.made_by, p.recorded_by, p.collector_id, p.status, p.paid_minor, p.evaluated_at, count(*) over ()::int as total
        from promises p join customers c on c.tenant_id = p.tenant_id and c.customer_id = p.customer_id
        where p.tenant_id = ${tenantId}
          ${scope !== undefined ? sql`and c.collector_id = ${scope}` : sql``}
          ${filter.customerId ? sql`and p.customer_id = ${filter.customerId}` : sql``}
          ${filter.status ? sql`and p.status = ${filter.status}` : sql``}
        order by p.promised_date desc, p.promise_id limit ${filter.limit} offset ${filter.offset}`;
      return {
        total: rows[0]?.total ?? 0,
        items: rows.map((r) => ({
          promiseId: r.promise_id, invoiceNumber: r.invoice_number, customerId: r.customer_id, planId: r.plan_id, installmentNo: r.installment_no,
          amountMinor: r.amount_minor, currency: r.currency, promisedDate: r.promised_date, checkDate: r.check_date, madeBy: r.made_by, recordedBy: r.recorded_by,
          collectorId: r.collector_id, status: r.status, paidMinor: r.paid_minor, evaluatedAt: r.evaluated_at?.toISOString() ?? null,
        })),
      };
    },

    /**
     * Promise-kept rate over promises checked in [from, to): kept / (kept + partially kept + broken), per
     * collector (who owned the customer when the promise was made) or per customer. Each row is one
     * installment of one invoice. Collectors see their own figures only.
     */
    async promiseKeptRate(user: AuthUser, q: { by: 'collector' | 'customer'; from?: string; to?: string }) {
      const scope = portfolioScope(user);
      const key = q.by === 'collector' ? sql`coalesce(p.collector_id, '(unassigned)')` : sql`p.customer_id`;
      const rows = await sql<{ key: string; kept: number; partially_kept: number; broken: number; open: number }[]>`
        select ${key} as key,
               count(*) filter (where p.status = 'kept')::int as kept,
               count(*) filter (where p.status = 'partially_kept')::int as partially_kept,
               count(*) filter (where p.status = 'broken')::int as broken,
               count(*) filter (where p.status = 'open')::int as open
        from promises p join customers c on c.tenant_id = p.tenant_id and c.customer_id = p.customer_id
        where p.tenant_id = ${tenantId}
          ${scope !== undefined ? (q.by === 'collector' ? sql`and p.collector_id = ${scope}` : sql`and c.collector_id = ${scope}`) : sql``}
          ${q.from ? sql`and (p.evaluated_at >= ${q.from} or p.status = 'open')` : sql``}
          ${q.to ? sql`and (p.evaluated_at < ${q.to} or p.status = 'open')` : sql``}
        group by 1 order by 1`;
      return {
        by: q.by,
        from: q.from ?? null,
        to: q.to ?? null,
        items: rows.map((r) => {
          const settled = r.kept + r.partially_kept + r.broken;
          return { [q.by === 'collector' ? 'collectorId' : 'customerId']: r.key, kept: r.kept, partiallyKept: r.partially_kept, broken: r.broken, open: r.open, settled, keptRate: settled === 0 ? null : Math.round((r.kept / settled) * 10_000) / 10_000 };
        }),
      };
    },
  };
}

export type PromisesService = ReturnType<typeof createPromisesService>;
