import { moveOpenCallTasks, worklistTask, worklistTasks, type WorklistTaskRow } from '../db/call-tasks';
import { countCustomerActivities } from '../db/customer-activities';
import { lockCustomer, setCustomerCollector } from '../db/customers';
import { agingBucket, daysBetween, daysPastDue, type AgingBucket } from '../domain/aging';
import { convertMinor, type FxTable } from '../domain/fx';
import { priorityScore, type PriorityBreakdown } from '../domain/priority';
import { collectorChangedSignal } from '../workflows/messages';
import { assertCustomerAccess, portfolioScope, requireRole, type AuthUser } from './auth';
import type { CollectorDeps, CollectorWork } from './collector-work';
import { DomainError, notFound } from './errors';
import { clampToRange } from './dates';
import { assertPortfolioHolder } from './collectors';
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

/** A task with what the worklist shows and its priority needs (db/call-tasks.ts). */
export type TaskRow = WorklistTaskRow;

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
    const row = await worklistTask(sql, tenantId, taskId);
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
      const rows = await worklistTasks(sql, tenantId, {
        status: filter.status,
        ...(collectorId !== undefined ? { collectorId } : {}),
        ...(filter.customerId ? { customerId: filter.customerId } : {}),
        ...(filter.dueBefore ? { dueBefore: filter.dueBefore } : {}),
        ...(filter.dueAfter ? { dueAfter: filter.dueAfter } : {}),
      });
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

    /**
     * Moves a customer to another collector's portfolio with its open tasks, and records it in the
     * customer's history and the audit trail in the same transaction, keyed by the move (from, to) and its
     * number among the customer's reassignments. The customer already with that collector (a retried
     * PUT) changes and records nothing; the workflows are told in any case (a retry completes what failed).
     */
    async reassign(user: AuthUser, customerId: string, body: { collectorId: string }) {
      requireRole(user, 'team_lead');
      await assertPortfolioHolder(sql, tenantId, body.collectorId); // an active collector or above, never an owner team's member
      const to = body.collectorId;
      const result = await sql.begin(async (tx) => {
        const before = await lockCustomer(tx, tenantId, customerId);
        if (!before) throw notFound(`customer ${customerId}`);
        const from = before.collector_id;
        if (from === to) return { from, movedTasks: await moveOpenCallTasks(tx, tenantId, customerId, to) };
        await setCustomerCollector(tx, tenantId, customerId, to);
        const moved = { from, movedTasks: await moveOpenCallTasks(tx, tenantId, customerId, to) };
        const n = (await countCustomerActivities(tx, tenantId, customerId, 'reassignment')) + 1;
        const eventKey = `reassignment:${tenantId}:${customerId}:${from ?? 'nobody'}->${to}:n${n}`;
        await work.history({ eventKey, customerId, actor: user.userId, kind: 'reassignment', note: `portfolio moved from ${from ?? 'nobody'} to ${to}`, details: moved }, tx);
        await work.audit({ eventKey, actor: user.userId, type: 'customer_reassigned', details: { customerId, from, to, movedTasks: moved.movedTasks } }, tx);
        return moved;
      });
      for (const inv of await work.openInvoices(customerId)) {
        await temporal.workflow.getHandle(inv.workflow_id).signal(collectorChangedSignal, to).catch((err: unknown) => {
          if (!isWorkflowClosed(err)) throw err; // closed meanwhile
        });
      }
      return { customerId, from: result.from, to, movedTasks: result.movedTasks };
    },
  };
}

export type WorklistService = ReturnType<typeof createWorklistService>;
