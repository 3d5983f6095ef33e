import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { loadEnvOrExit, ConfigError } from '../config/env';
import { loadAuthorityMatrix, loadCadence, loadEmailTemplates, loadReportingConfig, loadReportsConfig, loadResolutionMatrix } from '../config/load';
import { loadErpSyncConfig } from '../config/erp-sync';
import { createSyncEnroller } from '../api/erp-sync-service';
import { createActivities } from '../activities';
import { instrumentMailer } from '../activities/mail';
import { instrumentErp } from '../integrations/erp/instrumented';
import { createErp } from '../integrations/erp/select';
import { createSql } from '../db/sql';
import { workflowBundleOptions } from './workflows-path';
import { erpSyncTaskQueue } from '../workflows/erp-sync-messages';
import { createLogger, withActivityLogging } from '../telemetry/logging';
import { startTracing } from '../telemetry/tracing';
import { clientTracingInterceptors, workerTracingOptions, workflowTracingModules } from '../telemetry/temporal-tracing';
import { createWorkerMetrics } from '../telemetry/metrics';
import { serveMetrics } from '../telemetry/metrics-server';
import { installWorkerRuntime } from './runtime';

/** The worker process: polls the task queue, runs invoice workflows and their activities. Scale by running more of them. */
async function main() {
  const env = loadEnvOrExit();
  let templates, fx, resolutionMatrix, authorityMatrix, erpSync, defaultCadenceId, reports;
  try {
    templates = loadEmailTemplates();
    erpSync = loadErpSyncConfig();
    defaultCadenceId = loadCadence(env.CADENCE_FILE).id;
    fx = loadReportingConfig();
    resolutionMatrix = loadResolutionMatrix();
    authorityMatrix = loadAuthorityMatrix();
    reports = loadReportsConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  // Telemetry first (issue 15): the tracer provider and the Temporal runtime (logger, SDK metrics) before any connection.
  const logger = createLogger('worker', env.LOG_LEVEL);
  const tracing = startTracing('dunning-worker');
  const runtime = installWorkerRuntime(env, logger);
  const metrics = createWorkerMetrics();
  const metricsServer = env.WORKER_METRICS_PORT ? await serveMetrics(metrics.registry, env.METRICS_HOST, env.WORKER_METRICS_PORT) : undefined;
  const sql = createSql(env.DATABASE_URL);
  // An SMTP attempt that cannot get through ends well within the send activity's 30 s (startToCloseTimeout): a
  // hung server's attempt fails before DATA and is retried, instead of being timed out by Temporal while it still
  // holds the outbox claim, which the retry would then have to call uncertain (never sent).
  // Pooled: a few SMTP connections kept open and reused (up to 100 messages each) instead of a new connection,
  // greeting and EHLO per message.
  // Every send measured and traced (dunning_smtp_send_duration_seconds, span smtp.send).
  const mailer = instrumentMailer(
    nodemailer.createTransport({ url: env.SMTP_URL, pool: true, maxConnections: 4, maxMessages: 100, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 20_000 }),
    metrics,
  );
  const connection = await NativeConnection.connect({ address: env.TEMPORAL_ADDRESS });
  // Activities start and signal customer workflows through an ordinary client.
  const clientConnection = await Connection.connect({ address: env.TEMPORAL_ADDRESS });
  const clientInterceptors = clientTracingInterceptors(tracing);
  const temporal = new Client({ connection: clientConnection, namespace: env.TEMPORAL_NAMESPACE, ...(clientInterceptors ? { interceptors: clientInterceptors } : {}) });
  try {
    // One bundle for both workers: the invoices' task queue and the ERP sync's own.
    const workflowBundle = await bundleWorkflowCode({ ...workflowBundleOptions, workflowInterceptorModules: workflowTracingModules(tracing), logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never });
    const activities = createActivities({
      sql,
      metrics,
      mailer,
      mailFrom: env.MAIL_FROM,
      senderName: env.MAIL_FROM.replace(/\s*<.*>\s*$/, ''),
      templates,
      // Every ERP call measured and traced (dunning_erp_request_duration_seconds, spans erp.<operation>).
      erp: instrumentErp(createErp(env, { sql }), metrics),
      temporal,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      consolidationGatherMs: env.CONSOLIDATION_GATHER_SECONDS * 1000,
      webhookEndpoints: env.WEBHOOK_ENDPOINTS,
      fx,
      resolutionMatrix,
      authorityMatrix,
      // The weekly AR pack's zone and recipients (activities/ar-pack.ts).
      reports,
      // The ERP sync enrolls as POST /invoices does, trusting the ERP's data (no per-invoice ERP check).
      erpSync,
      enrollInvoice: createSyncEnroller({ sql, temporal, tenantId: env.TENANT_ID, taskQueue: env.TEMPORAL_TASK_QUEUE, templates, defaultCadenceId, fx }),
    });
    // Activity log lines carry the invoice number; each activity ends with a line (telemetry/logging.ts).
    const tracingOptions = withActivityLogging(workerTracingOptions(tracing));
    const worker = await Worker.create({ connection, namespace: env.TEMPORAL_NAMESPACE, taskQueue: env.TEMPORAL_TASK_QUEUE, workflowBundle, activities, ...tracingOptions });
    // The ERP sync's runs (workflows/erp-sync.ts) on their own queue, a page or two at a time.
    const syncWorker = await Worker.create({
      connection,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: erpSyncTaskQueue(env.TEMPORAL_TASK_QUEUE),
      workflowBundle,
      activities,
      maxConcurrentActivityTaskExecutions: 4,
      maxConcurrentWorkflowTaskExecutions: 4,
      ...tracingOptions,
    });
    if (metricsServer) console.log(`worker metrics on ${metricsServer.url}`);
    if (runtime.metricsUrl) console.log(`Temporal SDK metrics on ${runtime.metricsUrl}`);
    console.log(`worker polling task queue "${env.TEMPORAL_TASK_QUEUE}" on ${env.TEMPORAL_ADDRESS}`);
    await Promise.all([worker.run(), syncWorker.run()]); // return after SIGINT/SIGTERM, once in-flight tasks are done
  } finally {
    await connection.close();
    await clientConnection.close();
    mailer.close();
    await sql.end({ timeout: 5 });
    await metricsServer?.close();
    await tracing?.shutdown();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
