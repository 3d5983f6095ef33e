import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { ping, type Sql } from '../../db/sql';
import { ErpInvoiceNotFoundError, type ErpAdapter } from '../../integrations/erp/adapter';
import { RETRY_AFTER_SECONDS, type Dependency } from '../errors';

/** How long one dependency may take to answer a readiness check before it counts as down. */
export const READINESS_TIMEOUT_MS = 2_000;

/** An invoice number no ERP has: a 404 for it proves the ERP answers, with our credentials, as its contract says. */
const ERP_PROBE_INVOICE = 'dunning-readiness-probe';

const checkSchema = z.object({
  ok: z.boolean(),
  latencyMs: z.number(),
  error: z.string().optional().describe('why the dependency counts as down'),
});
const readinessSchema = z.object({
  ready: z.boolean(),
  checks: z.object({ postgresql: checkSchema, temporal: checkSchema, erp: checkSchema.optional().describe('absent when the API has no ERP adapter') }),
});

export type Check = z.infer<typeof checkSchema>;

async function timed(probe: () => Promise<unknown>): Promise<Check> {
  const began = Date.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${READINESS_TIMEOUT_MS} ms`)), READINESS_TIMEOUT_MS);
      }),
    ]);
    return { ok: true, latencyMs: Date.now() - began };
  } catch (err) {
    const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
    return { ok: false, latencyMs: Date.now() - began, error: `${err instanceof Error ? err.message : String(err)}${cause}` };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Each dependency's readiness check, at once, each bounded by READINESS_TIMEOUT_MS (GET /health/ready, and the
 * dependency gauges of GET /metrics): PostgreSQL answers a ping, Temporal its system info, the ERP a 404 for an
 * invoice nobody has (erp undefined when the API has no ERP adapter).
 */
export async function checkDependencies({ sql, temporal, erp }: { sql: Sql; temporal: Client; erp?: Pick<ErpAdapter, 'getInvoiceBalance'> }): Promise<{ postgresql: Check; temporal: Check; erp: Check | undefined }> {
  const [postgresql, temporalCheck, erpCheck] = await Promise.all([
    timed(() => ping(sql)),
    timed(() => temporal.withDeadline(Date.now() + READINESS_TIMEOUT_MS, () => temporal.workflowService.getSystemInfo({}))),
    erp
      ? timed(() =>
          erp.getInvoiceBalance(ERP_PROBE_INVOICE).catch((err: unknown) => {
            if (!(err instanceof ErpInvoiceNotFoundError)) throw err;
          }),
        )
      : Promise.resolve(undefined),
  ]);
  return { postgresql, temporal: temporalCheck, erp: erpCheck };
}

/**
 * Liveness and readiness, without a token. `/health/live`: the process is up and its event loop turns
 * (restart it when this fails). `/health/ready`: each dependency answers, with its latency (503 and
 * Retry-After when one does not: send no traffic). `/health` stays what it was: 200 `{ ok: true }` when
 * PostgreSQL answers, now 503 dependency_unavailable (not 500) when it does not.
 */
export const healthRoutes: FastifyPluginAsyncZod<{ sql: Sql; temporal: Client; erp?: Pick<ErpAdapter, 'getInvoiceBalance'> }> = async (app, { sql, temporal, erp }) => {
  const security: never[] = [];
  app.get('/health', { schema: { summary: 'PostgreSQL answers (kept for existing checks; see /health/ready)', security, response: { 200: z.object({ ok: z.boolean() }) } } }, async () => {
    await ping(sql);
    return { ok: true };
  });

  app.get('/health/live', { schema: { summary: 'The API process is up', security, response: { 200: z.object({ ok: z.literal(true) }) } } }, async () => ({ ok: true as const }));

  app.get(
    '/health/ready',
    {
      schema: {
        summary: 'Whether each dependency answers (PostgreSQL, Temporal, the ERP), with its latency; 503 when one does not',
        security,
        response: { 200: readinessSchema, 503: readinessSchema },
      },
    },
    async (_request, reply) => {
      const { postgresql, temporal: temporalCheck, erp: erpCheck } = await checkDependencies({ sql, temporal, ...(erp ? { erp } : {}) });
      const checks: Record<Dependency, Check | undefined> = { postgresql, temporal: temporalCheck, erp: erpCheck };
      const ready = Object.values(checks).every((c) => c === undefined || c.ok);
      if (!ready) reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS));
      return { ready, checks: { postgresql, temporal: temporalCheck, ...(erpCheck ? { erp: erpCheck } : {}) } };
    },
  );
};
