import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { DateTime } from 'luxon';
import type { Sql } from '../db/sql';
import { agingBucket, daysBetween, daysPastDue, type AgingBucket } from '../domain/aging';
import type { Segment } from '../domain/cadence';
import { collectionPolicyOf } from '../domain/collection-policy';
import { convertMinor, type FxTable } from '../domain/fx';
import { priorityScore, type PriorityBreakdown } from '../domain/priority';
import { allocatePlan } from '../domain/promises';
import {
  collectorChangedSignal,
  makePromiseUpdate,
  pauseUpdate,
  recordCallOutcomeUpdate,
  resumeUpdate,
} from '../workflows/messages';
import { REACHED_OUTCOMES, type CallOutcome, type CallOutcomeResult } from '../domain/call-outcomes';
import { TERMINAL_STAGES, type StageResult } from '../domain/invoice-state';
import { assertCustomerAccess, invoiceForUser, portfolioScope, requireRole, type AuthUser } from './auth';
import { runUpdate } from './workflow-updates';
import type { CadenceService } from './cadence-service';
import type { ContactsService } from './contacts-service';
import { DomainError, notFound } from './errors';

/**
 * The collectors' work: the prioritized worklist, call tasks and their outcomes, notes and the
 * customer's activity history, promises and payment plans, pauses, portfolio reassignment. Every
 * change to an invoice's course goes through its workflow (a validated update); the database keeps
 * the tasks, the history and the audit trail.
 */
export interface CollectorServiceDeps {
  sql: Sql;
  temporal: Client;
  tenantId: string;
  fx: FxTable;
  cadences: Pick<CadenceService, 'getVersion'>;
  contacts: Pick<ContactsService, 'flagForUpdate'>;
  /** The clock, for tests of day counts; the workflows keep their own. */
  now?: () => Date;
}

export interface WorklistFilter {
  collectorId?: string;
  customerId?: string;
  bucket?: AgingBucket;
  status: 'open' | 'done' | 'cancelled' | 'all';
  dueBefore?: string;
  dueAfter?: string;
  limit: number;
  offset: number;
}

interface TaskRow {
  id: number;
  kind: string;
  status: 'open' | 'done' | 'cancelled';
  attempt: number;
  parent_task_id: number | null;
  due_at: Date;
  note: string;
  collector_id: string | null;
  invoice_number: string;
  customer_id: string;
  outcome: string | null;
  outcome_note: string | null;
  completed_at: Date | null;
  completed_by: string | null;
  cancelled_reason: string | null;
  created_at: Date;
  customer_name: string;
  segment: Segment;
  time_zone: string;
  currency: string;
  open_amount_minor: number;
  due_date: string;
  stage: string;
  workflow_id: string;
  broken_promises: number;
  last_reached_at: Date | null;
}

const TASK_COLUMNS = (sql: Sql) => sql`
  t.id, t.kind, t.status, t.attempt, t.parent_task_id, t.due_at, t.note, t.collector_id, t.invoice_number, t.customer_id,
  t.outcome, t.outcome_note, t.completed_at, t.completed_by, t.cancelled_reason, t.created_at,
  c.name as customer_name, c.segment, c.time_zone, i.currency, i.open_amount_minor, to_char(i.due_date, 'YYYY-MM-DD') as due_date, i.stage, i.workflow_id,
  bp.broken_promises, lr.last_reached_at`;

/**
 * Tasks with their customer and invoice, and the customer's broken promises (12 months) and last
 * reached call. Lateral joins let PostgreSQL compute those once per customer (Memoize), not once per task.
 */
const TASK_SOURCE = (sql: Sql) => sql`
  call_tasks t
  join customers c using (tenant_id, customer_id)
  join invoices i on i.tenant_id = t.tenant_id and i.invoice_number = t.invoice_number
  left join lateral (
    select count(*)::int as broken_promises from promises p
    where p.tenant_id = t.tenant_id and p.customer_id = t.customer_id and p.status = 'broken' and p.evaluated_at > now() - interval '12 months'
  ) bp on true
  left join lateral (
    select max(a.occurred_at) as last_reached_at from customer_activities a
    where a.tenant_id = t.tenant_id and a.customer_id = t.customer_id and a.reached
  ) lr on true`;

/** The local calendar date of an instant in a zone; one Intl formatter per zone (luxon per row cost 80 µs, see npm run bench -- worklist). */
const dayFormats = new Map<string, Intl.DateTimeFormat>();
export function localDay(instant: Date, zone: string): string {
  let format = dayFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(zone, format);
  }
  return format.format(instant); // en-CA: YYYY-MM-DD
}

