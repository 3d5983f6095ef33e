import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoiceWorkflowId } from '../../domain/ids';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * What the API shows (issue 10 #16): another collector's customer is 403 on GET /invoices too; POST /cadences
 * takes a definition without `version` (the server numbers versions); refusals name a role with the right article.
 */
const tenantId = `slips-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let admin: { authorization: string };
let anna: { authorization: string };

beforeAll(async () => {
  t = await startTestApp(tenantId);
  admin = (await userWithToken(t.sql, tenantId, { userId: 'slips-admin', role: 'admin' })).headers;
  anna = (await userWithToken(t.sql, tenantId, { userId: 'anna', role: 'collector' })).headers;
  await userWithToken(t.sql, tenantId, { userId: 'ben', role: 'collector' });
  for (const [customerId, collectorId, number] of [['CUST-ANNA', 'anna', 'INV-SLIP-A'], ['CUST-BEN', 'ben', 'INV-SLIP-B']] as const) {
    await t.sql`
      insert into customers (tenant_id, customer_id, name, email, time_zone, locale, segment, collector_id)
      values (${tenantId}, ${customerId}, 'Slip GmbH', 'ap@slip.example', 'Europe/Berlin', 'de-DE', 'standard', ${collectorId})`;
    await t.sql`
      insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                            workflow_id, cadence_id, cadence_version)
      values (${tenantId}, ${number}, ${customerId}, 'EUR', 50000, 50000, '2026-01-01', '2026-01-31',
              ${invoiceWorkflowId(tenantId, number)}, 'standard', 1)`;
  }
});
afterAll(async () => {
  await t?.close();
});

async function api(headers: { authorization: string }, method: 'GET' | 'POST', url: string, payload?: unknown) {
  const res = await t.app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any };
}

describe('GET /invoices?customerId=', () => {
  it("answers a collector asking for another collector's customer with 403 not_in_portfolio, as every other route does", async () => {
    const res = await api(anna, 'GET', '/invoices?customerId=CUST-BEN');
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.error).toBe('not_in_portfolio');
    expect((await api(anna, 'GET', '/customers/CUST-BEN/contacts')).status).toBe(403);
  });

  it("lists the collector's own customer's invoices, and any customer's for an admin", async () => {
    expect((await api(anna, 'GET', '/invoices?customerId=CUST-ANNA')).body.items.map((i: { number: string }) => i.number)).toEqual(['INV-SLIP-A']);
    expect((await api(admin, 'GET', '/invoices?customerId=CUST-BEN')).body.items.map((i: { number: string }) => i.number)).toEqual(['INV-SLIP-B']);
  });
});

describe('POST /cadences', () => {
  const definition = {
    id: 'slip-cadence',
    name: 'Slip cadence',
    sendAt: '09:30',
    steps: [{ id: 'call-1', anchor: 'due_date', offset: { amount: 3, unit: 'days' }, action: { type: 'call_task', note: 'Call them.' } }],
  };

  it('saves a definition without a version, numbered by the server; validate takes it too', async () => {
    expect(await api(admin, 'POST', '/cadences/validate', definition)).toEqual({ status: 200, body: { valid: true } });
    const first = await api(admin, 'POST', '/cadences', definition);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.body).toMatchObject({ cadenceId: 'slip-cadence', version: 1, definition: { version: 1 } });
    const second = await api(admin, 'POST', '/cadences', { ...definition, version: 7 });
    expect(second.body).toMatchObject({ version: 2, definition: { version: 2 } });
  });

  it('previews an inline definition without a version as version 0 (not saved)', async () => {
    const res = await api(admin, 'POST', '/cadences/preview', {
      cadence: definition,
      invoice: { currency: 'EUR', amountMinor: 1000, dueDate: '2026-03-02' },
      customer: { timeZone: 'Europe/Berlin', segment: 'standard' },
      asOf: '2026-03-01T00:00:00Z',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.cadence).toEqual({ id: 'slip-cadence', version: 0 });
  });

  it('documents version as optional and ignored', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as any;
    const body = doc.paths['/cadences'].post.requestBody.content['application/json'].schema;
    expect(body.required).not.toContain('version');
    expect(body.properties.version.description).toMatch(/ignored/);
  });
});

describe('messages', () => {
  it('names a role with the right article: "needs an ar_manager"', async () => {
    await t.sql`
      insert into approval_requests (tenant_id, request_id, invoice_number, customer_id, workflow_id, action, amount_minor, currency,
                                     amount_reporting_minor, reason, source, requested_by, required_role)
      values (${tenantId}, 'AR-SLIP', 'INV-SLIP-A', 'CUST-ANNA', 'approval:x:AR-SLIP', 'write_off', 100, 'EUR', 100, 'r', 'api', 'ben', 'ar_manager')`;
    const lead = (await userWithToken(t.sql, tenantId, { userId: 'lena', role: 'team_lead' })).headers;
    const res = await api(lead, 'POST', '/approval-requests/AR-SLIP/decision', { decision: 'approve', note: 'ok' });
    expect(res.status, JSON.stringify(res.body)).toBe(403);
    expect(res.body.message).toMatch(/needs an ar_manager or above/);
  });
});
