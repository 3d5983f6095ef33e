import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sql } from '../../db/sql';
import type { FxTable } from '../../domain/fx';
import type { ReportsConfig } from '../../domain/reports/config';
import type { ReportDefinition } from '../../reports/definition';

/** GET /reports/<name> for each report (JSON, CSV, XLSX) and the month-end AR pack. */
export const reportRoutes: FastifyPluginAsyncZod<{ sql: Sql; tenantId: string; fx: FxTable; config: ReportsConfig; reports: readonly ReportDefinition[] }> = async () => {};
