import type { FastifyInstance } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Sql } from '../db/sql';
import type { ErpAdapter } from '../integrations/erp/adapter';
import type { ApiMetrics } from '../telemetry/metrics';

export interface MetricsDeps {
  sql: Sql;
  tenantId: string;
  temporal: Client;
  erp?: Pick<ErpAdapter, 'getInvoiceBalance'>;
  metrics: ApiMetrics;
}

/**
 * GET /metrics (Prometheus text, no token, hidden from the OpenAPI document) and the hooks that count and time every
 * request (issue 15). The dunning's state gauges are read from PostgreSQL at scrape time (db/metrics.ts).
 */
export function registerMetrics(app: FastifyInstance, deps: MetricsDeps): void {
  void app;
  void deps; // filled in by the metrics work (issue 15)
}
