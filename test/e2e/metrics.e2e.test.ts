import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../dev/process';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { untilNothingCanSend } from '../support/quiescence';
import { parsePrometheusText, sampleSum, sampleValue, type Family } from '../support/prometheus-text';

/**
 * The three metrics endpoints of a running product (API and worker processes, Temporal dev server, PostgreSQL, SMTP
 * peer, ERP simulator), parsed as Prometheus parses them: the API's GET /metrics, the worker's product metrics on
 * WORKER_METRICS_PORT and the Temporal SDK's on TEMPORAL_METRICS_PORT, moved by one reminder and one payment.
 */
let stack: Stack;
let workerMetricsUrl: string;
let temporalMetricsUrl: string;
beforeAll(async () => {
  const [workerPort, temporalPort] = [await freePort(), await freePort()];
  workerMetricsUrl = `http://127.0.0.1:${workerPort}/metrics`;
  temporalMetricsUrl = `http://127.0.0.1:${temporalPort}/metrics`;
  // Reminder 2 comes 8 s after reminder 1: time enough to pay in between.
  stack = await startStack({ cadenceFile: 'cadence-consolidation.json', env: { WORKER_METRICS_PORT: String(workerPort), TEMPORAL_METRICS_PORT: String(temporalPort) } });
});
afterAll(async () => {
  await stack?.stop();
});

