import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { Registry } from 'prom-client';
import { buildApp } from '../../api/app';
import { loadCadence, loadEmailTemplates } from '../../config/load';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { readDunningState } from '../../db/metrics';
import { createApiMetrics, STEP_OVERDUE_GRACE_SECONDS } from '../../telemetry/metrics';
import { parsePrometheusText, sampleSum, sampleValue } from '../support/prometheus-text';
import { userWithToken } from '../support/auth';

/**
 * GET /metrics of the API in-process (buildApp + inject) over the real PostgreSQL and Temporal dev server: the
 * dunning's state gauges read exactly what the seeded rows say, and every request is counted by its route
 * pattern and status, refused ones included.
 */
const tenantId = `mx-${randomUUID().slice(0, 8)}`;
let sql: Sql;
let connection: Connection;
let app: Awaited<ReturnType<typeof buildApp>>;
const metrics = createApiMetrics(new Registry());

async function seed() {
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale) values (${tenantId}, 'C1', 'Kunde', 'ap@kunde.example', 'Europe/Berlin', 'de-DE')`;
  const invoice = (n: string, stage: string, nextStepAt: string | null, pausedUntil: string | null = null) =>
    sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                              workflow_id, cadence_id, cadence_version, stage, next_step_id, next_step_at, paused_until)
        values (${tenantId}, ${n}, 'C1', 'EUR', 10000, 10000, '2026-01-01', '2026-01-31', ${`${tenantId}:${n}`}, 'standard', 1, ${stage},
                ${nextStepAt ? 'reminder-1' : null}, ${nextStepAt}, ${pausedUntil})`;
  const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
  const grace = STEP_OVERDUE_GRACE_SECONDS;
  await invoice('I-1', 'active', ago(grace + 3600)); // overdue by an hour past the grace: the oldest
  await invoice('I-2', 'active', ago(grace + 60)); // overdue
  await invoice('I-3', 'active', ago(grace - 120)); // late, within the grace: not overdue
  await invoice('I-4', 'active', new Date(Date.now() + 86_400_000).toISOString()); // tomorrow
  await invoice('I-5', 'needs_attention', ago(grace + 7200)); // waits for a person: needs attention, not overdue
  await invoice('I-6', 'paused', ago(grace + 7200), new Date(Date.now() + 86_400_000).toISOString()); // paused beyond now
  await invoice('I-7', 'paid', ago(grace + 9000)); // closed
  await invoice('I-8', 'disputed', null);
  const dispute = (id: string, team: string, status: string, deadlineAt: string) =>
    sql`insert into disputes (tenant_id, dispute_id, invoice_number, customer_id, workflow_id, disputed_amount_minor, currency, reason_code,
                              source, opened_by, owner_team, deadline_date, deadline_at, status)
        values (${tenantId}, ${id}, 'I-8', 'C1', ${`dispute:${id}`}, 5000, 'EUR', 'pricing', 'api', 'anna', ${team}, '2026-02-01', ${deadlineAt}, ${status})`;
  await dispute('D-1', 'pricing', 'open', ago(3600)); // overdue
  await dispute('D-2', 'pricing', 'escalated', new Date(Date.now() + 86_400_000).toISOString()); // open, in time
  await dispute('D-3', 'logistics', 'open', new Date(Date.now() + 86_400_000).toISOString());
  await dispute('D-4', 'logistics', 'resolved_valid', ago(86_400)); // closed: neither
  const approval = (id: string, action: string, status: string, escalated: boolean) =>
    sql`insert into approval_requests (tenant_id, request_id, invoice_number, customer_id, workflow_id, action, amount_minor, currency,
                                       amount_reporting_minor, reason, source, requested_by, required_role, status, escalated_at)
        values (${tenantId}, ${id}, 'I-1', 'C1', ${`approval:${id}`}, ${action}, 1000, 'EUR', 1000, 'test', 'api', 'anna', 'team_lead', ${status},
                ${escalated ? ago(60) : null})`;
  await approval('A-1', 'write_off', 'pending', true);
  await approval('A-2', 'write_off', 'pending', false);
  await approval('A-3', 'credit_hold', 'pending', false);
  await approval('A-4', 'write_off', 'approved', false);
  const promise = (id: string, invoiceNumber: string, status: string) =>
    sql`insert into promises (tenant_id, promise_id, invoice_number, customer_id, amount_minor, currency, promised_date, made_by, recorded_by, status)
        values (${tenantId}, ${id}, ${invoiceNumber}, 'C1', 1000, 'EUR', '2026-02-10', 'customer', 'anna', ${status})`;
  await promise('P-1', 'I-1', 'broken');
  await promise('P-2', 'I-2', 'kept');
  await promise('P-2', 'I-3', 'kept'); // one promise over two invoices: a row each
  await promise('P-3', 'I-4', 'open');
  await sql`insert into outbound_messages (idempotency_key, tenant_id, invoice_number, invoice_numbers, channel, recipient, subject, status, message_id)
            values (${`${tenantId}:m1`}, ${tenantId}, 'I-1', ${['I-1']}, 'email', 'ap@kunde.example', 's', 'uncertain', '<m1@x>'),
                   (${`${tenantId}:m2`}, ${tenantId}, 'I-2', ${['I-2']}, 'email', 'ap@kunde.example', 's', 'sent', '<m2@x>')`;
  // The ERP sync of connection "main": a completed run 10 minutes ago, then a failed one; its newest change 2 hours old.
  await sql`insert into erp_sync_runs (tenant_id, connection, run_key, workflow_id, started_at, finished_at, status)
            values (${tenantId}, 'main', ${`${tenantId}:r1`}, 'sync', ${ago(660)}, ${ago(600)}, 'completed'),
                   (${tenantId}, 'main', ${`${tenantId}:r2`}, 'sync', ${ago(70)}, ${ago(60)}, 'failed')`;
  await sql`insert into ledger_invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, status, issue_date, due_date, source, erp_id, erp_changed_at)
            values (${tenantId}, 'L-1', 'C1', 'EUR', 100, 100, 'open', '2026-01-01', '2026-01-31', 'erp', 'e1', ${ago(7200)}),
                   (${tenantId}, 'L-2', 'C1', 'EUR', 100, 100, 'open', '2026-01-01', '2026-01-31', 'erp', 'e2', ${ago(86_400)})`;
}

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  connection = await Connection.connect({ address: inject('temporalAddress') });
  const cadence = loadCadence('config/cadences/standard.json');
  app = await buildApp({
    sql,
    temporal: new Client({ connection }),
    tenantId,
    taskQueue: `test-${tenantId}`,
    templates: loadEmailTemplates(),
    defaultCadenceId: cadence.id,
    webhookSecret: 'test-secret-0123456789',
    metrics,
  });
  await app.ready();
  await seed();
});
afterAll(async () => {
  await app?.close();
  await connection?.close();
  await sql?.end();
});

