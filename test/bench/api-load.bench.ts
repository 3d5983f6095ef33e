import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import { issueToken } from '../../api/auth';
import { startApi } from '../../dev/app-processes';
import { startErpSimulator } from '../../dev/erp-simulator';
import { startLocalPostgres } from '../../dev/postgres';
import { freePort } from '../../dev/process';
import { startTemporalDevServer } from '../../dev/temporal';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { check, fmt, onTeardown, table, timed, type Bench } from './harness';

/**
 * The API at portfolio scale, through the real path: the API process (tsx, as `npm start` runs it) on a
 * throw-away PostgreSQL holding 50,000 invoices of 5,000 customers, 100,000 open and 50,000 done call
 * tasks (10 collectors, 10,000 open tasks each), promises and call history; the Temporal dev server
 * (in memory: enrollment starts a workflow; no worker runs, the API answers once the workflow is
 * started) and the ERP simulator (enrollment asks it whether it knows the invoice).
 *
 * Each route is driven open-loop at a fixed 200 requests/s, one request every 5 ms (up to 100 connections
 * kept alive, so that a slow answer never holds the next request back), for DURATION_S seconds, three
 * times; a request's latency counts from the moment it was due to be sent (a client that falls behind
 * counts against the API, not in its favour). p50/p99 latency and the achieved rate are printed beside
 * the targets, with the API process's CPU per request. Any answer that is not 2xx fails the benchmark.
 *
 * Not autocannon: its overallRate lets each connection send its share of a second at once when the
 * second starts (all 200 requests in a burst, then nothing), so p99 measured how long a burst of 200
 * takes to drain; and its correction for coordinated omission, with an expected interval of
 * ceil(1 / rate) = 1 ms, recorded a 60 ms answer as 60 samples from 60 ms down to 1 ms.
 *
 * BENCH_API_DURATION=5 shortens each run (seconds), BENCH_API_ROUTES=worklist,invoices picks scenarios.
 */
const TENANT = 'bench';
const RATE = 200;
const DURATION_S = Number(process.env.BENCH_API_DURATION ?? 10);
const REPEATS = 3;
const CONNECTIONS = 100;
const COLLECTORS = 10;
const CUSTOMERS = 5_000;
const INVOICES = 50_000;
const OPEN_TASKS_PER_INVOICE = 2;

const ZONES = ['Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney', 'UTC'];
const collectorId = (i: number) => `c${String(i).padStart(2, '0')}`;

