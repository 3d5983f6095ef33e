import type { Cadence, Segment } from '../domain/cadence';
import type { Db } from './sql';

/**
 * Cadences as AR teams configure them (cadence_versions): immutable versions, numbered per cadence,
 * one of them active; and which cadence each segment follows (cadence_assignments). The rules are the
 * API's (api/cadence-service.ts).
 */

export type CadenceVersionStatus = 'draft' | 'active' | 'retired';

export interface CadenceVersionRow {
  cadence_id: string;
  version: number;
  status: CadenceVersionStatus;
  definition: Cadence;
  created_at: Date;
  created_by: string;
  activated_at: Date | null;
}

/** Creating and activating versions of one cadence, and changing one segment's assignment, are serialised by transaction-scoped advisory locks. */
const CADENCE_LOCK_SPACE = 7_262_002;

/** Takes the cadence's lock until the end of the transaction `tx`. */
export async function lockCadence(tx: Db, tenantId: string, cadenceId: string): Promise<void> {
  await tx`select pg_advisory_xact_lock(${CADENCE_LOCK_SPACE}::int, hashtext(${`${tenantId}:${cadenceId}`}))`;
}

/** Takes the segment's assignment lock until the end of the transaction `tx`. */
export async function lockSegmentAssignment(tx: Db, tenantId: string, segment: Segment): Promise<void> {
  await tx`select pg_advisory_xact_lock(${CADENCE_LOCK_SPACE}::int, hashtext(${`${tenantId}:segment:${segment}`}))`;
}

/** The cadence's versions (or the one asked for), oldest first. */
export async function cadenceVersions(db: Db, tenantId: string, cadenceId: string, version?: number): Promise<CadenceVersionRow[]> {
  return db<CadenceVersionRow[]>`
    select cadence_id, version, status, definition, created_at, created_by, activated_at
    from cadence_versions
    where tenant_id = ${tenantId} and cadence_id = ${cadenceId} ${version === undefined ? db`` : db`and version = ${version}`}
    order by version`;
}

/** The active version of every cadence, by cadence id. */
export async function activeCadenceDefinitions(db: Db, tenantId: string): Promise<Cadence[]> {
  const rows = await db<{ definition: Cadence }[]>`
    select definition from cadence_versions where tenant_id = ${tenantId} and status = 'active' order by cadence_id`;
  return rows.map((r) => r.definition);
}

export interface CadenceSummaryRow {
  cadence_id: string;
  /** The latest version's name. */
  name: string;
  version: number;
  status: CadenceVersionStatus;
  active_version: number | null;
}

/** Every cadence: its latest version and which version is active. */
export async function cadenceSummaries(db: Db, tenantId: string): Promise<CadenceSummaryRow[]> {
  return db<CadenceSummaryRow[]>`
    select distinct on (v.cadence_id) v.cadence_id, v.definition->>'name' as name, v.version, v.status,
           (select a.version from cadence_versions a
            where a.tenant_id = v.tenant_id and a.cadence_id = v.cadence_id and a.status = 'active') as active_version
    from cadence_versions v
    where v.tenant_id = ${tenantId}
    order by v.cadence_id, v.version desc`;
}

/** Whether any version of the cadence is stored. */
export async function cadenceExists(db: Db, tenantId: string, cadenceId: string): Promise<boolean> {
  const rows = await db`select 1 from cadence_versions where tenant_id = ${tenantId} and cadence_id = ${cadenceId} limit 1`;
  return rows.length > 0;
}

/** The number the cadence's next version gets (1 for the first); ask under lockCadence. */
export async function nextCadenceVersion(db: Db, tenantId: string, cadenceId: string): Promise<number> {
  const [row] = await db<{ next: number }[]>`
    select coalesce(max(version), 0) + 1 as next from cadence_versions where tenant_id = ${tenantId} and cadence_id = ${cadenceId}`;
  return row!.next;
}

/** Stores a version: a draft, or (the seed) active at once. The row written. */
export async function insertCadenceVersion(
  db: Db,
  v: { tenantId: string; definition: Cadence; status: 'draft' | 'active'; createdBy: string },
): Promise<CadenceVersionRow> {
  const [row] = await db<CadenceVersionRow[]>`
    insert into cadence_versions (tenant_id, cadence_id, version, definition, status, created_by, activated_at)
    values (${v.tenantId}, ${v.definition.id}, ${v.definition.version}, ${db.json(v.definition as never)}, ${v.status}, ${v.createdBy},
            ${v.status === 'active' ? db`now()` : null})
    returning cadence_id, version, status, definition, created_at, created_by, activated_at`;
  return row!;
}

/** Retires the cadence's active version, if any; the version retired. */
export async function retireActiveCadenceVersion(db: Db, tenantId: string, cadenceId: string): Promise<number | undefined> {
  const [row] = await db<{ version: number }[]>`
    update cadence_versions set status = 'retired'
    where tenant_id = ${tenantId} and cadence_id = ${cadenceId} and status = 'active' returning version`;
  return row?.version;
}

/** Makes the version the active one (retire the active one first: one active version per cadence). */
export async function activateCadenceVersion(db: Db, tenantId: string, cadenceId: string, version: number): Promise<void> {
  await db`
    update cadence_versions set status = 'active', activated_at = now()
    where tenant_id = ${tenantId} and cadence_id = ${cadenceId} and version = ${version}`;
}

export interface CadenceAssignmentRow {
  segment: Segment;
  cadence_id: string;
}

export async function cadenceAssignments(db: Db, tenantId: string): Promise<CadenceAssignmentRow[]> {
  return db<CadenceAssignmentRow[]>`select segment, cadence_id from cadence_assignments where tenant_id = ${tenantId} order by segment`;
}

export async function cadenceAssignmentOf(db: Db, tenantId: string, segment: Segment): Promise<CadenceAssignmentRow | undefined> {
  const [row] = await db<CadenceAssignmentRow[]>`select segment, cadence_id from cadence_assignments where tenant_id = ${tenantId} and segment = ${segment}`;
  return row;
}

/** Gives the segment its cadence (replacing the one it had). */
export async function assignSegmentCadence(db: Db, tenantId: string, segment: Segment, cadenceId: string): Promise<void> {
  await db`
    insert into cadence_assignments (tenant_id, segment, cadence_id) values (${tenantId}, ${segment}, ${cadenceId})
    on conflict (tenant_id, segment) do update set cadence_id = excluded.cadence_id, updated_at = now()`;
}

/** Removes the segment's assignment; the cadence it had, undefined when it had none. */
export async function unassignSegmentCadence(db: Db, tenantId: string, segment: Segment): Promise<string | undefined> {
  const [row] = await db<{ cadence_id: string }[]>`delete from cadence_assignments where tenant_id = ${tenantId} and segment = ${segment} returning cadence_id`;
  return row?.cadence_id;
}
