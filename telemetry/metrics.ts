import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The product's Prometheus metrics, all of them, in one catalogue (issue 15). Each process builds its own registry:
 * the API's (`GET /metrics` on the API port) and the worker's (its own port, WORKER_METRICS_PORT); the Temporal SDK's
 * runtime metrics are served by the worker's Rust core on TEMPORAL_METRICS_PORT under Temporal's own names
 * (`temporal_*`). The dashboards (ops/grafana) and alert rules (ops/prometheus) read these names: renaming one is a
 * breaking change for everyone's dashboards, so the catalogue is tested against them.
 *
 * Three kinds of figures:
 * - events counted where they happen, in the process that did them (HTTP requests in the API; messages, steps, SMTP in
 *   the worker; ERP calls in both): sum them across instances;
 * - the dunning's state, read from PostgreSQL by the API at scrape time (at most every few seconds): invoices by stage,
 *   disputes and approvals, overdue steps, sync lag. Every API replica reports the same figures: take max(), not sum();
 * - the process itself (prom-client's default metrics: CPU, memory, event-loop lag, GC).
 */

/** Latency buckets (seconds) for HTTP requests served and for calls to the ERP and SMTP. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** What became of a customer-facing message: sent once, uncertain (a crash mid-send: never sent again), suppressed
 * (do-not-contact, paid, paused: nothing to send), deferred (a quiet hour, a cap, a holiday: sent later), or
 * already_sent (a retry found the outbox's row: nothing sent twice). */
export const MESSAGE_OUTCOMES = ['sent', 'uncertain', 'suppressed', 'deferred', 'already_sent'] as const;
export type MessageOutcome = (typeof MESSAGE_OUTCOMES)[number];

/** The ERP's calls, by the adapter method's name (integrations/erp/adapter.ts). */
export type ErpOperation = string;

/** Calls to the ERP, counted by both processes (the API checks invoices at enrollment, the worker does the rest). */
function erpMetrics(registry: Registry) {
  return {
    erpRequestDuration: new Histogram({
      name: 'dunning_erp_request_duration_seconds',
      help: 'Calls to the ERP adapter by operation (adapter method) and outcome (ok, not_found, error)',
      labelNames: ['operation', 'outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    erpErrors: new Counter({
      name: 'dunning_erp_errors_total',
      help: 'ERP calls that failed, by operation and kind (timeout, unavailable, rejected, other); a not-found answer is no error',
      labelNames: ['operation', 'kind'] as const,
      registers: [registry],
    }),
  };
}

/** The API process's metrics (`GET /metrics`). */
export function createApiMetrics(registry: Registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    httpRequests: new Counter({
      name: 'dunning_http_requests_total',
      help: 'HTTP requests served, by method, route (the route pattern, "unmatched" for a 404 without route) and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      registers: [registry],
    }),
    httpRequestDuration: new Histogram({
      name: 'dunning_http_request_duration_seconds',
      help: 'Time from receiving a request to sending its answer, by method, route and status code',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    httpInFlight: new Gauge({
      name: 'dunning_http_requests_in_flight',
      help: 'HTTP requests being served now',
      registers: [registry],
    }),
    dependencyUp: new Gauge({
      name: 'dunning_dependency_up',
      help: 'Whether a dependency answered its last readiness check (1) or not (0): postgresql, temporal, erp',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    dependencyLatency: new Gauge({
      name: 'dunning_dependency_check_seconds',
      help: 'How long the last readiness check of a dependency took',
      labelNames: ['dependency'] as const,
      registers: [registry],
    }),
    ...erpMetrics(registry),
    ...stateMetrics(registry),
  };
}
export type ApiMetrics = ReturnType<typeof createApiMetrics>;

/** The dunning's state as PostgreSQL has it (db/metrics.ts reads it; the API sets the gauges below at scrape time). */
export interface DunningState {
  /** Invoices enrolled, by stage (domain/stages.ts), terminal stages included. */
  invoicesByStage: Record<string, number>;
  /** Open invoices whose next planned step is more than STEP_OVERDUE_GRACE_SECONDS past due, and the oldest such step's age. */
  stepsOverdue: number;
  oldestOverdueStepSeconds: number;
  /** Disputes open or escalated, and those past the resolution matrix's deadline, by owner team. */
  disputesOpen: Record<string, number>;
  disputesOverdue: Record<string, number>;
  /** Approval requests waiting for a decision, by kind (write_off, escalation, ...), and those escalated. */
  approvalsPending: Record<string, number>;
  approvalsEscalated: number;
  /** Promises to pay ever recorded, and those kept and broken (monotonic while rows are never deleted). */
  promises: { made: number; kept: number; broken: number };
  /** Per ERP connection: seconds since the newest ERP change applied by the sync, and since its last completed run (absent before the first). */
  erpSync: { connection: string; lagSeconds: number | null; sinceLastSuccessSeconds: number | null; lastRunFailed: boolean }[];
  /** Customer-facing messages marked uncertain (crash mid-send) that nobody has looked at. */
  uncertainMessages: number;
}

/** A next step this much past its time is overdue (a worker that keeps up runs it within seconds). */
export const STEP_OVERDUE_GRACE_SECONDS = 15 * 60;

function stateMetrics(registry: Registry) {
  const gauge = <L extends string>(name: string, help: string, labelNames: readonly L[] = []) =>
    new Gauge<L>({ name, help, labelNames, registers: [registry] });
  return {
    invoicesByStage: gauge('dunning_invoices', 'Invoices enrolled, by stage (state read from PostgreSQL: take max() across API replicas)', ['stage']),
    invoicesNeedingAttention: gauge('dunning_invoices_needing_attention', 'Invoices parked in stage needs_attention: a person must look (POST /invoices/:n/resume)'),
    stepsOverdue: gauge('dunning_steps_overdue', `Open invoices whose next step is more than ${STEP_OVERDUE_GRACE_SECONDS / 60} minutes late`),
    oldestOverdueStep: gauge('dunning_oldest_overdue_step_seconds', 'How late the most overdue next step is (0 when none is)'),
    disputesOpen: gauge('dunning_disputes_open', 'Disputes open or escalated, by owner team', ['owner_team']),
    disputesOverdue: gauge('dunning_disputes_overdue', "Disputes open past the resolution matrix's deadline, by owner team", ['owner_team']),
    approvalsPending: gauge('dunning_approvals_pending', 'Approval requests waiting for a decision, by kind', ['kind']),
    approvalsEscalated: gauge('dunning_approvals_escalated', 'Approval requests escalated for want of a decision in time'),
    promises: new Counter({
      name: 'dunning_promises_total',
      help: 'Promises to pay recorded (made), kept and broken (read from PostgreSQL: take max() across API replicas)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    erpSyncLag: gauge('dunning_erp_sync_lag_seconds', 'Age of the newest ERP change the sync has applied, per connection', ['connection']),
    erpSyncSinceSuccess: gauge('dunning_erp_sync_since_success_seconds', "Seconds since the ERP sync's last completed run, per connection", ['connection']),
    erpSyncLastRunFailed: gauge('dunning_erp_sync_last_run_failed', "1 when the ERP sync's latest finished run failed, per connection", ['connection']),
    uncertainMessages: gauge('dunning_messages_uncertain', 'Customer-facing messages marked uncertain (a crash mid-send), never sent again: check them by hand'),
    stateReadDuration: gauge('dunning_state_read_seconds', 'How long the last read of the dunning state from PostgreSQL took'),
    stateReadErrors: new Counter({ name: 'dunning_state_read_errors_total', help: 'Reads of the dunning state that failed (the gauges keep their last values)', registers: [registry] }),
  };
}

/** The worker process's product metrics (WORKER_METRICS_PORT); the SDK's own are on TEMPORAL_METRICS_PORT. */
export function createWorkerMetrics(registry: Registry = new Registry()) {
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    messages: new Counter({
      name: 'dunning_messages_total',
      help: 'Customer-facing messages by channel (email) and outcome: sent, uncertain, suppressed, deferred, already_sent',
      labelNames: ['channel', 'outcome'] as const,
      registers: [registry],
    }),
    steps: new Counter({
      name: 'dunning_steps_total',
      help: 'Cadence steps run, by action (email, call_task, escalation, webhook, ...)',
      labelNames: ['action'] as const,
      registers: [registry],
    }),
    smtpSendDuration: new Histogram({
      name: 'dunning_smtp_send_duration_seconds',
      help: 'Time to hand a message to the SMTP server, by outcome (ok, error)',
      labelNames: ['outcome'] as const,
      buckets: LATENCY_BUCKETS,
      registers: [registry],
    }),
    smtpErrors: new Counter({
      name: 'dunning_smtp_errors_total',
      help: 'SMTP sends that failed, by kind (connection, timeout, rejected, other)',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    ...erpMetrics(registry),
  };
}
export type WorkerMetrics = ReturnType<typeof createWorkerMetrics>;

/** The ERP metrics both processes share (integrations/erp/instrumented.ts records into them). */
export type ErpMetrics = ReturnType<typeof erpMetrics>;
