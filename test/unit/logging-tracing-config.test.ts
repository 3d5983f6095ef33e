import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, invoiceNumberOf } from '../../telemetry/logging';
import { TracingConfigError, startTracing, tracingConfig } from '../../telemetry/tracing';

describe('tracing configuration from OTEL_*', () => {
  it('is off when nothing (or only empty strings) is set, or when the SDK is disabled', () => {
    expect(startTracing('x', { env: {} })).toBeUndefined();
    expect(startTracing('x', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_TRACES_EXPORTER: '' } })).toBeUndefined();
    expect(startTracing('x', { env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' } })).toBeUndefined();
    expect(tracingConfig({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }).exporters).toEqual([]);
  });

  it('an endpoint means OTLP to <endpoint>/v1/traces; the traces endpoint is taken as it is', () => {
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' })).toMatchObject({ exporters: ['otlp'], otlpUrl: 'http://collector:4318/v1/traces' });
    expect(tracingConfig({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:9/t' })).toMatchObject({ exporters: ['otlp'], otlpUrl: 'http://c:9/t' });
    expect(tracingConfig({ OTEL_TRACES_EXPORTER: 'console' }).exporters).toEqual(['console']);
  });

  it('refuses bad values with a message naming the variable', () => {
    expect(() => tracingConfig({ OTEL_TRACES_EXPORTER: 'zipkin' })).toThrow(/OTEL_TRACES_EXPORTER/);
    expect(() => tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'not a url' })).toThrow(TracingConfigError);
    expect(() => tracingConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' })).toThrow(/PROTOCOL/);
    expect(() => tracingConfig({ OTEL_TRACES_SAMPLER: 'sometimes' })).toThrow(/OTEL_TRACES_SAMPLER/);
    expect(() => tracingConfig({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' })).toThrow(/OTEL_TRACES_SAMPLER_ARG/);
    expect(() => tracingConfig({ OTEL_SDK_DISABLED: 'yes' })).toThrow(/OTEL_SDK_DISABLED/);
  });
});

describe('log lines', () => {
  it('are JSON with service and a level name; secrets and bodies are redacted', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _e, done) => (lines.push(chunk.toString()), done()) });
    const log = createLogger('worker', 'info', sink);
    log.info({ req: { headers: { authorization: 'Bearer dun_a_secret1', cookie: 'sid=secret2' } }, taskToken: 'secret3', password: 'secret4', text: 'secret5 body', html: '<p>secret6</p>' }, 'hello');
    const line = JSON.parse(lines[0]!) as Record<string, any>;
    expect(line).toMatchObject({ service: 'worker', level: 'info', msg: 'hello', taskToken: '[redacted]', password: '[redacted]', text: '[redacted]', html: '[redacted]' });
    expect(line.req.headers).toEqual({ authorization: '[redacted]', cookie: '[redacted]' });
    expect(lines[0]).not.toMatch(/secret\d/);
  });

  it('the invoice number is read from an invoice workflow id', () => {
    expect(invoiceNumberOf('invoice-dunning:acme:INV-1:2')).toBe('INV-1:2');
    expect(invoiceNumberOf('customer-contact:acme:C1')).toBeUndefined();
  });
});
