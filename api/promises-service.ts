import { findCustomer } from '../db/customers';
import { deletePaymentPlanWithoutPromises, insertPaymentPlanOnce, pageOfPromises, promiseOutcomeCounts, planIdSpent, promiseIdSpent } from '../db/promises';
import { collectionPolicyOf, promiseRulesOf } from '../domain/collection-policy';
import { invoiceRefusal } from '../domain/invoice-refusals';
import { stageResult, type DunningState, type StageResult } from '../domain/invoice-state';
import { allocatePlan, localDate, type PromiseRequest, type PromiseRules } from '../domain/promises';
import { dunningStateQuery, makePromiseUpdate, withdrawPromiseUpdate } from '../workflows/messages';
import { allOrNothing } from './all-or-nothing';
import { assertCustomerAccess, invoiceForUser, portfolioScope, requireRole, type AuthUser, type InvoiceForUser } from './auth';
import type { CadenceService } from './cadence-service';
import { derivedId, type CollectorWork } from './collector-work';
import { DomainError, UpdateNotCompleted } from './errors';
import { isWorkflowClosed, UPDATE_TIMEOUT_MS } from './workflow-updates';

/** One invoice's share of a promise or plan: the update its workflow gets. */
interface Share {
  number: string;
  inv: InvoiceForUser;
  request: PromiseRequest;
  updateId: string;
}