const scrape = async () => {
  const res = await app.inject({ method: 'GET', url: '/metrics' });
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toBe(metrics.registry.contentType);
  return parsePrometheusText(res.body);
};

describe('GET /metrics of the API', () => {
  it('reads the dunning state: each gauge what the rows say', async () => {
    const m = await scrape();
    const g = (name: string, labels: Record<string, string> = {}) => sampleValue(m, name, labels);
    expect(g('dunning_invoices', { stage: 'active' })).toBe(4);
    expect(g('dunning_invoices', { stage: 'needs_attention' })).toBe(1);
    expect(g('dunning_invoices', { stage: 'paused' })).toBe(1);
    expect(g('dunning_invoices', { stage: 'paid' })).toBe(1);
    expect(g('dunning_invoices', { stage: 'disputed' })).toBe(1);
    expect(g('dunning_invoices', { stage: 'written_off' })).toBe(0); // every stage has a series, 0 when empty
    expect(g('dunning_invoices_needing_attention')).toBe(1);
    expect(g('dunning_steps_overdue')).toBe(2);
    const oldest = g('dunning_oldest_overdue_step_seconds');
    expect(oldest).toBeGreaterThanOrEqual(STEP_OVERDUE_GRACE_SECONDS + 3600);
    expect(oldest).toBeLessThan(STEP_OVERDUE_GRACE_SECONDS + 3600 + 120);
    expect(g('dunning_disputes_open', { owner_team: 'pricing' })).toBe(2);
    expect(g('dunning_disputes_open', { owner_team: 'logistics' })).toBe(1);
    expect(g('dunning_disputes_overdue', { owner_team: 'pricing' })).toBe(1);
    expect(g('dunning_disputes_overdue', { owner_team: 'logistics' })).toBe(0);
    expect(g('dunning_approvals_pending', { kind: 'write_off' })).toBe(2);
    expect(g('dunning_approvals_pending', { kind: 'credit_hold' })).toBe(1);
    expect(g('dunning_approvals_pending', { kind: 'settlement' })).toBe(0);
    expect(g('dunning_approvals_escalated')).toBe(1);
    expect(g('dunning_promises_total', { outcome: 'made' })).toBe(4);
    expect(g('dunning_promises_total', { outcome: 'kept' })).toBe(2);
    expect(g('dunning_promises_total', { outcome: 'broken' })).toBe(1);
    expect(g('dunning_messages_uncertain')).toBe(1);
    const lag = g('dunning_erp_sync_lag_seconds', { connection: 'main' });
    expect(lag).toBeGreaterThanOrEqual(7200);
    expect(lag).toBeLessThan(7200 + 120);
    const since = g('dunning_erp_sync_since_success_seconds', { connection: 'main' });
    expect(since).toBeGreaterThanOrEqual(600);
    expect(since).toBeLessThan(600 + 120);
    expect(g('dunning_erp_sync_last_run_failed', { connection: 'main' })).toBe(1);
    expect(g('dunning_state_read_seconds')).toBeGreaterThan(0);
    expect(sampleSum(m, 'dunning_state_read_errors_total')).toBe(0);
    // The dependencies, checked as GET /health/ready does (no ERP adapter here: none reported).
    expect(g('dunning_dependency_up', { dependency: 'postgresql' })).toBe(1);
    expect(g('dunning_dependency_up', { dependency: 'temporal' })).toBe(1);
    expect(sampleSum(m, 'dunning_dependency_up', { dependency: 'erp' })).toBe(0);
    expect(g('dunning_dependency_check_seconds', { dependency: 'postgresql' })).toBeGreaterThanOrEqual(0);
    // The process's own metrics are there too.
    expect(m.get('process_cpu_user_seconds_total')?.type).toBe('counter');
    expect(m.get('nodejs_eventloop_lag_seconds')?.type).toBe('gauge');
  });

  it('holds the state read a few seconds, then reads it again; a new run of the sync that completes clears last_run_failed', async () => {
    await sql`insert into erp_sync_runs (tenant_id, connection, run_key, workflow_id, started_at, finished_at, status)
              values (${tenantId}, 'main', ${`${tenantId}:r3`}, 'sync', now(), now(), 'completed')`;
    // Within the 5 s the read is held: still the failed run.
    expect(sampleValue(await scrape(), 'dunning_erp_sync_last_run_failed', { connection: 'main' })).toBe(1);
    await new Promise((r) => setTimeout(r, 5_100));
    const m = await scrape();
    expect(sampleValue(m, 'dunning_erp_sync_last_run_failed', { connection: 'main' })).toBe(0);
    expect(sampleValue(m, 'dunning_erp_sync_since_success_seconds', { connection: 'main' })).toBeLessThan(30);
    // And the same as the repository reads it.
    const state = await readDunningState(sql, tenantId);
    expect(state.erpSync).toEqual([{ connection: 'main', lagSeconds: expect.any(Number), sinceLastSuccessSeconds: expect.any(Number), lastRunFailed: false }]);
  });

  it('counts every request by method, route pattern and status: refused ones too, unmatched URLs under one label', async () => {
    const before = await scrape();
    const count = (m: typeof before, labels: Record<string, string>) => sampleSum(m, 'dunning_http_requests_total', labels);
    const { headers } = await userWithToken(sql, tenantId, { userId: 'mx-admin', role: 'admin' });
    expect((await app.inject({ method: 'GET', url: '/invoices/I-1' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/invoices/I-1', headers })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/no/such/path/1', headers })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/no/such/path/2', headers })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/no/such/path/3' })).statusCode).toBe(401);
    const big = await app.inject({ method: 'POST', url: '/webhooks/erp', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ x: 'a'.repeat(2 * 1024 * 1024) }) });
    expect(big.statusCode).toBe(413);
    expect((await app.inject({ method: 'GET', url: '/health/live' })).statusCode).toBe(200);
    const after = await scrape();
    const moved = (labels: Record<string, string>) => count(after, labels) - count(before, labels);
    expect(moved({ method: 'GET', route: '/invoices/:invoiceNumber', status_code: '401' })).toBe(1);
    expect(moved({ method: 'GET', route: '/invoices/:invoiceNumber', status_code: '200' })).toBe(1);
    expect(moved({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(2);
    expect(moved({ method: 'GET', route: 'unmatched', status_code: '401' })).toBe(1);
    expect(moved({ method: 'POST', route: '/webhooks/erp', status_code: '413' })).toBe(1);
    expect(moved({ method: 'GET', route: '/health/live', status_code: '200' })).toBe(1);
    // The scrape before this one is counted too (its answer left before this scrape ran).
    expect(moved({ method: 'GET', route: '/metrics', status_code: '200' })).toBe(1);
    // No raw URL ever becomes a label.
    const routes = new Set(after.get('dunning_http_requests_total')!.samples.map((s) => s.labels.route));
    expect([...routes].some((r) => r?.includes('/no/such'))).toBe(false);
    // A histogram by the same labels: cumulative buckets up to +Inf equal to its _count.
    const labels = { method: 'GET', route: 'unmatched', status_code: '404' };
    expect(sampleValue(after, 'dunning_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' })).toBe(sampleValue(after, 'dunning_http_request_duration_seconds_count', labels));
    expect(after.get('dunning_http_request_duration_seconds')!.type).toBe('histogram');
    // Only the scrape itself is in flight while it is answered.
    expect(sampleValue(after, 'dunning_http_requests_in_flight')).toBe(1);
  });

  it('is public and absent from the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).not.toContain('/metrics');
    expect(Object.keys(doc.paths)).toContain('/health/ready');
  });
});
