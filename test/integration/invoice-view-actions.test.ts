import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCadence } from '../../config/load';
import { invoiceWorkflowId } from '../../domain/ids';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * GET /invoices/:n names the action of every step (issue 10 #15, the API's half): workflows recorded before
 * the step_superseded audit event carried `action` showed "action": "" for a superseded step; the view now
 * takes the action of that step id from the invoice's pinned cadence version.
 */
const tenantId = `view-${randomUUID().slice(0, 8)}`;
const INVOICE = 'INV-VIEW-1';
const standard = loadCadence('config/cadences/standard.json');
let t: TestApp;
let auth: { authorization: string };

beforeAll(async () => {
  t = await startTestApp(tenantId);
  auth = (await userWithToken(t.sql, tenantId, { userId: 'view-admin', role: 'admin' })).headers;
  const workflowId = invoiceWorkflowId(tenantId, INVOICE);
  await t.sql`
    insert into customers (tenant_id, customer_id, name, email, time_zone, locale, segment)
    values (${tenantId}, 'CUST-VIEW', 'View GmbH', 'ap@view.example', 'Europe/Berlin', 'de-DE', 'standard')`;
  await t.sql`
    insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                          workflow_id, cadence_id, cadence_version)
    values (${tenantId}, ${INVOICE}, 'CUST-VIEW', 'EUR', 50000, 50000, '2026-01-01', '2026-01-31', ${workflowId}, ${standard.id}, ${standard.version})`;
  const events = [
    // Recorded by an older workflow: no action in the details.
    ['step_superseded', { stepId: 'reminder-1', scheduledAt: '2026-02-02T08:30:00.000Z' }],
    ['step_done', { stepId: 'reminder-2', action: 'email', outcome: 'sent' }],
    // Today's workflow names it.
    ['step_superseded', { stepId: 'reminder-3', action: 'email', scheduledAt: '2026-02-20T08:30:00.000Z' }],
    // A step id the pinned version does not know (a migrated cadence): nothing to fall back on.
    ['step_superseded', { stepId: 'gone-step', scheduledAt: '2026-02-21T08:30:00.000Z' }],
  ] as const;
  for (const [i, [type, details]] of events.entries()) {
    await t.sql`
      insert into audit_events (event_key, tenant_id, actor, invoice_number, workflow_id, event_type, details)
      values (${`${workflowId}:test:${i}`}, ${tenantId}, 'workflow', ${INVOICE}, ${workflowId}, ${type}, ${t.sql.json(details as never)})`;
  }
});
afterAll(async () => {
  await t?.close();
});

describe('GET /invoices/:invoiceNumber steps', () => {
  it("shows a superseded step's action from the pinned cadence version when its audit event has none", async () => {
    const res = await t.app.inject({ method: 'GET', url: `/invoices/${INVOICE}`, headers: auth });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().steps.map((s: { stepId: string; action: string; outcome: string }) => [s.stepId, s.action, s.outcome])).toEqual([
      ['reminder-1', 'email', 'superseded'],
      ['reminder-2', 'email', 'sent'],
      ['reminder-3', 'email', 'superseded'],
      ['gone-step', 'unknown', 'superseded'],
    ]);
  });
});
