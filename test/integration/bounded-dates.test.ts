import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Dates are bounded at every edge (issue 10 #8): a calendar date or an instant the API takes lies in the
 * years 2000 to 2100 (api/dates.ts), else 400 validation_failed naming the field. Before, `POST /tasks` with
 * a `dueAt` in year 101 stored the task and answered 500, and from then on the worklist and the task answered
 * 500 for good; a `dueDate` of 9999-12-31 was enrolled. A row already out of range is still read.
 */
const tenantId = `dates-${randomUUID().slice(0, 8)}`;
const INVOICE = 'INV-DATES-1';
const CUSTOMER = 'CUST-DATES';
let t: TestApp;
let auth: { authorization: string };

beforeAll(async () => {
  t = await startTestApp(tenantId);
  auth = (await userWithToken(t.sql, tenantId, { userId: 'dates-admin', role: 'admin' })).headers;
  await userWithToken(t.sql, tenantId, { userId: 'dates-collector', role: 'collector' });
  // Stored as enrollment would, without a workflow: these tests are about what the API takes and reads.
  await t.sql`
    insert into customers (tenant_id, customer_id, name, email, time_zone, locale, segment, collector_id)
    values (${tenantId}, ${CUSTOMER}, 'Datum GmbH', 'ap@datum.example', 'Europe/Berlin', 'de-DE', 'standard', 'dates-collector')`;
  await t.sql`
    insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                          workflow_id, cadence_id, cadence_version)
    values (${tenantId}, ${INVOICE}, ${CUSTOMER}, 'EUR', 50000, 50000, '2026-01-01', '2026-01-31',
            ${`invoice-dunning:${tenantId}:${INVOICE}`}, 'standard', 1)`;
});
afterAll(async () => {
  await t?.close();
});

async function api(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown) {
  const res = await t.app.inject({ method, url, headers: auth, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any };
}
const issuePaths = (body: { issues?: { path: string }[] }) => (body.issues ?? []).map((i) => i.path);
const enrollment = (invoice: Record<string, unknown>) => ({
  customer: { id: 'CUST-DATES-2', name: 'Datum Zwei GmbH', email: 'ap@datum2.example', timeZone: 'Europe/Berlin' },
  invoice: { number: `INV-DATES-${randomUUID().slice(0, 6)}`, currency: 'EUR', amountMinor: 1000, issueDate: '2026-01-01', dueDate: '2026-01-31', ...invoice },
});

describe('POST /tasks', () => {
  it.each(['0101-01-01T00:00:00Z', '1999-12-31T23:59:59Z', '2101-01-01T00:00:00Z', '9999-12-31T00:00:00Z'])(
    'refuses dueAt %s with 400 naming body.dueAt, and stores no task',
    async (dueAt) => {
      const res = await api('POST', '/tasks', { invoiceNumber: INVOICE, dueAt, note: 'call back' });
      expect(res.status, JSON.stringify(res.body)).toBe(400);
      expect(issuePaths(res.body)).toEqual(['body.dueAt']);
      expect(res.body.issues[0].message).toMatch(/2000.*2100/);
      expect(await t.sql`select 1 from call_tasks where tenant_id = ${tenantId} and (due_at < '2000-01-01' or due_at >= '2101-01-01')`).toHaveLength(0);
    },
  );

  it('takes a dueAt within the years 2000 to 2100', async () => {
    const res = await api('POST', '/tasks', { invoiceNumber: INVOICE, dueAt: '2100-06-30T10:00:00+02:00', note: 'far ahead' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  });
});

describe('every other edge that takes a date or an instant', () => {
  it('answers an impossible date with that one issue, not also "dueDate must not be before issueDate"', async () => {
    const res = await api('POST', '/invoices', enrollment({ issueDate: '2026-03-01', dueDate: '2026-02-30' }));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.issues).toEqual([{ path: 'body.invoice.dueDate', code: 'invalid_format', message: 'must be a calendar date YYYY-MM-DD' }]);
  });

  it.each([
    ['POST', '/invoices', enrollment({ dueDate: '9999-12-31' }), 'body.invoice.dueDate'],
    ['POST', '/invoices', enrollment({ issueDate: '0101-01-01' }), 'body.invoice.issueDate'],
    ['POST', `/invoices/${INVOICE}/payments`, { paymentId: 'P-DATES', amountMinor: 100, currency: 'EUR', receivedAt: '0101-01-01T00:00:00Z' }, 'body.receivedAt'],
    ['POST', `/invoices/${INVOICE}/pause`, { reason: 'customer asked', until: '9999-12-31T00:00:00Z' }, 'body.until'],
    ['POST', `/customers/${CUSTOMER}/pause`, { reason: 'customer asked', until: '1900-01-01T00:00:00Z' }, 'body.until'],
    ['POST', '/promises', { customerId: CUSTOMER, madeBy: 'AP desk', promisedDate: '9999-12-31', invoices: [{ number: INVOICE, amountMinor: 100 }] }, 'body.promisedDate'],
    [
      'POST',
      '/payment-plans',
      { customerId: CUSTOMER, madeBy: 'AP desk', invoiceNumbers: [INVOICE], installments: [{ dueDate: '2026-03-01', amountMinor: 100 }, { dueDate: '3026-04-01', amountMinor: 100 }] },
      'body.installments.1.dueDate',
    ],
    ['POST', '/tasks/1/outcome', { outcome: { code: 'callback_requested', callbackDate: '0101-01-01', callbackTime: '10:00' } }, 'body.outcome.callbackDate'],
    ['POST', '/tasks/1/outcome', { outcome: { code: 'promise_to_pay', amountMinor: 100, promisedDate: '9999-12-31', madeBy: 'AP' } }, 'body.outcome.promisedDate'],
    ['POST', '/disputes/D-1/resolution', { resolution: 'valid', creditAmountMinor: 100, rebill: { amountMinor: 100, dueDate: '9999-12-31' }, rootCause: 'pricing_error', note: 'n' }, 'body.rebill.dueDate'],
    ['POST', `/invoices/${INVOICE}/approval-requests`, { action: 'settlement', reason: 'r', settlement: { amountMinor: 100, payBy: '9999-12-31' } }, 'body.settlement.payBy'],
    [
      'POST',
      '/cadences/preview',
      { cadence: { id: 'standard' }, invoice: { currency: 'EUR', amountMinor: 100, dueDate: '9999-12-31' }, customer: { timeZone: 'Europe/Berlin', segment: 'standard' } },
      'body.invoice.dueDate',
    ],
    ['POST', '/cadences/preview', { invoice: { number: INVOICE }, asOf: '0101-01-01T00:00:00Z' }, 'body.asOf'],
    ['POST', '/users/dates-collector/tokens', { label: 'x', expiresAt: '9999-12-31T00:00:00Z' }, 'body.expiresAt'],
    ['GET', '/worklist?dueBefore=0101-01-01T00:00:00Z', undefined, 'querystring.dueBefore'],
    ['GET', '/reports/disputes?from=9999-01-01T00:00:00Z', undefined, 'querystring.from'],
    ['GET', '/reports/promise-kept-rate?to=0101-01-01T00:00:00Z', undefined, 'querystring.to'],
  ] as const)('%s %s refuses an out-of-range date with 400 naming %s', async (method, url, payload, path) => {
    const res = await api(method, url, payload);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(issuePaths(res.body)).toContain(path);
  });

  it('publishes the bound in the OpenAPI document', async () => {
    const doc = (await t.app.inject({ method: 'GET', url: '/openapi.json' })).json() as any;
    const dueAt = doc.paths['/tasks'].post.requestBody.content['application/json'].schema.properties.dueAt;
    expect(dueAt.description).toMatch(/2000.*2100/);
    const dueDate = doc.paths['/invoices'].post.requestBody.content['application/json'].schema.properties.invoice.properties.dueDate;
    expect(dueDate.description).toMatch(/2000.*2100/);
  });
});

describe('a row out of range already stored', () => {
  it('does not poison the worklist or the task: both still answer 200', async () => {
    const ids: number[] = [];
    for (const dueAt of ['0101-01-01T00:00:00Z', '9999-12-31T00:00:00Z']) {
      const [row] = await t.sql<{ id: number }[]>`
        insert into call_tasks (tenant_id, invoice_number, customer_id, collector_id, due_at, note, kind, workflow_id, created_by)
        values (${tenantId}, ${INVOICE}, ${CUSTOMER}, 'dates-collector', ${dueAt}, 'stored before dates were bounded', 'manual',
                ${`invoice-dunning:${tenantId}:${INVOICE}`}, 'dates-admin')
        returning id`;
      ids.push(Number(row!.id));
    }
    const list = await api('GET', '/worklist');
    expect(list.status, JSON.stringify(list.body)).toBe(200);
    expect(list.body.items.map((i: { taskId: number }) => i.taskId)).toEqual(expect.arrayContaining(ids));
    for (const id of ids) {
      const one = await api('GET', `/tasks/${id}`);
      expect(one.status, JSON.stringify(one.body)).toBe(200);
    }
    expect((await api('GET', `/tasks/${ids[0]}`)).body.dueAt).toBe('0101-01-01T00:00:00.000Z');
  });
});
