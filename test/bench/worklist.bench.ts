import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { collectorWork } from '../../api/collector-work';
import { createTaskReader, createWorklistService, localDay, type WorklistFilter } from '../../api/worklist-service';
import type { AuthUser } from '../../api/auth';
import { loadReportingConfig } from '../../config/load';
import { freePort } from '../../dev/process';
import { startLocalPostgres } from '../../dev/postgres';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { agingBucket, daysBetween, daysPastDue } from '../../domain/aging';
import type { Segment } from '../../domain/cadence';
import { convertMinor } from '../../domain/fx';
import { priorityScore, type PriorityInput } from '../../domain/priority';
import { check, fmt, mib, onTeardown, opsPerSecond, seededRandom, table, timed, type Bench } from './harness';

/**
 * The collectors' worklist at portfolio scale, on a throw-away PostgreSQL: collector A has 500
 * customers, 5,000 invoices, 5,000 open and 5,000 done call tasks, ~2,000 promises and ~20,000
 * activities; collector B a tenth of that. Every call to `worklist()` scores all matching open tasks
 * (the limit only slices), so its cost grows with the portfolio, not with the page.
 */
const TENANT = 'bench';
const RUNS = 7;
const ZONES = ['Europe/Berlin', 'Europe/London', 'America/New_York', 'America/Chicago', 'America/Los_Angeles', 'Asia/Tokyo', 'Asia/Kolkata', 'Australia/Sydney', 'UTC'];
const CURRENCIES = ['EUR', 'EUR', 'EUR', 'USD', 'USD', 'GBP'];
const DAY = 86_400_000;

interface Portfolio {
  collectorId: string;
  customers: number;
  invoices: number;
  openTasks: number;
  doneTasks: number;
  promises: number;
  activities: number;
}
const A: Portfolio = { collectorId: 'collector-a', customers: 500, invoices: 5_000, openTasks: 5_000, doneTasks: 5_000, promises: 2_000, activities: 20_000 };
const B: Portfolio = { collectorId: 'collector-b', customers: 50, invoices: 500, openTasks: 500, doneTasks: 500, promises: 200, activities: 2_000 };

const user = (userId: string, role: AuthUser['role']): AuthUser => ({ tenantId: TENANT, userId, name: userId, role, approvalLimitMinor: null });
const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** Multi-row inserts, chunked under the protocol's 65,535 parameters per statement. */
async function insertRows(sql: Sql, tableName: string, rows: Record<string, unknown>[]) {
  const perChunk = Math.floor(60_000 / Object.keys(rows[0]!).length);
  for (let i = 0; i < rows.length; i += perChunk) await sql`insert into ${sql(tableName)} ${sql(rows.slice(i, i + perChunk) as never)}`;
}

