import type { Db } from './sql';
import { TERMINAL_STAGES } from '../domain/stages';
import { STEP_OVERDUE_GRACE_SECONDS, type DunningState } from '../telemetry/metrics';

/** Stages whose next step waits on a person, not on the clock: never counted as overdue. */
const NOT_CLOCKED = [...TERMINAL_STAGES, 'needs_attention'];

interface StateRow {
  stages: Record<string, number> | null;
  steps_overdue: number;
  oldest_overdue_seconds: number | null;
  disputes_open: Record<string, number> | null;
  disputes_overdue: Record<string, number> | null;
  approvals_pending: Record<string, number> | null;
  approvals_escalated: number;
  promises_made: number;
  promises_kept: number;
  promises_broken: number;
  uncertain_messages: number;
  erp_newest_change_seconds: number | null;
  erp_sync: { connection: string; since_success: number | null; last_failed: boolean }[] | null;
}

/**
 * The dunning's state for the API's gauges (GET /metrics), in one statement and one round trip: each part is an
 * aggregate over an index (invoices_stage, disputes_owner, approval_requests_pending, promises_collector, and
 * migration 019's for the overdue steps, the uncertain messages and the ERP's newest change).
 *
 * - steps overdue: invoices in an open stage that runs on the clock (not needs_attention: that waits for a person)
 *   whose next step is more than STEP_OVERDUE_GRACE_SECONDS past due, and not paused beyond now;
 * - promises: one row per invoice a promise covers (as the promises table holds them), by status kept and broken;
 * - ERP sync, per connection with a sync state (the first page applied creates it) or among the tenant's 50 latest
 *   runs (a connection whose runs all failed before a page): the age of the newest ERP change applied to the ledger
 *   (ledger_invoices.erp_changed_at, written by the sync only; the ledger has no connection column, so every
 *   connection of the tenant reports the tenant's newest), seconds since its last completed run (the latest by id), and whether its
 *   latest finished run failed.
 */
export async function readDunningState(db: Db, tenantId: string): Promise<DunningState> {
  const [row] = await db<StateRow[]>`
    select
      (select jsonb_object_agg(stage, n) from (select stage, count(*)::int as n from invoices where tenant_id = ${tenantId} group by stage) s) as stages,
      o.n as steps_overdue,
      o.oldest as oldest_overdue_seconds,
      (select jsonb_object_agg(owner_team, n) from (select owner_team, count(*)::int as n from disputes
         where tenant_id = ${tenantId} and status in ('open', 'escalated') group by owner_team) d) as disputes_open,
      (select jsonb_object_agg(owner_team, n) from (select owner_team, count(*)::int as n from disputes
         where tenant_id = ${tenantId} and status in ('open', 'escalated') and deadline_at < now() group by owner_team) d) as disputes_overdue,
      (select jsonb_object_agg(action, n) from (select action, count(*)::int as n from approval_requests
         where tenant_id = ${tenantId} and status = 'pending' group by action) a) as approvals_pending,
      (select count(*)::int from approval_requests where tenant_id = ${tenantId} and status = 'pending' and escalated_at is not null) as approvals_escalated,
      p.made as promises_made, p.kept as promises_kept, p.broken as promises_broken,
      (select count(*)::int from outbound_messages where tenant_id = ${tenantId} and status = 'uncertain') as uncertain_messages,
      (select extract(epoch from now() - max(erp_changed_at))::float8 from ledger_invoices
         where tenant_id = ${tenantId} and erp_changed_at is not null) as erp_newest_change_seconds,
      (select jsonb_agg(jsonb_build_object(
         'connection', c.connection,
         'since_success', (select extract(epoch from now() - r.finished_at)::float8 from erp_sync_runs r
                             where r.tenant_id = ${tenantId} and r.connection = c.connection and r.status = 'completed'
                             order by r.id desc limit 1),
         'last_failed', coalesce((select r.status = 'failed' from erp_sync_runs r
                             where r.tenant_id = ${tenantId} and r.connection = c.connection and r.finished_at is not null
                             order by r.id desc limit 1), false)) order by c.connection)
       from (select connection from erp_sync_state where tenant_id = ${tenantId}
             union select connection from (select connection from erp_sync_runs where tenant_id = ${tenantId} order by id desc limit 50) recent) c) as erp_sync
    from
      (select count(*)::int as n, extract(epoch from now() - min(next_step_at))::float8 as oldest from invoices
        where tenant_id = ${tenantId} and stage <> all(${NOT_CLOCKED}::text[])
          and next_step_at < now() - make_interval(secs => ${STEP_OVERDUE_GRACE_SECONDS})
          and (paused_until is null or paused_until <= now())) o,
      (select count(*)::int as made, (count(*) filter (where status = 'kept'))::int as kept,
              (count(*) filter (where status = 'broken'))::int as broken
         from promises where tenant_id = ${tenantId}) p`;
  const r = row!;
  return {
    invoicesByStage: r.stages ?? {},
    stepsOverdue: r.steps_overdue,
    oldestOverdueStepSeconds: r.steps_overdue > 0 ? Math.max(0, r.oldest_overdue_seconds ?? 0) : 0,
    disputesOpen: r.disputes_open ?? {},
    disputesOverdue: r.disputes_overdue ?? {},
    approvalsPending: r.approvals_pending ?? {},
    approvalsEscalated: r.approvals_escalated,
    promises: { made: r.promises_made, kept: r.promises_kept, broken: r.promises_broken },
    erpSync: (r.erp_sync ?? []).map((c) => ({
      connection: c.connection,
      lagSeconds: r.erp_newest_change_seconds === null ? null : Math.max(0, r.erp_newest_change_seconds),
      sinceLastSuccessSeconds: c.since_success === null ? null : Math.max(0, c.since_success),
      lastRunFailed: c.last_failed,
    })),
    uncertainMessages: r.uncertain_messages,
  };
}
