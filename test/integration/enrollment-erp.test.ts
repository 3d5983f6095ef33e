import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';
import { invoiceWorkflowId } from '../../domain/ids';
import type { ErpAdapter } from '../../integrations/erp/adapter';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { userWithToken } from '../support/auth';
import { listen } from '../support/listen';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Enrollment asks the ERP first (issue 10 #5): an invoice the ERP does not know, or knows otherwise, is
 * refused with 422 and nothing is stored; an ERP that cannot answer gets 503 with Retry-After, nothing stored.
 * Before, enrollment answered 201 and the workflow failed at its first balance read.
 */
const tenantId = `erp-enroll-${randomUUID().slice(0, 8)}`;
const apiKey = 'enroll-erp-key';
let t: TestApp;
let sim: ErpSimulator;
let auth: { authorization: string };
/** Where the API's ERP adapter points: switched to take the ERP away. */
let erp: Pick<ErpAdapter, 'getInvoiceBalance'>;

beforeAll(async () => {
  sim = await startErpSimulator({ apiKey, webhookSecret: 'enroll-erp-webhook-secret' });
  erp = createHttpErp({ baseUrl: sim.url, apiKey, timeoutMs: 1_000 });
  t = await startTestApp(tenantId, { erp: { getInvoiceBalance: (n) => erp.getInvoiceBalance(n) } });
  auth = (await userWithToken(t.sql, tenantId, { userId: 'enroll-admin', role: 'admin' })).headers;
});
afterAll(async () => {
  await t?.close();
  await sim?.close();
});

const CUSTOMER = 'CUST-ERP-ENROLL';
const enrollment = (number: string, invoice: Record<string, unknown> = {}) => ({
  customer: { id: CUSTOMER, name: 'Erp Enroll GmbH', email: 'ap@erp-enroll.example', timeZone: 'Europe/Berlin', locale: 'de-DE' },
  invoice: { number, currency: 'EUR', amountMinor: 25_000, issueDate: '2026-01-01', dueDate: '2026-01-31', ...invoice },
});
async function inErp(number: string, data: Record<string, unknown> = {}) {
  const res = await fetch(`${sim.url}/invoices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ invoiceNumber: number, customerId: CUSTOMER, currency: 'EUR', amountMinor: 25_000, issueDate: '2026-01-01', dueDate: '2026-01-31', ...data }),
  });
  expect(res.status).toBe(201);
}
async function enroll(body: ReturnType<typeof enrollment>) {
  const res = await t.app.inject({ method: 'POST', url: '/invoices', headers: auth, payload: body });
  if (res.statusCode === 201) t.started.add(invoiceWorkflowId(tenantId, body.invoice.number));
  return { status: res.statusCode, body: res.json() as any, retryAfter: res.headers['retry-after'] };
}
/** Nothing of the invoice anywhere: no row, no workflow. */
async function nothingStored(number: string) {
  expect(await t.sql`select 1 from invoices where tenant_id = ${tenantId} and invoice_number = ${number}`).toHaveLength(0);
  await expect(t.client.workflow.getHandle(invoiceWorkflowId(tenantId, number)).describe()).rejects.toThrow(/not found/i);
}

describe('POST /invoices asks the ERP first', () => {
  it('enrolls an invoice the ERP knows with the same customer, currency and amount', async () => {
    const number = `ERPOK-${randomUUID().slice(0, 8)}`;
    await inErp(number);
    expect((await enroll(enrollment(number))).status).toBe(201);
  });

  it('answers 422 unknown_to_erp for an invoice the ERP does not know, and stores nothing', async () => {
    const number = `ERPNO-${randomUUID().slice(0, 8)}`;
    const res = await enroll(enrollment(number));
    expect(res).toMatchObject({ status: 422, body: { error: 'unknown_to_erp' } });
    await nothingStored(number);
  });

  it('answers 422 erp_mismatch when the ERP knows the invoice with another customer, currency or amount', async () => {
    const number = `ERPMIS-${randomUUID().slice(0, 8)}`;
    await inErp(number, { customerId: 'SOMEONE-ELSE', amountMinor: 30_000 });
    const res = await enroll(enrollment(number));
    expect(res).toMatchObject({ status: 422, body: { error: 'erp_mismatch', erp: { customerId: 'SOMEONE-ELSE', currency: 'EUR', amountMinor: 30_000 } } });
    expect(res.body.message).toMatch(/customerId, amountMinor/);
    await nothingStored(number);
  });

  it('answers 503 dependency_unavailable with Retry-After when the ERP is down, hangs or answers garbage, and stores nothing', async () => {
    const hanging = await listen(() => undefined); // takes the request, never answers
    const html = await listen((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<html>maintenance</html>'));
    const refused = await listen(() => undefined);
    await refused.close(); // nothing listens there any more
    try {
      for (const [what, url] of [['down', refused.url], ['hanging', hanging.url], ['html', html.url]] as const) {
        erp = createHttpErp({ baseUrl: url, apiKey, timeoutMs: 500 });
        const number = `ERPDOWN-${what}-${randomUUID().slice(0, 8)}`;
        const res = await enroll(enrollment(number));
        expect(res, what).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'dependency_unavailable', dependency: 'erp' } });
        await nothingStored(number);
      }
    } finally {
      erp = createHttpErp({ baseUrl: sim.url, apiKey, timeoutMs: 1_000 });
      await hanging.close();
      await html.close();
    }
    // Back up: the same enrollment goes through.
    const number = `ERPBACK-${randomUUID().slice(0, 8)}`;
    await inErp(number);
    expect((await enroll(enrollment(number))).status).toBe(201);
  });
});