type Families = Map<string, Family>;
async function scrape(url: string): Promise<Families> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}
const apiUrl = () => `http://127.0.0.1:${stack.env.API_PORT}/metrics`;
/** The first scrape that answers (a process just started may not listen yet). */
const firstScrape = async (url: string): Promise<Families> => {
  let families: Families | undefined;
  await expect.poll(async () => (families = await fetch(url).then((r) => (r.ok ? r.text() : undefined), () => undefined).then((t) => (t ? parsePrometheusText(t) : undefined))), { timeout: 30_000, interval: 250 }).toBeDefined();
  return families!;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('metrics end to end', () => {
  it('counts one reminder (sent, SMTP, step) and one payment (stages), every HTTP call by route, with the dependencies up', async () => {
    const apiBefore = await firstScrape(apiUrl());
    const workerBefore = await firstScrape(workerMetricsUrl);
    const sent = (m: Families) => sampleSum(m, 'dunning_messages_total', { channel: 'email', outcome: 'sent' });
    const smtpOk = (m: Families) => sampleSum(m, 'dunning_smtp_send_duration_seconds_count', { outcome: 'ok' });
    const emailSteps = (m: Families) => sampleSum(m, 'dunning_steps_total', { action: 'email' });
    const stage = (m: Families, s: string) => sampleValue(m, 'dunning_invoices', { stage: s });
    const requests = (m: Families, labels: Record<string, string>) => sampleSum(m, 'dunning_http_requests_total', labels);
    expect(stage(apiBefore, 'active')).toBe(0);
    expect(stage(apiBefore, 'paid')).toBe(0);
    // The API holds a state read 5 s: the next read after enrollment is a fresh one.
    await sleep(5_100);

    const enrolled = await createAndEnroll(stack, { number: 'MX-1', customerId: 'CUST-MX', amountMinor: 40_000, dueDate: '2026-10-15' }, 'ap@cust-mx.example');
    expect(enrolled.status).toBe(201);
    await stack.mail.waitFor((m) => m.headers['x-invoice-number'] === 'MX-1', 30_000);
    const apiActive = await scrape(apiUrl());
    // Paid in the ERP; its webhook reaches the API, which closes the invoice before reminder 2.
    expect((await stack.erpCall('/payments', { paymentId: 'PAY-MX-1', invoiceNumber: 'MX-1', amountMinor: 40_000, currency: 'EUR' })).status).toBe(201);
    let invoiceReads = 0;
    await expect
      .poll(async () => {
        invoiceReads++;
        return (await stack.api('GET', '/invoices/MX-1')).body.stage;
      }, { timeout: 20_000 })
      .toBe('paid');
    await untilNothingCanSend({ tenantId: stack.tenantId, invoiceNumbers: ['MX-1'], customerIds: ['CUST-MX'] });
    expect(stack.mail.messages().filter((m) => m.headers['x-invoice-number'] === 'MX-1')).toHaveLength(1);

    // The worker: one message sent, one SMTP send, one email step (the payment stopped the rest).
    await expect.poll(async () => sent(await scrape(workerMetricsUrl)), { timeout: 10_000 }).toBe(sent(workerBefore) + 1);
    const workerAfter = await scrape(workerMetricsUrl);
    expect(smtpOk(workerAfter)).toBe(smtpOk(workerBefore) + 1);
    expect(sampleSum(workerAfter, 'dunning_smtp_errors_total')).toBe(0);
    expect(emailSteps(workerAfter)).toBe(emailSteps(workerBefore) + 1);
    for (const outcome of ['uncertain', 'already_sent']) expect(sampleSum(workerAfter, 'dunning_messages_total', { outcome })).toBe(0);
    // The worker asked the ERP (before the send at least): counted by operation, all ok.
    expect(sampleSum(workerAfter, 'dunning_erp_request_duration_seconds_count', { operation: 'getInvoiceBalance', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(workerAfter, 'dunning_erp_errors_total')).toBe(0);
    // Histograms have their buckets (cumulative, ending at +Inf = _count), _sum and _count.
    const smtp = workerAfter.get('dunning_smtp_send_duration_seconds')!;
    expect(smtp.type).toBe('histogram');
    const buckets = smtp.samples.filter((s) => s.name.endsWith('_bucket') && s.labels.outcome === 'ok');
    expect(buckets.map((b) => b.labels.le)).toEqual(['0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '30', '+Inf']);
    expect(buckets.map((b) => b.value)).toEqual([...buckets.map((b) => b.value)].sort((a, b) => a - b));
    expect(buckets.at(-1)!.value).toBe(smtpOk(workerAfter));
    expect(sampleValue(workerAfter, 'dunning_smtp_send_duration_seconds_sum', { outcome: 'ok' })).toBeGreaterThan(0);

    // The API: the invoice was active, then paid (a fresh read, the last one being 5 s old at most).
    expect(stage(apiActive, 'active')).toBe(1);
    expect(stage(apiActive, 'paid')).toBe(0);
    await sleep(5_100);
    const apiAfter = await scrape(apiUrl());
    expect(stage(apiAfter, 'paid')).toBe(1);
    expect(stage(apiAfter, 'active')).toBe(0);
    // Every call made above, by route pattern and status (the invoice's reads, the enrollment, the ERP's webhook).
    const moved = (labels: Record<string, string>) => requests(apiAfter, labels) - requests(apiBefore, labels);
    expect(moved({ method: 'POST', route: '/invoices', status_code: '201' })).toBe(1);
    expect(moved({ method: 'GET', route: '/invoices/:invoiceNumber', status_code: '200' })).toBe(invoiceReads);
    expect(moved({ method: 'POST', route: '/webhooks/erp' })).toBeGreaterThanOrEqual(1);
    expect(moved({ method: 'GET', route: '/metrics', status_code: '200' })).toBe(2); // apiBefore's and apiActive's
    expect(apiAfter.get('dunning_http_request_duration_seconds')!.type).toBe('histogram');
    expect(sampleValue(apiAfter, 'dunning_http_request_duration_seconds_count', { method: 'POST', route: '/invoices', status_code: '201' })).toBe(
      requests(apiAfter, { method: 'POST', route: '/invoices', status_code: '201' }),
    );
    // The enrollment asked the ERP through the API's own adapter.
    expect(sampleSum(apiAfter, 'dunning_erp_request_duration_seconds_count', { operation: 'getInvoiceBalance', outcome: 'ok' })).toBeGreaterThanOrEqual(1);
    // Each dependency answers.
    for (const dependency of ['postgresql', 'temporal', 'erp']) expect(sampleValue(apiAfter, 'dunning_dependency_up', { dependency }), dependency).toBe(1);
    expect(sampleSum(apiAfter, 'dunning_state_read_errors_total')).toBe(0);
  });

  it("serves the Temporal SDK's own metrics on TEMPORAL_METRICS_PORT", async () => {
    const sdk = await firstScrape(temporalMetricsUrl);
    const names = [...sdk.keys()];
    for (const name of [
      'temporal_worker_task_slots_available',
      'temporal_sticky_cache_size',
      'temporal_workflow_task_schedule_to_start_latency',
      'temporal_activity_execution_latency',
      'temporal_workflow_task_execution_latency',
    ])
      expect(names, name).toContain(name);
    expect(sdk.get('temporal_activity_execution_latency')!.type).toBe('histogram');
    // The task queues this worker polls, in the slots' labels.
    const queues = new Set(sdk.get('temporal_worker_task_slots_available')!.samples.map((s) => s.labels.task_queue));
    expect(queues).toContain(stack.env.TEMPORAL_TASK_QUEUE);
    // And the worker's own endpoint answers only /metrics.
    expect((await fetch(workerMetricsUrl.replace('/metrics', '/other'))).status).toBe(404);
  });
});