/** Deterministic rows (seededRandom) relative to `nowMs`; returns how many of each were written. */
async function seed(sql: Sql, nowMs: number) {
  const random = seededRandom(7);
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  await insertRows(sql, 'users', [
    { tenant_id: TENANT, user_id: 'lead', name: 'Team lead', role: 'team_lead' },
    { tenant_id: TENANT, user_id: A.collectorId, name: 'Collector A', role: 'collector' },
    { tenant_id: TENANT, user_id: B.collectorId, name: 'Collector B', role: 'collector' },
  ]);
  let rows = 0;
  for (const p of [A, B]) {
    const tag = p.collectorId.slice(-1).toUpperCase();
    const customers = Array.from({ length: p.customers }, (_, i) => {
      const r = random();
      return {
        tenant_id: TENANT, customer_id: `C${tag}${String(i).padStart(4, '0')}`, name: `Customer ${tag}${i}`, email: `ap${i}@customer-${tag}.example`,
        time_zone: pick(ZONES), locale: 'en-US', collector_id: p.collectorId,
        segment: (r < 0.15 ? 'strategic' : r < 0.8 ? 'standard' : 'high_risk') as Segment, currency: pick(CURRENCIES),
      };
    });
    await insertRows(sql, 'customers', customers.map(({ currency: _, ...c }) => c));
    const invoices = Array.from({ length: p.invoices }, (_, i) => {
      const customer = pick(customers);
      const due = nowMs - int(0, 150) * DAY;
      const amount = Math.round(10 ** (3 + random() * 4)); // 10.00 .. 100,000.00
      const r = random();
      return {
        tenant_id: TENANT, invoice_number: `INV-${tag}-${String(i).padStart(5, '0')}`, customer_id: customer.customer_id,
        currency: random() < 0.9 ? customer.currency : pick(CURRENCIES), amount_minor: amount, open_amount_minor: random() < 0.2 ? Math.floor(amount * random()) : amount,
        issue_date: isoDay(due - 30 * DAY), due_date: isoDay(due), workflow_id: `invoice-${TENANT}-${tag}-${i}`, cadence_id: 'standard', cadence_version: 1,
        stage: r < 0.05 ? 'disputed' : r < 0.1 ? 'paused' : 'active',
      };
    });
    await insertRows(sql, 'invoices', invoices);
    const task = (i: number, open: boolean) => {
      const invoice = pick(invoices);
      const created = nowMs - int(1, 60) * DAY;
      return {
        tenant_id: TENANT, invoice_number: invoice.invoice_number, customer_id: invoice.customer_id, collector_id: p.collectorId,
        due_at: new Date(open ? nowMs + (random() * 30 - 20) * DAY : created + random() * 5 * DAY), status: open ? 'open' : 'done',
        note: `call about ${invoice.invoice_number}`, kind: pick(['cadence', 'cadence', 'cadence', 'follow_up', 'callback', 'broken_promise', 'manual']),
        attempt: int(1, 3), outcome: open ? null : pick(['reached', 'no_answer', 'left_voicemail', 'promise_to_pay']),
        completed_at: open ? null : new Date(created + random() * 10 * DAY), completed_by: open ? null : p.collectorId, created_at: new Date(created),
        idempotency_key: `bench-task-${tag}-${open ? 'o' : 'd'}-${i}`,
      };
    };
    const tasks = [...Array.from({ length: p.openTasks }, (_, i) => task(i, true)), ...Array.from({ length: p.doneTasks }, (_, i) => task(i, false))];
    await insertRows(sql, 'call_tasks', tasks);
    const promises = Array.from({ length: p.promises }, (_, i) => {
      const invoice = pick(invoices);
      const r = random();
      const status = r < 0.3 ? 'broken' : r < 0.65 ? 'kept' : r < 0.75 ? 'partially_kept' : r < 0.95 ? 'open' : 'cancelled';
      const evaluated = status === 'open' ? null : new Date(nowMs - random() * 540 * DAY); // a third of them beyond 12 months
      return {
        tenant_id: TENANT, promise_id: `PTP-${tag}-${i}`, invoice_number: invoice.invoice_number, customer_id: invoice.customer_id, amount_minor: Math.max(1, Math.floor(invoice.amount_minor / 2)),
        currency: invoice.currency, promised_date: isoDay(evaluated ? evaluated.getTime() - 3 * DAY : nowMs + 10 * DAY), made_by: 'AP clerk', recorded_by: p.collectorId,
        collector_id: p.collectorId, status, paid_minor: status === 'partially_kept' ? 1 : null, evaluated_at: evaluated,
      };
    });
    await insertRows(sql, 'promises', promises);
    const activities = Array.from({ length: p.activities }, (_, i) => {
      const customer = pick(customers);
      const call = random() < 0.7;
      const outcome = call ? pick(['reached', 'no_answer', 'left_voicemail', 'promise_to_pay', 'wrong_number']) : null;
      return {
        event_key: `bench-activity-${tag}-${i}`, tenant_id: TENANT, customer_id: customer.customer_id, occurred_at: new Date(nowMs - random() * 365 * DAY),
        actor: p.collectorId, kind: call ? 'call_outcome' : 'note', outcome, reached: outcome === 'reached' || outcome === 'promise_to_pay', note: '',
      };
    });
    await insertRows(sql, 'customer_activities', activities);
    rows += customers.length + invoices.length + tasks.length + promises.length + activities.length;
  }
  await sql`analyze`; // as autovacuum would have by now on a real database: the planner sees the real sizes
  return rows;
}

interface Timing {
  kind: 'worklist' | 'access';
  ms: number;
  rows: number;
  /** The statement as sent, to EXPLAIN it. */
  text: string;
  parameters: unknown[];
}

/**
 * `sql` as the service sees it, except that its worklist query (and the customer access check) are
 * timed from when they are awaited until their rows are parsed: the database's part of a
 * `worklist()` call, measured inside the real call rather than on a copy of the query.
 */