export function createCollectorService(deps: CollectorServiceDeps) {
  const { sql, temporal, tenantId } = deps;
  const now = deps.now ?? (() => new Date());

  /** The task with what its priority needs, scored as of `at` in the customer's time zone. */
  function view(row: TaskRow, at = now()) {
    const today = localDay(at, row.time_zone);
    const pastDue = daysPastDue(row.due_date, today);
    const openReporting = convertMinor(row.open_amount_minor, row.currency, deps.fx);
    const priority: PriorityBreakdown = priorityScore({
      openAmountReportingMinor: openReporting,
      daysPastDue: pastDue,
      brokenPromises: row.broken_promises,
      disputeActive: row.stage === 'disputed',
      segment: row.segment,
      daysSinceLastSuccessfulContact: row.last_reached_at ? Math.max(0, daysBetween(localDay(row.last_reached_at, row.time_zone), today)) : null,
      taskDueInDays: daysBetween(today, localDay(row.due_at, row.time_zone)),
    });
    return {
      taskId: row.id,
      kind: row.kind,
      status: row.status,
      attempt: row.attempt,
      parentTaskId: row.parent_task_id,
      dueAt: row.due_at.toISOString(),
      note: row.note,
      collectorId: row.collector_id,
      customer: { id: row.customer_id, name: row.customer_name, segment: row.segment, timeZone: row.time_zone },
      invoice: {
        number: row.invoice_number,
        currency: row.currency,
        openAmountMinor: row.open_amount_minor,
        openAmountReportingMinor: openReporting,
        dueDate: row.due_date,
        daysPastDue: pastDue,
        bucket: agingBucket(pastDue),
        stage: row.stage,
      },
      brokenPromises: row.broken_promises,
      lastReachedAt: row.last_reached_at?.toISOString() ?? null,
      priority: { score: priority.score, components: priority.components },
      outcome: row.outcome ? { code: row.outcome, note: row.outcome_note ?? '', completedAt: row.completed_at!.toISOString(), completedBy: row.completed_by } : null,
      cancelledReason: row.cancelled_reason,
    };
  }
  type TaskView = ReturnType<typeof view>;

  async function loadTask(taskId: number): Promise<TaskRow> {
    const [row] = await sql<TaskRow[]>`
      select ${TASK_COLUMNS(sql)} from ${TASK_SOURCE(sql)}
      where t.tenant_id = ${tenantId} and t.id = ${taskId}`;
    if (!row) throw notFound(`task ${taskId}`);
    return row;
  }

  async function history(entry: { eventKey?: string; customerId: string; invoiceNumber?: string | null; taskId?: number | null; actor: string; kind: string; outcome?: string | null; reached?: boolean; note: string; details?: object }) {
    const [row] = await sql<{ id: number; occurred_at: Date }[]>`
      insert into customer_activities (event_key, tenant_id, customer_id, invoice_number, task_id, actor, kind, outcome, reached, note, details)
      values (${entry.eventKey ?? `activity:${randomUUID()}`}, ${tenantId}, ${entry.customerId}, ${entry.invoiceNumber ?? null}, ${entry.taskId ?? null}, ${entry.actor},
              ${entry.kind}, ${entry.outcome ?? null}, ${entry.reached ?? false}, ${entry.note}, ${sql.json((entry.details ?? {}) as never)})
      on conflict (event_key) do nothing returning id, occurred_at`;
    return row;
  }

  async function audit(actor: string, type: string, invoiceNumber: string | null, workflowId: string | null, details: object, eventKey = `${type}:${randomUUID()}`) {
    await sql`
      insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type, details)
      values (${eventKey}, ${tenantId}, ${actor}, ${invoiceNumber}, ${workflowId}, ${type}, ${sql.json(details as never)})
      on conflict (event_key) do nothing`;
  }

  /** Runs an update on the workflow; refusals become 409/422 (api/workflow-updates.ts), a closed workflow `undefined`. */
  const update = <R>(workflowId: string, run: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<R>) =>
    runUpdate(() => run(temporal.workflow.getHandle(workflowId)));

  return {
    /** Open tasks (by default) of a portfolio, highest priority first; collectors only ever see their own. */
    async worklist(user: AuthUser, filter: WorklistFilter) {
      const scope = portfolioScope(user);
      if (scope !== undefined && filter.collectorId !== undefined && filter.collectorId !== scope)
        throw new DomainError('not_in_portfolio', `a collector sees only their own worklist (${scope})`);
      const collectorId = scope ?? filter.collectorId;
      if (filter.customerId) await assertCustomerAccess(sql, user, filter.customerId);
      const rows = await sql<TaskRow[]>`
        select ${TASK_COLUMNS(sql)} from ${TASK_SOURCE(sql)}
        where t.tenant_id = ${tenantId}
          ${collectorId !== undefined ? sql`and t.collector_id = ${collectorId}` : sql``}
          ${filter.customerId ? sql`and t.customer_id = ${filter.customerId}` : sql``}
          ${filter.status !== 'all' ? sql`and t.status = ${filter.status}` : sql``}
          ${filter.dueBefore ? sql`and t.due_at < ${filter.dueBefore}` : sql``}
          ${filter.dueAfter ? sql`and t.due_at >= ${filter.dueAfter}` : sql``}`;
      const at = now(); // one "now" for the whole list
      let items = rows.map((row) => view(row, at));
      if (filter.bucket) items = items.filter((t) => t.invoice.bucket === filter.bucket);
      items.sort((a, b) => b.priority.score - a.priority.score || Date.parse(a.dueAt) - Date.parse(b.dueAt) || a.taskId - b.taskId);
      // The money behind the list: each invoice once, however many tasks it has.
      const invoices = new Map(items.map((t) => [t.invoice.number, t.invoice.openAmountReportingMinor]));
      return {
        reportingCurrency: deps.fx.reportingCurrency,
        total: items.length,
        totalOpenAmountReportingMinor: [...invoices.values()].reduce((s, v) => s + v, 0),
        items: items.slice(filter.offset, filter.offset + filter.limit),
      };
    },

    async task(user: AuthUser, taskId: number): Promise<TaskView> {
      const row = await loadTask(taskId);
      await assertCustomerAccess(sql, user, row.customer_id);
      return view(row);
    },

    /** A task made by a person (an agreed call, a follow-up the cadence does not know about). */
    async createTask(user: AuthUser, body: { invoiceNumber: string; dueAt: string; note: string }): Promise<TaskView> {
      const inv = await invoiceForUser(sql, user, body.invoiceNumber);
      if ((TERMINAL_STAGES as readonly string[]).includes(inv.stage)) throw new DomainError('invoice_closed', `invoice ${body.invoiceNumber} is ${inv.stage}`);
      const [row] = await sql<{ id: number }[]>`
        insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind, workflow_id, created_by)
        values (${`manual:${randomUUID()}`}, ${tenantId}, ${body.invoiceNumber}, ${inv.customer_id},
                (select collector_id from customers where tenant_id = ${tenantId} and customer_id = ${inv.customer_id}),
                ${body.dueAt}, ${body.note}, 'manual', ${inv.workflow_id}, ${user.userId})
        returning id`;
      await audit(user.userId, 'task_created', body.invoiceNumber, inv.workflow_id, { taskId: row!.id, dueAt: body.dueAt, note: body.note });
      return view(await loadTask(row!.id));
    },

    /**
     * Records a call's outcome: the invoice workflow applies it first (a validated update, deduplicated
     * by task id), then the task is closed with the outcome and the customer's history gets the entry.
     * A task completes once: a second completion is a 409 naming the first outcome, and changes nothing.
     */
    async completeTask(user: AuthUser, taskId: number, body: { outcome: CallOutcomeBody; note: string }) {
      const row = await loadTask(taskId);
      await assertCustomerAccess(sql, user, row.customer_id);
      const alreadyDone = (r: TaskRow) =>
        new DomainError('task_already_completed', r.status === 'cancelled'
          ? `task ${taskId} was cancelled (${r.cancelled_reason ?? 'no reason'}); nothing to complete`
          : `task ${taskId} was already completed by ${r.completed_by} at ${r.completed_at?.toISOString()} with outcome ${r.outcome}`, {
          task: { taskId, status: r.status, outcome: r.outcome, completedBy: r.completed_by, completedAt: r.completed_at?.toISOString() ?? null },
        });
      if (row.status !== 'open') throw alreadyDone(row);
      const outcome: CallOutcome = toCallOutcome(body.outcome, row.time_zone);
      if (outcome.code === 'wrong_contact') await deps.contacts.flagForUpdate(row.customer_id, outcome.contactId, `wrong contact on call task ${taskId}: ${body.note}`.trim(), user.userId);
      const result: CallOutcomeResult | undefined = await update(row.workflow_id, (h) =>
        h.executeUpdate(recordCallOutcomeUpdate, { updateId: `task-${taskId}-outcome`, args: [{ taskId, attempt: row.attempt, outcome, note: body.note, actor: user.userId }] }),
      );
      const reached = REACHED_OUTCOMES.includes(outcome.code);
      const closed = await sql.begin(async (tx) => {
        const [done] = await tx<{ id: number }[]>`
          update call_tasks set status = 'done', outcome = ${outcome.code}, outcome_note = ${body.note}, outcome_details = ${tx.json(outcome as never)},
                 completed_at = now(), completed_by = ${user.userId}
          where tenant_id = ${tenantId} and id = ${taskId} and status = 'open' returning id`;
        if (!done) return false;
        await tx`
          insert into customer_activities (event_key, tenant_id, customer_id, invoice_number, task_id, actor, kind, outcome, reached, note, details)
          values (${`task:${tenantId}:${taskId}:outcome`}, ${tenantId}, ${row.customer_id}, ${row.invoice_number}, ${taskId}, ${user.userId},
                  'call_outcome', ${outcome.code}, ${reached}, ${body.note}, ${tx.json({ outcome, followUpTask: result?.followUpTask ?? null, effects: result?.effects ?? [] } as never)})
          on conflict (event_key) do nothing`;
        await tx`
          insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type, details)
          values (${`task:${tenantId}:${taskId}:completed`}, ${tenantId}, ${user.userId}, ${row.invoice_number}, ${row.workflow_id}, 'task_completed',
                  ${tx.json({ taskId, outcome, note: body.note } as never)})
          on conflict (event_key) do nothing`;
        return true;
      });
      if (!closed) throw alreadyDone(await loadTask(taskId));
      return {
        task: view(await loadTask(taskId)),
        workflow: result
          ? { applied: true, stage: result.stage, openAmountMinor: result.openAmountMinor, nextStep: result.nextStep, followUpTask: result.followUpTask, effects: result.effects }
          : { applied: false, stage: row.stage, openAmountMinor: row.open_amount_minor, nextStep: null, followUpTask: null, effects: [`invoice ${row.invoice_number} is no longer in dunning: outcome recorded only`] },
      };
    },

    async addNote(user: AuthUser, customerId: string, body: { note: string; invoiceNumber?: string }) {
      await assertCustomerAccess(sql, user, customerId);
      if (body.invoiceNumber) {
        const inv = await invoiceForUser(sql, user, body.invoiceNumber);
        if (inv.customer_id !== customerId) throw new DomainError('invoice_of_other_customer', `invoice ${body.invoiceNumber} belongs to customer ${inv.customer_id}`);
      }
      const eventKey = `note:${randomUUID()}`;
      const entry = await history({ eventKey, customerId, invoiceNumber: body.invoiceNumber ?? null, actor: user.userId, kind: 'note', note: body.note });
      await audit(user.userId, 'note_added', body.invoiceNumber ?? null, null, { customerId, note: body.note }, eventKey);
      return { id: entry!.id, customerId, invoiceNumber: body.invoiceNumber ?? null, note: body.note, actor: user.userId, occurredAt: entry!.occurred_at.toISOString() };
    },

    async activities(user: AuthUser, customerId: string, page: { limit: number; offset: number }) {
      await assertCustomerAccess(sql, user, customerId);
      const rows = await sql<{ id: number; occurred_at: Date; actor: string; kind: string; outcome: string | null; reached: boolean; note: string; invoice_number: string | null; task_id: number | null; details: unknown; total: number }[]>`
        select id, occurred_at, actor, kind, outcome, reached, note, invoice_number, task_id, details, count(*) over ()::int as total
        from customer_activities where tenant_id = ${tenantId} and customer_id = ${customerId}
        order by occurred_at desc, id desc limit ${page.limit} offset ${page.offset}`;
      return {
        total: rows[0]?.total ?? 0,
        items: rows.map((r) => ({ id: r.id, occurredAt: r.occurred_at.toISOString(), actor: r.actor, kind: r.kind, outcome: r.outcome, reached: r.reached, note: r.note, invoiceNumber: r.invoice_number, taskId: r.task_id, details: r.details })),
      };
    },

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
        const r = await update(inv.workflow_id, (h) =>
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
      const policy = collectionPolicyOf((await deps.cadences.getVersion(ordered[0]!.cadence_id, ordered[0]!.cadence_version)).definition);
      const planId = `PLAN-${randomUUID().slice(0, 8)}`;
      const total = body.installments.reduce((s, i) => s + i.amountMinor, 0);
      await sql`
        insert into payment_plans (tenant_id, plan_id, customer_id, currency, total_minor, max_missed, created_by)
        values (${tenantId}, ${planId}, ${body.customerId}, ${ordered[0]!.currency}, ${total}, ${policy.paymentPlan.maxMissedInstallments}, ${user.userId})`;
      const results = [];
      for (const inv of ordered) {
        const installments = shares.get(inv.number)!;
        if (installments.length === 0) continue;
        const r = await update(inv.workflow_id, (h) =>
          h.executeUpdate(makePromiseUpdate, { updateId: `${planId}-${inv.number}`, args: [{ promiseId: `${planId}-${inv.number}`, planId, madeBy: body.madeBy, recordedBy: user.userId, installments }] }),
        );
        if (!r) throw new DomainError('invoice_closed', `invoice ${inv.number} closed while the plan was made`);
        results.push({ invoiceNumber: inv.number, installments, stage: r.stage });
      }
      await audit(user.userId, 'payment_plan_created', null, null, { planId, customerId: body.customerId, madeBy: body.madeBy, installments: body.installments, invoices: results.map((r) => r.invoiceNumber) });
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

    async pauseInvoice(user: AuthUser, invoiceNumber: string, body: { reason: string; until: string | null }) {
      const inv = await invoiceForUser(sql, user, invoiceNumber);
      const r = await update(inv.workflow_id, (h) => h.executeUpdate(pauseUpdate, { args: [{ reason: body.reason, until: body.until, actor: user.userId, scope: 'invoice' }] }));
      if (!r) throw new DomainError('invoice_closed', `invoice ${invoiceNumber} is no longer in dunning`);
      await history({ customerId: inv.customer_id, invoiceNumber, actor: user.userId, kind: 'pause', note: body.reason, details: { until: body.until } });
      await audit(user.userId, 'pause_requested', invoiceNumber, inv.workflow_id, body);
      return { invoiceNumber, ...r };
    },

    async resumeInvoice(user: AuthUser, invoiceNumber: string, body: { note: string }) {
      const inv = await invoiceForUser(sql, user, invoiceNumber);
      const r = await update(inv.workflow_id, (h) => h.executeUpdate(resumeUpdate, { args: [{ actor: user.userId, note: body.note, scope: 'invoice' }] }));
      if (!r) throw new DomainError('invoice_closed', `invoice ${invoiceNumber} is no longer in dunning`);
      if (!r.changed) throw new DomainError('not_paused', `invoice ${invoiceNumber} is not paused (stage ${r.stage})`);
      await history({ customerId: inv.customer_id, invoiceNumber, actor: user.userId, kind: 'resume', note: body.note });
      await audit(user.userId, 'resume_requested', invoiceNumber, inv.workflow_id, body);
      return { invoiceNumber, ...r };
    },

    /** Pauses every open invoice of the customer, and invoices enrolled while the pause lasts. */
    async pauseCustomer(user: AuthUser, customerId: string, body: { reason: string; until: string | null }) {
      await assertCustomerAccess(sql, user, customerId);
      await sql`update customers set paused = true, paused_until = ${body.until}, pause_reason = ${body.reason}, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
      const results = (await updateOpenInvoices(customerId, (h) => h.executeUpdate(pauseUpdate, { args: [{ reason: body.reason, until: body.until, actor: user.userId, scope: 'customer' }] })))
        .map(({ invoiceNumber, result }) => ({ invoiceNumber, stage: result.stage }));
      await history({ customerId, actor: user.userId, kind: 'pause', note: body.reason, details: { until: body.until, scope: 'customer', invoices: results.map((r) => r.invoiceNumber) } });
      await audit(user.userId, 'customer_paused', null, null, { customerId, ...body, invoices: results.map((r) => r.invoiceNumber) });
      return { customerId, paused: true, until: body.until, invoices: results };
    },

    async resumeCustomer(user: AuthUser, customerId: string, body: { note: string }) {
      await assertCustomerAccess(sql, user, customerId);
      await sql`update customers set paused = false, paused_until = null, pause_reason = null, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
      const results = (await updateOpenInvoices(customerId, (h) => h.executeUpdate(resumeUpdate, { args: [{ actor: user.userId, note: body.note, scope: 'customer' }] })))
        .map(({ invoiceNumber, result }) => ({ invoiceNumber, stage: result.stage, resumed: result.changed }));
      await history({ customerId, actor: user.userId, kind: 'resume', note: body.note, details: { scope: 'customer' } });
      await audit(user.userId, 'customer_resumed', null, null, { customerId, ...body });
      return { customerId, paused: false, invoices: results };
    },

    /** Moves a customer to another collector's portfolio with its open tasks. */
    async reassign(user: AuthUser, customerId: string, body: { collectorId: string }) {
      requireRole(user, 'team_lead');
      const [collector] = await sql<{ role: string; active: boolean }[]>`select role, active from users where tenant_id = ${tenantId} and user_id = ${body.collectorId}`;
      if (!collector || !collector.active) throw new DomainError('unknown_collector', `no active user ${body.collectorId}`);
      const result = await sql.begin(async (tx) => {
        const [before] = await tx<{ collector_id: string | null }[]>`select collector_id from customers where tenant_id = ${tenantId} and customer_id = ${customerId} for update`;
        if (!before) throw notFound(`customer ${customerId}`);
        await tx`update customers set collector_id = ${body.collectorId}, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
        const moved = await tx<{ id: number }[]>`
          update call_tasks set collector_id = ${body.collectorId} where tenant_id = ${tenantId} and customer_id = ${customerId} and status = 'open' returning id`;
        return { from: before.collector_id, movedTasks: moved.map((m) => m.id).sort((a, b) => a - b) };
      });
      for (const inv of await openInvoices(customerId)) {
        await temporal.workflow.getHandle(inv.workflow_id).signal(collectorChangedSignal, body.collectorId).catch((err: unknown) => {
          if (!(err instanceof WorkflowNotFoundError)) throw err; // closed meanwhile
        });
      }
      await history({ customerId, actor: user.userId, kind: 'reassignment', note: `portfolio moved from ${result.from ?? 'nobody'} to ${body.collectorId}`, details: result });
      await audit(user.userId, 'customer_reassigned', null, null, { customerId, from: result.from, to: body.collectorId, movedTasks: result.movedTasks });
      return { customerId, from: result.from, to: body.collectorId, movedTasks: result.movedTasks };
    },
  };

  async function openInvoices(customerId: string) {
    return sql<{ invoice_number: string; workflow_id: string }[]>`
      select invoice_number, workflow_id from invoices where tenant_id = ${tenantId} and customer_id = ${customerId}
        and stage <> all(${TERMINAL_STAGES as string[]}) order by invoice_number`;
  }

  /** Runs an update on each open invoice of the customer; one that closed or refuses meanwhile is left out, other failures propagate. */
  async function updateOpenInvoices<R>(customerId: string, run: (handle: ReturnType<Client['workflow']['getHandle']>) => Promise<R>) {
    const done: { invoiceNumber: string; result: R }[] = [];
    for (const inv of await openInvoices(customerId)) {
      const result = await update(inv.workflow_id, run).catch((err: unknown) => {
        if (err instanceof DomainError) return undefined;
        throw err;
      });
      if (result) done.push({ invoiceNumber: inv.invoice_number, result });
    }
    return done;
  }
}

export type CollectorService = ReturnType<typeof createCollectorService>;

/** The outcome as the API takes it: a callback is a local date and time in the customer's zone. */
export type CallOutcomeBody =
  | Exclude<CallOutcome, { code: 'callback_requested' } | { code: 'promise_to_pay' }>
  | { code: 'promise_to_pay'; amountMinor: number; promisedDate: string; madeBy: string }
  | { code: 'callback_requested'; callbackDate: string; callbackTime: string };

function toCallOutcome(body: CallOutcomeBody, timeZone: string): CallOutcome {
  if (body.code === 'promise_to_pay') return { ...body, promiseId: `PTP-${randomUUID().slice(0, 8)}` };
  if (body.code === 'callback_requested') {
    const at = DateTime.fromISO(`${body.callbackDate}T${body.callbackTime}`, { zone: timeZone });
    if (!at.isValid) throw new DomainError('invalid_callback_time', `${body.callbackDate} ${body.callbackTime} is not a time in ${timeZone}`);
    return { code: 'callback_requested', callbackAt: at.toUTC().toISO()! };
  }
  return body;
}
