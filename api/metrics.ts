import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Client } from '@temporalio/client';
import type { Gauge } from 'prom-client';
import type { Sql } from '../db/sql';
import { readDunningState } from '../db/metrics';
import type { ErpAdapter } from '../integrations/erp/adapter';
import { DUNNING_STAGES } from '../domain/stages';
import { APPROVAL_ACTIONS } from '../domain/authority-matrix';
import type { ApiMetrics, DunningState } from '../telemetry/metrics';
import { checkDependencies } from './routes/health';

export interface MetricsDeps {
  sql: Sql;
  tenantId: string;
  temporal: Client;
  erp?: Pick<ErpAdapter, 'getInvoiceBalance'>;
  metrics: ApiMetrics;
  /** How long a read of the dunning state serves scrapes; default 5 000 ms. */
  stateMaxAgeMs?: number;
  /** How long the dependencies' readiness checks serve scrapes; default 10 000 ms. */
  dependenciesMaxAgeMs?: number;
}

/** The label of a request that matched no route (never the raw URL: one series per probed path would be unbounded). */
export const UNMATCHED_ROUTE = 'unmatched';

/**
 * Runs `load` at most once per `maxAgeMs`: concurrent callers share the one in flight, and later callers within the
 * age get nothing new to wait for. A failed load is not held: the next caller tries again.
 */
function refreshedEvery(maxAgeMs: number, load: () => Promise<void>): () => Promise<void> {
  let inFlight: Promise<void> | undefined;
  let doneAt = -Infinity;
  return () => {
    if (inFlight) return inFlight;
    if (Date.now() - doneAt < maxAgeMs) return Promise.resolve();
    inFlight = load().finally(() => {
      doneAt = Date.now();
      inFlight = undefined;
    });
    return inFlight;
  };
}

/** Sets a one-label gauge from a record: a label seen before and absent now reads 0 (a team whose disputes are all closed). */
function labelledSetter<L extends string>(gauge: Gauge<L>, label: L, initial: readonly string[] = []) {
  const seen = new Set<string>(initial);
  return (values: Record<string, number>) => {
    for (const key of Object.keys(values)) seen.add(key);
    for (const key of seen) gauge.set({ [label]: key } as Record<L, string>, values[key] ?? 0);
  };
}

/**
 * GET /metrics (Prometheus text, no token, hidden from the OpenAPI document) and the hooks that count and time every
 * request (issue 15). The dunning's state gauges are read from PostgreSQL at scrape time (db/metrics.ts).
 */
export function registerMetrics(app: FastifyInstance, deps: MetricsDeps): void {
  const m = deps.metrics;

  // Every request, refused ones too (401 from the auth hook, 404 without route, 413 from the body parser): onRequest
  // is the first hook of each, onResponse the last. An aborted request never gets onResponse: onRequestAbort ends it.
  const started = new WeakMap<FastifyRequest, bigint>();
  const finish = (request: FastifyRequest, statusCode: number | 'aborted') => {
    const began = started.get(request);
    if (began === undefined) return;
    started.delete(request);
    m.httpInFlight.dec();
    const labels = { method: request.method, route: request.routeOptions.url ?? UNMATCHED_ROUTE, status_code: String(statusCode) };
    m.httpRequests.inc(labels);
    m.httpRequestDuration.observe(labels, Number(process.hrtime.bigint() - began) / 1e9);
  };
  app.addHook('onRequest', async (request) => {
    started.set(request, process.hrtime.bigint());
    m.httpInFlight.inc();
  });
  app.addHook('onResponse', async (request, reply) => finish(request, reply.statusCode));
  app.addHook('onRequestAbort', async (request) => finish(request, 'aborted'));

  // The dependencies, as GET /health/ready checks them (each bounded by its 2 s timeout), at most every 10 s.
  const refreshDependencies = refreshedEvery(deps.dependenciesMaxAgeMs ?? 10_000, async () => {
    const checks = await checkDependencies({ sql: deps.sql, temporal: deps.temporal, ...(deps.erp ? { erp: deps.erp } : {}) });
    for (const [dependency, check] of Object.entries(checks)) {
      if (!check) continue;
      m.dependencyUp.set({ dependency }, check.ok ? 1 : 0);
      m.dependencyLatency.set({ dependency }, check.latencyMs / 1000);
    }
  });

  const setStages = labelledSetter(m.invoicesByStage, 'stage', DUNNING_STAGES);
  const setDisputesOpen = labelledSetter(m.disputesOpen, 'owner_team');
  const setDisputesOverdue = labelledSetter(m.disputesOverdue, 'owner_team');
  const setApprovals = labelledSetter(m.approvalsPending, 'kind', APPROVAL_ACTIONS);
  const apply = (s: DunningState) => {
    setStages(s.invoicesByStage);
    m.invoicesNeedingAttention.set(s.invoicesByStage['needs_attention'] ?? 0);
    m.stepsOverdue.set(s.stepsOverdue);
    m.oldestOverdueStep.set(s.oldestOverdueStepSeconds);
    // A team with open disputes appears in both (overdue at 0), so that a rule on overdue has a series to read.
    setDisputesOpen(s.disputesOpen);
    setDisputesOverdue({ ...Object.fromEntries(Object.keys(s.disputesOpen).map((k) => [k, 0])), ...s.disputesOverdue });
    setApprovals(s.approvalsPending);
    m.approvalsEscalated.set(s.approvalsEscalated);
    // A counter read from the table: the figures only grow while rows are never deleted; set, not added to.
    m.promises.reset();
    m.promises.inc({ outcome: 'made' }, s.promises.made);
    m.promises.inc({ outcome: 'kept' }, s.promises.kept);
    m.promises.inc({ outcome: 'broken' }, s.promises.broken);
    for (const c of s.erpSync) {
      const connection = { connection: c.connection };
      // Absent (not 0) before the sync applied a change or completed a run: 0 would read as "perfectly fresh".
      if (c.lagSeconds === null) m.erpSyncLag.remove(connection);
      else m.erpSyncLag.set(connection, c.lagSeconds);
      if (c.sinceLastSuccessSeconds === null) m.erpSyncSinceSuccess.remove(connection);
      else m.erpSyncSinceSuccess.set(connection, c.sinceLastSuccessSeconds);
      m.erpSyncLastRunFailed.set(connection, c.lastRunFailed ? 1 : 0);
    }
    m.uncertainMessages.set(s.uncertainMessages);
  };
  // The state, read at most every 5 s; a failed read keeps the last values and is counted.
  const refreshState = refreshedEvery(deps.stateMaxAgeMs ?? 5_000, async () => {
    const began = process.hrtime.bigint();
    try {
      apply(await readDunningState(deps.sql, deps.tenantId));
    } catch (err) {
      m.stateReadErrors.inc();
      app.log.warn({ err }, 'dunning state for /metrics not read; the gauges keep their last values');
    } finally {
      m.stateReadDuration.set(Number(process.hrtime.bigint() - began) / 1e9);
    }
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    await Promise.all([refreshDependencies(), refreshState()]);
    const body = await m.registry.metrics();
    return reply.type(m.registry.contentType).send(body);
  });
}
