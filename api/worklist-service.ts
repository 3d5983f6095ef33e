import { randomUUID } from 'node:crypto';
import type { Sql } from '../db/sql';
import { agingBucket, daysBetween, daysPastDue, type AgingBucket } from '../domain/aging';
import type { Segment } from '../domain/cadence';
import { convertMinor, type FxTable } from '../domain/fx';
import { priorityScore, type PriorityBreakdown } from '../domain/priority';
import { collectorChangedSignal } from '../workflows/messages';
import { assertCustomerAccess, portfolioScope, requireRole, type AuthUser } from './auth';
import type { CollectorDeps, CollectorWork } from './collector-work';
import { DomainError, notFound } from './errors';
import { clampToRange } from './dates';
import { isWorkflowClosed } from './workflow-updates';

/**
 * The worklist: call tasks with their customer and invoice, prioritized in the reporting currency;
 * and the portfolio behind it (a customer moves to another collector with its open tasks).
 */
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

export interface TaskRow {
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

/**
 * The local calendar date of an instant in a zone; one Intl formatter per zone (luxon per row cost 80 µs, see npm run bench -- worklist).
 * An instant outside the years the API takes (a row stored before dates were bounded, api/dates.ts) counts as the nearest bound:
 * Intl would answer "101-01-01" for year 101, which no date arithmetic reads, and one such task would fail the whole worklist.
 */
const dayFormats = new Map<string, Intl.DateTimeFormat>();
export function localDay(instant: Date, zone: string): string {
  let format = dayFormats.get(zone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    dayFormats.set(zone, format);
  }
  return format.format(clampToRange(instant)); // en-CA: YYYY-MM-DD
}

/** Reads tasks with what their priority needs and scores them; shared by the worklist and the tasks service. */
export function createTaskReader(deps: Pick<CollectorDeps, 'sql' | 'tenantId' | 'now'> & { fx: FxTable }) {
  const { sql, tenantId } = deps;
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

  async function loadTask(taskId: number): Promise<TaskRow> {
    const [row] = await sql<TaskRow[]>`
      select ${TASK_COLUMNS(sql)} from ${TASK_SOURCE(sql)}
      where t.tenant_id = ${tenantId} and t.id = ${taskId}`;
    if (!row) throw notFound(`task ${taskId}`);
    return row;
  }
  return { view, loadTask };
}

export type TaskReader = ReturnType<typeof createTaskReader>;
export type TaskView = ReturnType<TaskReader['view']>;

export function createWorklistService(work: CollectorWork, tasks: TaskReader, fx: FxTable) {
  const { sql, tenantId, temporal } = work;
  const { view } = tasks;

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
      const at = work.now(); // one "now" for the whole list
      let items = rows.map((row) => view(row, at));
      if (filter.bucket) items = items.filter((t) => t.invoice.bucket === filter.bucket);
      items.sort((a, b) => b.priority.score - a.priority.score || Date.parse(a.dueAt) - Date.parse(b.dueAt) || a.taskId - b.taskId);
      // The money behind the list: each invoice once, however many tasks it has.
      const invoices = new Map(items.map((t) => [t.invoice.number, t.invoice.openAmountReportingMinor]));
      return {
        reportingCurrency: fx.reportingCurrency,
        total: items.length,
        totalOpenAmountReportingMinor: [...invoices.values()].reduce((s, v) => s + v, 0),
        items: items.slice(filter.offset, filter.offset + filter.limit),
      };
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
      for (const inv of await work.openInvoices(customerId)) {
        await temporal.workflow.getHandle(inv.workflow_id).signal(collectorChangedSignal, body.collectorId).catch((err: unknown) => {
          if (!isWorkflowClosed(err)) throw err; // closed meanwhile
        });
      }
      const key = `reassignment:${tenantId}:${customerId}:${randomUUID()}`;
      await work.history({ eventKey: key, customerId, actor: user.userId, kind: 'reassignment', note: `portfolio moved from ${result.from ?? 'nobody'} to ${body.collectorId}`, details: result });
      await work.audit({ eventKey: key, actor: user.userId, type: 'customer_reassigned', details: { customerId, from: result.from, to: body.collectorId, movedTasks: result.movedTasks } });
      return { customerId, from: result.from, to: body.collectorId, movedTasks: result.movedTasks };
    },
  };
}

export type WorklistService = ReturnType<typeof createWorklistService>;
