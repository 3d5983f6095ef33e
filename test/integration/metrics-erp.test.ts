import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { ErpInvoiceNotFoundError, ErpUnavailableError } from '../../integrations/erp/adapter';
import { instrumentErp } from '../../integrations/erp/instrumented';
import { createWorkerMetrics } from '../../telemetry/metrics';
import { parsePrometheusText, sampleSum, sampleValue } from '../support/prometheus-text';

/**
 * integrations/erp/instrumented.ts over the real ERP simulator (HTTP): each call lands in
 * dunning_erp_request_duration_seconds by operation and outcome, failures in dunning_erp_errors_total by kind.
 */
const apiKey = 'metrics-erp-key';
let sim: ErpSimulator | undefined;
const metrics = createWorkerMetrics(new Registry());

beforeAll(async () => {
  sim = await startErpSimulator({ apiKey, webhookSecret: 'metrics-webhook-secret-0123' });
  sim.store.addInvoice({ invoiceNumber: 'M-1', customerId: 'C-M', currency: 'EUR', amountMinor: 12_000, issueDate: '2026-01-01', dueDate: '2026-01-31' });
});
afterAll(async () => {
  await sim?.close();
});

const read = async () => parsePrometheusText(await metrics.registry.metrics());
const count = (families: ReturnType<typeof parsePrometheusText>, operation: string, outcome: string) =>
  sampleSum(families, 'dunning_erp_request_duration_seconds_count', { operation, outcome });

describe('the instrumented ERP adapter', () => {
  it('keeps what the adapter is (kind, capabilities) and counts a found invoice as ok', async () => {
    const adapter = createHttpErp({ baseUrl: sim!.url, apiKey, timeoutMs: 2_000 });
    const erp = instrumentErp(adapter, metrics);
    expect(erp.kind).toBe(adapter.kind);
    expect(erp.capabilities).toEqual(adapter.capabilities);
    const balance = await erp.getInvoiceBalance('M-1');
    expect(balance).toMatchObject({ invoiceNumber: 'M-1', openAmountMinor: 12_000, status: 'open' });
    const after = await read();
    expect(count(after, 'getInvoiceBalance', 'ok')).toBe(1);
    expect(count(after, 'getInvoiceBalance', 'error')).toBe(0);
    // A histogram: buckets up to +Inf, whose count is the _count, and a _sum of seconds.
    expect(sampleValue(after, 'dunning_erp_request_duration_seconds_bucket', { operation: 'getInvoiceBalance', outcome: 'ok', le: '+Inf' })).toBe(1);
    const seconds = sampleValue(after, 'dunning_erp_request_duration_seconds_sum', { operation: 'getInvoiceBalance', outcome: 'ok' });
    expect(seconds).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(2);
  });

  it('counts an unknown invoice as not_found, no error', async () => {
    const erp = instrumentErp(createHttpErp({ baseUrl: sim!.url, apiKey, timeoutMs: 2_000 }), metrics);
    await expect(erp.getInvoiceBalance('M-404')).rejects.toBeInstanceOf(ErpInvoiceNotFoundError);
    const after = await read();
    expect(count(after, 'getInvoiceBalance', 'not_found')).toBe(1);
    expect(sampleSum(after, 'dunning_erp_errors_total')).toBe(0);
  });

  it('counts an ERP that is down as an error of kind unavailable, by operation', async () => {
    const erp = instrumentErp(createHttpErp({ baseUrl: sim!.url, apiKey, timeoutMs: 2_000 }), metrics);
    await sim!.close();
    sim = undefined;
    await expect(erp.getInvoiceBalance('M-1')).rejects.toBeInstanceOf(ErpUnavailableError);
    await expect(erp.getCreditStatus('C-M')).rejects.toBeInstanceOf(ErpUnavailableError);
    const after = await read();
    expect(count(after, 'getInvoiceBalance', 'error')).toBe(1);
    expect(count(after, 'getCreditStatus', 'error')).toBe(1);
    expect(sampleValue(after, 'dunning_erp_errors_total', { operation: 'getInvoiceBalance', kind: 'unavailable' })).toBe(1);
    expect(sampleValue(after, 'dunning_erp_errors_total', { operation: 'getCreditStatus', kind: 'unavailable' })).toBe(1);
    // The earlier calls are where they were.
    expect(count(after, 'getInvoiceBalance', 'ok')).toBe(1);
    expect(count(after, 'getInvoiceBalance', 'not_found')).toBe(1);
  });
});
