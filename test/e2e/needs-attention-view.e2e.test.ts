import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { httpAnswer, pass, startFaultProxy, type FaultProxy } from '../support/fault-proxy';

/**
 * The API's view of an invoice its workflow parked (issue 10 #2, #5): the worker reads the ERP through a
 * fault proxy that answers 404 for every invoice (an ERP mid-sync), so after its retries the workflow parks
 * the invoice as needs_attention. GET /invoices/:n shows the stage, what parked it and when it is tried
 * again; once the ERP answers again, POST /invoices/:n/resume tries it at once (not 409 not_paused) and the
 * reminder goes out.
 */
let stack: Stack;
let proxy: FaultProxy;

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-fast.json' });
  const erp = new URL(stack.erp.url);
  proxy = await startFaultProxy({ host: erp.hostname, port: Number(erp.port) });
  // The worker reads the ERP through the proxy; the API (enrollment's check) still reads it directly.
  await stack.killWorker();
  stack.env.ERP_BASE_URL = `http://${proxy.host}:${proxy.port}`;
  stack.restartWorker();
});
afterAll(async () => {
  await stack?.stop();
  await proxy?.close();
});

describe('an invoice parked for attention, through the API', () => {
  it('shows stage needs_attention with its reason and retry time, and a resume tries it again at once', async () => {
    await proxy.setMode(httpAnswer(404, '{"error":"not_found"}'));
    const enrolled = await createAndEnroll(stack, { number: 'ATT-1', customerId: 'CUST-ATT', amountMinor: 25_000, dueDate: '2026-10-01' }, 'ap@att.example');
    expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);

    await expect.poll(async () => (await stack.api('GET', '/invoices/ATT-1')).body.stage, { timeout: 45_000, interval: 500 }).toBe('needs_attention');
    const view = (await stack.api('GET', '/invoices/ATT-1')).body;
    expect(view).toMatchObject({
      workflowStatus: 'RUNNING',
      attention: { code: 'ErpInvoiceNotFound', stepId: expect.any(String), attempts: 1 },
      nextStep: { action: 'retry' },
    });
    expect(view.attention.reason).toMatch(/ATT-1/);
    expect(Date.parse(view.attention.retryAt)).toBeGreaterThan(Date.parse(view.attention.since));
    expect(view.nextStep.at).toBe(view.attention.retryAt);
    expect((await stack.api('GET', '/invoices?stage=needs_attention')).body.items.map((i: { number: string }) => i.number)).toEqual(['ATT-1']);
    expect(stack.mail.messages().filter((m) => m.headers['x-invoice-number'] === 'ATT-1')).toEqual([]);

    // The ERP knows the invoice again; a person resumes it: tried at once, not refused as "not paused".
    await proxy.setMode(pass);
    const resumed = await stack.api('POST', '/invoices/ATT-1/resume', { note: 'ERP sync fixed' });
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200);
    expect(resumed.body).toMatchObject({ changed: true });
    expect(resumed.body.stage).not.toBe('needs_attention');
    await stack.mail.waitFor((m) => m.headers['x-invoice-number'] === 'ATT-1', 45_000);
    await expect.poll(async () => (await stack.api('GET', '/invoices/ATT-1')).body, { timeout: 20_000 }).toMatchObject({ stage: 'active', attention: null, workflowStatus: 'RUNNING' });
  }, 120_000);
});
