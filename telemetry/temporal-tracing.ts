import { existsSync } from 'node:fs';
import path from 'node:path';
import type { ClientInterceptors } from '@temporalio/client';
import type { WorkerOptions } from '@temporalio/worker';
import {
  OpenTelemetryActivityInboundInterceptor,
  OpenTelemetryActivityOutboundInterceptor,
  OpenTelemetryWorkflowClientInterceptor,
  makeWorkflowExporter,
} from '@temporalio/interceptors-opentelemetry';
import type { Tracing } from './tracing';

/**
 * Temporal's OpenTelemetry interceptors (@temporalio/interceptors-opentelemetry), wired when tracing is on and absent
 * when it is off (so that a worker without OTEL_* runs the workflow bundle it always ran).
 *
 * The trace: the client's StartWorkflow / StartWorkflowUpdate / SignalWorkflow span (a child of the HTTP request's span)
 * puts its context in the call's headers; the workflow's RunWorkflow (or HandleUpdate / HandleSignal) span continues it
 * inside the workflow sandbox, its StartActivity span goes into the activity's headers, and the worker's RunActivity span
 * is that one's child; whatever the activity does (smtp.send, erp.*) is a child of RunActivity.
 */

/** The module bundled into the workflow code (telemetry/workflow-interceptors.ts, from sources or dist/): its `interceptors()`. */
export const WORKFLOW_TRACING_MODULE = ['workflow-interceptors.ts', 'workflow-interceptors.js'].map((f) => path.join(__dirname, f)).find((f) => existsSync(f)) ?? path.join(__dirname, 'workflow-interceptors');

/** Client interceptors that start a span per start/signal/update/query and carry the trace in the call's headers. */
export function clientTracingInterceptors(tracing: Tracing | undefined): ClientInterceptors | undefined {
  if (!tracing) return undefined;
  return { workflow: [new OpenTelemetryWorkflowClientInterceptor({ tracer: tracing.provider.getTracer('@temporalio/interceptor-client') })] };
}

/** Workflow interceptor modules to bundle (workflow and its outbound calls get spans). */
export function workflowTracingModules(tracing: Tracing | undefined): string[] {
  return tracing ? [WORKFLOW_TRACING_MODULE] : [];
}

/**
 * Worker options: activity interceptors (RunActivity spans; the activity's log lines get trace_id/span_id) and the
 * `exporter` sink through which the workflow sandbox hands its spans to our span processor (not called during replay).
 * The workflow modules are not here: the worker runs a prebuilt bundle (workflowTracingModules goes to bundleWorkflowCode).
 */
export function workerTracingOptions(tracing: Tracing | undefined): Pick<WorkerOptions, 'interceptors' | 'sinks'> {
  if (!tracing) return {};
  const tracer = tracing.provider.getTracer('@temporalio/interceptor-activity');
  return {
    interceptors: {
      activity: [(ctx) => ({ inbound: new OpenTelemetryActivityInboundInterceptor(ctx, { tracer }), outbound: new OpenTelemetryActivityOutboundInterceptor(ctx) })],
    },
    sinks: { exporter: makeWorkflowExporter(tracing.spanProcessor, tracing.resource) },
  };
}
