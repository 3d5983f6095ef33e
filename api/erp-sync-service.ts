import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client, type ScheduleOptionsAction } from '@temporalio/client';
import { z } from 'zod';
import type { ErpSyncConfig } from '../config/erp-sync';
import { setSyncInterval, syncRun, syncRunErrors, syncRuns, syncState, SYNC_COUNTERS, type SyncRunRow } from '../db/erp-sync';
import type { Sql } from '../db/sql';
import type { FxTable } from '../domain/fx';
import type { EmailTemplate } from '../domain/templates';
import type { ErpKind } from '../integrations/erp/adapter';
import { erpSyncScheduleId, erpSyncTaskQueue, type ErpSyncInput, type SyncEnroller } from '../workflows/erp-sync-messages';
import { createCadenceService } from './cadence-service';
import { DomainError, notFound } from './errors';
import { createInvoiceService } from './invoice-service';
import { enrollmentSchema } from './schemas';
import { appendAuditEvent } from '../db/audit-events';

/**
 * The ERP sync as the API and the worker see it: the tenant's Temporal Schedule (created or brought up to date at
 * API start, paused, resumed, triggered, its interval changed), the runs' records, and the enrollment the sync's
 * activities use (the same as POST /invoices, without the per-invoice ERP check: the sync has the ERP's word).
 */

export interface ErpSyncServiceDeps {
  sql: Sql;
  temporal: Client;
  tenantId: string;
  /** ERP_CONNECTION: one schedule per tenant and connection. */
  connection: string;
  erpKind: ErpKind;
  taskQueue: string;
  config: ErpSyncConfig;
  /** ERP_SYNC_INTERVAL_MINUTES: above the file's default, below an interval set through the API. */
  envIntervalMinutes?: number;
}

const SECOND = 1000;

export function createErpSyncService(deps: ErpSyncServiceDeps) {
  const { sql, temporal, tenantId, connection, config } = deps;
  const key = { tenantId, connection };
  const scheduleId = erpSyncScheduleId(tenantId, connection);
  const handle = () => temporal.schedule.getHandle(scheduleId);
  const input: ErpSyncInput = { tenantId, connection, pageSize: config.pageSize, pagesPerRun: config.pagesPerRun };
  const action: ScheduleOptionsAction = { type: 'startWorkflow', workflowType: 'erpSync', workflowId: scheduleId, taskQueue: erpSyncTaskQueue(deps.taskQueue), args: [input] };

  async function intervalSeconds(): Promise<{ seconds: number; source: 'api' | 'env' | 'config' }> {
    const stored = (await syncState(sql, key))?.interval_seconds;
    if (stored) return { seconds: stored, source: 'api' };
    if (deps.envIntervalMinutes) return { seconds: deps.envIntervalMinutes * 60, source: 'env' };
    return { seconds: config.intervalMinutes * 60, source: 'config' };
  }

  async function audit(type: 'erp_sync_triggered' | 'erp_sync_paused' | 'erp_sync_resumed' | 'erp_sync_interval_changed', actor: string, details: Record<string, unknown>) {
    // Keyed by the instant (ms): the same change twice in one millisecond is one event.
    await appendAuditEvent(sql, { eventKey: `erp-sync:${tenantId}:${connection}:${type}:${Date.now()}`, tenantId, actor, type, details: { connection, ...details } });
  }

  const notScheduled = () => notFound(`the ERP sync schedule ${scheduleId} (the API creates it at start unless ERP_SYNC=off)`);

  const runView = (r: SyncRunRow) => ({
    runId: r.id,
    workflowId: r.workflow_id,
    status: r.status,
    startedAt: r.started_at.toISOString(),
    finishedAt: r.finished_at?.toISOString() ?? null,
    cursorFrom: r.cursor_from,
    cursorTo: r.cursor_to,
    counts: Object.fromEntries(SYNC_COUNTERS.map((c) => [c === 'unapplied_payments' ? 'unappliedPayments' : c, r[c]])) as Record<string, number>,
    failure: r.failure,
  });

  return {
    scheduleId,

    /**
     * Creates the schedule, or brings an existing one's interval and action up to date (its paused state and
     * note are kept): idempotent, run at every API start.
     */
    async ensureSchedule(): Promise<{ created: boolean }> {
      const { seconds } = await intervalSeconds();
      const spec = { intervals: [{ every: seconds * SECOND }] };
      try {
        await temporal.schedule.create({
          scheduleId,
          spec,
          action,
          policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 minute' },
          state: { note: `ERP sync of tenant ${tenantId}, connection ${connection} (${deps.erpKind})` },
        });
        return { created: true };
      } catch (err) {
        if (!(err instanceof ScheduleAlreadyRunning)) throw err;
      }
      await handle().update((previous) => ({ ...previous, spec, action, policies: { ...previous.policies, overlap: ScheduleOverlapPolicy.SKIP } }));
      return { created: false };
    },

    async status() {
      let description;
      try {
        description = await handle().describe();
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) throw notScheduled();
        throw err;
      }
      const [state, [last]] = await Promise.all([syncState(sql, key), syncRuns(sql, key, { limit: 1 })]);
      const { source } = await intervalSeconds();
      return {
        scheduleId,
        erp: deps.erpKind,
        connection,
        intervalMinutes: Math.round((description.spec.intervals?.[0]?.every ?? 0) / 60_000),
        intervalSource: source,
        paused: description.state.paused,
        note: description.state.note ?? null,
        nextRunAt: description.info.nextActionTimes[0]?.toISOString() ?? null,
        running: description.info.runningActions.map((a) => a.workflow.workflowId),
        cursor: state?.cursor ?? null,
        lastRun: last ? runView(last) : null,
      };
    },

    /**
     * Starts a run now, or right after the run under way (overlap BUFFER_ONE for this action only): pressing it
     * twice during a run queues one run, never two, and never one beside another. SKIP would drop the press
     * whenever the scheduler has not yet seen the previous run close, a window that grows under load.
     */
    async trigger(actor: string) {
      let queued: boolean;
      try {
        queued = (await handle().describe()).info.runningActions.length > 0;
        await handle().trigger(ScheduleOverlapPolicy.BUFFER_ONE);
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) throw notScheduled();
        throw err;
      }
      await audit('erp_sync_triggered', actor, { queued });
      return { scheduleId, triggered: true, queued };
    },

    async pause(actor: string, note: string) {
      try {
        await handle().pause(note || `paused by ${actor}`);
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) throw notScheduled();
        throw err;
      }
      await audit('erp_sync_paused', actor, { note });
      return this.status();
    },

    async resume(actor: string, note: string) {
      try {
        await handle().unpause(note || `resumed by ${actor}`);
      } catch (err) {
        if (err instanceof ScheduleNotFoundError) throw notScheduled();
        throw err;
      }
      await audit('erp_sync_resumed', actor, { note });
      return this.status();
    },

    /** Sets the interval (kept across API restarts); null goes back to ERP_SYNC_INTERVAL_MINUTES or the file's. */
    async setInterval(actor: string, minutes: number | null) {
      const before = await intervalSeconds();
      await setSyncInterval(sql, key, minutes === null ? null : minutes * 60);
      const { seconds } = await intervalSeconds();
      try {
        await handle().update((previous) => ({ ...previous, spec: { intervals: [{ every: seconds * SECOND }] } }));
      } catch (err) {
        await setSyncInterval(sql, key, before.source === 'api' ? before.seconds : null);
        if (err instanceof ScheduleNotFoundError) throw notScheduled();
        throw err;
      }
      await audit('erp_sync_interval_changed', actor, { fromMinutes: before.seconds / 60, toMinutes: seconds / 60 });
      return this.status();
    },

    async runs(opts: { limit: number; before?: number }) {
      const rows = await syncRuns(sql, key, { limit: opts.limit + 1, ...(opts.before !== undefined ? { beforeId: opts.before } : {}) });
      const items = rows.slice(0, opts.limit).map(runView);
      return { items, nextBefore: rows.length > opts.limit ? (items.at(-1)?.runId ?? null) : null };
    },

    async run(runId: number) {
      const row = await syncRun(sql, key, runId);
      if (!row) throw notFound(`sync run ${runId}`);
      const errors = await syncRunErrors(sql, runId);
      return {
        ...runView(row),
        errors: errors.map((e) => ({ erpId: e.erp_id, invoiceNumber: e.invoice_number, customerId: e.customer_id, code: e.code, reason: e.reason, at: e.at.toISOString() })),
      };
    },
  };
}

