import type { Db } from './sql';

/** A saved version of a configuration document (resolution matrix, authority matrix). */
export interface ConfigDocumentRow {
  version: number;
  document: unknown;
  created_by: string;
  created_at: Date;
}

/**
 * The newest saved version of a tenant's configuration document, or undefined while the file
 * default is in force. The API (to show and change it) and the activities (to apply it) read it here.
 */
export async function newestConfigDocument(sql: Db, tenantId: string, name: ConfigDocumentName): Promise<ConfigDocumentRow | undefined> {
  const [row] = await sql<ConfigDocumentRow[]>`
    select version, document, created_by, created_at from config_documents
    where tenant_id = ${tenantId} and name = ${name}
    order by version desc limit 1`;
  return row;
}

export type ConfigDocumentName = 'resolution_matrix' | 'authority_matrix';

/** Every saved version of the document, newest first. */
export async function configDocumentVersions(db: Db, tenantId: string, name: ConfigDocumentName): Promise<ConfigDocumentRow[]> {
  return db<ConfigDocumentRow[]>`
    select version, document, created_by, created_at from config_documents
    where tenant_id = ${tenantId} and name = ${name}
    order by version desc`;
}

/** Saves of one document are serialised by a transaction-scoped advisory lock (space distinct from cadences'). */
const CONFIG_LOCK_SPACE = 7_262_006;

/** Takes the document's lock until the end of the transaction `tx`: one save at a time numbers its version. */
export async function lockConfigDocument(tx: Db, tenantId: string, name: ConfigDocumentName): Promise<void> {
  await tx`select pg_advisory_xact_lock(${CONFIG_LOCK_SPACE}::int, hashtext(${`${tenantId}:${name}`}))`;
}

/** Stores a version (the caller numbers it under lockConfigDocument); the row written. */
export async function insertConfigDocumentVersion(
  db: Db,
  v: { tenantId: string; name: ConfigDocumentName; version: number; document: unknown; createdBy: string },
): Promise<ConfigDocumentRow> {
  const [row] = await db<ConfigDocumentRow[]>`
    insert into config_documents (tenant_id, name, version, document, created_by)
    values (${v.tenantId}, ${v.name}, ${v.version}, ${db.json(v.document as never)}, ${v.createdBy})
    returning version, document, created_by, created_at`;
  return row!;
}
