import Fastify, { type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { openApiTransform } from './openapi';
import { registerErrorHandler } from './errors';
import { createInvoiceService, type InvoiceServiceDeps } from './invoice-service';
import { createCadenceService, type CadenceService } from './cadence-service';
import type { EmailTemplate } from '../domain/templates';
import { invoiceRoutes } from './routes/invoices';
import { healthRoutes } from './routes/health';
import { workflowUpdateRoutes } from './routes/workflow-updates';
import { erpWebhookRoutes } from './routes/erp-webhooks';
import { cadenceRoutes } from './routes/cadences';
import { contactRoutes } from './routes/contacts';
import { registerAuth } from './auth';
import { registerIdempotency } from './idempotency';
import { registerInputGuards } from './input-guards';
import { userRoutes } from './routes/users';
import { worklistRoutes } from './routes/worklist';
import { disputeRoutes } from './routes/disputes';
import { createDisputeApprovalService } from './dispute-approval-service';
import { collectorWork } from './collector-work';
import { createTaskReader, createWorklistService } from './worklist-service';
import { createTasksService } from './tasks-service';
import { createNotesService } from './notes-service';
import { createPromisesService } from './promises-service';
import { createPausesService } from './pauses-service';
import { promiseRoutes } from './routes/promises';
import { pauseRoutes } from './routes/pauses';
import { createContactsService } from './contacts-service';
import type { FxTable } from '../domain/fx';
import { loadAuthorityMatrix, loadReportingConfig, loadReportsConfig, loadResolutionMatrix } from '../config/load';
import { createConfigDocuments, type ConfigDocumentsService, type ConfigDocumentTypes } from './config-documents-service';
import { configDocumentRoutes } from './routes/config-documents';
import { createTotalsCache } from './totals-cache';
import { memoizeZoneOffsets } from './zone-offsets';
import { createImportsService } from './imports-service';
import { importRoutes } from './routes/imports';
import { cashApplyingErp, createUnappliedCashService } from './unapplied-cash-service';
import { unappliedCashRoutes } from './routes/unapplied-cash';
import { reportRoutes } from './routes/reports';
import { customerRoutes } from './routes/customers';
import { allReports } from '../reports';
import type { ReportsConfig } from '../domain/reports/config';
import { writeReportSettings } from '../db/report-settings';
import { createApiMetrics, type ApiMetrics } from '../telemetry/metrics';
import { registerMetrics } from './metrics';
import { requestTracingPlugin } from '../telemetry/http-tracing';
import { registerConsole, type ConsoleOptions } from './console/plugin';

declare module 'fastify' {
  interface FastifyInstance {
    /** Cadence versions, assignments and resolution: enrollment pins what resolveFor() answers. */
    cadences: CadenceService;
    /** The resolution and authority matrices in force: `app.configDocs.current('resolution_matrix')`. */
    configDocs: ConfigDocumentsService;
    /** Scores the worklist's stale stored priorities now (api/worklist-service.ts); the API process runs it in the background. */
    refreshWorklistPriorities: () => Promise<void>;
  }
}

// The invoice service gets the cadence service built here, not from the caller.
export interface AppDeps extends Omit<InvoiceServiceDeps, 'cadences'> {
  webhookSecret: string;
  /** Templates that cadence steps may name; a cadence naming another is refused when saved. */
  templates: Record<string, EmailTemplate>;
  /** The names of WEBHOOK_ENDPOINTS that cadence webhook steps may name (the worker reads the same variable); default none. */
  webhookEndpoints?: readonly string[];
  /** The cadence for invoices that no override, segment assignment or selection rule claims. */
  defaultCadenceId: string;
  /** Reporting currency and rates for the worklist's priority and totals; default config/reporting.json. */
  fx?: FxTable;
  /** The reports' zone, buckets, count-back lookback and weekly pack; default config/reports.json. */
  reports?: ReportsConfig;
  /** The matrices in force until a version is saved; default config/resolution-matrix.json and config/authority-matrix.json. */
  configDefaults?: Partial<ConfigDocumentTypes>;
  logger?: FastifyServerOptions['logger'];
  /** The API's Prometheus metrics (GET /metrics, api/metrics.ts); default a registry of its own. */
  metrics?: ApiMetrics;
  /** Tracing is on (telemetry/tracing.ts startTracing): requests get server spans (@fastify/otel). */
  tracing?: boolean;
  /**
   * How old the totals of GET /worklist and GET /invoices may be (api/totals-cache.ts); default 5 000 ms.
   * The API's own writes clear them at once; 0 counts on every request.
   */
  listTotalsMaxAgeMs?: number;
  /** The web console under /app (api/console): sessions, CSRF key, the Temporal UI's address; formats default to the reports' zone. */
  console?: ConsoleOptions;
}

/** POST routes that write nothing: they leave the held list totals alone. */
const READ_ONLY_POSTS = new Set(['/cadences/preview', '/cadences/validate']);

/** The HTTP API as a factory: the server file listens, tests call inject() on the same app. */
export async function buildApp(deps: AppDeps) {
  memoizeZoneOffsets(); // luxon's zone offsets, looked up once per instant (a cadence preview's largest cost)
  const app = Fastify({ logger: deps.logger ?? false }).withTypeProvider<ZodTypeProvider>();
  // Tracing (issue 15): first, so that every hook and route below runs inside the request's server span.
  if (deps.tracing) await app.register(requestTracingPlugin());
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  // Counted and timed first, so that every request is, refused ones included; GET /metrics itself needs no token.
  const metrics = deps.metrics ?? createApiMetrics();
  registerMetrics(app, { sql: deps.sql, tenantId: deps.tenantId, temporal: deps.temporal, ...(deps.erp ? { erp: deps.erp } : {}), metrics });
  // The lists' totals and the preview's cadence reads, held a few seconds (api/totals-cache.ts).
  const held = createTotalsCache({ maxAgeMs: deps.listTotalsMaxAgeMs ?? 5_000 });
  // Every write through this process clears what is held before its answer leaves: the caller's next list counts it.
  app.addHook('onSend', async (request, _reply, payload) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && request.method !== 'OPTIONS' && !READ_ONLY_POSTS.has(request.routeOptions.url ?? '')) held.invalidate();
    return payload;
  });
  // Every route below needs "Authorization: Bearer <token>" except health, the docs and the signed ERP webhook.
  registerAuth(app, { sql: deps.sql, tenantId: deps.tenantId });
  // No NUL in any string of a body, query or path (PostgreSQL stores none): 400 before any route runs.
  registerInputGuards(app);
  // Before swagger and the routes: each creating POST gets its Idempotency-Key header documented and honoured.
  registerIdempotency(app, { sql: deps.sql, tenantId: deps.tenantId });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Dunning Orchestrator API', version: '0.1.0', description: 'Enroll overdue invoices, report payments, read dunning state, configure and preview cadences.' },
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'dun_<tokenId>_<secret>', description: 'An API token (npm run users -- token <userId>)' } } },
      security: [{ bearerAuth: [] }],
    },
    // Every route's own responses, plus the 400/401/403/414 any route may give and 204s without content (api/openapi.ts).
    transform: openApiTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const cadences = createCadenceService({
    sql: deps.sql,
    tenantId: deps.tenantId,
    templates: deps.templates,
    defaultCadenceId: deps.defaultCadenceId,
    webhookEndpoints: deps.webhookEndpoints ?? [],
    held,
  });
  app.decorate('cadences', cadences);
  const configDocs = createConfigDocuments({
    sql: deps.sql,
    tenantId: deps.tenantId,
    defaults: {
      resolution_matrix: deps.configDefaults?.resolution_matrix ?? loadResolutionMatrix(),
      authority_matrix: deps.configDefaults?.authority_matrix ?? loadAuthorityMatrix(),
    },
  });
  app.decorate('configDocs', configDocs);
  const fx = deps.fx ?? loadReportingConfig();
  const invoiceDeps: InvoiceServiceDeps & { cadences: CadenceService } = { ...deps, cadences, fx, totals: held };
  const invoices = createInvoiceService(invoiceDeps);
  await app.register(healthRoutes, { sql: deps.sql, temporal: deps.temporal, ...(deps.erp ? { erp: deps.erp } : {}) });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(invoiceRoutes, { invoices, sql: deps.sql, agingBuckets: (deps.reports ?? loadReportsConfig()).agingBuckets });
  await app.register(workflowUpdateRoutes, { sql: deps.sql, temporal: deps.temporal });
  // The unapplied-cash queue (issue 12 §4): a webhook payment for an invoice we do not know joins it.
  const cash = createUnappliedCashService({ sql: deps.sql, temporal: deps.temporal, tenantId: deps.tenantId, erp: cashApplyingErp(deps.erp) });
  await app.register(erpWebhookRoutes, { invoices, secret: deps.webhookSecret, cash });
  await app.register(cadenceRoutes, { cadences });
  const contacts = createContactsService({ sql: deps.sql, tenantId: deps.tenantId });
  await app.register(contactRoutes, { sql: deps.sql, contacts });
  await app.register(userRoutes, { sql: deps.sql, tenantId: deps.tenantId });
  await app.register(configDocumentRoutes, { configDocs });
  // The collectors' work, one service per noun over what they share (api/collector-work.ts).
  const work = collectorWork({ sql: deps.sql, temporal: deps.temporal, tenantId: deps.tenantId });
  const taskReader = createTaskReader({ sql: deps.sql, tenantId: deps.tenantId, fx });
  app.decorate('refreshWorklistPriorities', () => taskReader.refreshPriorities());
  await app.register(worklistRoutes, {
    worklist: createWorklistService(work, taskReader, fx, held),
    tasks: createTasksService(work, taskReader, contacts),
    notes: createNotesService(work),
  });
  await app.register(promiseRoutes, { promises: createPromisesService(work, cadences) });
  await app.register(pauseRoutes, { pauses: createPausesService(work) });
  await app.register(disputeRoutes, { service: createDisputeApprovalService({ sql: deps.sql, temporal: deps.temporal, tenantId: deps.tenantId, configDocs }) });
  // Bulk import of AR exports into the ledger (docs/imports.md); without an ERP connection the ledger is the system of record.
  await app.register(importRoutes, { imports: createImportsService({ sql: deps.sql, tenantId: deps.tenantId, erpKind: deps.erp ? ((deps.erp as { kind?: string }).kind ?? 'simulator') : 'ledger', log: app.log }) });
  await app.register(unappliedCashRoutes, { cash });
  const reportsConfig = deps.reports ?? loadReportsConfig();
  // The zone the database's triggers date payments and observed balance changes in (migration 017).
  await writeReportSettings(deps.sql, deps.tenantId, reportsConfig.timeZone);
  await app.register(customerRoutes, { sql: deps.sql, tenantId: deps.tenantId, fx, config: reportsConfig });
  await app.register(reportRoutes, { sql: deps.sql, tenantId: deps.tenantId, fx, config: reportsConfig, reports: allReports });
  // The web console (issue 14): pages over the routes above, through app.inject (api/console/api-client.ts).
  await registerConsole(app, { sql: deps.sql, tenantId: deps.tenantId, options: { timeZone: reportsConfig.timeZone, reportingCurrency: fx.reportingCurrency, ...deps.console } });
  return app;
}