/** Everything in SQL (generate_series): about 10 s for the whole portfolio. */
export async function seed(sql: Sql) {
  const zones = sql.array(ZONES);
  await sql`insert into users (tenant_id, user_id, name, role)
    select ${TENANT}, 'c' || lpad(g::text, 2, '0'), 'Collector ' || g, 'collector' from generate_series(0, ${COLLECTORS - 1}) g`;
  await sql`insert into users (tenant_id, user_id, name, role) values (${TENANT}, 'lead', 'Team lead', 'team_lead'), (${TENANT}, 'admin', 'Admin', 'admin')`;
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, segment)
    select ${TENANT}, 'CUST-' || lpad(g::text, 5, '0'), 'Customer ' || g, 'ap' || g || '@customer.example',
           (${zones}::text[])[1 + g % ${ZONES.length}], 'en-US', 'c' || lpad((g % ${COLLECTORS})::text, 2, '0'),
           case when g % 7 = 0 then 'strategic' when g % 11 = 0 then 'high_risk' else 'standard' end
    from generate_series(0, ${CUSTOMERS - 1}) g`;
  await sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date,
                                  workflow_id, cadence_id, cadence_version, stage)
    select ${TENANT}, 'INV-' || lpad(g::text, 6, '0'), 'CUST-' || lpad((g % ${CUSTOMERS})::text, 5, '0'),
           (array['EUR','EUR','EUR','USD','USD','GBP'])[1 + g % 6], a, case when g % 5 = 0 then a / 3 else a end,
           current_date - (g * 37 % 200) - 30, current_date - (g * 37 % 200) + 10, 'bench-invoice-' || g, 'standard', 1,
           case when g % 20 = 0 then 'disputed' when g % 20 = 1 then 'paused' else 'active' end
    from generate_series(0, ${INVOICES - 1}) g, lateral (select (1000 + (g * 7919) % 9999000)::bigint as a) amount`;
  await sql`insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, status, note, kind, attempt, workflow_id, created_at)
    select 'bench-open-' || g || '-' || k, ${TENANT}, i.invoice_number, i.customer_id, c.collector_id,
           now() + ((g * 13 + k * 5) % 30 - 20) * interval '1 day' + (g % 97) * interval '1 minute', 'open',
           'call about ' || i.invoice_number, (array['cadence','cadence','follow_up','callback','manual'])[1 + (g + k) % 5], 1 + k, i.workflow_id, now() - interval '30 days'
    from generate_series(0, ${INVOICES - 1}) g cross join generate_series(0, ${OPEN_TASKS_PER_INVOICE - 1}) k
    join invoices i on i.tenant_id = ${TENANT} and i.invoice_number = 'INV-' || lpad(g::text, 6, '0')
    join customers c on c.tenant_id = i.tenant_id and c.customer_id = i.customer_id`;
  await sql`insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, collector_id, due_at, status, note, kind, outcome, completed_at, completed_by, workflow_id, created_at)
    select 'bench-done-' || g, ${TENANT}, i.invoice_number, i.customer_id, c.collector_id, now() - interval '40 days', 'done', 'called', 'cadence',
           'no_answer', now() - interval '39 days', c.collector_id, i.workflow_id, now() - interval '45 days'
    from generate_series(0, ${INVOICES - 1}) g
    join invoices i on i.tenant_id = ${TENANT} and i.invoice_number = 'INV-' || lpad(g::text, 6, '0')
    join customers c on c.tenant_id = i.tenant_id and c.customer_id = i.customer_id`;
  await sql`insert into promises (tenant_id, promise_id, invoice_number, customer_id, amount_minor, currency, promised_date, made_by, recorded_by, collector_id, status, evaluated_at)
    select i.tenant_id, 'PTP-' || g, i.invoice_number, i.customer_id, greatest(1, i.amount_minor / 2), i.currency, current_date - (g % 300), 'AP clerk', c.collector_id, c.collector_id,
           (array['broken','kept','broken','cancelled'])[1 + g % 4], now() - (g % 500) * interval '1 day'
    from generate_series(0, ${INVOICES - 1}, 5) g
    join invoices i on i.tenant_id = ${TENANT} and i.invoice_number = 'INV-' || lpad(g::text, 6, '0')
    join customers c on c.tenant_id = i.tenant_id and c.customer_id = i.customer_id`;
  await sql`insert into customer_activities (event_key, tenant_id, customer_id, occurred_at, actor, kind, outcome, reached, note)
    select 'bench-activity-' || g, ${TENANT}, 'CUST-' || lpad((g % ${CUSTOMERS})::text, 5, '0'), now() - (g % 200) * interval '1 day', 'c00', 'call_outcome',
           case when g % 3 = 0 then 'reached' else 'no_answer' end, g % 3 = 0, ''
    from generate_series(0, ${CUSTOMERS * 4 - 1}) g`;
  await sql`vacuum analyze`; // as autovacuum would have by now on a real database
}

interface Scenario {
  name: string;
  target: { p99Ms: number } | undefined;
  method: 'GET' | 'POST';
  path: string;
  token: string;
  /** A body per request (each new invoice unique). */
  body?: () => unknown;
}

interface Run {
  p50: number;
  p99: number;
  rate: number;
  non2xx: number;
  errors: number;
  /** The API process's CPU time per request (user + system). */
  cpuPerRequestMs: number | undefined;
}

