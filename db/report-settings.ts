import type { Db } from './sql';

/**
 * The reporting time zone the database's triggers use (migration 017: report_settings) to date ERP payments and
 * observed balance changes; the API and the worker write it at start from config/reports.json.
 */
export async function writeReportSettings(db: Db, tenantId: string, timeZone: string): Promise<void> {
  await db`
    insert into report_settings (tenant_id, time_zone) values (${tenantId}, ${timeZone})
    on conflict (tenant_id) do update set time_zone = excluded.time_zone where report_settings.time_zone <> excluded.time_zone`;
}

/** Rebuilds a tenant's reporting items and postings from the source tables (migration 017's ar_rebuild). */
export async function rebuildReportingLedger(db: Db, tenantId: string): Promise<void> {
  await db`select ar_rebuild(${tenantId})`;
}
