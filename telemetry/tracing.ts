import { SpanStatusCode, context, trace, type Attributes } from '@opentelemetry/api';
import type { BasicTracerProvider, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Resource } from '@opentelemetry/resources';

/**
 * OpenTelemetry tracing (issue 15): one trace from an HTTP request through the workflow start, update or signal to the
 * activity and its SMTP or ERP call. Configured by the standard OTEL_* variables and off when they are unset: with no
 * provider registered, every span below is OpenTelemetry's no-op and costs next to nothing.
 */

/** The tracer every span of ours is made by (the instrumentation scope in a trace viewer). */
export const TRACER_NAME = 'dunning-orchestrator';
export const tracer = () => trace.getTracer(TRACER_NAME);

/** A started tracing pipeline: the Temporal worker's workflow-span exporter needs its processor and resource. */
export interface Tracing {
  provider: BasicTracerProvider;
  /** The processor spans end in (the configured exporter's, plus any the caller added): workflow spans go here too. */
  spanProcessor: SpanProcessor;
  resource: Resource;
  /** Flushes what is pending and stops exporting. */
  shutdown(): Promise<void>;
}

export interface StartTracingOptions {
  /** Default process.env. */
  env?: NodeJS.ProcessEnv;
  /** More processors (tests: a SimpleSpanProcessor over an InMemorySpanExporter); with these, tracing starts whatever OTEL_* says. */
  spanProcessors?: SpanProcessor[];
}

/**
 * Registers the global tracer provider (with the AsyncLocalStorage context manager and W3C trace-context propagation)
 * when OTEL_TRACES_EXPORTER names an exporter (otlp, console) or OTEL_EXPORTER_OTLP_ENDPOINT /
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, and OTEL_SDK_DISABLED is not "true"; returns undefined otherwise.
 * OTEL_SERVICE_NAME overrides serviceName; OTEL_RESOURCE_ATTRIBUTES are added.
 */
export function startTracing(serviceName: string, options: StartTracingOptions = {}): Tracing | undefined {
  void serviceName;
  void options;
  return undefined; // filled in by the tracing work (issue 15)
}

/**
 * Runs fn inside a span named `name` (a child of the active span), recording an exception and an error status when it
 * throws. The ERP and SMTP wrappers call it; without a provider it is a no-op span.
 */
export async function withSpan<T>(name: string, attributes: Attributes, fn: () => Promise<T>): Promise<T> {
  return tracer().startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn();
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active span's ids for a log line (pino's mixin): { trace_id, span_id } or {} outside any sampled span. */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  const ctx = span?.spanContext();
  if (!ctx || !trace.isSpanContextValid(ctx)) return {};
  return { trace_id: ctx.traceId, span_id: ctx.spanId };
}
