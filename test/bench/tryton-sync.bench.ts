import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApi, startWorker, WORKER_READY, type AppEnv } from '../../dev/app-processes';
import { startMailCatcher } from '../../dev/mail-catcher';
import { startLocalPostgres } from '../../dev/postgres';
import { freePort, waitForOutput } from '../../dev/process';
import { startTemporalDevServer } from '../../dev/temporal';
import { startTryton, trytonInstalled, trytonTempDir, type TrytonServer } from '../../dev/tryton';
import { migrate } from '../../db/migrate';
import { createSql } from '../../db/sql';
import { createTrytonErp } from '../../integrations/erp/tryton-erp';
import { TrytonRpc } from '../../integrations/erp/tryton-rpc';
import { userWithToken } from '../support/auth';
import { check, onTeardown, table, timed, type Bench } from './harness';

/**
 * The Tryton adapter's change feed over a 10,000-invoice Tryton (BENCH_TRYTON_INVOICES changes the count): every
 * page from a null cursor to the end, at two page sizes, in invoices per second; beside it the floor, the same
 * paging through Tryton's JSON-RPC asking only for ids (what Tryton itself costs before the adapter reads amounts,
 * maturities, payment lines and customers); and one invoice's balance. Then the ERP sync into dunning from that
 * Tryton, on a stack of its own (PostgreSQL, Temporal dev server, API and worker processes with ERP_KIND=tryton):
 * the first sync until every invoice is enrolled and planned, and a re-sync with nothing changed (BENCH_TRYTON_SYNC=0
 * leaves it out). The 10,000 invoices (due 1 to 7 days ahead: enrolled, nothing sent) are posted in one Python
 * process through trytond's pool (dev/tryton/seed.py bulk): minutes the first time each day, then copied from
 * .tools/tryton-db/.
 */
const COUNT = Number(process.env.BENCH_TRYTON_INVOICES ?? 10_000);
const BALANCES = 100;

