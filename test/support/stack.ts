import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import { startApi, startWorker, type AppEnv } from '../../dev/app-processes';
import { startErpSimulator } from '../../dev/erp-simulator';
import { startMailCatcher } from '../../dev/mail-catcher';
import { freePort } from '../../dev/process';
import { createSql } from '../../db/sql';
import { migrate } from '../../db/migrate';
import { userWithToken } from './auth';

/**
 * The product as a user runs it: API and worker as their own processes, against the real Temporal
 * dev server and PostgreSQL from globalSetup, a real SMTP peer and the ERP simulator.
 */
export async function startStack(opts: { cadenceFile: string; tenantId?: string; gatherSeconds?: number; erpSync?: boolean; erpKind?: 'ledger'; env?: AppEnv }) {
  const apiPort = await freePort();
  // The tenant's only cadence is the fixture: every invoice pins it.
  const cadenceDir = mkdtempSync(path.join(os.tmpdir(), 'e2e-cadences-'));
  copyFileSync(path.resolve(__dirname, '..', 'fixtures', opts.cadenceFile), path.join(cadenceDir, opts.cadenceFile));
  const tenantId = opts.tenantId ?? `t${randomUUID().slice(0, 8)}`;
  const secrets = { apiKey: 'e2e-erp-key', webhookSecret: 'e2e-webhook-secret-0123456789' };
  const mail = await startMailCatcher();
  const erp = await startErpSimulator({ apiKey: secrets.apiKey, webhookSecret: secrets.webhookSecret, webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/erp` });
  const env: AppEnv = {
    DATABASE_URL: inject('databaseUrl'),
    TEMPORAL_ADDRESS: inject('temporalAddress'),
    TEMPORAL_TASK_QUEUE: `e2e-${tenantId}`,
    TENANT_ID: tenantId,
    SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`,
    MAIL_FROM: 'Acme Receivables <ar@acme.example>',
    ERP_BASE_URL: erp.url,
    ERP_API_KEY: secrets.apiKey,
    ERP_WEBHOOK_SECRET: secrets.webhookSecret,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    CADENCE_FILE: path.resolve(__dirname, '..', 'fixtures', opts.cadenceFile),
    CADENCE_DIR: cadenceDir,
    CONSOLIDATION_GATHER_SECONDS: String(opts.gatherSeconds ?? 1),
    LOG_LEVEL: 'warn',
    // The ERP sync's schedule only where a test asks for it (it would enroll the simulator's invoices on its own),
    // and then daily: the test triggers its runs.
    ERP_SYNC: opts.erpSync ? 'on' : 'off',
    ERP_SYNC_INTERVAL_MINUTES: '1440',
    // Ledger mode (the imported ledger is the system of record) where a test asks for it; the simulator runs unused.
    ...(opts.erpKind ? { ERP_KIND: opts.erpKind } : {}),
    // Anything else a test sets (metrics ports, OTEL_* variables...), over the defaults above.
    ...opts.env,
  };
  const quiet = !process.env.E2E_VERBOSE;
  const api = await startApi(env, { quiet });
  let worker = startWorker(env, { quiet });
  const sql = createSql(inject('databaseUrl'), { max: 2 });
  // The API migrated on start; migrating again is a no-op that makes the users table certain.
  await migrate(sql);
  const admin = await userWithToken(sql, tenantId, { userId: 'e2e-admin', role: 'admin' });
  // createAndEnroll's collector: a portfolio is held by a collector who exists (issue 10 #11).
  await userWithToken(sql, tenantId, { userId: 'col-anna', role: 'collector' });

  /** Calls the API as the stack's admin, or with `token` as another user. */
  const call = async (method: string, url: string, body?: unknown, token: string = admin.token) => {
    const res = await fetch(`${api.url}${url}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any };
  };
  const erpCall = (url: string, body: unknown) =>
    fetch(`${erp.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets.apiKey}` }, body: JSON.stringify(body) });

  return {
    env,
    tenantId,
    mail,
    erp,
    sql,
    /** The admin every `api` call sends unless given another token. */
    admin,
    api: call,
    erpCall,
    get worker() {
      return worker;
    },
    /** SIGKILL: no graceful shutdown, in-flight work is lost as in a crashed host. */
    async killWorker() {
      await worker.stop('SIGKILL', 0);
    },
    restartWorker() {
      worker = startWorker(env, { quiet });
    },
    async stop() {
      await worker.stop('SIGTERM', 10_000);
      await api.stop('SIGTERM', 10_000);
      await sql.end();
      await erp.close();
      await mail.close();
      rmSync(cadenceDir, { recursive: true, force: true });
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** Creates the invoice in the ERP simulator and enrolls it through the API. */
export async function createAndEnroll(
  stack: Stack,
  invoice: { number: string; customerId: string; amountMinor: number; currency?: string; dueDate: string },
  customerEmail: string,
  customer: Record<string, unknown> = {},
) {
  const currency = invoice.currency ?? 'EUR';
  const erpRes = await stack.erpCall('/invoices', {
    invoiceNumber: invoice.number,
    customerId: invoice.customerId,
    currency,
    amountMinor: invoice.amountMinor,
    issueDate: '2026-01-01',
    dueDate: invoice.dueDate,
  });
  if (!erpRes.ok) throw new Error(`ERP refused the invoice: ${erpRes.status} ${await erpRes.text()}`);
  return stack.api('POST', '/invoices', {
    customer: { id: invoice.customerId, name: `Customer ${invoice.customerId}`, email: customerEmail, timeZone: 'Europe/Berlin', locale: 'de-DE', collectorId: 'col-anna', ...customer },
    invoice: { number: invoice.number, currency, amountMinor: invoice.amountMinor, issueDate: '2026-01-01', dueDate: invoice.dueDate },
  });
}
