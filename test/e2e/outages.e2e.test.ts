import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi, startWorker, type AppEnv } from '../../dev/app-processes';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';
import { startMailCatcher, type MailCatcher } from '../../dev/mail-catcher';
import { startLocalPostgres, type LocalPostgres } from '../../dev/postgres';
import { freePort, type Service } from '../../dev/process';
import { startTemporalDevServer } from '../../dev/temporal';
import { createSql, type Sql } from '../../db/sql';
import { migrate } from '../../db/migrate';
import { userWithToken } from '../support/auth';

/**
 * The API under outages (issue 10 #14), each dependency taken down for real: a PostgreSQL, a Temporal dev
 * server and an ERP simulator of this test's own (so that no other test is disturbed), the API and the worker
 * as their own processes. Before: with Temporal down writes answered 500 after ~20 s, updates hung at the
 * client while the worker was down, and with PostgreSQL down even /health answered 500.
 */
const tenantId = `outage-${randomUUID().slice(0, 6)}`;
const erpKey = 'outage-erp-key';
const webhookSecret = 'outage-webhook-secret-0123456789';
let dir: string;
let pg: LocalPostgres | undefined;
let pgPort: number;
let temporal: Awaited<ReturnType<typeof startTemporalDevServer>> | undefined;
let temporalPort: number;
let erp: ErpSimulator | undefined;
let erpPort: number;
let mail: MailCatcher;
let api: Service & { url: string };
let worker: Service | undefined;
let env: AppEnv;
let sql: Sql;
let token = '';

const startPg = () => startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, databases: ['outage'], durable: false });
const startTemporal = () => startTemporalDevServer({ port: temporalPort, namespace: 'default', dbFile: path.join(dir, 'temporal.db') });
const startErp = () => startErpSimulator({ port: erpPort, apiKey: erpKey, webhookSecret, stateFile: path.join(dir, 'erp.json') });

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'outages-'));
  // The tenant's only cadence is the fixture (as startStack does it).
  const cadenceDir = path.join(dir, 'cadences');
  mkdirSync(cadenceDir);
  copyFileSync(path.resolve(__dirname, '..', 'fixtures', 'cadence-fast.json'), path.join(cadenceDir, 'cadence-fast.json'));
  [pgPort, temporalPort, erpPort] = [await freePort(), await freePort(), await freePort()];
  [pg, temporal, erp, mail] = await Promise.all([startPg(), startTemporal(), startErp(), startMailCatcher()]);
  const cadenceFile = path.resolve(__dirname, '..', 'fixtures', 'cadence-fast.json');
  env = {
    DATABASE_URL: pg.url('outage'),
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: `outage-${tenantId}`,
    TENANT_ID: tenantId,
    SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`,
    ERP_BASE_URL: erp.url,
    ERP_API_KEY: erpKey,
    ERP_WEBHOOK_SECRET: webhookSecret,
    API_HOST: '127.0.0.1',
    API_PORT: String(await freePort()),
    CADENCE_FILE: cadenceFile,
    CADENCE_DIR: cadenceDir,
    CONSOLIDATION_GATHER_SECONDS: '1',
    LOG_LEVEL: 'warn',
  };
  sql = createSql(env.DATABASE_URL!, { max: 2 });
  await migrate(sql);
  token = (await userWithToken(sql, tenantId, { userId: 'outage-admin', role: 'admin' })).token;
  const quiet = !process.env.E2E_VERBOSE;
  api = await startApi(env, { quiet });
  worker = startWorker(env, { quiet });
}, 180_000);

afterAll(async () => {
  await worker?.stop('SIGTERM', 10_000);
  await api?.stop('SIGTERM', 10_000);
  await sql?.end({ timeout: 1 });
  await erp?.close();
  await mail?.close();
  if (temporal) {
    process.kill(temporal.pid, 'SIGCONT');
    await temporal.stop();
  }
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function call(method: string, url: string, body?: unknown) {
  const began = Date.now();
  const res = await fetch(`${api.url}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as any, retryAfter: res.headers.get('retry-after'), ms: Date.now() - began };
}
const ready = () => call('GET', '/health/ready');
const okChecks = (checks: Record<string, { ok: boolean }>) => Object.fromEntries(Object.entries(checks).map(([k, v]) => [k, v.ok]));

