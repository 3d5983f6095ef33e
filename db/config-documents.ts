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
export async function newestConfigDocument(sql: Db, tenantId: string, name: 'resolution_matrix' | 'authority_matrix'): Promise<ConfigDocumentRow | undefined> {
  const [row] = await sql<ConfigDocumentRow[]>`
    select version, document, created_by, created_at from config_documents
    where tenant_id = ${tenantId} and name = ${name}
    order by version desc limit 1`;
  return row;
}
