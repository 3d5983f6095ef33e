import type { ErpAdapter } from '../integrations/erp/adapter';
import { createAuditActivities } from './audit';
import { createBeforeSendActivities } from './before-send';
import { createCallTaskActivities } from './call-tasks';
import { createCreditHoldActivities } from './credit-hold';
import { createCustomerActivities, type CustomerActivityDeps } from './customer';
import { createErpActivities } from './erp-balance';
import { createErpActionActivities } from './erp-actions';
import { createHandoffActivities } from './handoff';
import { createMailActivities, type MailDeps } from './mail';
import { createPromiseActivities } from './promises';
import { createPeopleWorkActivities, type PeopleWorkDeps } from './people-work';
import { createOutboundWebhookActivities } from './outbound-webhook';
import type { WebhookEndpoints } from '../config/webhook-endpoints';
import { loadErpSyncConfig, type ErpSyncConfig } from '../config/erp-sync';
import { createErpSyncActivities } from './erp-sync';
import type { SyncEnroller } from '../workflows/erp-sync-messages';
import { createArPackActivities } from './ar-pack';
import { loadReportsConfig } from '../config/load';
import type { ReportsConfig } from '../domain/reports/config';
import { createWorkerMetrics, type WorkerMetrics } from '../telemetry/metrics';

/** The registry of workers built without one (tests): one per process, so that building activities adds no collectors. */
let fallbackMetrics: WorkerMetrics | undefined;

export interface ActivityDeps extends MailDeps, CustomerActivityDeps, PeopleWorkDeps {
  erp: ErpAdapter;
  webhookEndpoints: WebhookEndpoints;
  /** The ERP sync's configuration; default config/erp-sync.json. */
  erpSync?: ErpSyncConfig;
  /** The enrollment the ERP sync uses (api/erp-sync-service.ts createSyncEnroller); without it the sync's pages fail, saying so. */
  enrollInvoice?: SyncEnroller;
  /** The reports' zone, buckets and weekly pack (the AR pack's activity); default config/reports.json. */
  reports?: ReportsConfig;
  /** The worker's product metrics (messages by outcome, steps by action, SMTP and ERP calls); default a registry of its own. */
  metrics?: WorkerMetrics;
}

/** All activities, with their dependencies injected; workflows import only this function's type. */
export function createActivities(given: ActivityDeps) {
  const deps = { ...given, metrics: given.metrics ?? (fallbackMetrics ??= createWorkerMetrics()) };
  return {
    ...createErpActivities(deps),
    ...createBeforeSendActivities(deps),
    ...createMailActivities(deps),
    ...createCallTaskActivities(deps),
    ...createAuditActivities(deps),
    ...createCustomerActivities(deps),
    ...createCreditHoldActivities(deps),
    ...createErpActionActivities(deps),
    ...createHandoffActivities(deps),
    ...createPromiseActivities(deps),
    ...createPeopleWorkActivities(deps),
    ...createOutboundWebhookActivities({ endpoints: deps.webhookEndpoints }),
    ...createErpSyncActivities({ ...deps, erpSync: deps.erpSync ?? loadErpSyncConfig() }),
    ...createArPackActivities({ sql: deps.sql, mailer: deps.mailer, mailFrom: deps.mailFrom, fx: deps.fx, reportsConfig: deps.reports ?? loadReportsConfig() }),
  };
}
