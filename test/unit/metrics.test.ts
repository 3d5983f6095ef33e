import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { createApiMetrics, createWorkerMetrics, LATENCY_BUCKETS } from '../../telemetry/metrics';
import { erpErrorKind } from '../../integrations/erp/instrumented';
import { ErpCapabilityError, ErpRequestRejectedError, ErpUnavailableError } from '../../integrations/erp/adapter';
import { smtpErrorKind } from '../../activities/mail';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text';

/** Every product metric: name, type and labels. Dashboards (ops/grafana) and alert rules (ops/prometheus) read these. */
const API = [
  ['dunning_http_requests_total', 'counter', ['method', 'route', 'status_code']],
  ['dunning_http_request_duration_seconds', 'histogram', ['method', 'route', 'status_code']],
  ['dunning_http_requests_in_flight', 'gauge', []],
  ['dunning_dependency_up', 'gauge', ['dependency']],
  ['dunning_dependency_check_seconds', 'gauge', ['dependency']],
  ['dunning_erp_request_duration_seconds', 'histogram', ['operation', 'outcome']],
  ['dunning_erp_errors_total', 'counter', ['operation', 'kind']],
  ['dunning_invoices', 'gauge', ['stage']],
  ['dunning_invoices_needing_attention', 'gauge', []],
  ['dunning_steps_overdue', 'gauge', []],
  ['dunning_oldest_overdue_step_seconds', 'gauge', []],
  ['dunning_disputes_open', 'gauge', ['owner_team']],
  ['dunning_disputes_overdue', 'gauge', ['owner_team']],
  ['dunning_approvals_pending', 'gauge', ['kind']],
  ['dunning_approvals_escalated', 'gauge', []],
  ['dunning_promises_total', 'counter', ['outcome']],
  ['dunning_erp_sync_lag_seconds', 'gauge', ['connection']],
  ['dunning_erp_sync_since_success_seconds', 'gauge', ['connection']],
  ['dunning_erp_sync_last_run_failed', 'gauge', ['connection']],
  ['dunning_messages_uncertain', 'gauge', []],
  ['dunning_state_read_seconds', 'gauge', []],
  ['dunning_state_read_errors_total', 'counter', []],
];
const WORKER = [
  ['dunning_messages_total', 'counter', ['channel', 'outcome']],
  ['dunning_steps_total', 'counter', ['action']],
  ['dunning_smtp_send_duration_seconds', 'histogram', ['outcome']],
  ['dunning_smtp_errors_total', 'counter', ['kind']],
  ['dunning_erp_request_duration_seconds', 'histogram', ['operation', 'outcome']],
  ['dunning_erp_errors_total', 'counter', ['operation', 'kind']],
];

async function catalogue(registry: Registry) {
  const metrics = await registry.getMetricsAsJSON();
  return metrics
    .filter((m) => m.name.startsWith('dunning_'))
    .map((m) => [m.name, m.type, [...((registry.getSingleMetric(m.name) as unknown as { labelNames: string[] }).labelNames ?? [])]]);
}

describe('the metric catalogue', () => {
  it('names, types and labels of the API and the worker stay as dashboards and alerts know them', async () => {
    expect(await catalogue(createApiMetrics(new Registry()).registry)).toEqual(API);
    expect(await catalogue(createWorkerMetrics(new Registry()).registry)).toEqual(WORKER);
  });

  it('each process also exports its own process metrics, and the latency buckets span 5 ms to 30 s', async () => {
    const text = await createWorkerMetrics(new Registry()).registry.metrics();
    const families = parsePrometheusText(text);
    for (const name of ['process_cpu_user_seconds_total', 'process_resident_memory_bytes', 'nodejs_eventloop_lag_seconds', 'nodejs_heap_size_used_bytes']) expect(families.has(name), name).toBe(true);
    expect(LATENCY_BUCKETS[0]).toBe(0.005);
    expect(LATENCY_BUCKETS.at(-1)).toBe(30);
  });
});

describe('error kinds', () => {
  it('of the ERP: timeout (the abort of a slow answer), unavailable, rejected, other', () => {
    const timeout = Object.assign(new Error('The operation was aborted due to timeout'), { name: 'TimeoutError' });
    expect(erpErrorKind(new ErpUnavailableError('ERP unreachable at http://erp/x: The operation was aborted due to timeout', { cause: timeout }))).toBe('timeout');
    expect(erpErrorKind(new ErpUnavailableError('ERP unreachable at http://erp/x: connect ECONNREFUSED', { cause: new Error('fetch failed') }))).toBe('unavailable');
    expect(erpErrorKind(new ErpUnavailableError('ERP answered HTTP 503 for http://erp/x'))).toBe('unavailable');
    expect(erpErrorKind(new ErpRequestRejectedError('too much', 422, 'amount_exceeds_open_amount'))).toBe('rejected');
    expect(erpErrorKind(new ErpCapabilityError('creditHold', 'tryton'))).toBe('other');
    expect(erpErrorKind(new Error('ERP rejected our credentials (HTTP 401): check ERP_API_KEY'))).toBe('other');
  });

  it("of SMTP: connection, timeout, rejected, other (nodemailer's codes and the server's reply)", () => {
    const smtp = (props: Record<string, unknown>, message = 'x') => Object.assign(new Error(message), props);
    expect(smtpErrorKind(smtp({ code: 'ESOCKET', command: 'CONN' }, 'connect ECONNREFUSED 127.0.0.1:1'))).toBe('connection');
    expect(smtpErrorKind(smtp({ code: 'ECONNECTION' }))).toBe('connection');
    expect(smtpErrorKind(smtp({ code: 'ETIMEDOUT' }, 'Greeting never received'))).toBe('timeout');
    expect(smtpErrorKind(smtp({ code: 'EENVELOPE', responseCode: 550, command: 'RCPT TO' }))).toBe('rejected');
    expect(smtpErrorKind(smtp({ code: 'EPROTOCOL', responseCode: 554, command: 'CONN' }))).toBe('rejected');
    expect(smtpErrorKind(new Error('something else'))).toBe('other');
  });
});

describe('the Prometheus text parser of the tests', () => {
  it('reads families, escaped label values, histograms and special values, and refuses a malformed line', () => {
    const text = [
      '# HELP a_total Things, with a \\\\ backslash',
      '# TYPE a_total counter',
      'a_total{path="/x\\"y\\\\z",n="line\\nbreak"} 3',
      '# TYPE h histogram',
      'h_bucket{le="0.5"} 1',
      'h_bucket{le="+Inf"} 2',
      'h_sum 0.75',
      'h_count 2',
      'g Nan',
      'i +Inf 1700000000000',
      '',
    ].join('\n');
    const f = parsePrometheusText(text);
    expect(f.get('a_total')).toMatchObject({ help: 'Things, with a \\ backslash', type: 'counter' });
    expect(sampleValue(f, 'a_total', { path: '/x"y\\z', n: 'line\nbreak' })).toBe(3);
    expect(f.get('h')!.samples.map((s) => s.name)).toEqual(['h_bucket', 'h_bucket', 'h_sum', 'h_count']);
    expect(sampleValue(f, 'h_bucket', { le: '+Inf' })).toBe(2);
    expect(sampleValue(f, 'g')).toBeNaN();
    expect(sampleValue(f, 'i')).toBe(Infinity);
    expect(() => parsePrometheusText('a_total{x="1"} abc')).toThrow(/not a sample value/);
    expect(() => parsePrometheusText('a_total{x=1} 2')).toThrow(/bad label/);
    expect(() => sampleValue(f, 'h_bucket')).toThrow(/2 samples/);
  });
});
