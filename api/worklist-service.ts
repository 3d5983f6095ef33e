import {
  moveOpenCallTasks,
  openWorklistPage,
  openWorklistTotals,
  prioritiesStale,
  stalePriorityInputs,
  storePriorities,
  takePriorityInvalidations,
  worklistTask,
  worklistTasks,
  type OpenWorklistFilter,
  type WorklistCursor,
  type WorklistTaskRow,
} from '../db/call-tasks';
import { countCustomerActivities } from '../db/customer-activities';
import { lockCustomer, setCustomerCollector } from '../db/customers';
import { agingBucket, daysBetween, daysPastDue, type AgingBucket } from '../domain/aging';
import { convertMinor, type FxTable } from '../domain/fx';
import { priorityScore, type PriorityBreakdown } from '../domain/priority';
import { collectorChangedSignal } from '../workflows/messages';
import { assertCustomerAccess, portfolioScope, requireRole, type AuthUser } from './auth';
import type { CollectorDeps, CollectorWork } from './collector-work';
import { DomainError, notFound } from './errors';
import { cursorParts, encodeCursor, invalidCursor } from './list-cursors';
import { clampToRange } from './dates';
import { assertPortfolioHolder } from './collectors';
import { isWorkflowClosed } from './workflow-updates';
import { createTotalsCache, type TotalsCache } from './totals-cache';

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
  /** The previous page's nextCursor: the page after its last task (open tasks only). */
  cursor?: string;
}

/** Days past due of each aging bucket, inclusive (domain/aging.ts agingBucket). */
const BUCKET_DAYS: Record<AgingBucket, { min: number | null; max: number | null }> = {
  current: { min: null, max: 0 },
  '1-30': { min: 1, max: 30 },
  '31-60': { min: 31, max: 60 },
  '61-90': { min: 61, max: 90 },
  '91+': { min: 91, max: null },
};

/** An opaque cursor: base64url of [score, due_at as PostgreSQL writes it, task id]. */
export function encodeWorklistCursor(c: WorklistCursor): string {
  return encodeCursor([c.score, c.dueAt, c.id]);
}

export function decodeWorklistCursor(text: string): WorklistCursor {
  const [score, dueAt, id] = cursorParts(text);
  if (
    !Number.isSafeInteger(score) ||
    !Number.isSafeInteger(id) ||
    (id as number) < 1 ||
    typeof dueAt !== 'string' ||
    !/^[0-9]{4,}-[0-9]{2}-[0-9]{2} [0-9:.]+(?:[+-][0-9:]+)?(?: BC)?$/.test(dueAt)
  )
    throw invalidCursor();
  return { score: score as number, dueAt, id: id as number };
}

/** Tasks scored per statement when the stored priorities are brought up to date. */
const SCORE_BATCH = 2_000;

/** A task with what the worklist shows and its priority needs (db/call-tasks.ts). */
export type TaskRow = WorklistTaskRow;

/**
 * The local calendar date of an instant in a zone; one Intl formatter per zone (luxon cost 80 µs per row).
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
  function view(row: TaskRow, at = now(), todays?: Map<string, string>) {
    let today = todays?.get(row.time_zone);
    if (today === undefined) {
      today = localDay(at, row.time_zone);
      todays?.set(row.time_zone, today);
    }
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

  /**
   * Brings the stored priorities (migration 010) up to date as of `at`: takes the queued invalidations,
   * then scores every stale open task with the same function as `view` (its day counts from SQL, in the
   * customer's time zone). One pass at a time per process; a caller arriving meanwhile waits for it and
   * checks again. A task that stays stale after being scored (its window already over at `at`) is scored
   * once per pass, not forever.
   */
  let pass: Promise<void> | undefined;
  async function scoreStale(at: Date): Promise<void> {
    await takePriorityInvalidations(sql, tenantId);
    const scored = new Set<number>();
    for (;;) {
      const rows = await stalePriorityInputs(sql, tenantId, at, SCORE_BATCH);
      const fresh = rows.filter((r) => !scored.has(r.id));
      if (fresh.length === 0) return;
      await storePriorities(
        sql,
        tenantId,
        fresh.map((r) => {
          scored.add(r.id);
          const amountReportingMinor = convertMinor(r.open_amount_minor, r.currency, deps.fx);
          const { score } = priorityScore({
            openAmountReportingMinor: amountReportingMinor,
            daysPastDue: r.days_past_due,
            brokenPromises: r.broken_promises,
            disputeActive: r.stage === 'disputed',
            segment: r.segment,
            daysSinceLastSuccessfulContact: r.days_since_reached,
            taskDueInDays: r.task_due_in_days,
          });
          return { id: r.id, dueAtKey: r.due_at_key, score, amountReportingMinor, from: r.valid_from, until: r.valid_until };
        }),
      );
      if (rows.length < SCORE_BATCH) return;
    }
  }
  async function refreshPriorities(at = now()): Promise<void> {
    for (let round = 0; round < 2; round++) {
      if (pass) {
        await pass.catch(() => undefined);
        continue;
      }
      if (!(await prioritiesStale(sql, tenantId, at))) return;
      pass = scoreStale(at).finally(() => (pass = undefined));
      await pass;
      return;
    }
  }

  async function loadTask(taskId: number): Promise<TaskRow> {
    const row = await worklistTask(sql, tenantId, taskId);
    if (!row) throw notFound(`task ${taskId}`);
    return row;
  }
  return { view, loadTask, refreshPriorities };
}

