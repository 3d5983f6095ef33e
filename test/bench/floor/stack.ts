import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { startApi, startWorker, WORKER_READY, type AppEnv } from '../../../dev/app-processes';
import { startErpSimulator } from '../../../dev/erp-simulator';
import { startMailCatcher } from '../../../dev/mail-catcher';
import { startLocalPostgres } from '../../../dev/postgres';
import { freePort, startService, waitForOutput, type Service } from '../../../dev/process';
import { startTemporalDevServer } from '../../../dev/temporal';
import { createSql } from '../../../db/sql';
import { migrate } from '../../../db/migrate';
import { userWithToken } from '../../support/auth';
import { onTeardown } from '../harness';

/**
 * Everything the dev-server benchmark runs against, started from the bench process in a throw-away
 * folder: a PostgreSQL cluster (not durable, as in the tests), the Temporal dev server in memory (no
 * --db-filename), the SMTP peer (dev/mail-catcher.ts) and the ERP simulator in this process, the
 * project's API and worker as their own processes (dev/app-processes.ts), and the floor's worker as
 * a process of its own. Stopped in order by the harness's teardown, also when the start fails midway.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const quiet = !process.env.BENCH_VERBOSE;
export const FLOOR_TASK_QUEUE = 'bench-floor';
export const COLLECTOR = 'col-bench';

/** The project's cadence for the bench: K steps `spacingSeconds` apart, the first due at enrollment, no send window, no cap. */
function benchCadence(steps: number, spacingSeconds: number) {
  const emails = ['reminder-friendly', 'reminder-firm', 'reminder-final'];
  return {
    id: 'bench-floor',
    version: 1,
    name: `Bench: ${steps} steps ${spacingSeconds} s apart, no send window, no cap`,
    sendAt: '09:30',
    steps: Array.from({ length: steps }, (_, i) => ({
      id: i === steps - 1 ? 'call-1' : `reminder-${i + 1}`,
      anchor: i === 0 ? 'due_date' : 'previous_step',
      offset: i === 0 ? { amount: 1, unit: 'days' } : { amount: spacingSeconds, unit: 'seconds' },
      action: i === steps - 1 ? { type: 'call_task', note: 'Call the AP contact.' } : { type: 'email', template: emails[Math.min(i, emails.length - 1)] },
    })),
  };
}

/** What a worker reported failing (the SDK logs each failed activity attempt, which Temporal then retries). */
export interface Failures {
  activity: number;
  workflowTask: number;
  first?: string;
}

/** The last lines a quiet process printed, to show when the bench fails; and the failures it reported. */
function keepTail(service: Service, lines: string[], failures?: Failures) {
  const keep = (chunk: Buffer) => {
    const fresh = chunk.toString().split('\n').filter(Boolean);
    if (failures)
      for (const line of fresh) {
        const activity = line.includes('Activity failed');
        const workflowTask = /workflow task failed|failed to activate|WorkflowTaskFailed/i.test(line);
        if (activity) failures.activity++;
        if (workflowTask) failures.workflowTask++;
        if ((activity || workflowTask) && !failures.first) failures.first = line.slice(0, 400);
      }
    lines.push(...fresh.map((l) => `[${service.name}] ${l}`));
    lines.splice(0, Math.max(0, lines.length - 40));
  };
  service.child.stdout?.on('data', keep);
  service.child.stderr?.on('data', keep);
}