/** Promises to pay and payment plans over a customer's invoices (each invoice's workflow follows its share), their list and the promise-kept rate. */
export function createPromisesService(work: CollectorWork, cadences: Pick<CadenceService, 'getVersion'>) {
  const { sql, tenantId } = work;

  /** The promise rules of a cadence version, each read once per request. */
  function rulesReader() {
    const read = new Map<string, Promise<PromiseRules>>();
    return (cadence: { id: string; version: number }, pinned: { cadence_id: string; cadence_version: number }) => {
      const key = `${cadence.id}@${cadence.version}`;
      if (!read.has(key))
        read.set(
          key,
          cadences
            .getVersion(cadence.id, cadence.version)
            .catch((err: unknown) => {
              if (err instanceof DomainError && err.code === 'not_found') return cadences.getVersion(pinned.cadence_id, pinned.cadence_version);
              throw err;
            })
            .then((v) => promiseRulesOf(collectionPolicyOf(v.definition))),
        );
      return read.get(key)!;
    };
  }

  /**
   * Whether the invoice's workflow, as it is now, takes its share: the same rule its update validator
   * applies (domain/invoice-refusals.ts) to the state it answers by query. Throws the refusal; answers
   * the invoice's state when this very promise is already there (a retry of a request that got through).
   */
  async function acceptance(share: Share, ctx: { timeZone: string; nowMs: number; rules: ReturnType<typeof rulesReader> }): Promise<StageResult | undefined> {
    const handle = work.temporal.workflow.getHandle(share.inv.workflow_id);
    const closed = () => new DomainError('invoice_closed', `invoice ${share.number} is no longer in dunning`, { invoiceNumber: share.number });
    let state: DunningState;
    try {
      if ((await handle.describe()).status.name !== 'RUNNING') throw closed();
      // A query is answered by the workflow's worker, as an update is: it gets an update's time (a busy worker takes seconds).
      state = await work.temporal.withDeadline(Date.now() + UPDATE_TIMEOUT_MS, () => handle.query(dunningStateQuery));
    } catch (err) {
      if (isWorkflowClosed(err)) throw closed();
      throw err;
    }
    if (state.promise?.promiseId === share.request.promiseId) return stageResult(state, false);
    const refused = invoiceRefusal(state, { kind: 'promise', promise: share.request }, {
      invoice: { number: share.number, currency: state.currency },
      nowMs: ctx.nowMs,
      today: localDate(ctx.nowMs, ctx.timeZone),
      promiseRules: await ctx.rules(state.cadence, share.inv),
    });
    if (refused) throw new DomainError(refused.code, refused.message, { invoiceNumber: share.number });
    return undefined;
  }

  /**
   * The id of a promise or plan, from what identifies the request: the same request again finds its promise.
   * Once such a promise was taken back (a request that could not be made on every invoice), its id is spent
   * and the request made again gets the next one (`derivedId(prefix, base, 1)`, 2...), so that it is made anew
   * rather than answered by the workflow's memory of the update that was taken back.
   */
  async function unspentId(prefix: string, base: unknown, spent: (id: string) => Promise<boolean>): Promise<string> {
    for (let n = 0; ; n++) {
      const id = n === 0 ? derivedId(prefix, base) : derivedId(prefix, base, n);
      if (!(await spent(id))) return id;
    }
  }

  /**
   * Takes a share back (the workflow's withdrawPromise update, idempotent: it changes nothing when that
   * promise is not the one followed, and a plan's status becomes cancelled). Done when the invoice closed
   * meanwhile (it follows no promise any more), and when Temporal holds the withdrawal for a worker that is
   * down: it is applied after the share it takes back, in the order Temporal received them.
   */
  async function withdraw(share: Share, actor: string): Promise<void> {
    try {
      await work.update(share.inv.workflow_id, (h) =>
        h.executeUpdate(withdrawPromiseUpdate, {
          updateId: `withdraw-${share.updateId}`,
          args: [{ promiseId: share.request.promiseId, actor, reason: 'the promise could not be made on every invoice it covers' }],
        }),
      );
    } catch (err) {
      if (err instanceof DomainError && err.code === 'invoice_closed') return;
      if (err instanceof UpdateNotCompleted && err.admitted) return;
      throw err;
    }
  }

  /**
   * A promise (or a plan's shares) on several invoices, all or nothing. First every invoice's workflow
   * is asked whether it takes its share, and nothing is sent unless all do; then the updates go out,
   * one per invoice (deduplicated by update id). One can then fail only if the invoice changed in the
   * meantime (a payment, a dispute, closing) or Temporal cannot be reached: the shares already made are
   * withdrawn, last first (allOrNothing), and the failure is answered as it was. A share its workflow did not
   * take in time (the worker is down) is withdrawn too, right behind it, and the request is answered 503:
   * nothing of it stands. Only a share that could not even be withdrawn is named (notUndone).
   */
  async function promiseEverywhere(customerId: string, shares: Share[], actor: string): Promise<StageResult[]> {
    const customer = await findCustomer(sql, tenantId, customerId);
    const ctx = { timeZone: customer!.time_zone, nowMs: Date.now(), rules: rulesReader() };
    const already = await Promise.all(shares.map((share) => acceptance(share, ctx)));
    return allOrNothing(
      shares.map((share, i) => ({
        name: share.number,
        apply: async () => {
          if (already[i]) return already[i];
          let r;
          try {
            r = await work.update(share.inv.workflow_id, (h) => h.executeUpdate(makePromiseUpdate, { updateId: share.updateId, args: [share.request] }));
          } catch (err) {
            if (!(err instanceof UpdateNotCompleted)) throw err;
            await withdraw(share, actor);
            throw new DomainError('dependency_unavailable', `the workflow of invoice ${share.number} did not take the promise in time (its worker may be down): nothing of it stands, try again later`, {
              dependency: 'temporal',
              invoiceNumber: share.number,
            });
          }
          if (!r) throw new DomainError('invoice_closed', `invoice ${share.number} closed while the promise was made`, { invoiceNumber: share.number });
          return r;
        },
        undo: () => withdraw(share, actor),
      })),
    );
  }

  return {
    /**
     * A promise over one or more invoices of one customer, made outside a task (or for further invoices
     * of a call): one promise id for all of them, all or nothing (see promiseEverywhere). The id comes
     * from the request's Idempotency-Key, else from the request itself, so a retry never makes a second promise.
     */
    async makePromise(user: AuthUser, body: { customerId: string; madeBy: string; promisedDate: string; invoices: { number: string; amountMinor: number }[] }, key?: string) {
      await assertCustomerAccess(sql, user, body.customerId);
      const promiseId = await unspentId('PTP', key ?? [tenantId, user.userId, body], (id) => promiseIdSpent(sql, tenantId, id));
      const shares: Share[] = [];
      for (const part of body.invoices) {
        const inv = await invoiceForUser(sql, user, part.number);
        if (inv.customer_id !== body.customerId) throw new DomainError('invoice_of_other_customer', `invoice ${part.number} belongs to customer ${inv.customer_id}`);
        const request = { promiseId, madeBy: body.madeBy, recordedBy: user.userId, installments: [{ dueDate: body.promisedDate, amountMinor: part.amountMinor }] };
        shares.push({ number: part.number, inv, request, updateId: `${promiseId}-${part.number}` });
      }
      const results = await promiseEverywhere(body.customerId, shares, user.userId);
      return { promiseId, invoices: shares.map((share, i) => ({ invoiceNumber: share.number, stage: results[i]!.stage, nextStep: results[i]!.nextStep })) };
    },

    /**
     * A payment plan: installments over one or more invoices of one customer, allocated oldest invoice
     * first; each invoice's workflow follows its share, all or nothing. The installments must add up to
     * the open total. The plan id comes from the Idempotency-Key, else from the request itself.
     */
    async createPaymentPlan(user: AuthUser, body: { customerId: string; madeBy: string; invoiceNumbers: string[]; installments: { dueDate: string; amountMinor: number }[] }, key?: string) {
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
      const planId = await unspentId('PLAN', key ?? [tenantId, user.userId, body], (id) => planIdSpent(sql, tenantId, id));
      const total = body.installments.reduce((s, i) => s + i.amountMinor, 0);
      const planned = ordered
        .map((inv) => ({ inv, installments: shares.get(inv.number)! }))
        .filter((p) => p.installments.length > 0)
        .map(({ inv, installments }) => ({
          number: inv.number,
          inv,
          installments,
          updateId: `${planId}-${inv.number}`,
          request: { promiseId: `${planId}-${inv.number}`, planId, madeBy: body.madeBy, recordedBy: user.userId, installments },
        }));
      // The plan's row first: each invoice's promise rows refer to it.
      await insertPaymentPlanOnce(sql, {
        tenantId, planId, customerId: body.customerId, currency: ordered[0]!.currency, totalMinor: total,
        maxMissed: policy.paymentPlan.maxMissedInstallments, createdBy: user.userId,
      });
      let results: StageResult[];
      try {
        results = await promiseEverywhere(body.customerId, planned, user.userId);
      } catch (err) {
        // Nothing of the plan stands: no row of it either, unless a share was made and taken back (the plan then stays, cancelled, with its cancelled rows).
        await deletePaymentPlanWithoutPromises(sql, tenantId, planId);
        throw err;
      }
      const invoicesOut = planned.map((p, i) => ({ invoiceNumber: p.number, installments: p.installments, stage: results[i]!.stage }));
      await work.audit({ eventKey: `plan:${tenantId}:${planId}:created`, actor: user.userId, type: 'payment_plan_created', details: { planId, customerId: body.customerId, madeBy: body.madeBy, installments: body.installments, invoices: invoicesOut.map((r) => r.invoiceNumber) } });
      return { planId, customerId: body.customerId, currency: ordered[0]!.currency, totalMinor: total, maxMissedInstallments: policy.paymentPlan.maxMissedInstallments, invoices: invoicesOut };
    },

    async promises(user: AuthUser, filter: { customerId?: string; status?: string; limit: number; offset: number }) {
      if (filter.customerId) await assertCustomerAccess(sql, user, filter.customerId);
      const scope = portfolioScope(user);
      const { total, rows } = await pageOfPromises(sql, tenantId, { ...filter, ...(scope !== undefined ? { collectorId: scope } : {}) });
      return {
        total,
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
      const rows = await promiseOutcomeCounts(sql, tenantId, { ...q, ...(scope !== undefined ? { collectorId: scope } : {}) });
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
