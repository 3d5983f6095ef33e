import { readdirSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadEnvOrExit } from '../config/env';
import type { Cadence } from '../domain/cadence';
import { loadCadence, loadEmailTemplates, checkCadenceTemplates, loadReportsConfig, PROJECT_ROOT } from '../config/load';
import { createSql } from '../db/sql';
import { migrate } from '../db/migrate';
import { buildApp } from './app';
import { connectTemporal } from './temporal-connection';
import { createErp } from '../integrations/erp/select';
import { loadErpSyncConfig } from '../config/erp-sync';
import { createErpSyncService } from './erp-sync-service';
import { erpSyncRoutes } from './routes/erp-sync';
import { keepArPackSchedule } from './ar-pack-schedule';
import { loggerOptions } from '../telemetry/logging';
import { startTracing } from '../telemetry/tracing';
import { clientTracingInterceptors } from '../telemetry/temporal-tracing';
import { createApiMetrics } from '../telemetry/metrics';
import { instrumentErp } from '../integrations/erp/instrumented';

/** The cadences of CADENCE_DIR, and CADENCE_FILE's (the default for invoices nothing else claims) if it lives elsewhere. */
function loadFileCadences(dir: string, defaultCadence: Cadence): Cadence[] {
  const files = readdirSync(path.resolve(PROJECT_ROOT, dir)).filter((f) => f.endsWith('.json')).sort();
  const shipped = files.map((f) => loadCadence(path.join(dir, f)));
  return [defaultCadence, ...shipped.filter((c) => c.id !== defaultCadence.id)];
}

/** The API process: migrates, seeds the file cadences, listens, and closes with grace on SIGINT/SIGTERM. */
async function main() {
  const env = loadEnvOrExit();
  let cadence, cadences, templates, syncConfig;
  try {
    cadence = loadCadence(env.CADENCE_FILE);
    syncConfig = loadErpSyncConfig();
    templates = loadEmailTemplates();
    cadences = loadFileCadences(env.CADENCE_DIR, cadence);
    for (const c of cadences) checkCadenceTemplates(c, templates);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // Before any connection: the tracer provider (issue 15; off unless OTEL_* says otherwise).
  const tracing = startTracing('dunning-api');
  const sql = createSql(env.DATABASE_URL);
  await migrate(sql);
  // Lazy and bounded (api/temporal-connection.ts): the API starts while Temporal is down and answers 503 until it is back.
  const { connection, client: temporal } = connectTemporal({ address: env.TEMPORAL_ADDRESS, namespace: env.TEMPORAL_NAMESPACE, interceptors: clientTracingInterceptors(tracing) });
  // The API's registry (GET /metrics): its ERP calls (enrollment checks, readiness probes) are counted in it too.
  const metrics = createApiMetrics();
  const app = await buildApp({
    sql,
    temporal,
    tenantId: env.TENANT_ID,
    taskQueue: env.TEMPORAL_TASK_QUEUE,
    templates,
    defaultCadenceId: cadence.id,
    webhookSecret: env.ERP_WEBHOOK_SECRET,
    // The same WEBHOOK_ENDPOINTS the worker sends to: a cadence may name only these.
    webhookEndpoints: Object.keys(env.WEBHOOK_ENDPOINTS),
    // Asked at enrollment whether it knows the invoice; a person waits, so it gets 5 s, not an activity's 10.
    erp: instrumentErp(createErp(env, { sql }, { timeoutMs: 5_000 }), metrics),
    metrics,
    logger: loggerOptions('api', env.LOG_LEVEL),
    tracing: tracing !== undefined,
    console: {
      ...(env.CONSOLE_SECRET ? { secret: env.CONSOLE_SECRET } : {}),
      idleMinutes: env.CONSOLE_SESSION_IDLE_MINUTES,
      maxHours: env.CONSOLE_SESSION_MAX_HOURS,
      secureCookies: env.CONSOLE_SECURE_COOKIES,
      ...(env.TEMPORAL_UI_URL ? { temporalUiUrl: env.TEMPORAL_UI_URL } : {}),
      temporalNamespace: env.TEMPORAL_NAMESPACE,
    },
  });
  // The ERP sync (docs/erp-sync.md): its routes, and the tenant's schedule created or brought up to date (in the
  // background: the API serves while Temporal is still coming up, and the next start tries again).
  const erpSync = createErpSyncService({
    sql, temporal, tenantId: env.TENANT_ID, connection: env.ERP_CONNECTION, erpKind: env.ERP_KIND, taskQueue: env.TEMPORAL_TASK_QUEUE,
    config: syncConfig, ...(env.ERP_SYNC_INTERVAL_MINUTES ? { envIntervalMinutes: env.ERP_SYNC_INTERVAL_MINUTES } : {}),
  });
  await app.register(erpSyncRoutes, { erpSync });
  let scheduling: NodeJS.Timeout | undefined;
  const ensureSchedule = (): void =>
    void erpSync.ensureSchedule().then(
      ({ created }) => app.log.info({ scheduleId: erpSync.scheduleId, created }, 'ERP sync schedule in place'),
      (err: Error) => {
        app.log.warn({ err, scheduleId: erpSync.scheduleId }, 'ERP sync schedule not in place yet; trying again in 15 s');
        scheduling = setTimeout(ensureSchedule, 15_000);
        scheduling.unref();
      },
    );
  if (env.ERP_SYNC === 'on') ensureSchedule();
  // The weekly AR pack's schedule, as config/reports.json says (created, updated, or paused when disabled).
  const stopArPackSchedule = keepArPackSchedule({ temporal, tenantId: env.TENANT_ID, taskQueue: env.TEMPORAL_TASK_QUEUE, config: loadReportsConfig() }, app.log);
  // First start of a tenant: the file cadences become version N, active. Afterwards the API is where cadences change.
  await app.cadences.seedDefaults(cadences);
  // Stored worklist priorities that went stale (a new day in a customer's time zone, an input changed by the worker)
  // are scored in the background, at start (after migration 010: every open task) and every minute, so that a
  // worklist request seldom finds a batch to score on its own path.
  const refreshPriorities = () => app.refreshWorklistPriorities().catch((err: Error) => app.log.warn({ err }, 'worklist priorities not refreshed; tried again in a minute'));
  const refreshing = setInterval(() => void refreshPriorities(), 60_000);
  refreshing.unref();
  const close = async () => {
    clearInterval(refreshing);
    clearTimeout(scheduling);
    stopArPackSchedule();
    await app.close();
    await connection.close();
    await sql.end({ timeout: 5 });
    await tracing?.shutdown();
  };
  process.once('SIGINT', () => void close());
  process.once('SIGTERM', () => void close());
  await app.listen({ host: env.API_HOST, port: env.API_PORT });
  void refreshPriorities();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