/** One request, its latency from `due` (the moment it was scheduled to be sent) to the end of its answer. */
function request(agent: http.Agent, url: URL, s: Scenario, due: number): Promise<{ ms: number; status: number } | { ms: number; error: Error }> {
  const body = s.body ? JSON.stringify(s.body()) : undefined;
  return new Promise((resolve) => {
    const req = http.request(
      url,
      {
        agent,
        method: s.method,
        timeout: 30_000,
        headers: { authorization: `Bearer ${s.token}`, ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}) },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ ms: performance.now() - due, status: res.statusCode ?? 0 }));
        res.on('error', (error) => resolve({ ms: performance.now() - due, error }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => resolve({ ms: performance.now() - due, error }));
    req.end(body);
  });
}

/** CPU time (user + system, ms) of a process so far; undefined where /proc is not there. */
function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

async function drive(url: string, s: Scenario, apiPid: number | undefined): Promise<Run> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const target = new URL(s.path, url);
  const count = RATE * DURATION_S;
  const interval = 1000 / RATE;
  const answers: Promise<{ ms: number; status: number } | { ms: number; error: Error }>[] = [];
  const cpu0 = cpuMs(apiPid);
  const t0 = performance.now();
  // Every request at t0 + i * interval: a timer that fires late sends the ones due meanwhile at once.
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (answers.length < count && t0 + answers.length * interval <= now) answers.push(request(agent, target, s, t0 + answers.length * interval));
      if (answers.length < count) setTimeout(tick, Math.max(0, t0 + answers.length * interval - performance.now()));
      else resolve();
    };
    tick();
  });
  const results = await Promise.all(answers);
  const elapsedS = (performance.now() - t0) / 1000;
  const cpu1 = cpuMs(apiPid);
  agent.destroy();
  await drained(url);
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const at = (q: number) => ms[Math.min(ms.length - 1, Math.ceil(q * ms.length) - 1)]!;
  const answered = results.filter((r) => 'status' in r);
  return {
    p50: at(0.5),
    p99: at(0.99),
    // Answers per second over the time from the first request to the last answer (a backlog stretches it).
    rate: answered.length / Math.max(DURATION_S, elapsedS),
    non2xx: answered.filter((r) => 'status' in r && (r.status < 200 || r.status > 299)).length,
    errors: results.length - answered.length,
    cpuPerRequestMs: cpu0 !== undefined && cpu1 !== undefined ? (cpu1 - cpu0) / results.length : undefined,
  };
}

