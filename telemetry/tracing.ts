import { SpanStatusCode, context, propagation, trace, type Attributes, type Context } from '@opentelemetry/api';
import { CompositePropagator, W3CBaggagePropagator, W3CTraceContextPropagator } from '@opentelemetry/core';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ConsoleSpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  type BasicTracerProvider,
  type ReadableSpan,
  type Sampler,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME } from '@opentelemetry/semantic-conventions';

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
  const env = options.env ?? process.env;
  const extra = options.spanProcessors ?? [];
  const config = tracingConfig(env);
  if (config.disabled || (config.exporters.length === 0 && extra.length === 0)) return undefined;
  const resource = new Resource({
    ...resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
    [ATTR_SERVICE_NAME]: set(env.OTEL_SERVICE_NAME) ?? serviceName,
  });
  const processors: SpanProcessor[] = [
    ...config.exporters.map((exporter) => new BatchSpanProcessor(exporter === 'console' ? new ConsoleSpanExporter() : new OTLPTraceExporter({ url: config.otlpUrl }))),
    ...extra,
  ];
  const spanProcessor = processors.length === 1 ? processors[0]! : new AllSpanProcessors(processors);
  const provider = new NodeTracerProvider({ resource, sampler: config.sampler, spanProcessors: [spanProcessor] });
  // NodeTracerProvider brings the AsyncLocalStorage context manager; the propagator is W3C trace-context and baggage.
  provider.register({ propagator: new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }) });
  return {
    provider,
    spanProcessor,
    resource: provider.resource,
    async shutdown() {
      await provider.shutdown();
      // Unregistered, so that a later startTracing in the same process (tests) can register again.
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

/** OTEL_* read and checked, before anything is started: a bad value is a TracingConfigError naming the variable. */
export class TracingConfigError extends Error {
  override name = 'TracingConfigError';
}

interface TracingConfig {
  disabled: boolean;
  exporters: ('otlp' | 'console')[];
  otlpUrl: string;
  sampler: Sampler;
}

/** An empty value counts as unset (docker-compose passes `${OTEL_EXPORTER_OTLP_ENDPOINT:-}`). */
const set = (value: string | undefined): string | undefined => (value === undefined || value.trim() === '' ? undefined : value.trim());

export function tracingConfig(env: NodeJS.ProcessEnv): TracingConfig {
  const disabled = set(env.OTEL_SDK_DISABLED);
  if (disabled !== undefined && !['true', 'false'].includes(disabled.toLowerCase())) throw new TracingConfigError(`OTEL_SDK_DISABLED must be true or false, not "${disabled}"`);
  const tracesEndpoint = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  const endpoint = set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const named = set(env.OTEL_TRACES_EXPORTER);
  let exporters: TracingConfig['exporters'] = [];
  if (named !== undefined) {
    const names = [...new Set(named.split(',').map((n) => n.trim().toLowerCase()).filter(Boolean))];
    for (const name of names) {
      if (name !== 'otlp' && name !== 'console' && name !== 'none') throw new TracingConfigError(`OTEL_TRACES_EXPORTER: "${name}" is not an exporter this service has (otlp, console or none)`);
    }
    exporters = names.includes('none') ? [] : (names as TracingConfig['exporters']);
  } else if (tracesEndpoint !== undefined || endpoint !== undefined) {
    exporters = ['otlp'];
  }
  const protocol = set(env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL) ?? set(env.OTEL_EXPORTER_OTLP_PROTOCOL);
  if (exporters.includes('otlp') && protocol !== undefined && protocol !== 'http/json' && protocol !== 'http/protobuf') {
    throw new TracingConfigError(`OTEL_EXPORTER_OTLP_PROTOCOL: "${protocol}" is not supported here; traces go over OTLP/HTTP (http/json)`);
  }
  const otlpUrl = tracesEndpoint ?? (endpoint !== undefined ? `${endpoint.replace(/\/+$/, '')}/v1/traces` : 'http://localhost:4318/v1/traces');
  if (exporters.includes('otlp')) {
    let url: URL;
    try {
      url = new URL(otlpUrl);
    } catch {
      throw new TracingConfigError(`${tracesEndpoint !== undefined ? 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT' : 'OTEL_EXPORTER_OTLP_ENDPOINT'}: "${otlpUrl}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TracingConfigError(`OTLP endpoint "${otlpUrl}" must be http:// or https://`);
  }
  return { disabled: disabled?.toLowerCase() === 'true', exporters, otlpUrl, sampler: samplerFrom(env) };
}

/** OTEL_TRACES_SAMPLER and OTEL_TRACES_SAMPLER_ARG (default parentbased_always_on, as the SDK). */
function samplerFrom(env: NodeJS.ProcessEnv): Sampler {
  const name = (set(env.OTEL_TRACES_SAMPLER) ?? 'parentbased_always_on').toLowerCase();
  const ratio = (): number => {
    const arg = set(env.OTEL_TRACES_SAMPLER_ARG);
    if (arg === undefined) return 1;
    const n = Number(arg);
    if (!Number.isFinite(n) || n < 0 || n > 1) throw new TracingConfigError(`OTEL_TRACES_SAMPLER_ARG must be a ratio between 0 and 1, not "${arg}"`);
    return n;
  };
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratio());
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio()) });
    default:
      throw new TracingConfigError(`OTEL_TRACES_SAMPLER: "${name}" is not a sampler (always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio)`);
  }
}

/** OTEL_RESOURCE_ATTRIBUTES: "key=value,key=value", values percent-encoded. */
function resourceAttributes(value: string | undefined): Record<string, string> {
  const attributes: Record<string, string> = {};
  if (set(value) === undefined) return attributes;
  for (const pair of value!.split(',')) {
    if (pair.trim() === '') continue;
    const eq = pair.indexOf('=');
    const key = eq > 0 ? pair.slice(0, eq).trim() : '';
    if (!key) throw new TracingConfigError(`OTEL_RESOURCE_ATTRIBUTES: "${pair}" is not key=value`);
    try {
      attributes[key] = decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      throw new TracingConfigError(`OTEL_RESOURCE_ATTRIBUTES: the value of ${key} is not percent-encoded properly`);
    }
  }
  return attributes;
}

/** Every span to each processor (the SDK's own MultiSpanProcessor is not exported). */
class AllSpanProcessors implements SpanProcessor {
  constructor(private readonly processors: SpanProcessor[]) {}
  onStart(span: Span, parentContext: Context): void {
    for (const p of this.processors) p.onStart(span, parentContext);
  }
  onEnd(span: ReadableSpan): void {
    for (const p of this.processors) p.onEnd(span);
  }
  async forceFlush(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.forceFlush()));
  }
  async shutdown(): Promise<void> {
    await Promise.all(this.processors.map((p) => p.shutdown()));
  }
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