export type TaskReader = ReturnType<typeof createTaskReader>;
export type TaskView = ReturnType<TaskReader['view']>;

/** `totals` holds the open list's totals a few seconds (api/totals-cache.ts); default: aggregated on every request. */
export function createWorklistService(work: CollectorWork, tasks: TaskReader, fx: FxTable, totals: TotalsCache = createTotalsCache({ maxAgeMs: 0 })) {
  const { sql, tenantId, temporal } = work;
  const { view } = tasks;

  /** Done, cancelled or every status (history, not the day's work): every matching task is scored and sorted here, as before. */
  async function everyStatus(collectorId: string | undefined, filter: WorklistFilter, at: Date) {
    const rows = await worklistTasks(sql, tenantId, {
      status: filter.status,
      ...(collectorId !== undefined ? { collectorId } : {}),
      ...(filter.customerId ? { customerId: filter.customerId } : {}),
      ...(filter.dueBefore ? { dueBefore: filter.dueBefore } : {}),
      ...(filter.dueAfter ? { dueAfter: filter.dueAfter } : {}),
    });
    const todays = new Map<string, string>();
    let items = rows.map((row) => view(row, at, todays));
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
  }

  return {
    /** Open tasks (by default) of a portfolio, highest priority first; collectors only ever see their own. */
    async worklist(user: AuthUser, filter: WorklistFilter) {
      const scope = portfolioScope(user);
      if (scope !== undefined && filter.collectorId !== undefined && filter.collectorId !== scope)
        throw new DomainError('not_in_portfolio', `a collector sees only their own worklist (${scope})`);
      const collectorId = scope ?? filter.collectorId;
      if (filter.customerId) await assertCustomerAccess(sql, user, filter.customerId);
      const at = work.now(); // one "now" for the whole list
      if (filter.status !== 'open') {
        if (filter.cursor !== undefined) decodeWorklistCursor(filter.cursor); // a bad one is refused here too
        return { ...(await everyStatus(collectorId, filter, at)), nextCursor: null };
      }
      // Open tasks: filtered, ordered and paged in SQL on the stored priority, brought up to date first.
      await tasks.refreshPriorities(at);
      const where: OpenWorklistFilter = {
        ...(collectorId !== undefined ? { collectorId } : {}),
        ...(filter.customerId ? { customerId: filter.customerId } : {}),
        ...(filter.dueBefore ? { dueBefore: filter.dueBefore } : {}),
        ...(filter.dueAfter ? { dueAfter: filter.dueAfter } : {}),
        ...(filter.bucket ? { pastDue: { ...BUCKET_DAYS[filter.bucket], at } } : {}),
      };
      const after = filter.cursor !== undefined ? decodeWorklistCursor(filter.cursor) : undefined;
      const [rows, counted] = await Promise.all([
        openWorklistPage(sql, tenantId, { ...where, ...(after ? { after } : {}), offset: filter.offset, limit: filter.limit + 1 }),
        // The filters, not `at`: a bucket's totals may be a few seconds behind a day's turn, like every total here.
        totals.get(`worklist|${tenantId}|${JSON.stringify([collectorId ?? null, filter.customerId ?? null, filter.dueBefore ?? null, filter.dueAfter ?? null, filter.bucket ?? null])}`, () =>
          openWorklistTotals(sql, tenantId, where),
        ),
      ]);
      const page = rows.slice(0, filter.limit);
      const last = page.at(-1);
      const todays = new Map<string, string>(); // each zone's local date at `at`, once per page
      return {
        reportingCurrency: fx.reportingCurrency,
        total: counted.total,
        totalOpenAmountReportingMinor: counted.amount,
        items: page.map((row) => view(row, at, todays)),
        nextCursor: rows.length > filter.limit && last ? encodeWorklistCursor({ score: last.priority_score, dueAt: last.due_at_key, id: last.id }) : null,
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
