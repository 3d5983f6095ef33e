import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { startApi, startWorker, WORKER_READY, type AppEnv } from '../../dev/app-processes';
import { startErpSimulator } from '../../dev/erp-simulator';
import { startMailCatcher } from '../../dev/mail-catcher';
import { startLocalPostgres } from '../../dev/postgres';
import { freePort, waitForOutput } from '../../dev/process';
import { startTemporalDevServer } from '../../dev/temporal';
import { createSql } from '../../db/sql';
import { migrate } from '../../db/migrate';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { loadErpSyncConfig } from '../../config/erp-sync';
import { userWithToken } from '../support/auth';
import { check, onTeardown, table, timed, type Bench } from './harness';

/**
 * Issue 12: the ERP sync over a 10,000-invoice simulator (BENCH_SYNC_INVOICES changes the count; 300 customers), on
 * its own stack: PostgreSQL, the Temporal dev server (in memory), the API and worker processes, the simulator in
 * this process. `npm run bench -- erp-sync`.
 *
 *  - first sync: POST /erp-sync/trigger until every invoice is enrolled and planned (each invoice's mirror row has
 *    its next step): target under 5 minutes. The run's own end (all pages applied, all workflows started) is
 *    printed too.
 *  - re-sync with nothing changed: POST /erp-sync/trigger until the run completes: target under 30 s.
 *  - the floor, in the same run: the whole change feed paged through the HTTP adapter, nothing applied.
 * Every invoice is due within the enrollment window (1 to 7 days ahead) and the cadence's first step comes a day
 * after the due date: nothing is sent during the measurement. Fails when an invoice is not enrolled, twice, or
 * the run reports errors.
 */
const COUNT = Number(process.env.BENCH_SYNC_INVOICES ?? 10_000);
const CUSTOMERS = 300;
const COUNTRIES = ['DE', 'US', 'FR', 'GB', 'NL'];

