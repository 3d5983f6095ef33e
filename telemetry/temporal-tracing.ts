import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import type { Tracing } from './tracing';

/**
 * Temporal's OpenTelemetry interceptors (@temporalio/interceptors-opentelemetry), wired when tracing is on and absent
 * when it is off (so that a worker without OTEL_* runs the workflow bundle it always ran).
 */

/** Client interceptors that start a span per start/signal/update/query and carry the trace in the call's headers. */
export function clientTracingInterceptors(tracing: Tracing | undefined): ClientInterceptors | undefined {
  void tracing;
  return undefined; // filled in by the tracing work (issue 15)
}

/** Workflow interceptor modules to bundle (workflow and its outbound calls get spans). */
export function workflowTracingModules(tracing: Tracing | undefined): string[] {
  void tracing;
  return [];
}

/** Worker options: activity interceptors and the sink that exports the workflow's spans. */
export function workerTracingOptions(tracing: Tracing | undefined): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  void tracing;
  return {};
}
