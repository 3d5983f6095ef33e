import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sql } from '../../db/sql';
import { startTestApp, type TestApp } from '../support/test-app';
import { userWithToken } from '../support/auth';

/**
 * Idempotent API writes (api/idempotency.ts) through the HTTP API in-process against the real
 * PostgreSQL and Temporal dev server (no worker: enrolled workflows just wait). Promises and plans,
 * which need a worker, are in test/e2e/promises-all-or-nothing.e2e.test.ts.
 */
const tenantId = `idem-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let sql: Sql;
let app: TestApp['app'];
type Caller = Awaited<ReturnType<typeof userWithToken>>;
let admin: Caller, anna: Caller;

beforeAll(async () => {
  t = await startTestApp(tenantId);
  ({ sql, app } = t);
  admin = await userWithToken(sql, tenantId, { userId: 'idem-admin', role: 'admin' });
  anna = await userWithToken(sql, tenantId, { userId: 'anna', role: 'collector' });
});
afterAll(async () => {
  await t?.close();
});

async function call(method: 'GET' | 'POST' | 'PUT', url: string, as: Caller, payload?: unknown, key?: string) {
  const headers: Record<string, string> = { ...as.headers, ...(key === undefined ? {} : { 'idempotency-key': key }) };
  const res = await app.inject({ method, url, headers, ...(payload === undefined ? {} : { payload: payload as object }) });
  return { status: res.statusCode, body: res.json() as any, raw: res.body, replayed: res.headers['idempotent-replayed'] };
}

let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${++seq}`;
const customerId = 'CUST-IDEM';