function timedSql(sql: Sql, timings: Timing[]): Sql {
  return new Proxy(sql, {
    apply(target, thisArg, args: unknown[]) {
      const query = Reflect.apply(target, thisArg, args);
      const strings = args[0] as TemplateStringsArray | undefined;
      const text = Array.isArray(strings) && 'raw' in strings ? strings.join('?') : '';
      // The worklist statement: its own text is "select ? from ? where t.tenant_id = ?" plus filters (the columns and joins are fragments).
      const kind = /^\s*select \? from \?\s+where t\.tenant_id = \?/.test(text) && !text.includes('t.id =') ? 'worklist' : text.includes('select collector_id from customers') ? 'access' : undefined;
      if (!kind) return query; // fragments and other statements go through untouched
      return {
        then(resolve: (rows: unknown[]) => unknown, reject: (err: unknown) => unknown) {
          const t0 = performance.now();
          return (query as Promise<unknown[]>).then((rows) => {
            const { statement, parameters } = query as unknown as { statement: { string: string }; parameters: unknown[] };
            timings.push({ kind, ms: performance.now() - t0, rows: rows.length, text: statement.string, parameters }); // not the query: it holds its rows
            return resolve(rows);
          }, reject);
        },
      };
    },
  });
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const memory = () => {
  globalThis.gc?.();
  return process.memoryUsage();
};

interface PlanNode {
  'Node Type': string;
  'Subplan Name'?: string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Actual Total Time': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

export const bench: Bench = {
  timeoutMs: 120_000,
  async run() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dunning-bench-'));
    let sql: Sql | undefined;
    let stopPg: (() => Promise<void>) | undefined;
    // One teardown, in order: the pool before the server, the server before its folder.
    onTeardown(async () => {
      await sql?.end({ timeout: 5 });
      await stopPg?.();
      rmSync(dir, { recursive: true, force: true });
    });

    const [, startMs] = await timed(async () => {
      const pg = await startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), databases: ['dunning_bench'], durable: false });
      stopPg = pg.stop;
      sql = createSql(pg.url('dunning_bench'), { max: 4 });
      await migrate(sql);
    });
    const db = sql!;
    const nowMs = Date.now();
    const [seeded, seedMs] = await timed(() => seed(db, nowMs));
    console.log(`  (PostgreSQL started and migrated in ${fmt(startMs)} ms; ${fmt(seeded)} rows seeded in ${fmt(seedMs)} ms)`);

    const fx = loadReportingConfig();
    const timings: Timing[] = [];
    const timedDb = timedSql(db, timings);
    const service = createWorklistService(collectorWork({ sql: timedDb, temporal: {} as never, tenantId: TENANT }), createTaskReader({ sql: timedDb, tenantId: TENANT, fx }), fx);

    // Expected results, computed in SQL independently of the service (conversion per invoice with convertMinor).
    const expected = async (collectorId: string | null, extra: { customerId?: string; bucket31to60?: boolean } = {}) => {
      const scope = db`t.tenant_id = ${TENANT} and t.status = 'open'
        ${collectorId ? db`and t.collector_id = ${collectorId}` : db``} ${extra.customerId ? db`and t.customer_id = ${extra.customerId}` : db``}
        ${extra.bucket31to60 ? db`and ((now() at time zone c.time_zone)::date - i.due_date) between 31 and 60` : db``}`;
      const [counted] = await db<{ tasks: number }[]>`
        select count(*)::int as tasks from call_tasks t join customers c using (tenant_id, customer_id)
          join invoices i on i.tenant_id = t.tenant_id and i.invoice_number = t.invoice_number where ${scope}`;
      const tasks = counted!.tasks;
      const invoices = await db<{ currency: string; open_amount_minor: number }[]>`
        select distinct i.invoice_number, i.currency, i.open_amount_minor from call_tasks t join customers c using (tenant_id, customer_id)
          join invoices i on i.tenant_id = t.tenant_id and i.invoice_number = t.invoice_number where ${scope}`;
      return { tasks, amount: invoices.reduce((s, i) => s + convertMinor(i.open_amount_minor, i.currency, fx), 0) };
    };
    const [busiest] = await db<{ customer_id: string }[]>`
      select customer_id from call_tasks where tenant_id = ${TENANT} and collector_id = ${A.collectorId} and status = 'open'
      group by customer_id order by count(*) desc, customer_id limit 1`;
    const customerId = busiest!.customer_id;

    const collectorA = user(A.collectorId, 'collector');
    const page: WorklistFilter = { status: 'open', limit: 50, offset: 0 };
    const scenarios = [
      { name: `collector A, open, limit 50`, who: collectorA, filter: page, want: () => expected(A.collectorId) },
      { name: `collector A, bucket 31-60`, who: collectorA, filter: { ...page, bucket: '31-60' as const }, want: () => expected(A.collectorId, { bucket31to60: true }) },
      { name: `collector A, one customer (${customerId})`, who: collectorA, filter: { ...page, customerId }, want: () => expected(A.collectorId, { customerId }) },
      { name: 'team lead, all portfolios', who: user('lead', 'team_lead'), filter: page, want: () => expected(null) },
    ];

    const heapBefore = memory();
    let heapAfterRuns = heapBefore;
    const results: (string | number)[][] = [];
    const perRow: (string | number)[][] = [];
    for (const s of scenarios) {
      const want = await s.want();
      const runs: { total: number; sql: number; access: number; rows: number }[] = [];
      for (let run = 0; run <= RUNS; run++) {
        timings.length = 0;
        const [list, ms] = await timed(() => service.worklist(s.who, s.filter));
        const main = timings.filter((t) => t.kind === 'worklist');
        check(main.length === 1, `${s.name}: expected one worklist query, saw ${main.length}`);
        if (run === 0) {
          // Correctness, on the warm-up call: the page is the top of a list sorted by score, the totals are the independent ones.
          check(list.items.length === Math.min(50, want.tasks), `${s.name}: ${list.items.length} items for ${want.tasks} tasks`);
          for (let i = 1; i < list.items.length; i++)
            check(list.items[i - 1]!.priority.score >= list.items[i]!.priority.score, `${s.name}: item ${i} scores ${list.items[i]!.priority.score} after ${list.items[i - 1]!.priority.score}`);
          check(list.total === want.tasks, `${s.name}: total ${list.total}, SQL counts ${want.tasks} open tasks`);
          check(list.totalOpenAmountReportingMinor === want.amount, `${s.name}: totalOpenAmountReportingMinor ${list.totalOpenAmountReportingMinor}, expected ${want.amount}`);
          if (s.filter.bucket) check(list.items.every((t) => t.invoice.bucket === s.filter.bucket), `${s.name}: an item outside bucket ${s.filter.bucket}`);
          if (s.filter.customerId) check(list.items.every((t) => t.customer.id === s.filter.customerId), `${s.name}: an item of another customer`);
          continue;
        }
        const access = timings.filter((t) => t.kind === 'access').reduce((sum, t) => sum + t.ms, 0);
        runs.push({ total: ms, sql: main[0]!.ms, access, rows: main[0]!.rows });
      }
      heapAfterRuns = process.memoryUsage();
      const total = median(runs.map((r) => r.total));
      const sqlMs = median(runs.map((r) => r.sql));
      const js = median(runs.map((r) => r.total - r.sql - r.access));
      const rows = runs[0]!.rows;
      results.push([s.name, fmt(rows), fmt(want.tasks), `${fmt(total)} ms`, `${fmt(sqlMs)} ms`, runs.some((r) => r.access > 0) ? `${fmt(median(runs.map((r) => r.access)))} ms` : '–', `${fmt(js)} ms`, `${fmt(Math.min(...runs.map((r) => r.total)))}–${fmt(Math.max(...runs.map((r) => r.total)))} ms`]);
      perRow.push([s.name, fmt((rows / sqlMs) * 1000), fmt((rows / js) * 1000), fmt((rows / total) * 1000)]);
    }
    const heapAfterGc = memory();

    table(`worklist: median of ${RUNS} calls after a warm-up (checked: sorted by score, total and open amount equal to SQL's)`, [
      ['', 'rows fetched', 'list total', 'worklist()', 'SQL query', 'access check', 'JS (score, sort)', 'worklist() min–max'],
      ...results,
    ]);
    table('worklist: rows per second', [['', 'SQL (rows/s)', 'JS (rows/s)', 'end to end (rows/s)'], ...perRow]);

    // The JS part of collector A's list, step by step, over the rows its query fetched.
    timings.length = 0;
    await service.worklist(collectorA, page);
    const fetched = (await db.unsafe(timings[0]!.text, timings[0]!.parameters as never[])) as unknown as {
      time_zone: string; due_date: string; currency: string; open_amount_minor: number; broken_promises: number; stage: string; segment: Segment; last_reached_at: Date | null; due_at: Date; id: number;
    }[];
    const n = fetched.length;
    const dayDiff = daysBetween; // what the service uses, with its per-zone Intl formatter (localDay)
    const now = new Date();
    let sink = 0;
    const days = opsPerSecond(n, () => {
      for (const r of fetched) {
        const today = localDay(now, r.time_zone);
        sink += daysPastDue(r.due_date, today) + dayDiff(today, localDay(r.due_at, r.time_zone)) + (r.last_reached_at ? dayDiff(localDay(r.last_reached_at, r.time_zone), today) : 0);
      }
    });
    const fxOps = opsPerSecond(n, () => {
      for (const r of fetched) sink += convertMinor(r.open_amount_minor, r.currency, fx);
    });
    const inputs: PriorityInput[] = fetched.map((r) => {
      const today = localDay(now, r.time_zone);
      return {
        openAmountReportingMinor: convertMinor(r.open_amount_minor, r.currency, fx), daysPastDue: daysPastDue(r.due_date, today), brokenPromises: r.broken_promises,
        disputeActive: r.stage === 'disputed', segment: r.segment, taskDueInDays: dayDiff(today, localDay(r.due_at, r.time_zone)),
        daysSinceLastSuccessfulContact: r.last_reached_at ? Math.max(0, dayDiff(localDay(r.last_reached_at, r.time_zone), today)) : null,
      };
    });
    const scores = opsPerSecond(n, () => {
      for (const input of inputs) sink += priorityScore(input).score;
    });
    const items = inputs.map((input, i) => ({ score: priorityScore(input).score, dueAt: fetched[i]!.due_at.toISOString(), taskId: fetched[i]!.id, bucket: agingBucket(input.daysPastDue) }));
    const sorts = opsPerSecond(n, () => {
      [...items].sort((a, b) => b.score - a.score || Date.parse(a.dueAt) - Date.parse(b.dueAt) || a.taskId - b.taskId);
    });
    check(sink !== 0 && items.length === A.openTasks, `JS breakdown over ${items.length} rows`);
    table(`worklist: the JS part for collector A, per step over its ${fmt(n)} rows (median of 5 runs after a warm-up)`, [
      ['', 'ms for all rows', 'rows/s', 'µs/row'],
      ['local days in the customer zone (Intl, 3 per row)', fmt((days.usPerOp * n) / 1000), days.opsPerSec, days.usPerOp],
      ['convertMinor to the reporting currency', fmt((fxOps.usPerOp * n) / 1000), fxOps.opsPerSec, fxOps.usPerOp],
      ['priorityScore', fmt((scores.usPerOp * n) / 1000), scores.opsPerSec, scores.usPerOp],
      ['sort by score, due, id (comparator parses dates)', fmt((sorts.usPerOp * n) / 1000), sorts.opsPerSec, sorts.usPerOp],
    ]);

    // Where the database spends its time on collector A's query.
    type Explained = { Plan: PlanNode; 'Planning Time': number; 'Execution Time': number; JIT?: { Timing: { Total: number } } };
    const plans: Explained[] = [];
    for (let i = 0; i < 3; i++) {
      const [explained] = (await db.unsafe(`explain (analyze, buffers, format json) ${timings[0]!.text}`, timings[0]!.parameters as never[])) as unknown as [{ 'QUERY PLAN': [Explained] }];
      plans.push(explained['QUERY PLAN'][0]);
    }
    const plan = plans.sort((a, b) => a['Execution Time'] - b['Execution Time'])[1]!; // the median of 3
    const nodes: (string | number)[][] = [];
    const walk = (node: PlanNode, depth: number) => {
      const label = `${'  '.repeat(depth)}${node['Subplan Name'] ? `${node['Subplan Name']}: ` : ''}${node['Node Type']}${node['Index Name'] ? ` using ${node['Index Name']}` : node['Relation Name'] ? ` on ${node['Relation Name']}` : ''}`;
      nodes.push([label, fmt(node['Actual Loops']), `${fmt(node['Actual Total Time'] * node['Actual Loops'])} ms`]);
      for (const child of node.Plans ?? []) walk(child, depth + 1);
    };
    walk(plan.Plan, 0);
    table(`worklist: EXPLAIN ANALYZE of collector A's query, median of 3 (execution ${fmt(plan['Execution Time'])} ms, planning ${fmt(plan['Planning Time'])} ms${plan.JIT ? `, JIT ${fmt(plan.JIT.Timing.Total)} ms` : ''})`, [
      ['node', 'loops', 'time (all loops)'],
      ...nodes,
    ]);

    table('worklist: this process’s heap (process.memoryUsage)', [
      ['', 'after seeding (after GC)', 'after the timed calls', 'after GC'],
      ...(['heapUsed', 'heapTotal', 'rss'] as const).map((k) => [k, mib(heapBefore[k]), mib(heapAfterRuns[k]), mib(heapAfterGc[k])]),
    ]);
  },
};