/** Waits until the API answers /health within 20 ms again: a run's backlog must not land on the next run. */
async function drained(url: string) {
  const until = Date.now() + 300_000;
  while (Date.now() < until) {
    const t0 = performance.now();
    await fetch(`${url}/health`).then((r) => r.arrayBuffer(), () => undefined);
    if (performance.now() - t0 < 20) return;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const cpu = (runs: Run[]) => (runs.every((r) => r.cpuPerRequestMs !== undefined) ? fmt(median(runs.map((r) => r.cpuPerRequestMs!))) : '—');
const spread = (xs: number[]) => `${fmt(Math.min(...xs))} / ${fmt(median(xs))} / ${fmt(Math.max(...xs))}`;

export const bench: Bench = {
  timeoutMs: 30 * 60_000,
  async run() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dunning-api-bench-'));
    const stops: (() => Promise<unknown>)[] = [];
    onTeardown(async () => {
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error('teardown:', err));
      rmSync(dir, { recursive: true, force: true });
    });

    const [, startMs] = await timed(async () => {
      const [pgPort, temporalPort, apiPort] = [await freePort(), await freePort(), await freePort()];
      const pg = await startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: pgPort, databases: ['dunning_bench'], durable: false });
      stops.push(pg.stop);
      const sql = createSql(pg.url('dunning_bench'), { max: 4 });
      stops.push(() => sql.end({ timeout: 5 }));
      await migrate(sql);
      const temporal = await startTemporalDevServer({ port: temporalPort, namespace: 'default' });
      stops.push(temporal.stop);
      const erp = await startErpSimulator({ apiKey: 'bench-erp-key', webhookSecret: 'bench-erp-webhook-secret' });
      stops.push(erp.close);
      context = { sql, erp, env: {
        DATABASE_URL: pg.url('dunning_bench'), TEMPORAL_ADDRESS: temporal.address, TENANT_ID: TENANT, ERP_BASE_URL: erp.url, ERP_API_KEY: 'bench-erp-key',
        ERP_WEBHOOK_SECRET: 'bench-erp-webhook-secret', API_HOST: '127.0.0.1', API_PORT: String(apiPort), LOG_LEVEL: 'warn',
      } };
    });
    const { sql, erp, env } = context!;
    const [, seedMs] = await timed(() => seed(sql));
    const tokens: Record<string, string> = {};
    for (const user of ['c00', 'lead', 'admin']) tokens[user] = (await issueToken(sql, TENANT, user)).token;
    const api = await startApi(env, { quiet: true });
    stops.push(() => api.stop('SIGTERM', 10_000));
    console.log(`  (PostgreSQL, Temporal and the ERP simulator started in ${fmt(startMs)} ms; portfolio seeded in ${fmt(seedMs)} ms; API at ${api.url})`);

    // New invoices: the ERP knows each before the API is asked to enroll it (unique numbers across every run).
    let enrolled = 0;
    const today = new Date().toISOString().slice(0, 10);
    const newInvoice = () => {
      const n = enrolled++;
      const number = `NEW-${String(n).padStart(6, '0')}`;
      const customerId = `CUST-${String(n % CUSTOMERS).padStart(5, '0')}`;
      const invoice = { invoiceNumber: number, customerId, currency: 'EUR', amountMinor: 10_000 + n, issueDate: today, dueDate: today };
      erp.store.addInvoice(invoice);
      return {
        customer: { id: customerId, name: `Customer ${n % CUSTOMERS}`, email: `ap${n % CUSTOMERS}@customer.example`, timeZone: 'Europe/Berlin', collectorId: collectorId(n % COLLECTORS) },
        invoice: { number, currency: 'EUR', amountMinor: 10_000 + n, issueDate: today, dueDate: today },
      };
    };
    const preview = {
      invoice: { currency: 'EUR', amountMinor: 125_000, dueDate: today },
      customer: { timeZone: 'Europe/Berlin', segment: 'standard', country: 'DE', region: 'BY' },
    };
    const list = { p99Ms: 50 };
    const scenarios: Scenario[] = [
      { name: 'GET /worklist (collector, 10k open tasks)', target: list, method: 'GET', path: '/worklist?limit=50', token: tokens.c00! },
      { name: 'GET /worklist (team lead, 100k open tasks)', target: list, method: 'GET', path: '/worklist?limit=50', token: tokens.lead! },
      { name: 'GET /invoices (collector, 5k invoices)', target: list, method: 'GET', path: '/invoices?limit=50', token: tokens.c00! },
      { name: 'GET /invoices (admin, 50k invoices)', target: list, method: 'GET', path: '/invoices?limit=50', token: tokens.admin! },
      { name: 'POST /invoices (enroll, new each)', target: undefined, method: 'POST', path: '/invoices', token: tokens.admin!, body: newInvoice },
      { name: 'POST /cadences/preview (DE-BY holidays)', target: { p99Ms: 5 }, method: 'POST', path: '/cadences/preview', token: tokens.c00!, body: () => preview },
    ];
    const picked = process.env.BENCH_API_ROUTES?.split(',');
    const chosen = picked ? scenarios.filter((s) => picked.some((p) => s.name.toLowerCase().includes(p.toLowerCase()))) : scenarios;

    // The first worklist request scores every open task (migration 010: seeded tasks start stale), rewriting
    // 100k rows; then a vacuum, as autovacuum would soon after, rather than in the middle of the first runs.
    const [, scoreMs] = await timed(async () => {
      const res = await fetch(`${api.url}/worklist?limit=1`, { headers: { authorization: `Bearer ${tokens.lead!}` } });
      check(res.ok, `first worklist request answered ${res.status} ${await res.text()}`);
    });
    await sql`vacuum analyze call_tasks`;
    console.log(`  (the first worklist request scored the ${fmt(INVOICES * OPEN_TASKS_PER_INVOICE)} open tasks in ${fmt(scoreMs)} ms; call_tasks vacuumed after it)`);

    // Warm-up: the API's first requests compile its code paths and fill its caches; then 20 one at a time (no load).
    const unloaded = new Map<Scenario, number>();
    for (const s of chosen) {
      // Through the same client as the loaded runs (node:http, a kept-alive socket): fetch adds ~2 ms of its own per request.
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const once = async () => {
        const answer = await request(agent, new URL(s.path, api.url), s, performance.now());
        check('status' in answer && answer.status >= 200 && answer.status < 300, `${s.name}: answered ${JSON.stringify(answer)} alone`);
        return answer.ms;
      };
      const res = await fetch(`${api.url}${s.path}`, {
        method: s.method,
        headers: { authorization: `Bearer ${s.token}`, ...(s.body ? { 'content-type': 'application/json' } : {}) },
        ...(s.body ? { body: JSON.stringify(s.body()) } : {}),
      });
      const text = await res.text();
      check(res.ok, `${s.name}: warm-up answered ${res.status} ${text}`);
      if (s.method === 'GET') {
        const page = JSON.parse(text) as { total: number; items: unknown[] };
        check(page.items.length === 50 && page.total >= 5_000, `${s.name}: a first page of ${page.items.length} of ${page.total}`);
      }
      const times: number[] = [];
      for (let i = 0; i < 20; i++) times.push(await once());
      agent.destroy();
      unloaded.set(s, median(times));
    }

    const rows: (string | number)[][] = [
      ['route', 'target p99', 'alone ms', 'p50 ms (min / median / max)', 'p99 ms (min / median / max)', `achieved req/s (of ${RATE})`, 'API CPU ms/req', 'meets'],
    ];
    const load = () => os.loadavg().map((l) => l.toFixed(1)).join(' ');
    const loadBefore = load();
    const failures: string[] = [];
    for (const s of chosen) {
      const runs: Run[] = [];
      for (let r = 0; r < REPEATS; r++) runs.push(await drive(api.url, s, api.child.pid));
      const bad = runs.reduce((n, r) => n + r.non2xx + r.errors, 0);
      if (bad) failures.push(`${s.name}: ${bad} answers not 2xx or failed`);
      const p99 = median(runs.map((r) => r.p99));
      const rate = median(runs.map((r) => r.rate));
      const meets = s.target ? (p99 < s.target.p99Ms && rate >= RATE * 0.95 ? 'yes' : 'NO') : '—';
      rows.push([s.name, s.target ? `< ${s.target.p99Ms} ms` : '—', fmt(unloaded.get(s)!), spread(runs.map((r) => r.p50)), spread(runs.map((r) => r.p99)), spread(runs.map((r) => r.rate)), cpu(runs), meets]);
    }
    table(`API at ${RATE} requests/s (one every ${1000 / RATE} ms, open loop), ${DURATION_S} s per run, ${REPEATS} runs, up to ${CONNECTIONS} connections`, rows);
    console.log(`  (load average 1/5/15 min: ${loadBefore} before the runs, ${load()} after, on ${os.cpus().length} cores)`);
    check(failures.length === 0, failures.join('; '));
  },
};

let context: { sql: Sql; erp: Awaited<ReturnType<typeof startErpSimulator>>; env: Record<string, string> } | undefined;
