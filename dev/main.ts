import { mkdirSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { DateTime } from 'luxon';
import { parseEnv, ConfigError } from '../config/env';
import { startApi, startWorker, type AppEnv } from './app-processes';
import { startErpSimulator } from './erp-simulator';
import { startMailCatcher } from './mail-catcher';
import { startLocalPostgres } from './postgres';
import { freePort } from './process';
import { DEFAULT_DEMO_CSV, DEMO_ADMIN_TOKEN, DEMO_COLLECTORS, DEMO_USERS, demoToken, loadDemoPortfolio, seedDemo, seedDemoUsers } from './seed';
import { createSql } from '../db/sql';
import { migrate } from '../db/migrate';
import { startTemporalDevServer } from './temporal';

/**
 * The main job: the embedded defaults (PostgreSQL, Temporal dev server, a mail catcher, the ERP
 * simulator), each only when no external one is configured, then the API and the worker as their
 * own processes, and a seeded demo portfolio. Ctrl-C stops everything, in order.
 */
const DATA = path.resolve(__dirname, '..', '.data');

async function portOr(preferred: number): Promise<number> {
  const free = await new Promise<boolean>((resolve) => {
    const server = net.createServer().once('error', () => resolve(false));
    server.listen(preferred, '127.0.0.1', () => server.close(() => resolve(true)));
  });
  return free ? preferred : freePort();
}

async function main() {
  const given = process.env;
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nstopping…');
    for (const { name, stop } of stops.reverse()) {
      await stop().catch((err: Error) => console.error(`stopping ${name}: ${err.message}`));
    }
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));

  try {
    mkdirSync(DATA, { recursive: true });
    let databaseUrl = given.DATABASE_URL;
    if (!databaseUrl) {
      const pg = await startLocalPostgres({ dataDir: path.join(DATA, 'pg'), port: await portOr(55432), databases: ['dunning'], durable: true });
      stops.push({ name: 'PostgreSQL', stop: pg.stop });
      databaseUrl = pg.url('dunning');
    }
    let temporalAddress = given.TEMPORAL_ADDRESS;
    let temporalUi: string | undefined;
    if (!temporalAddress) {
      const temporal = await startTemporalDevServer({ port: await portOr(7233), uiPort: await portOr(8233), dbFile: path.join(DATA, 'temporal.db'), namespace: given.TEMPORAL_NAMESPACE ?? 'default' });
      stops.push({ name: 'Temporal', stop: temporal.stop });
      temporalAddress = temporal.address;
      temporalUi = temporal.uiUrl;
    }
    let smtpUrl = given.SMTP_URL;
    let mailUi: string | undefined;
    if (!smtpUrl) {
      const mail = await startMailCatcher({ smtpPort: await portOr(1025), httpPort: await portOr(8025) });
      stops.push({ name: 'mail catcher', stop: mail.close });
      smtpUrl = `smtp://127.0.0.1:${mail.smtpPort}`;
      mailUi = `${mail.httpUrl}/messages`;
    }
    const apiPort = given.API_PORT ?? String(await portOr(3000));
    const erpApiKey = given.ERP_API_KEY ?? 'dev-erp-key';
    const webhookSecret = given.ERP_WEBHOOK_SECRET ?? 'dev-erp-webhook-secret';
    let erpUrl = given.ERP_BASE_URL;
    const simulated = !erpUrl;
    if (!erpUrl) {
      const erp = await startErpSimulator({
        port: await portOr(4010),
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
        ERP_API_KEY: erpApiKey,
        ERP_WEBHOOK_SECRET: webhookSecret,
        API_PORT: apiPort,
        // A demo shows consolidated mail within seconds; production waits longer for other invoices (600 s).
        CONSOLIDATION_GATHER_SECONDS: given.CONSOLIDATION_GATHER_SECONDS ?? '15',
      }).map(([k, v]) => [k, String(v)]),
    );
    const { TENANT_ID: tenantId } = parseEnv(env); // one clear message now rather than two half-started processes
    const worker = startWorker(env);
    stops.push({ name: 'worker', stop: () => worker.stop('SIGTERM', 15_000) });
    const api = await startApi(env);
    stops.push({ name: 'API', stop: () => api.stop('SIGTERM', 10_000) });

    let seeded = 'skipped (DEMO_SEED=0 or an external ERP)';
    // The demo's users have public tokens: they exist only where the demo portfolio does.
    let users = [`  Users          none seeded: create them with  npm run users -- create <userId> --name "…" --role admin`];
    if (simulated && given.DEMO_SEED !== '0') {
      const sql = createSql(databaseUrl, { max: 1 });
      try {
        await migrate(sql); // the API migrated already; idempotent and locked
        const { warnings } = await seedDemoUsers(sql, tenantId);
        for (const w of warnings) console.warn(`demo users: ${w}`);
      } finally {
        await sql.end({ timeout: 5 });
      }
      users = [
        `  Demo users     (tenant ${tenantId}; fixed public tokens, for the demo only)`,
        ...DEMO_USERS.map((u) => `    ${u.userId.padEnd(6)} ${u.role.padEnd(11)} ${(u.team ?? '').padEnd(16)} ${demoToken(u)}`),
      ];
      const portfolio = loadDemoPortfolio(given.DEMO_CSV ?? DEFAULT_DEMO_CSV, DateTime.now().toISODate()!);
      const { enrolled, already } = await seedDemo(portfolio, { apiUrl: api.url, apiToken: DEMO_ADMIN_TOKEN, erpUrl, erpApiKey, collectors: DEMO_COLLECTORS });
      seeded = `${portfolio.invoices.length} invoices of ${portfolio.customers.length} customers (${enrolled} enrolled now, ${already} already enrolled)`;
    }
    console.log(
      [
        '',
        'Dunning orchestrator is running. Ctrl-C stops everything.',
        `  API            ${api.url}   (health: ${api.url}/health)`,
        `  OpenAPI docs   ${api.url}/docs   (spec: ${api.url}/openapi.json)`,
        `  Temporal UI    ${temporalUi ?? '(external Temporal at ' + temporalAddress + ')'}`,
        `  Caught mail    ${mailUi ?? '(external SMTP at ' + smtpUrl + ')'}`,
        `  ERP            ${erpUrl}${simulated ? ' (simulator)' : ''}`,
        `  Demo portfolio ${seeded}`,
        ...users,
        users.length > 1
          ? `  Try: curl -H "Authorization: Bearer ${demoToken(DEMO_USERS[0]!)}" ${api.url}/invoices   (anna's portfolio; the admin token sees all)`
          : `  Try: curl -H "Authorization: Bearer <token>" ${api.url}/invoices`,
        '',
      ].join('\n'),
    );
  } catch (err) {
    console.error(err instanceof ConfigError ? err.message : `start failed: ${(err as Error).message}`);
    await shutdown(1);
  }
}

void main();