async function enrolled(): Promise<string> {
  const number = unique('IDEM');
  const res = await call('POST', '/invoices', admin, {
    customer: { id: customerId, name: 'Idem GmbH', email: 'ap@idem.example', timeZone: 'Europe/Berlin', collectorId: 'anna' },
    invoice: { number, currency: 'EUR', amountMinor: 40_000, issueDate: '2026-01-01', dueDate: '2026-01-31' },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  t.started.add(res.body.workflowId);
  return number;
}
const tasksOf = (invoiceNumber: string) => sql`select id, note from call_tasks where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by id`;

describe('Idempotency-Key on the POSTs that create something', () => {
  it('answers a retry with the same key and body with the first answer, marked replayed, and creates nothing twice', async () => {
    const number = await enrolled();
    const body = { invoiceNumber: number, dueAt: '2026-03-02T09:00:00+01:00', note: 'Call back about the audit' };
    const key = randomUUID();
    const first = await call('POST', '/tasks', anna, body, key);
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    expect(first.replayed).toBeUndefined();
    const again = await call('POST', '/tasks', anna, body, key);
    expect(again).toMatchObject({ status: 201, raw: first.raw, replayed: 'true' });
    expect(await tasksOf(number)).toEqual([{ id: first.body.taskId, note: 'Call back about the audit' }]);
    expect(await sql`select count(*)::int as n from audit_events where tenant_id = ${tenantId} and event_type = 'task_created' and invoice_number = ${number}`).toEqual([{ n: 1 }]);
    // Without a key each request is a new task.
    await call('POST', '/tasks', anna, body);
    expect(await tasksOf(number)).toHaveLength(2);
  });

  it('refuses the same key with another body (or on another route) with 422 idempotency_key_reused, changing nothing', async () => {
    const number = await enrolled();
    const key = randomUUID();
    const body = { invoiceNumber: number, dueAt: '2026-03-02T09:00:00+01:00', note: 'First' };
    expect((await call('POST', '/tasks', anna, body, key)).status).toBe(201);
    const other = await call('POST', '/tasks', anna, { ...body, note: 'Second' }, key);
    expect(other).toMatchObject({ status: 422, body: { error: 'idempotency_key_reused' } });
    expect(other.replayed).toBeUndefined();
    expect((await call('POST', `/customers/${customerId}/notes`, anna, { note: 'First' }, key)).body).toMatchObject({ error: 'idempotency_key_reused' });
    expect((await tasksOf(number)).map((r) => r.note)).toEqual(['First']);
  });

  it('keeps keys per user: the same key from someone else is their own request', async () => {
    const number = await enrolled();
    const key = randomUUID();
    const body = { invoiceNumber: number, dueAt: '2026-03-02T09:00:00+01:00', note: 'Shared key' };
    const byAnna = await call('POST', '/tasks', anna, body, key);
    const byAdmin = await call('POST', '/tasks', admin, body, key);
    expect([byAnna.status, byAdmin.status, byAdmin.replayed]).toEqual([201, 201, undefined]);
    expect(byAdmin.body.taskId).not.toBe(byAnna.body.taskId);
  });

  it('replays a note and an enrollment: one history row, and the first 201 instead of 409 already_enrolled', async () => {
    const key = randomUUID();
    const note = await call('POST', `/customers/${customerId}/notes`, anna, { note: 'Moves to a new ERP next month' }, key);
    expect(note.status).toBe(201);
    expect(await call('POST', `/customers/${customerId}/notes`, anna, { note: 'Moves to a new ERP next month' }, key)).toMatchObject({ status: 201, raw: note.raw, replayed: 'true' });
    expect(await sql`select count(*)::int as n from customer_activities where tenant_id = ${tenantId} and note = 'Moves to a new ERP next month'`).toEqual([{ n: 1 }]);

    const number = unique('IDEM');
    const enrollment = {
      customer: { id: customerId, name: 'Idem GmbH', email: 'ap@idem.example', timeZone: 'Europe/Berlin', collectorId: 'anna' },
      invoice: { number, currency: 'EUR', amountMinor: 40_000, issueDate: '2026-01-01', dueDate: '2026-01-31' },
    };
    const enrollKey = randomUUID();
    const enrolledOnce = await call('POST', '/invoices', admin, enrollment, enrollKey);
    expect(enrolledOnce.status).toBe(201);
    t.started.add(enrolledOnce.body.workflowId);
    expect(await call('POST', '/invoices', admin, enrollment, enrollKey)).toMatchObject({ status: 201, raw: enrolledOnce.raw, replayed: 'true' });
    expect(await call('POST', '/invoices', admin, enrollment)).toMatchObject({ status: 409, body: { error: 'already_enrolled' } });
  });

  it('stores a refusal as the answer too: the retry gets the same 404', async () => {
    const key = randomUUID();
    const body = { invoiceNumber: unique('NOPE'), dueAt: '2026-03-02T09:00:00+01:00', note: 'x' };
    const first = await call('POST', '/tasks', anna, body, key);
    expect(first).toMatchObject({ status: 404, body: { error: 'not_found' } });
    expect(await call('POST', '/tasks', anna, body, key)).toMatchObject({ status: 404, raw: first.raw, replayed: 'true' });
  });

  it('answers 409 idempotency_key_in_use while the first request runs, and takes over a claim left past its lease', async () => {
    const number = await enrolled();
    const key = randomUUID();
    const body = { invoiceNumber: number, dueAt: '2026-03-02T09:00:00+01:00', note: 'Claimed' };
    // The first request got as far as its claim (a process that is still working, or died).
    const claim = await call('POST', '/tasks', anna, body, key);
    await sql`update api_idempotency_keys set status = 'pending', response_status = null, response_body = null, completed_at = null
              where tenant_id = ${tenantId} and user_id = 'anna' and idempotency_key = ${key}`;
    expect(await call('POST', '/tasks', anna, body, key)).toMatchObject({ status: 409, body: { error: 'idempotency_key_in_use' } });
    expect(await call('POST', '/tasks', anna, { ...body, note: 'other' }, key)).toMatchObject({ status: 422, body: { error: 'idempotency_key_reused' } });
    // Past the lease the claim is taken over: the request runs again, and finds the task it made.
    await sql`update api_idempotency_keys set created_at = now() - interval '1 hour' where tenant_id = ${tenantId} and idempotency_key = ${key}`;
    const takenOver = await call('POST', '/tasks', anna, body, key);
    expect(takenOver).toMatchObject({ status: 201, replayed: undefined, body: { taskId: claim.body.taskId } });
    expect(await tasksOf(number)).toHaveLength(1);
    expect(await sql`select status, response_status from api_idempotency_keys where tenant_id = ${tenantId} and idempotency_key = ${key}`).toEqual([
      { status: 'completed', response_status: 201 },
    ]);
  });

  it('validates the key: 1 to 200 visible ASCII characters', async () => {
    const body = { invoiceNumber: unique('NOPE'), dueAt: '2026-03-02T09:00:00+01:00', note: 'x' };
    for (const bad of ['has space', 'x'.repeat(201), 'tab\tkey']) {
      const res = await call('POST', '/tasks', anna, body, bad);
      expect(res.status, bad).toBe(400);
      expect(res.body).toMatchObject({ error: 'validation_failed', issues: [expect.objectContaining({ path: 'headers.idempotency-key' })] });
    }
    expect((await call('POST', '/tasks', anna, body, 'x'.repeat(200))).status).toBe(404);
  });

  it('documents the header on every creating POST (and the outcome, payment and pause routes), never on token issuance', async () => {
    const doc = (await call('GET', '/openapi.json', admin)).body;
    const header = (path: string) =>
      ((doc.paths[path]?.post?.parameters ?? []) as { in: string; name: string; description?: string }[]).find((p) => p.in === 'header' && p.name === 'idempotency-key');
    for (const path of [
      '/invoices', '/cadences', '/users', '/tasks', '/customers/{customerId}/notes', '/promises', '/payment-plans', '/disputes',
      '/invoices/{invoiceNumber}/approval-requests', '/tasks/{taskId}/outcome', '/invoices/{invoiceNumber}/payments', '/invoices/{invoiceNumber}/pause',
      '/invoices/{invoiceNumber}/resume', '/customers/{customerId}/pause', '/customers/{customerId}/resume',
    ])
      expect(header(path)?.description, path).toMatch(/Idempotent-Replayed: true.*idempotency_key_reused.*idempotency_key_in_use/);
    expect(header('/users/{userId}/tokens')).toBeUndefined();
    expect(header('/cadences/validate')).toBeUndefined();
    expect(Object.keys(doc.paths['/promises'].post.responses)).toEqual(expect.arrayContaining(['201', '409', '422']));
  });
});

describe('a retried change without an Idempotency-Key', () => {
  it('a reassignment PUT again changes and records nothing; each move is keyed by from, to and its number among the customer\'s moves', async () => {
    await userWithToken(sql, tenantId, { userId: 'ben', role: 'collector' });
    await enrolled();
    const moves = () =>
      sql<{ event_key: string; from: string | null; to: string }[]>`
        select event_key, details->>'from' as from, details->>'to' as to from audit_events
        where tenant_id = ${tenantId} and event_type = 'customer_reassigned' and details->>'customerId' = ${customerId} order by id`;
    const history = () => sql`select event_key from customer_activities where tenant_id = ${tenantId} and customer_id = ${customerId} and kind = 'reassignment' order by id`;
    const openTasks = await sql<{ id: number }[]>`select id from call_tasks where tenant_id = ${tenantId} and customer_id = ${customerId} and status = 'open' order by id`;

    const moved = await call('PUT', `/customers/${customerId}/collector`, admin, { collectorId: 'ben' });
    expect(moved).toMatchObject({ status: 200, body: { customerId, from: 'anna', to: 'ben', movedTasks: openTasks.map((r) => r.id) } });
    const retried = await call('PUT', `/customers/${customerId}/collector`, admin, { collectorId: 'ben' });
    expect(retried).toMatchObject({ status: 200, body: { customerId, from: 'ben', to: 'ben', movedTasks: [] } });
    const first = `reassignment:${tenantId}:${customerId}:anna->ben:n1`;
    expect(await moves()).toEqual([{ event_key: first, from: 'anna', to: 'ben' }]);
    expect(await history()).toEqual([{ event_key: first }]);

    // Back and forth: each move is one of its own, even the same move again.
    expect((await call('PUT', `/customers/${customerId}/collector`, admin, { collectorId: 'anna' })).status).toBe(200);
    expect((await call('PUT', `/customers/${customerId}/collector`, admin, { collectorId: 'ben' })).status).toBe(200);
    expect((await call('PUT', `/customers/${customerId}/collector`, admin, { collectorId: 'anna' })).body).toMatchObject({ from: 'ben', to: 'anna' });
    expect((await moves()).map((m) => m.event_key)).toEqual([
      first,
      `reassignment:${tenantId}:${customerId}:ben->anna:n2`,
      `reassignment:${tenantId}:${customerId}:anna->ben:n3`,
      `reassignment:${tenantId}:${customerId}:ben->anna:n4`,
    ]);
    expect(await history()).toHaveLength(4);
  });
});
