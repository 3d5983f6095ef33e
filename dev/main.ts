import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { parseEnv, ConfigError } from '../config/env';
import { apiReady, apiUrl, spawnApi, startWorker, WORKER_READY, type AppEnv } from './app-processes';
import { startErpSimulator } from './erp-simulator';
import { startMailCatcher } from './mail-catcher';
import { startLocalPostgres } from './postgres';
import { outputSettled, waitForOutput } from './process';
import { supervise } from './supervisor';
import { BusyPortsError, choosePorts, PORT_MODES, portWarning, type PortMode, type WantedPort } from './ports';
import { DEFAULT_DEMO_CSV, DEMO_ADMIN_TOKEN, DEMO_COLLECTORS, DEMO_USERS, demoPassword, demoToken, loadDemoPortfolio, seedDemo, seedDemoUsers } from './seed';
import { createSql } from '../db/sql';
import { migrate } from '../db/migrate';
import { startTemporalDevServer } from './temporal';
import { demoTrytonSeed, startTryton } from './tryton';
import { seedLedgerDemo } from './ledger-demo';

/**
 * The main job: the embedded defaults (PostgreSQL, Temporal dev server, a mail catcher, the ERP
 * simulator), each only when no external one is configured, then the API and the worker as their
 * own processes, and a seeded demo portfolio. Ctrl-C stops everything, in order.
 */
const USAGE = `usage: scripts/start [--any-ports | --free-ports]
  (no option)    the default ports (API 3000, ERP simulator 4010, mail 1025/8025, Temporal 7233/8233,
                 PostgreSQL 55432), which every README and docs command uses; refuses to start when one
                 is busy, naming the process that holds it
  --any-ports    the default ports where free, free ones elsewhere (or DEV_PORTS=any); the banner says which
  --free-ports   free ports for everything (or DEV_PORTS=free)
environment: DEV_DATA_DIR  where the state persists (default .data/ of the checkout); DEMO_SEED, DEMO_CSV, and
             DATABASE_URL, TEMPORAL_ADDRESS, SMTP_URL, ERP_BASE_URL for external services (see README.md)`;

function options(argv: string[], env: NodeJS.ProcessEnv): { mode: PortMode; dataDir: string } {
  let mode = (env.DEV_PORTS || 'default') as PortMode;
  if (!PORT_MODES.includes(mode)) throw new UsageError(`DEV_PORTS must be one of ${PORT_MODES.join(', ')}, not "${env.DEV_PORTS}"`);
  for (const arg of argv) {
    if (arg === '--any-ports') mode = 'any';
    else if (arg === '--free-ports') mode = 'free';
    else if (arg === '-h' || arg === '--help') throw new UsageError('');
    else throw new UsageError(`unknown option ${arg}`);
  }
  return { mode, dataDir: path.resolve(env.DEV_DATA_DIR || path.join(__dirname, '..', '.data')) };
}

class UsageError extends Error {}