export const bench: Bench = {
  timeoutMs: 20 * 60_000,
  async run() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-erp-sync-'));
    const stops: (() => Promise<void>)[] = [];
    onTeardown(async () => {
      for (const stop of stops.reverse()) await stop().catch((err: Error) => console.error(`stopping: ${err.message}`));
      rmSync(dir, { recursive: true, force: true });
    });
    const [pg, temporal] = await Promise.all([
      freePort().then((port) => startLocalPostgres({ dataDir: path.join(dir, 'pg'), port, databases: ['dunning_bench'], durable: false })),
      freePort().then((port) => startTemporalDevServer({ port, namespace: 'default' })),
    ]);
    stops.push(pg.stop, temporal.stop);
    const mail = await startMailCatcher();
    stops.push(mail.close);
    const apiPort = await freePort();
    const secrets = { apiKey: 'bench-erp-key', webhookSecret: 'bench-webhook-secret-0123456789' };
    const erp = await startErpSimulator({ apiKey: secrets.apiKey, webhookSecret: secrets.webhookSecret, webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/erp` });
    stops.push(erp.close);

    // The ledger, straight into the simulator's store: customers with e-mail, invoices due 1 to 7 days ahead.
    const today = DateTime.utc();
    for (let c = 0; c < CUSTOMERS; c++) {
      erp.store.upsertCustomer({ customerId: `BC-${c}`, name: `Bench Customer ${c}`, email: `ap${c}@bench.example`, country: COUNTRIES[c % COUNTRIES.length]!, category: c % 10 === 0 ? 'enterprise' : 'smb' });
    }
    for (let i = 0; i < COUNT; i++) {
      erp.store.addInvoice({
        invoiceNumber: `BS-${String(i).padStart(6, '0')}`,
        customerId: `BC-${i % CUSTOMERS}`,
        currency: i % 7 === 0 ? 'USD' : 'EUR',
        amountMinor: 10_000 + ((i * 7919) % 990_000),
        issueDate: today.minus({ days: 30 }).toISODate()!,
        dueDate: today.plus({ days: 1 + (i % 7) }).toISODate()!,
      });
    }

    mkdirSync(path.join(dir, 'cadences'));
    const env: AppEnv = {
      DATABASE_URL: pg.url('dunning_bench'),
      TEMPORAL_ADDRESS: temporal.address,
      TEMPORAL_TASK_QUEUE: 'bench-sync',
      TENANT_ID: 'bench',
      SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`,
      MAIL_FROM: 'Acme Receivables <ar@acme.example>',
      ERP_BASE_URL: erp.url,
      ERP_API_KEY: secrets.apiKey,
      ERP_WEBHOOK_SECRET: secrets.webhookSecret,
      API_HOST: '127.0.0.1',
      API_PORT: String(apiPort),
      CADENCE_FILE: path.resolve(__dirname, '../fixtures/cadence-fast.json'),
      CADENCE_DIR: path.join(dir, 'cadences'), // empty: CADENCE_FILE's is the tenant's only cadence
      LOG_LEVEL: 'warn',
      ERP_SYNC: 'on',
      ERP_SYNC_INTERVAL_MINUTES: '1440', // the bench triggers its runs
    };
    const quiet = !process.env.BENCH_VERBOSE;
    const api = await startApi(env, { quiet });
    stops.push(() => api.stop('SIGTERM', 10_000));
    const worker = startWorker(env, { quiet });
    stops.push(() => worker.stop('SIGTERM', 10_000));
    await waitForOutput(worker, WORKER_READY, 180_000);
    const sql = createSql(env.DATABASE_URL!, { max: 2 });
    stops.push(() => sql.end());
    await migrate(sql);
    const admin = await userWithToken(sql, 'bench', { userId: 'bench-admin', role: 'admin' });
    const call = async (method: string, url: string) => {
      const res = await fetch(`${api.url}${url}`, { method, headers: admin.headers });
      return { status: res.status, body: (await res.json()) as any };
    };
    const count = async (where: 'all' | 'planned') =>
      (where === 'all'
        ? await sql`select count(*)::int as n from invoices where tenant_id = 'bench'`
        : await sql`select count(*)::int as n from invoices where tenant_id = 'bench' and next_step_id is not null`)[0]!.n as number;
    const runOf = async (): Promise<any> => (await sql`select * from erp_sync_runs where tenant_id = 'bench' order by id desc limit 1`)[0];

    const until = async (what: string, fn: () => Promise<boolean>, limitMs: number) => {
      const t0 = Date.now();
      let said = t0;
      while (!(await fn())) {
        if (Date.now() - t0 > limitMs) throw new Error(`${what}: not after ${limitMs / 1000} s (last run: ${JSON.stringify(await runOf())})`);
        if (Date.now() - said > 15_000) {
          said = Date.now();
          const run = await runOf();
          console.log(`  ${what}: ${Math.round((said - t0) / 1000)} s, run ${run?.status ?? '-'} pages ${run?.pages ?? 0} enrolled ${run?.enrolled ?? 0}, invoices ${await count('all')}, planned ${await count('planned')}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    await until('the schedule', async () => (await call('GET', '/erp-sync')).status === 200, 60_000);

    // The floor: the feed alone, through the same adapter the worker uses.
    const adapter = createHttpErp({ baseUrl: erp.url, apiKey: secrets.apiKey });
    const [floorPages, floorMs] = await timed(async () => {
      let cursor: string | null = null;
      let pages = 0;
      for (;;) {
        const page = await adapter.listChanges({ cursor, limit: 250 });
        pages++;
        cursor = page.nextCursor;
        if (!page.hasMore) return pages;
      }
    });

    let runDoneMs = 0;
    const t0 = performance.now();
    check((await call('POST', '/erp-sync/trigger')).status === 202, 'trigger refused');
    await until(
      'the first run',
      async () => {
        const run = await runOf();
        if (run?.status === 'running' || !run) return false;
        runDoneMs = performance.now() - t0;
        return true;
      },
      10 * 60_000,
    );
    const first = await runOf();
    check(first.status === 'completed', `the first run ${first.status}: ${first.failure}`);
    check(first.errors === 0, `the first run recorded ${first.errors} errors`);
    check(first.enrolled === COUNT, `the first run enrolled ${first.enrolled}, not ${COUNT}`);
    await until('every invoice planned', async () => (await count('planned')) === COUNT, 10 * 60_000);
    const plannedMs = performance.now() - t0;
    check((await count('all')) === COUNT, 'not every invoice enrolled once');

    const t1 = performance.now();
    check((await call('POST', '/erp-sync/trigger')).status === 202, 'trigger refused');
    await until('the re-sync', async () => (await runOf()).id !== first.id && (await runOf()).status !== 'running', 5 * 60_000);
    const resyncMs = performance.now() - t1;
    const second = await runOf();
    check(second.status === 'completed' && second.enrolled === 0 && second.received === 0, `the re-sync changed something: ${JSON.stringify(second)}`);
    const twice = await sql`select invoice_number from audit_events where tenant_id = 'bench' and event_type = 'invoice_enrolled' group by invoice_number having count(*) > 1`;
    check(twice.length === 0, `${twice.length} invoices enrolled twice`);

    const s = (ms: number) => ms / 1000;
    table(`ERP sync, ${COUNT.toLocaleString('en-US')} open invoices of ${CUSTOMERS} customers from the simulator (${first.pages} pages of ${loadErpSyncConfig().pageSize} records, ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')})`, [
      ['', 'seconds', 'invoices/s', 'target'],
      ['floor: the change feed paged through the HTTP adapter, nothing applied', s(floorMs), (COUNT / floorMs) * 1000, `${floorPages} pages`],
      ['first sync: every page applied, every workflow started (the run)', s(runDoneMs), (COUNT / runDoneMs) * 1000, ''],
      ['first sync: every invoice enrolled and planned (mirror has its next step)', s(plannedMs), (COUNT / plannedMs) * 1000, '< 300 s'],
      ['re-sync, nothing changed', s(resyncMs), '', '< 30 s'],
    ]);
  },
};
