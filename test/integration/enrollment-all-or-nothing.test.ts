import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { buildApp } from '../../api/app';
import { connectTemporal } from '../../api/temporal-connection';
import { loadCadence, loadEmailTemplates } from '../../config/load';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { freePort } from '../../dev/process';
import { startTemporalDevServer } from '../../dev/temporal';
import { invoiceWorkflowId } from '../../domain/ids';
import { customerIdKey } from '../../workflows/messages';
import { userWithToken } from '../support/auth';

/**
 * Enrollment is all or nothing (issue 10 #6): with Temporal down, POST /invoices used to store the invoice
 * as `active` and answer 500 (after about 20 s of the client's retries), leaving a row no workflow would
 * ever move. Now the workflow starts inside the enrollment's transaction: Temporal down answers 503 with
 * Retry-After and stores nothing; and a workflow whose row was lost (the commit failed after the start) is
 * completed by the retry. This test runs a Temporal dev server of its own, to stop and start it.
 */
const tenantId = `aon-enroll-${randomUUID().slice(0, 8)}`;
let temporalPort: number;
let temporal: Awaited<ReturnType<typeof startTemporalDevServer>> | undefined;
let sql: Sql;
let app: Awaited<ReturnType<typeof buildApp>>;
let t: ReturnType<typeof connectTemporal>;
let auth: { authorization: string };

beforeAll(async () => {
  temporalPort = await freePort();
  temporal = await startTemporalDevServer({ port: temporalPort, namespace: 'default' });
  sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  t = connectTemporal({ address: temporal.address, namespace: 'default' });
  const cadence = loadCadence('config/cadences/standard.json');
  app = await buildApp({ sql, temporal: t.client, tenantId, taskQueue: `nobody-${tenantId}`, templates: loadEmailTemplates(), defaultCadenceId: cadence.id, webhookSecret: 'test-secret-0123456789' });
  await app.ready();
  await app.cadences.seedDefaults([cadence]);
  auth = (await userWithToken(sql, tenantId, { userId: 'aon-admin', role: 'admin' })).headers;
});
afterAll(async () => {
  await app?.close();
  await t?.connection.close();
  await sql?.end();
  await temporal?.stop();
});

const enrollment = (number: string, customerId: string) => ({
  customer: { id: customerId, name: 'All Or Nothing AG', email: 'ap@aon.example', timeZone: 'Europe/Berlin', locale: 'de-DE' },
  invoice: { number, currency: 'EUR', amountMinor: 50_000, issueDate: '2026-01-01', dueDate: '2026-01-31' },
});
async function enroll(number: string, customerId = `CUST-${number}`) {
  const res = await app.inject({ method: 'POST', url: '/invoices', headers: auth, payload: enrollment(number, customerId) });
  return { status: res.statusCode, body: res.json() as any, retryAfter: res.headers['retry-after'] };
}
const stored = async (number: string) => ({
  invoices: (await sql`select stage from invoices where tenant_id = ${tenantId} and invoice_number = ${number}`).length,
  customers: (await sql`select 1 from customers where tenant_id = ${tenantId} and customer_id = ${`CUST-${number}`}`).length,
  audit: (await sql`select 1 from audit_events where tenant_id = ${tenantId} and invoice_number = ${number}`).length,
});

describe('POST /invoices: both or neither', () => {
  it('with Temporal down stores nothing and answers 503 with Retry-After at once; back up, the same enrollment goes through', async () => {
    expect((await enroll(`AON-UP-${randomUUID().slice(0, 6)}`)).status).toBe(201);

    await temporal!.stop();
    temporal = undefined;
    const number = `AON-DOWN-${randomUUID().slice(0, 6)}`;
    const began = Date.now();
    const down = await enroll(number);
    expect(Date.now() - began).toBeLessThan(10_000);
    expect(down).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'dependency_unavailable', dependency: 'temporal' } });
    expect(await stored(number)).toEqual({ invoices: 0, customers: 0, audit: 0 });

    temporal = await startTemporalDevServer({ port: temporalPort, namespace: 'default' });
    const again = await enroll(number);
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(await stored(number)).toEqual({ invoices: 1, customers: 1, audit: 1 });
    const description = await t.client.workflow.getHandle(invoiceWorkflowId(tenantId, number)).describe();
    expect([description.status.name, description.runId]).toEqual(['RUNNING', again.body.runId]);
    expect(await enroll(number)).toMatchObject({ status: 409, body: { error: 'already_enrolled' } });
  });

  it('completes an enrollment whose workflow started but whose row was lost: the retry stores the row for that workflow', async () => {
    const number = `AON-LOST-${randomUUID().slice(0, 6)}`;
    // What a commit lost after the start leaves behind: the workflow, no row.
    const handle = await t.client.workflow.start('invoiceDunning', {
      workflowId: invoiceWorkflowId(tenantId, number),
      taskQueue: `nobody-${tenantId}`,
      args: [{}],
      typedSearchAttributes: [{ key: customerIdKey, value: `CUST-${number}` }],
    });
    const res = await enroll(number);
    expect(res).toMatchObject({ status: 201, body: { workflowId: handle.workflowId, runId: handle.firstExecutionRunId } });
    expect(await stored(number)).toEqual({ invoices: 1, customers: 1, audit: 1 });

    // Another customer's workflow under that number is not adopted: 409, nothing stored.
    const other = `AON-OTHER-${randomUUID().slice(0, 6)}`;
    await t.client.workflow.start('invoiceDunning', { workflowId: invoiceWorkflowId(tenantId, other), taskQueue: `nobody-${tenantId}`, args: [{}], typedSearchAttributes: [{ key: customerIdKey, value: 'SOMEONE-ELSE' }] });
    expect(await enroll(other)).toMatchObject({ status: 409, body: { error: 'already_enrolled' } });
    expect(await stored(other)).toEqual({ invoices: 0, customers: 0, audit: 0 });
  });
});
