import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invoiceWorkflowId } from '../../domain/ids';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Who may hold a portfolio (issue 10 #11): an enrollment's `collectorId`, and the target of a reassignment,
 * must be an active user with the role collector or above; otherwise 422 unknown_collector and nothing
 * changes. Before, any text was taken, an unknown user or an owner team's member gained a portfolio.
 */
const tenantId = `holder-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let auth: { authorization: string };

beforeAll(async () => {
  t = await startTestApp(tenantId);
  auth = (await userWithToken(t.sql, tenantId, { userId: 'holder-admin', role: 'admin' })).headers;
  await userWithToken(t.sql, tenantId, { userId: 'anna', role: 'collector' });
  await userWithToken(t.sql, tenantId, { userId: 'lena', role: 'team_lead' });
  await userWithToken(t.sql, tenantId, { userId: 'pia', role: 'team_member' });
  await userWithToken(t.sql, tenantId, { userId: 'gone', role: 'collector' });
  await t.sql`update users set active = false where tenant_id = ${tenantId} and user_id = 'gone'`;
});
afterAll(async () => {
  await t?.close();
});

async function api(method: 'POST' | 'PUT', url: string, payload: unknown) {
  const res = await t.app.inject({ method, url, headers: auth, payload: payload as object });
  return { status: res.statusCode, body: res.json() as any };
}
async function enroll(number: string, collectorId: string) {
  const customerId = `CUST-${number}`;
  const res = await api('POST', '/invoices', {
    customer: { id: customerId, name: 'Holder GmbH', email: 'ap@holder.example', timeZone: 'Europe/Berlin', collectorId },
    invoice: { number, currency: 'EUR', amountMinor: 10_000, issueDate: '2026-01-01', dueDate: '2026-01-31' },
  });
  if (res.status === 201) t.started.add(invoiceWorkflowId(tenantId, number));
  return { ...res, customerId };
}

describe('POST /invoices: collectorId', () => {
  it.each([
    ['an unknown user', 'nobody', /no such user/],
    ['an owner team member', 'pia', /team_member/],
    ['an inactive user', 'gone', /inactive/],
  ])('refuses %s with 422 unknown_collector and stores nothing', async (_what, collectorId, why) => {
    const number = `INV-HOLD-${collectorId}`;
    const res = await enroll(number, collectorId);
    expect(res.status, JSON.stringify(res.body)).toBe(422);
    expect(res.body).toMatchObject({ error: 'unknown_collector', collectorId });
    expect(res.body.message).toMatch(why);
    expect(await t.sql`select 1 from customers where tenant_id = ${tenantId} and customer_id = ${res.customerId}`).toHaveLength(0);
    expect(await t.sql`select 1 from invoices where tenant_id = ${tenantId} and invoice_number = ${number}`).toHaveLength(0);
  });

  it.each(['anna', 'lena'])('takes %s (a collector or above)', async (collectorId) => {
    const res = await enroll(`INV-HOLD-OK-${collectorId}`, collectorId);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [row] = await t.sql<{ collector_id: string }[]>`select collector_id from customers where tenant_id = ${tenantId} and customer_id = ${res.customerId}`;
    expect(row!.collector_id).toBe(collectorId);
  });
});

describe('PUT /customers/:customerId/collector', () => {
  it('refuses an owner team member or an inactive user with 422 unknown_collector and moves nothing', async () => {
    const { customerId } = await enroll('INV-HOLD-MOVE', 'anna');
    for (const collectorId of ['pia', 'gone', 'nobody']) {
      const res = await api('PUT', `/customers/${customerId}/collector`, { collectorId });
      expect(res.status, `${collectorId}: ${JSON.stringify(res.body)}`).toBe(422);
      expect(res.body.error).toBe('unknown_collector');
    }
    const [row] = await t.sql<{ collector_id: string }[]>`select collector_id from customers where tenant_id = ${tenantId} and customer_id = ${customerId}`;
    expect(row!.collector_id).toBe('anna');
    expect((await api('PUT', `/customers/${customerId}/collector`, { collectorId: 'lena' })).status).toBe(200);
  });
});
