import { inject } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { buildApp, type AppDeps } from '../../api/app';
import { loadCadence, loadEmailTemplates } from '../../config/load';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';

/**
 * The HTTP API in-process (app.inject) against the real PostgreSQL and Temporal dev server of the
 * integration project, for one tenant with the standard cadence. No worker polls its task queue:
 * enrollments really start workflows, which then just wait; close() terminates those in `started`.
 */
export async function startTestApp(tenantId: string, opts: { webhookSecret?: string; erp?: AppDeps['erp']; webhookEndpoints?: string[] } = {}) {
  const sql: Sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  const connection = await Connection.connect({ address: inject('temporalAddress') });
  const client = new Client({ connection });
  const cadence = loadCadence('config/cadences/standard.json');
  const taskQueue = `test-${tenantId}`; // nobody polls it
  const app = await buildApp({
    sql,
    temporal: client,
    tenantId,
    taskQueue,
    templates: loadEmailTemplates(),
    defaultCadenceId: cadence.id,
    webhookSecret: opts.webhookSecret ?? 'test-secret-0123456789',
    // Without one, enrollment does not ask an ERP (api/invoice-service.ts checkWithErp).
    ...(opts.erp ? { erp: opts.erp } : {}),
    // The names of WEBHOOK_ENDPOINTS a cadence's webhook steps may use; none unless given.
    ...(opts.webhookEndpoints ? { webhookEndpoints: opts.webhookEndpoints } : {}),
  });
  await app.ready();
  await app.cadences.seedDefaults([cadence]);
  const started = new Set<string>();
  return {
    sql,
    client,
    app,
    taskQueue,
    /** Workflow ids to terminate when done. */
    started,
    async close() {
      await app.close();
      // Be tidy: the dev server is thrown away after the run, but nothing should keep waiting on a queue nobody polls.
      await Promise.all([...started].map((id) => client.workflow.getHandle(id).terminate('integration test done').catch(() => undefined)));
      await connection.close();
      await sql.end();
    },
  };
}
export type TestApp = Awaited<ReturnType<typeof startTestApp>>;