async function main() {
  const given = process.env;
  let mode: PortMode;
  let DATA: string;
  try {
    ({ mode, dataDir: DATA } = options(process.argv.slice(2), given));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(`${err.message ? `${err.message}\n` : ''}${USAGE}`);
    process.exit(err.message ? 2 : 0);
  }
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    if (stops.length) console.log('\nstopping…');
    for (const { name, stop } of stops.reverse()) {
      await stop().catch((err: Error) => console.error(`stopping ${name}: ${err.message}`));
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    // Every port is settled before anything starts: a refusal leaves nothing behind.
    const wanted: WantedPort[] = [];
    if (!given.DATABASE_URL) wanted.push({ name: 'PostgreSQL', port: 55432 });
    if (!given.TEMPORAL_ADDRESS) wanted.push({ name: 'Temporal', port: 7233 }, { name: 'Temporal UI', port: 8233 });
    if (!given.SMTP_URL) wanted.push({ name: 'mail catcher SMTP', port: 1025 }, { name: 'mail catcher HTTP', port: 8025 });
    // ERP_KIND=tryton: a real Tryton (dev/tryton.ts) instead of the simulator, unless TRYTON_URL names one.
    const tryton = given.ERP_KIND === 'tryton';
    // ERP_KIND=ledger: no ERP at all; the imported ledger in PostgreSQL is the system of record.
    const ledger = given.ERP_KIND === 'ledger';
    if (!given.ERP_BASE_URL && !tryton && !ledger) wanted.push({ name: 'ERP simulator', port: 4010 });
    if (tryton && !given.TRYTON_URL) wanted.push({ name: 'Tryton', port: 8000 });
    const explicitApiPort = given.API_PORT && /^\d+$/.test(given.API_PORT) ? Number(given.API_PORT) : undefined;
    if (explicitApiPort !== undefined) wanted.push({ name: 'API', port: explicitApiPort, explicit: true });
    else if (!given.API_PORT) wanted.push({ name: 'API', port: 3000 });
    // The worker's product metrics and the Temporal SDK's, each on a port of its own (the API serves GET /metrics itself).
    const givenPort = (name: 'WORKER_METRICS_PORT' | 'TEMPORAL_METRICS_PORT') => (given[name] && /^\d+$/.test(given[name]) ? Number(given[name]) : undefined);
    const explicitMetricsPorts = { worker: givenPort('WORKER_METRICS_PORT'), temporal: givenPort('TEMPORAL_METRICS_PORT') };
    if (explicitMetricsPorts.worker === undefined) wanted.push({ name: 'worker metrics', port: 9464 });
    else if (explicitMetricsPorts.worker > 0) wanted.push({ name: 'worker metrics', port: explicitMetricsPorts.worker, explicit: true });
    if (explicitMetricsPorts.temporal === undefined) wanted.push({ name: 'Temporal SDK metrics', port: 9465 });
    else if (explicitMetricsPorts.temporal > 0) wanted.push({ name: 'Temporal SDK metrics', port: explicitMetricsPorts.temporal, explicit: true });
    const choices = await choosePorts(wanted, mode);
    const portOf = (name: string) => choices.find((c) => c.name === name)!.chosen;

    mkdirSync(DATA, { recursive: true });
    let databaseUrl = given.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startLocalPostgres({ dataDir: path.join(DATA, 'pg'), port: portOf('PostgreSQL'), databases: ['dunning'], durable: true });
      stops.push({ name: 'PostgreSQL', stop: pg.stop });
      databaseUrl = pg.url('dunning');
    }
    let temporalAddress = given.TEMPORAL_ADDRESS;
    let temporalUi: string | undefined;
    if (!temporalAddress) {
      const temporal = await startTemporalDevServer({ port: portOf('Temporal'), uiPort: portOf('Temporal UI'), dbFile: path.join(DATA, 'temporal.db'), namespace: given.TEMPORAL_NAMESPACE ?? 'default' });
      stops.push({ name: 'Temporal', stop: temporal.stop });
      temporalAddress = temporal.address;
      temporalUi = temporal.uiUrl;
    }
    let smtpUrl = given.SMTP_URL;
    let mailUi: string | undefined;
    if (!smtpUrl) {
      const mail = await startMailCatcher({ smtpPort: portOf('mail catcher SMTP'), httpPort: portOf('mail catcher HTTP') });
      stops.push({ name: 'mail catcher', stop: mail.close });
      smtpUrl = `smtp://127.0.0.1:${mail.smtpPort}`;
      mailUi = `${mail.httpUrl}/messages`;
    }
    const apiPort = given.API_PORT || String(portOf('API'));
    const erpApiKey = given.ERP_API_KEY ?? 'dev-erp-key';
    const webhookSecret = given.ERP_WEBHOOK_SECRET ?? 'dev-erp-webhook-secret';
    let erpUrl = given.ERP_BASE_URL;
    const simulated = !erpUrl && !tryton && !ledger;
    let trytonUrl = given.TRYTON_URL;
    const trytonEmbedded = tryton && !trytonUrl;
    if (trytonEmbedded) {
      // Created and seeded with the demo portfolio on the first start (kept in the state folder after that); the
      // ERP sync's schedule brings the portfolio in: nothing is enrolled through the API here.
      const seed = given.DEMO_SEED === '0' ? undefined : demoTrytonSeed(loadDemoPortfolio(given.DEMO_CSV ?? DEFAULT_DEMO_CSV, DateTime.now().toISODate()!));
      const server = await startTryton({ dir: path.join(DATA, 'tryton'), port: portOf('Tryton'), database: given.TRYTON_DB ?? 'dunning', today: DateTime.now().toISODate()!, seed });
      stops.push({ name: 'Tryton', stop: server.stop });
      trytonUrl = server.url;
    }
    if (simulated) {
      const erp = await startErpSimulator({
        port: portOf('ERP simulator'),
        apiKey: erpApiKey,
        webhookSecret,
        webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/erp`,
        // Beside the project's own state: a restart shows the ERP as it was, written-off invoices included.
        stateFile: path.join(DATA, 'erp-simulator.json'),
      });
      stops.push({ name: 'ERP simulator', stop: erp.close });
      erpUrl = erp.url;
    }

    const env: AppEnv = Object.fromEntries(
      Object.entries({
        ...Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined)),
        DATABASE_URL: databaseUrl,
        TEMPORAL_ADDRESS: temporalAddress,
        SMTP_URL: smtpUrl,
        ERP_BASE_URL: erpUrl,
        TRYTON_URL: trytonUrl,
        ERP_API_KEY: erpApiKey,
        ERP_WEBHOOK_SECRET: webhookSecret,
        API_PORT: apiPort,
        // The web console links each invoice to its workflow in the Temporal UI started here.
        TEMPORAL_UI_URL: given.TEMPORAL_UI_URL ?? temporalUi,
        // 0 (given so) serves nothing; otherwise the port chosen above.
        WORKER_METRICS_PORT: explicitMetricsPorts.worker === 0 ? '0' : String(portOf('worker metrics')),
        TEMPORAL_METRICS_PORT: explicitMetricsPorts.temporal === 0 ? '0' : String(portOf('Temporal SDK metrics')),
        // A demo shows consolidated mail within seconds; production waits longer for other invoices (600 s).
        CONSOLIDATION_GATHER_SECONDS: given.CONSOLIDATION_GATHER_SECONDS ?? '15',
      })
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => [k, String(v)]),
    );
    const { TENANT_ID: tenantId } = parseEnv(env); // one clear message now rather than two half-started processes
    // The API and the worker are restarted when they die (with backoff); after 5 failures within 60 s
    // of either, the supervisor gives up and everything stops, with a non-zero exit.
    const onGiveUp = (message: string) => {
      console.error(`${message}: stopping everything. The lines above from the process say why it failed.`);
      void shutdown(1);
    };
    const worker = supervise('worker', () => startWorker(env), { ready: (svc) => waitForOutput(svc, WORKER_READY, 180_000), onGiveUp });
    worker.firstReady.catch(() => undefined); // awaited below, after the API and the seed
    stops.push({ name: 'worker', stop: () => worker.stop('SIGTERM', 15_000) });
    const apiProcess = supervise('API', () => spawnApi(env), { ready: (svc) => apiReady(svc, env), onGiveUp });
    stops.push({ name: 'API', stop: () => apiProcess.stop('SIGTERM', 10_000) });
    await apiProcess.firstReady;
    const api = { url: apiUrl(env) };
    const metricsHost = env.METRICS_HOST ?? '127.0.0.1';
    const metricsUrl = (port: string | undefined) => (port && port !== '0' ? `http://${metricsHost}:${port}/metrics` : 'not served (port 0)');

    let seeded = 'skipped (DEMO_SEED=0 or an external ERP)';
    // The demo's users have public tokens: they exist only where the demo portfolio does.
    let users = [`  Users          none seeded: create them with  npm run users -- create <userId> --name "…" --role admin`];
    if ((simulated || trytonEmbedded || ledger) && given.DEMO_SEED !== '0') {
      const portfolio = loadDemoPortfolio(given.DEMO_CSV ?? DEFAULT_DEMO_CSV, DateTime.now().toISODate()!);
      // Two connections: an import writes its per-row report beside its transaction.
      const sql = createSql(databaseUrl, { max: 2 });
      try {
        await migrate(sql); // the API migrated already; idempotent and locked
        const { warnings } = await seedDemoUsers(sql, tenantId);
        for (const w of warnings) console.warn(`demo users: ${w}`);
        if (ledger) {
          const { created } = await seedLedgerDemo(sql, tenantId, portfolio, DATA);
          seeded = `${portfolio.invoices.length} invoices of ${portfolio.customers.length} customers imported into the ledger (${created} new); the ERP sync enrolls them`;
        }
      } finally {
        await sql.end({ timeout: 5 });
      }
      users = [
        `  Demo users     (tenant ${tenantId}; fixed public console passwords and API tokens, for the demo only)`,
        `    ${'user'.padEnd(6)} ${'role'.padEnd(11)} ${'team'.padEnd(16)} ${'console password'.padEnd(18)} API token`,
        ...DEMO_USERS.map((u) => `    ${u.userId.padEnd(6)} ${u.role.padEnd(11)} ${(u.team ?? '').padEnd(16)} ${demoPassword(u).padEnd(18)} ${demoToken(u)}`),
      ];
      if (ledger) {
        // imported above
      } else if (trytonEmbedded) {
        seeded = `${portfolio.invoices.length} invoices of ${portfolio.customers.length} customers in Tryton; the ERP sync enrolls them`;
      } else {
        const { enrolled, already } = await seedDemo(portfolio, { apiUrl: api.url, apiToken: DEMO_ADMIN_TOKEN, erpUrl: erpUrl!, erpApiKey, collectors: DEMO_COLLECTORS });
        seeded = `${portfolio.invoices.length} invoices of ${portfolio.customers.length} customers (${enrolled} enrolled now, ${already} already enrolled)`;
      }
    }
    if ((ledger || trytonEmbedded) && given.DEMO_SEED !== '0') {
      // The demo's portfolio comes in by the ERP sync alone: its first run now, not at the schedule's next interval.
      const triggered = await fetch(`${api.url}/erp-sync/trigger`, { method: 'POST', headers: { authorization: `Bearer ${DEMO_ADMIN_TOKEN}` } }).catch((err: Error) => err);
      if (triggered instanceof Error || !triggered.ok) console.warn(`the first ERP sync was not triggered (${triggered instanceof Error ? triggered.message : `HTTP ${triggered.status}`}); it runs at the schedule's interval`);
    }
    // The banner comes last, once the worker polls and the start-up and seeding lines are out, so it stays on screen.
    await worker.firstReady;
    await outputSettled();
    console.log(
      [
        '',
        'Dunning orchestrator is running. Ctrl-C stops everything.',
        `  Web console    ${api.url}/app   (sign in as a demo user below: anna collects, lena leads the team, mark manages)`,
        `  API            ${api.url}   (health: ${api.url}/health)`,
        `  OpenAPI docs   ${api.url}/docs   (spec: ${api.url}/openapi.json)`,
        `  Metrics        API ${api.url}/metrics   worker ${metricsUrl(env.WORKER_METRICS_PORT)}   Temporal SDK ${metricsUrl(env.TEMPORAL_METRICS_PORT)}`,
        `  Temporal       ${temporalUi ? `${temporalAddress}   (UI: ${temporalUi})` : `(external Temporal at ${temporalAddress})`}`,
        `  Caught mail    ${mailUi ?? '(external SMTP at ' + smtpUrl + ')'}`,
        tryton
          ? `  ERP            Tryton at ${trytonUrl}/${given.TRYTON_DB ?? 'dunning'}/rpc/ (JSON-RPC${trytonEmbedded ? ', user admin, password admin' : ''})`
          : ledger
            ? `  ERP            none: the imported ledger in PostgreSQL is the system of record (ERP_KIND=ledger; npm run import -- <file>)`
            : `  ERP            ${erpUrl}${simulated ? ` (simulator, API key ${erpApiKey})` : ''}`,
        ...(given.DATABASE_URL ? [] : [`  PostgreSQL     ${databaseUrl}`]),
        `  State          ${DATA}`,
        `  Demo portfolio ${seeded}`,
        ...users,
        users.length > 1
          ? `  Try: curl -H "Authorization: Bearer ${demoToken(DEMO_USERS[0]!)}" ${api.url}/invoices   (anna's portfolio; the admin token sees all)`
          : `  Try: curl -H "Authorization: Bearer <token>" ${api.url}/invoices`,
        ...portWarning(choices, mode),
        '',
      ].join('\n'),
    );
  } catch (err) {
    console.error(err instanceof ConfigError || err instanceof BusyPortsError ? err.message : `start failed: ${(err as Error).message}`);
    await shutdown(1);
  }
}

void main();