export const bench: Bench = {
  timeoutMs: 45 * 60_000,
  async run() {
    check(trytonInstalled(), 'Tryton is not installed: run WITH_TRYTON=1 scripts/setup');
    const today = new Date().toISOString().slice(0, 10);
    const start = new Date(Date.parse(`${today}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
    const dir = trytonTempDir('bench');
    onTeardown(async () => rmSync(dir, { recursive: true, force: true }));
    const [server, startMs] = await timed(async () => startTryton({ dir, port: await freePort(), today, seed: { bulk: { count: COUNT, startDate: start } } }));
    onTeardown(() => server.stop());
    const options = { url: server.url, database: server.database, user: server.user, password: server.password };
    const erp = createTrytonErp(options);

    const rows: (string | number)[][] = [['', 'pages', 'invoices', 'seconds', 'invoices/s']];
    rows.push([`Tryton created and seeded (or copied), started`, '', COUNT, startMs / 1000, '']);

    // The floor: Tryton's own search_read paging by id, ids only.
    const rpc = new TrytonRpc(options);
    const [company] = (await rpc.call('model.company.company.search_read', [[], 0, 1, null, [], {}])) as { id: number }[];
    const context = { company: company!.id };
    const [floor, floorMs] = await timed(async () => {
      let last = 0;
      let seen = 0;
      let pages = 0;
      for (;;) {
        const page = (await rpc.call('model.account.invoice.search_read', [[['type', '=', 'out'], ['id', '>', last]], 0, 500, [['id', 'ASC']], [], context])) as { id: number }[];
        pages++;
        seen += page.length;
        if (page.length < 500) return { seen, pages };
        last = page[page.length - 1]!.id;
      }
    });
    check(floor.seen === COUNT, `the floor saw ${floor.seen} invoices, not ${COUNT}`);
    rows.push(['floor: search_read of ids, 500 a page', floor.pages, floor.seen, floorMs / 1000, (floor.seen / floorMs) * 1000]);

    for (const limit of [100, 500]) {
      const [result, ms] = await timed(async () => {
        let cursor: string | null = null;
        const numbers = new Set<string>();
        let pages = 0;
        let customers = 0;
        for (;;) {
          const page = await erp.listChanges({ cursor, limit });
          pages++;
          customers += page.customers.length;
          for (const r of page.receivables) numbers.add(r.invoiceNumber);
          cursor = page.nextCursor;
          if (!page.hasMore) return { pages, seen: numbers.size, customers };
        }
      });
      check(result.seen === COUNT, `listChanges(limit ${limit}) gave ${result.seen} distinct invoices, not ${COUNT}`);
      check(result.customers > 0, 'listChanges gave no customers');
      rows.push([`listChanges, ${limit} a page (receivables + customers)`, result.pages, result.seen, ms / 1000, (result.seen / ms) * 1000]);
    }

    const [, balanceMs] = await timed(async () => {
      for (let i = 0; i < BALANCES; i++) {
        const balance = await erp.getInvoiceBalance(`B${String((i * 97) % COUNT).padStart(7, '0')}`);
        check(balance.status === 'open' && balance.openAmountMinor > 0, `invoice ${balance.invoiceNumber} is ${balance.status}`);
      }
    });
    rows.push([`getInvoiceBalance, one after another`, '', BALANCES, balanceMs / 1000, (BALANCES / balanceMs) * 1000]);

    table(`tryton-sync: the Tryton adapter over ${COUNT.toLocaleString('en-US')} posted customer invoices (trytond 8.2, SQLite, one server process)`, rows);
    if (process.env.BENCH_TRYTON_SYNC !== '0') await syncIntoDunning(server);
  },
};

/** The ERP sync (workflows/erp-sync.ts, triggered through the API) from this Tryton into a fresh dunning stack. */
async function syncIntoDunning(tryton: TrytonServer) {
  const dir = trytonTempDir('bench-stack');
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
  mkdirSync(path.join(dir, 'cadences'));
  const env: AppEnv = {
    DATABASE_URL: pg.url('dunning_bench'),
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench-tryton-sync',
    TENANT_ID: 'bench',
    SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`,
    MAIL_FROM: 'Acme Receivables <ar@acme.example>',
    ERP_KIND: 'tryton',
    TRYTON_URL: tryton.url,
    TRYTON_DB: tryton.database,
    TRYTON_USER: tryton.user,
    TRYTON_PASSWORD: tryton.password,
    API_HOST: '127.0.0.1',
    API_PORT: String(await freePort()),
    CADENCE_FILE: path.resolve(__dirname, '../fixtures/cadence-fast.json'),
    CADENCE_DIR: path.join(dir, 'cadences'),
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
  const call = async (method: string, url: string) => (await fetch(`${api.url}${url}`, { method, headers: admin.headers })).status;
  const until = async (what: string, fn: () => Promise<boolean>, limitMs: number) => {
    const t0 = Date.now();
    while (!(await fn())) {
      if (Date.now() - t0 > limitMs) throw new Error(`${what}: not after ${limitMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  await until('the schedule', async () => (await call('GET', '/erp-sync')) === 200, 60_000);
  const planned = async () => (await sql`select count(*)::int as n from invoices where tenant_id = 'bench' and next_step_id is not null`)[0]!.n as number;
  const lastRun = async () => (await sql`select * from erp_sync_runs where tenant_id = 'bench' order by id desc limit 1`)[0];

  let runMs = 0;
  const t0 = performance.now();
  check((await call('POST', '/erp-sync/trigger')) === 202, 'trigger refused');
  await until(
    'the first run',
    async () => {
      const run = await lastRun();
      if (!run || run.status === 'running') return false;
      runMs = performance.now() - t0;
      return true;
    },
    20 * 60_000,
  );
  const first = await lastRun();
  check(first!.status === 'completed' && first!.errors === 0, `the first run ${first!.status} with ${first!.errors} errors: ${first!.failure}`);
  check(first!.enrolled === COUNT, `the first run enrolled ${first!.enrolled}, not ${COUNT}`);
  await until('every invoice planned', async () => (await planned()) === COUNT, 20 * 60_000);
  const plannedMs = performance.now() - t0;

  const t1 = performance.now();
  check((await call('POST', '/erp-sync/trigger')) === 202, 'trigger refused');
  await until('the re-sync', async () => (await lastRun())!.id !== first!.id && (await lastRun())!.status !== 'running', 10 * 60_000);
  const resyncMs = performance.now() - t1;
  const second = await lastRun();
  check(second!.status === 'completed' && second!.enrolled === 0 && second!.received === 0, `the re-sync changed something: ${JSON.stringify(second)}`);

  table(`tryton-sync: the ERP sync into dunning from Tryton, ${COUNT.toLocaleString('en-US')} open invoices (${first!.pages} pages, ${os.cpus().length} cores)`, [
    ['', 'seconds', 'invoices/s', 'target (simulator)'],
    ['first sync: every page applied, every workflow started (the run)', runMs / 1000, (COUNT / runMs) * 1000, ''],
    ['first sync: every invoice enrolled and planned', plannedMs / 1000, (COUNT / plannedMs) * 1000, '< 300 s'],
    ['re-sync, nothing changed', resyncMs / 1000, '', '< 30 s'],
  ]);
}
