import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * Malformed requests are 400s naming the problem, never 500s (issue 10 #9): a JSON `null` body, an empty
 * body, a number in a path beyond what the database stores, a NUL character in any string of a body,
 * query or path.
 */
const tenantId = `bad-input-${randomUUID().slice(0, 8)}`;
let t: TestApp;
let auth: { authorization: string };

beforeAll(async () => {
  t = await startTestApp(tenantId);
  auth = (await userWithToken(t.sql, tenantId, { userId: 'bad-input-admin', role: 'admin' })).headers;
});
afterAll(async () => {
  await t?.close();
});

async function send(method: 'GET' | 'POST' | 'PUT', url: string, body?: string, contentType = 'application/json') {
  const res = await t.app.inject({
    method,
    url,
    headers: { ...auth, ...(body === undefined ? {} : { 'content-type': contentType }) },
    ...(body === undefined ? {} : { payload: body }),
  });
  return { status: res.statusCode, body: res.json() as { error: string; message: string; issues?: { path: string; code: string; message: string }[] } };
}

describe('a JSON null or an empty body', () => {
  it.each([
    ['POST', '/cadences/validate'],
    ['POST', '/cadences'],
    ['POST', '/cadences/preview'],
    ['POST', '/invoices'],
    ['PUT', '/config/resolution-matrix'],
  ] as const)('%s %s with null answers 400 validation_failed with an issue on the body', async (method, url) => {
    const res = await send(method, url, 'null');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.issues?.[0]?.path).toMatch(/^body/);
  });

  it('POST /cadences/validate without a body answers 400 validation_failed: a cadence definition is required', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/cadences/validate', headers: auth });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_failed', issues: [{ path: 'body' }] });
  });

  it('POST /cadences/validate with an empty JSON body answers 400 with the error shape it documents', async () => {
    const res = await send('POST', '/cadences/validate', '');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
  });
});

describe('numbers in a path beyond what is stored', () => {
  it.each(['/cadences/standard/versions/2147483648', '/cadences/standard/versions/99999999999999'])('GET %s answers 400', async (url) => {
    const res = await send('GET', url);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.issues?.[0]?.path).toBe('params.version');
  });

  it('POST /cadences/standard/versions/2147483648/activate answers 400', async () => {
    const res = await send('POST', '/cadences/standard/versions/2147483648/activate');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
  });

  it('a saved cadence of version 2147483648 in a preview answers 400', async () => {
    const res = await send(
      'POST',
      '/cadences/preview',
      JSON.stringify({
        cadence: { id: 'standard', version: 2147483648 },
        invoice: { currency: 'EUR', amountMinor: 1000, dueDate: '2026-03-02' },
        customer: { timeZone: 'Europe/Berlin', segment: 'standard' },
      }),
    );
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.issues?.map((i) => i.path)).toContain('body.cadence.version');
  });
});

describe('a NUL character', () => {
  it.each([
    ['GET', '/invoices?customerId=a%00b', 'querystring.customerId'],
    ['GET', '/worklist?collectorId=a%00b', 'querystring.collectorId'],
    ['GET', '/disputes?ownerTeam=a%00b', 'querystring.ownerTeam'],
  ] as const)('in a query value: %s %s answers 400 naming %s', async (method, url, path) => {
    const res = await send(method, url);
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect(res.body.issues?.map((i) => i.path)).toContain(path);
  });

  it('in a path value answers 400', async () => {
    const res = await send('GET', '/customers/a%00b/contacts');
    expect(res.status, JSON.stringify(res.body)).toBe(400);
  });

  it('in a string of a body answers 400 naming the field, and stores nothing', async () => {
    await userWithToken(t.sql, tenantId, { userId: 'nul-collector', role: 'collector' });
    await t.sql`
      insert into customers (tenant_id, customer_id, name, email, time_zone, locale, segment)
      values (${tenantId}, 'CUST-NUL', 'Nul GmbH', 'ap@nul.example', 'Europe/Berlin', 'de-DE', 'standard')`;
    const res = await send('PUT', '/customers/CUST-NUL/collector', JSON.stringify({ collectorId: 'nul\u0000collector' }));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.issues?.map((i) => i.path)).toContain('body.collectorId');
    const [row] = await t.sql<{ collector_id: string | null }[]>`select collector_id from customers where tenant_id = ${tenantId} and customer_id = 'CUST-NUL'`;
    expect(row!.collector_id).toBeNull();
  });

  it('in a key of a free-form body answers 400', async () => {
    const res = await send('POST', '/cadences/validate', JSON.stringify({ id: 'x', 'a\u0000b': 1 }));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect(res.body.error).toBe('validation_failed');
  });

  it('in a document saved as JSON answers 400 and saves nothing', async () => {
    const current = await send('GET', '/config/resolution-matrix');
    const document = JSON.parse(JSON.stringify((current.body as unknown as { document: unknown }).document).replace(/"([^"]+)"/, '"$1\\u0000"'));
    const res = await send('PUT', '/config/resolution-matrix', JSON.stringify(document));
    expect(res.status, JSON.stringify(res.body)).toBe(400);
    expect((await send('GET', '/config/resolution-matrix/versions')).body).toMatchObject({ items: [] });
  });
});