export type ErpSyncService = ReturnType<typeof createErpSyncService>;

/**
 * The enrollment the sync's activities call (activities/erp-sync.ts SyncEnroller), built by the worker: the
 * request checked by the API's own enrollment schema, then api/invoice-service.ts enroll (customer + invoice +
 * audit row + workflow start, all or nothing; a paused customer pauses it). Refusals of the invoice come back as
 * { ok: false } with the refusal's code; an invoice enrolled meanwhile is no error.
 */
export function createSyncEnroller(deps: {
  sql: Sql;
  temporal: Client;
  tenantId: string;
  taskQueue: string;
  templates: Record<string, EmailTemplate>;
  defaultCadenceId: string;
  fx: FxTable;
}): SyncEnroller {
  const cadences = createCadenceService({ sql: deps.sql, tenantId: deps.tenantId, templates: deps.templates, defaultCadenceId: deps.defaultCadenceId });
  const invoices = createInvoiceService({ sql: deps.sql, temporal: deps.temporal, tenantId: deps.tenantId, taskQueue: deps.taskQueue, cadences, fx: deps.fx });
  return async (req, actor) => {
    const parsed = enrollmentSchema.safeParse({ customer: req.customer, invoice: req.invoice });
    if (!parsed.success) return { ok: false, code: 'invalid_data', reason: z.prettifyError(parsed.error).replace(/\n/g, ' ') };
    try {
      const { workflowId } = await invoices.enroll(parsed.data, actor, req.carriedFrom ? { carriedFrom: req.carriedFrom } : {});
      return { ok: true, workflowId, enrolled: true };
    } catch (err) {
      if (!(err instanceof DomainError) || err.code === 'dependency_unavailable') throw err;
      if (err.code === 'already_enrolled' || err.code === 'invoice_conflict') return { ok: true, workflowId: String(err.details.workflowId ?? ''), enrolled: false };
      return { ok: false, code: err.code, reason: err.message };
    }
  };
}