async function enroll(number: string) {
  const erpRes = await fetch(`${erp!.url}/invoices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${erpKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ invoiceNumber: number, customerId: 'CUST-OUT', currency: 'EUR', amountMinor: 25_000, issueDate: '2026-01-01', dueDate: '2026-12-31' }),
  });
  expect(erpRes.ok).toBe(true);
  return call('POST', '/invoices', {
    customer: { id: 'CUST-OUT', name: 'Outage GmbH', email: 'ap@outage.example', timeZone: 'Europe/Berlin', locale: 'de-DE' },
    invoice: { number, currency: 'EUR', amountMinor: 25_000, issueDate: '2026-01-01', dueDate: '2026-12-31' },
  });
}
async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('the API under outages', () => {
  it('is live and ready with every dependency up, each with its latency', async () => {
    expect(await call('GET', '/health/live')).toMatchObject({ status: 200, body: { ok: true } });
    const res = await ready();
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.ready).toBe(true);
    expect(okChecks(res.body.checks)).toEqual({ postgresql: true, temporal: true, erp: true });
    for (const check of Object.values(res.body.checks) as { latencyMs: number }[]) expect(check.latencyMs).toBeGreaterThanOrEqual(0);
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { ok: true } });
  });

  it('with the ERP down: not ready (erp), enrollment 503 with Retry-After; back up, ready', async () => {
    await erp!.close();
    erp = undefined;
    const res = await ready();
    expect([res.status, res.retryAfter, okChecks(res.body.checks)]).toEqual([503, '5', { postgresql: true, temporal: true, erp: false }]);
    const enrolled = await call('POST', '/invoices', {
      customer: { id: 'CUST-OUT', name: 'Outage GmbH', email: 'ap@outage.example', timeZone: 'Europe/Berlin', locale: 'de-DE' },
      invoice: { number: 'OUT-ERP', currency: 'EUR', amountMinor: 25_000, issueDate: '2026-01-01', dueDate: '2026-12-31' },
    });
    expect(enrolled).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'dependency_unavailable', dependency: 'erp' } });
    erp = await startErp();
    expect((await ready()).status).toBe(200);
  });

  it('with the worker down: an update is answered 202 with its id after 10 s, looked up pending, and applied when the worker is back', async () => {
    expect((await enroll('OUT-W1')).status).toBe(201);
    expect((await enroll('OUT-W2')).status).toBe(201);
    await worker!.stop('SIGKILL', 0);
    worker = undefined;
    // A pause (the collectors' updates) and a dispute (the dispute and approval service's) at the same time.
    const [paused, disputed] = await Promise.all([
      call('POST', '/invoices/OUT-W1/pause', { reason: 'customer on holiday' }),
      call('POST', '/disputes', { invoiceNumber: 'OUT-W2', reasonCode: 'pricing', note: 'price list of last year' }),
    ]);
    expect(disputed.status, JSON.stringify(disputed.body)).toBe(202);
    expect(disputed.body).toMatchObject({ status: 'pending', workflowId: `invoice-dunning:${tenantId}:OUT-W2`, lookup: expect.stringMatching(/^\/invoices\/OUT-W2\/updates\//) });
    expect(paused.status, JSON.stringify(paused.body)).toBe(202);
    expect(paused.ms).toBeLessThan(20_000);
    expect(paused.body).toMatchObject({ status: 'pending', workflowId: `invoice-dunning:${tenantId}:OUT-W1`, lookup: `/invoices/OUT-W1/updates/${paused.body.updateId}` });
    expect(await call('GET', paused.body.lookup)).toMatchObject({ status: 200, body: { status: 'pending', stage: 'admitted' } });
    expect((await call('GET', '/invoices/OUT-W1/updates/no-such-update')).status).toBe(404);

    worker = startWorker(env, { quiet: !process.env.E2E_VERBOSE });
    const done = await until('the pause applied', async () => {
      const res = await call('GET', paused.body.lookup);
      return res.body.status === 'completed' ? res.body : undefined;
    });
    expect(done.result).toMatchObject({ stage: 'paused', changed: true });
    const opened = await until('the dispute opened', async () => {
      const res = await call('GET', disputed.body.lookup);
      return res.body.status === 'completed' ? res.body : undefined;
    });
    expect(opened.result).toMatchObject({ disputeId: expect.any(String), stage: 'disputed' });
    await until('the mirror shows it', async () => ((await call('GET', '/invoices/OUT-W1')).body.stage === 'paused' ? true : undefined));
  }, 120_000);

  it('with Temporal hung (SIGSTOP): not ready (temporal), an update 504 update_timeout; resumed, ready', async () => {
    process.kill(temporal!.pid, 'SIGSTOP');
    try {
      const res = await ready();
      expect([res.status, okChecks(res.body.checks)]).toEqual([503, { postgresql: true, temporal: false, erp: true }]);
      const resumed = await call('POST', '/invoices/OUT-W1/resume', { note: 'back' });
      expect(resumed).toMatchObject({ status: 504, body: { error: 'update_timeout' } });
      expect(resumed.ms).toBeLessThan(20_000);
    } finally {
      process.kill(temporal!.pid, 'SIGCONT');
    }
    await until('Temporal ready again', async () => ((await ready()).status === 200 ? true : undefined));
  }, 120_000);

  it('with Temporal down: not ready (temporal), writes 503 with Retry-After at once; back up, ready', async () => {
    await temporal!.stop();
    temporal = undefined;
    const res = await ready();
    expect([res.status, okChecks(res.body.checks)]).toEqual([503, { postgresql: true, temporal: false, erp: true }]);
    const paused = await call('POST', '/invoices/OUT-W1/pause', { reason: 'again' });
    expect(paused).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'dependency_unavailable', dependency: 'temporal' } });
    expect(paused.ms).toBeLessThan(10_000);
    const enrolled = await enroll('OUT-T1');
    expect(enrolled).toMatchObject({ status: 503, body: { error: 'dependency_unavailable', dependency: 'temporal' } });
    expect(enrolled.ms).toBeLessThan(10_000);
    expect(await sql`select 1 from invoices where tenant_id = ${tenantId} and invoice_number = 'OUT-T1'`).toHaveLength(0);
    expect((await call('GET', '/health/live')).status).toBe(200);
    temporal = await startTemporal();
    await until('Temporal ready again', async () => ((await ready()).status === 200 ? true : undefined));
    expect((await enroll('OUT-T1')).status).toBe(201);
  }, 120_000);

  it('with PostgreSQL down: /health and every authenticated route 503 (not 500), not ready (postgresql), still live; back up, ready', async () => {
    await pg!.stop();
    pg = undefined;
    expect(await call('GET', '/health')).toMatchObject({ status: 503, retryAfter: '5', body: { error: 'dependency_unavailable', dependency: 'postgresql' } });
    const res = await ready();
    expect([res.status, okChecks(res.body.checks)]).toEqual([503, { postgresql: false, temporal: true, erp: true }]);
    expect(await call('GET', '/invoices')).toMatchObject({ status: 503, body: { error: 'dependency_unavailable', dependency: 'postgresql' } });
    expect(await call('POST', '/invoices/OUT-W1/resume', { note: 'x' })).toMatchObject({ status: 503, body: { dependency: 'postgresql' } });
    expect((await call('GET', '/health/live')).status).toBe(200);
    pg = await startPg();
    await until('PostgreSQL ready again', async () => ((await ready()).status === 200 ? true : undefined));
    expect((await call('GET', '/invoices/OUT-W1')).status).toBe(200);
  }, 120_000);
});