export async function startBenchStack(opts: { steps: number; spacingSeconds: number }) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-dev-server-'));
  const stops: { name: string; stop: () => Promise<void> }[] = [];
  onTeardown(async () => {
    for (const { name, stop } of stops.reverse()) await stop().catch((err: Error) => console.error(`stopping ${name}: ${err.message}`));
    rmSync(dir, { recursive: true, force: true });
  });
  const tails: Record<string, string[]> = { api: [], worker: [], floor: [] };
  const failures: Record<'project' | 'floor', Failures> = { project: { activity: 0, workflowTask: 0 }, floor: { activity: 0, workflowTask: 0 } };

  const [pg, temporal] = await Promise.all([
    freePort().then((port) => startLocalPostgres({ dataDir: path.join(dir, 'pg'), port, databases: ['dunning_bench'], durable: false })),
    freePort().then((port) => startTemporalDevServer({ port, namespace: 'default' })), // no dbFile: in memory
  ]);
  stops.push({ name: 'PostgreSQL', stop: pg.stop }, { name: 'Temporal', stop: temporal.stop });
  // The postmaster's pid, for PostgreSQL's CPU (it and its backends); unknown when the cluster had to live elsewhere.
  const pidFile = path.join(dir, 'pg', 'postmaster.pid');
  const postmasterPid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8').split('\n')[0]) : undefined;

  const mail = await startMailCatcher();
  stops.push({ name: 'mail catcher', stop: mail.close });
  const apiPort = await freePort();
  const secrets = { apiKey: 'bench-erp-key', webhookSecret: 'bench-webhook-secret-0123456789' };
  const erp = await startErpSimulator({ apiKey: secrets.apiKey, webhookSecret: secrets.webhookSecret, webhookUrl: `http://127.0.0.1:${apiPort}/webhooks/erp` });
  stops.push({ name: 'ERP simulator', stop: erp.close });

  const cadenceDir = path.join(dir, 'cadences');
  mkdirSync(cadenceDir);
  const cadenceFile = path.join(cadenceDir, 'bench-floor.json');
  writeFileSync(cadenceFile, JSON.stringify(benchCadence(opts.steps, opts.spacingSeconds), null, 2));
  const tenantId = 'bench';
  const databaseUrl = pg.url('dunning_bench');
  const env: AppEnv = {
    DATABASE_URL: databaseUrl,
    TEMPORAL_ADDRESS: temporal.address,
    TEMPORAL_TASK_QUEUE: 'bench-project',
    TENANT_ID: tenantId,
    SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`,
    MAIL_FROM: 'Acme Receivables <ar@acme.example>',
    ERP_BASE_URL: erp.url,
    ERP_API_KEY: secrets.apiKey,
    ERP_WEBHOOK_SECRET: secrets.webhookSecret,
    API_HOST: '127.0.0.1',
    API_PORT: String(apiPort),
    CADENCE_FILE: cadenceFile,
    CADENCE_DIR: cadenceDir,
    // Consolidation on, without its gathering wait: every step goes through the customer's contact workflow.
    CONSOLIDATION_GATHER_SECONDS: '0',
    LOG_LEVEL: 'warn',
  };

  // The API and the project's worker run with these variables over `env` (restartApp changes them: the telemetry bench).
  let extraEnv: AppEnv = {};
  let api = await startApi(env, { quiet });
  keepTail(api, tails.api!);
  stops.push({ name: 'API', stop: () => api.stop('SIGTERM', 10_000) });

  const startProjectWorker = async () => {
    const service = startWorker({ ...env, ...extraEnv }, { quiet });
    keepTail(service, tails.worker!, failures.project);
    await waitForOutput(service, WORKER_READY, 180_000);
    return service;
  };
  const floorEnv = { ...process.env, TEMPORAL_ADDRESS: temporal.address, FLOOR_TASK_QUEUE, SMTP_URL: env.SMTP_URL, ERP_BASE_URL: erp.url, ERP_API_KEY: secrets.apiKey };
  const startFloorWorker = async () => {
    const service = startService('floor-worker', process.execPath, ['--import', 'tsx', path.join(__dirname, 'worker.ts')], { env: floorEnv, cwd: ROOT, quiet });
    keepTail(service, tails.floor!, failures.floor);
    await waitForOutput(service, /floor worker polling/, 180_000);
    return service;
  };
  const workers = { project: undefined as Service | undefined, floor: undefined as Service | undefined };
  // Registered before they start, so that a worker that fails to start is stopped too.
  stops.push({ name: 'workers', stop: async () => void (await Promise.all([workers.project?.stop('SIGTERM', 15_000), workers.floor?.stop('SIGTERM', 15_000)])) });
  const spawnProject = startProjectWorker().then((s) => (workers.project = s));
  const spawnFloor = startFloorWorker().then((s) => (workers.floor = s));
  await Promise.all([spawnProject, spawnFloor]);

  const sql = createSql(databaseUrl, { max: 4 });
  stops.push({ name: 'bench SQL', stop: () => sql.end({ timeout: 5 }) });
  await migrate(sql); // the API migrated on start: a no-op that makes the users table certain
  const admin = await userWithToken(sql, tenantId, { userId: 'bench-admin', role: 'admin' });
  await userWithToken(sql, tenantId, { userId: COLLECTOR, role: 'collector' }); // a portfolio's holder exists

  const connection = await Connection.connect({ address: temporal.address });
  stops.push({ name: 'Temporal client', stop: () => connection.close() });
  const client = new Client({ connection });

  const erpPost = async (url: string, body: unknown) => {
    const res = await fetch(`${erp.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${secrets.apiKey}` }, body: JSON.stringify(body) });
    if (res.status !== 201) throw new Error(`ERP ${url}: ${res.status} ${await res.text()}`);
  };
  const apiPost = async (url: string, body: unknown) => {
    const res = await fetch(`${api.url}${url}`, { method: 'POST', headers: { authorization: `Bearer ${admin.token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
  };

  return {
    tenantId,
    sql,
    client,
    get apiUrl() {
      return api.url;
    },
    mail,
    erpPost,
    apiPost,
    pids: {
      temporal: temporal.pid,
      get api() {
        return api.child.pid!;
      },
      postgres: postmasterPid,
      get project() {
        return workers.project!.child.pid!;
      },
      get floor() {
        return workers.floor!.child.pid!;
      },
    },
    /** A fresh worker process (its cache empty), after the old one stopped. */
    async restart(which: 'project' | 'floor') {
      await workers[which]?.stop('SIGTERM', 15_000);
      workers[which] = undefined;
      workers[which] = which === 'project' ? await startProjectWorker() : await startFloorWorker();
    },
    /** The API and the project's worker restarted with `more` variables over the stack's own (none: as started). */
    async restartApp(more: AppEnv) {
      extraEnv = more;
      await workers.project?.stop('SIGTERM', 15_000);
      workers.project = undefined;
      await api.stop('SIGTERM', 10_000);
      api = await startApi({ ...env, ...extraEnv }, { quiet });
      keepTail(api, tails.api!);
      workers.project = await startProjectWorker();
    },
    /** Failed activity attempts and workflow tasks each worker reported so far. */
    failures,
    /** The last lines of the quiet processes, to print when the bench fails. */
    tails: () => Object.values(tails).flat(),
  };
}

export type BenchStack = Awaited<ReturnType<typeof startBenchStack>>;
