import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sql } from '../../db/sql';
import type { FxTable } from '../../domain/fx';
import type { ReportsConfig } from '../../domain/reports/config';

/** The portfolio: GET /customers, GET /customers/:customerId, GET /customers/:customerId/timeline. */
export const customerRoutes: FastifyPluginAsyncZod<{ sql: Sql; tenantId: string; fx: FxTable; config: ReportsConfig }> = async () => {};
