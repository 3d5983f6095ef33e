import os from 'node:os';
import v8 from 'node:v8';
import { DateTime } from 'luxon';
import type { History } from '@temporalio/common/lib/proto-utils';
import { invoiceWorkflowId } from '../../domain/ids';
import { customerContactWorkflowId } from '../../workflows/customer-messages';
import { check, fmt, mib, table, type Bench } from './harness';
import { cpuMs, pool, settledRss, sleep, treeCpuMs, until } from './floor/proc';
import { COLLECTOR, FLOOR_TASK_QUEUE, startBenchStack, type BenchStack } from './floor/stack';
import type { FloorInput } from './floor/workflows';

/**
 * Issue 11: the project against a bare-Temporal floor, on the real Temporal dev server (in memory),
 * both in the same run, both workers processes of their own. `npm run bench -- dev-server`.
 *
 * The floor (test/bench/floor/): N workflows of K steps, each step a timer, one balance GET against the
 * ERP simulator and one SMTP send through nodemailer to the same SMTP peer; nothing else.
 * The project: the same N invoices (one customer each) enrolled through the HTTP API (POST /invoices,
 * at most 50 at a time) with a K-step cadence of the same spacing (K=4: three emails and a call task),
 * real PostgreSQL, the SMTP peer, the ERP simulator, consolidation on (CONSOLIDATION_GATHER_SECONDS=0),
 * the API and worker processes of dev/app-processes.ts.
 *
 * Measured, each run:
 *  - steps/s = N×K / wall time from the first enrollment (the first workflow start for the floor) to the
 *    last step done: the last 'step_done' audit event of the last step in PostgreSQL (its occurred_at) for
 *    the project, the last workflow's close time in Temporal for the floor. Step 1 is due at once and the
 *    others SPACING s apart, so the timers alone would end an invoice (K-1)×SPACING s after its start:
 *    the table prints that bound beside the wall time, which must be well above it (the worker bounds).
 *  - history events per invoice: the invoice workflow's history length plus its share of its customer's
 *    contact workflow (one customer per invoice: all of it), once nothing is left to do (the project's
 *    invoices stay open after the cadence, with its end task written); the floor's workflow history.
 *  - CPU per step: utime+stime from /proc/<pid>/stat of the worker process (and the Temporal server, the
 *    API, PostgreSQL with its backends) before the first enrollment and once nothing is left to do, / N×K.
 * Repeated RUNS times, floor and project in turn; min, median and max are printed, and the ratios of each
 * run's pair. Then, each with a fresh worker process (empty cache): worker RSS per cached workflow with
 * IDLE and BURST workflows started and idle on a long timer ((VmRSS after − VmRSS of the idle worker) / n,
 * each VmRSS read once it holds still; no GC can be forced from outside, so garbage of the burst counts too),
 * and the time from a burst of BURST enrollments (concurrency 50) to all first steps planned: the 'enrolled'
 * audit event the invoice workflow writes once it planned its first step (with nextStep in the mirror);
 * the floor's: BURST starts to all first workflow tasks completed (from each history).
 *
 * Fails when the code misbehaves: an invoice without all K steps done as expected, a mail count other
 * than N×3 for the project (N×K for the floor), a workflow failed, a first step never planned.
 */
const N = Number(process.env.BENCH_N ?? 200);
export const K = 4;
export const SPACING_S = Number(process.env.BENCH_STEP_SECONDS ?? 1);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const IDLE = 200;
const BURST = Number(process.env.BENCH_BURST ?? 1000);
const CONCURRENCY = 50;
const WARM_UP = 20;
const EXPECTED_STEPS = ['reminder-1:sent', 'reminder-2:sent', 'reminder-3:sent', 'call-1:task_created'];

const ZONE = 'Europe/Berlin';
const today = () => DateTime.now().setZone(ZONE).startOf('day');
const pad = (i: number) => String(i).padStart(4, '0');
export const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
export const spread = (xs: number[]) => (xs.length === 1 ? fmt(xs[0]!) : `${fmt(median(xs))} (${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))})`);
const msOf = (ts: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(String(ts?.seconds ?? 0)) * 1000 + (ts?.nanos ?? 0) / 1e6;
const mark = (ok: boolean) => (ok ? 'met' : 'MISSED');

interface Cpu {
  worker: number;
  temporal: number;
  api: number;
  postgres: number;
}
export interface RunFigures {
  stepsPerSec: number;
  wallMs: number;
  historyPerInvoice: number;
  /** The project's: invoice workflow, contact workflow. */
  historySplit?: [number, number];
  cpuPerStep: Cpu;
  /** Activity attempts and workflow tasks the worker reported failed during the run (Temporal retried them). */
  failed: number;
  /** CPU / wall time of the same window: how many cores the worker and the Temporal server kept busy. */
  cores: { worker: number; temporal: number };
}

function cpuNow(stack: BenchStack, which: 'project' | 'floor'): Cpu {
  return {
    worker: cpuMs(stack.pids[which]),
    temporal: cpuMs(stack.pids.temporal),
    api: cpuMs(stack.pids.api),
    postgres: stack.pids.postgres ? treeCpuMs(stack.pids.postgres) : NaN,
  };
}
const failedSoFar = (stack: BenchStack, which: 'project' | 'floor') => stack.failures[which].activity + stack.failures[which].workflowTask;
const coresOf = (a: Cpu, b: Cpu, ms: number) => ({ worker: (b.worker - a.worker) / ms, temporal: (b.temporal - a.temporal) / ms });
const perStep = (a: Cpu, b: Cpu, steps: number): Cpu => ({
  worker: (b.worker - a.worker) / steps,
  temporal: (b.temporal - a.temporal) / steps,
  api: (b.api - a.api) / steps,
  postgres: (b.postgres - a.postgres) / steps,
});

interface BenchInvoice {
  number: string;
  customerId: string;
  email: string;
  amountMinor: number;
}
const invoicesOf = (prefix: string, n: number): BenchInvoice[] =>
  Array.from({ length: n }, (_, i) => {
    const customerId = `${prefix}C${pad(i)}`;
    return { number: `${prefix}${pad(i)}`, customerId, email: `${customerId.toLowerCase()}@bench.example`, amountMinor: 10_000 + i };
  });

/** The invoices in the ERP simulator (not timed: the ERP has them before anyone enrolls them). */
async function intoErp(stack: BenchStack, invoices: BenchInvoice[], dueDate: string, issueDate: string) {
  await pool(invoices, CONCURRENCY, (inv) =>
    stack.erpPost('/invoices', { invoiceNumber: inv.number, customerId: inv.customerId, currency: 'EUR', amountMinor: inv.amountMinor, issueDate, dueDate }),
  );
}

/** POST /invoices for each, at most CONCURRENCY at a time; every one must be 201. */
async function enroll(stack: BenchStack, invoices: BenchInvoice[], dueDate: string, issueDate: string) {
  await pool(invoices, CONCURRENCY, async (inv) => {
    const res = await stack.apiPost('/invoices', {
      customer: { id: inv.customerId, name: `Customer ${inv.customerId}`, email: inv.email, timeZone: ZONE, locale: 'de-DE', collectorId: COLLECTOR, country: 'DE' },
      invoice: { number: inv.number, currency: 'EUR', amountMinor: inv.amountMinor, issueDate, dueDate },
    });
    check(res.status === 201, `enrolling ${inv.number}: ${res.status} ${JSON.stringify(res.body)}`);
  });
}

/** Audit events of a type for the invoices of a prefix: how many, and the last one's time (epoch ms, PostgreSQL's clock). */
async function auditCount(stack: BenchStack, prefix: string, type: string, stepId?: string): Promise<{ n: number; lastMs: number }> {
  const [row] = await stack.sql<{ n: number; last: number | null }[]>`
    select count(*)::int as n, extract(epoch from max(occurred_at)) * 1000 as last from audit_events
    where tenant_id = ${stack.tenantId} and invoice_number like ${prefix + '%'} and event_type = ${type}
      and (${stepId ?? null}::text is null or details->>'stepId' = ${stepId ?? null})`;
  return { n: row!.n, lastMs: Number(row!.last ?? 0) };
}

/** The project: N invoices through the API, until every one has run its K steps and written its cadence-end task. */
export async function projectRun(stack: BenchStack, prefix: string, n: number): Promise<RunFigures> {
  const invoices = invoicesOf(prefix, n);
  const dueDate = today().minus({ days: 10 }).toISODate()!;
  const issueDate = today().minus({ days: 40 }).toISODate()!;
  await intoErp(stack, invoices, dueDate, issueDate);
  stack.mail.clear();
  const cpu0 = cpuNow(stack, 'project');
  const failed0 = failedSoFar(stack, 'project');
  const t0 = Date.now();
  await enroll(stack, invoices, dueDate, issueDate);
  let last = { n: 0, lastMs: 0 };
  await until(`${prefix}: the last step of ${n} invoices`, async () => (last = await auditCount(stack, prefix, 'step_done', 'call-1')).n >= n || `${last.n} done`, 240_000);
  // Nothing left to do: each invoice wrote its collector's task at the cadence's end (then it waits, open).
  await until(`${prefix}: the cadence-end tasks`, async () => {
    const [row] = await stack.sql<{ n: number }[]>`
      select count(*)::int as n from call_tasks where tenant_id = ${stack.tenantId} and invoice_number like ${prefix + '%'} and kind = 'follow_up'`;
    return row!.n >= n || `${row!.n} of ${n}`;
  }, 60_000);
  await sleep(1000); // the task's activity completes and its workflow task after it
  const cpu1 = cpuNow(stack, 'project');
  const cpuWindowMs = Date.now() - t0;

  // Every invoice ran the K steps: three mails sent, the call task created.
  const rows = await stack.sql<{ invoice_number: string; steps: string[] }[]>`
    select invoice_number, array_agg((details->>'stepId') || ':' || (details->>'outcome') order by id) as steps from audit_events
    where tenant_id = ${stack.tenantId} and invoice_number like ${prefix + '%'} and event_type = 'step_done' group by invoice_number`;
  const wrong = rows.filter((r) => r.steps.join(' ') !== EXPECTED_STEPS.join(' '));
  check(rows.length === n && wrong.length === 0, `${prefix}: ${rows.length} of ${n} invoices have steps, ${wrong.length} not "${EXPECTED_STEPS.join(' ')}"; first: ${wrong[0]?.invoice_number} ${wrong[0]?.steps.join(' ')}`);
  // Exactly N×3 mails at the SMTP peer, three to each customer, each with its own idempotency key.
  const mails = stack.mail.messages().filter((m) => m.envelopeTo.some((to) => to.startsWith(prefix.toLowerCase())));
  check(mails.length === n * 3, `${prefix}: ${mails.length} mails at the SMTP peer, expected ${n * 3}`);
  const keys = new Set(mails.map((m) => m.headers['x-dunning-idempotency-key']));
  check(keys.size === n * 3, `${prefix}: ${keys.size} distinct idempotency keys in ${mails.length} mails`);
  const perCustomer = new Map<string, number>();
  for (const m of mails) perCustomer.set(m.envelopeTo[0]!, (perCustomer.get(m.envelopeTo[0]!) ?? 0) + 1);
  check([...perCustomer.values()].every((c) => c === 3) && perCustomer.size === n, `${prefix}: not three mails to each of ${n} customers`);

  // History: the invoice's workflow and its customer's contact workflow (one invoice each: all of it is this invoice's share).
  const lengths = await pool(invoices, 20, async (inv) => {
    const [invoice, contact] = await Promise.all([
      stack.client.workflow.getHandle(invoiceWorkflowId(stack.tenantId, inv.number)).describe(),
      stack.client.workflow.getHandle(customerContactWorkflowId(stack.tenantId, inv.customerId)).describe(),
    ]);
    check(invoice.status.name === 'RUNNING' && contact.status.name === 'RUNNING', `${inv.number}: invoice workflow ${invoice.status.name}, contact workflow ${contact.status.name}`);
    return [invoice.historyLength, contact.historyLength] as const;
  });
  const invoiceEvents = lengths.reduce((s, [i]) => s + i, 0) / n;
  const contactEvents = lengths.reduce((s, [, c]) => s + c, 0) / n;
  const wallMs = last.lastMs - t0;
  return {
    stepsPerSec: (n * K) / (wallMs / 1000),
    wallMs,
    historyPerInvoice: invoiceEvents + contactEvents,
    historySplit: [invoiceEvents, contactEvents],
    cpuPerStep: perStep(cpu0, cpu1, n * K),
    cores: coresOf(cpu0, cpu1, cpuWindowMs),
    failed: failedSoFar(stack, 'project') - failed0,
  };
}

const floorInput = (inv: BenchInvoice, firstAt: number): FloorInput => ({ invoiceNumber: inv.number, email: inv.email, steps: K, spacingMs: SPACING_S * 1000, firstAt });
const floorWorkflowId = (number: string) => `floor:${number}`;

/** The floor: N workflows started from the client, until every one has completed its K steps. */
export async function floorRun(stack: BenchStack, prefix: string, n: number): Promise<RunFigures> {
  const invoices = invoicesOf(prefix, n);
  const dueDate = today().minus({ days: 10 }).toISODate()!;
  await intoErp(stack, invoices, dueDate, today().minus({ days: 40 }).toISODate()!);
  stack.mail.clear();
  const cpu0 = cpuNow(stack, 'floor');
  const failed0 = failedSoFar(stack, 'floor');
  const t0 = Date.now();
  const handles = await pool(invoices, CONCURRENCY, (inv) =>
    stack.client.workflow.start('floorDunning', { workflowId: floorWorkflowId(inv.number), taskQueue: FLOOR_TASK_QUEUE, args: [floorInput(inv, 0)] }),
  );
  const done = await Promise.all(handles.map((h) => h.result() as Promise<number>)); // throws when one failed
  await sleep(1000); // as for the project
  const cpu1 = cpuNow(stack, 'floor');
  const cpuWindowMs = Date.now() - t0;
  check(done.every((d) => d === K), `${prefix}: ${done.filter((d) => d !== K).length} floor workflows did not run ${K} steps`);
  const mails = stack.mail.messages().filter((m) => m.envelopeTo.some((to) => to.startsWith(prefix.toLowerCase())));
  check(mails.length === n * K, `${prefix}: ${mails.length} floor mails at the SMTP peer, expected ${n * K}`);
  const described = await pool(handles, 20, (h) => h.describe());
  check(described.every((d) => d.status.name === 'COMPLETED'), `${prefix}: a floor workflow is not completed`);
  const wallMs = Math.max(...described.map((d) => d.closeTime!.getTime())) - t0;
  const history = described.reduce((s, d) => s + d.historyLength, 0) / n;
  return { stepsPerSec: (n * K) / (wallMs / 1000), wallMs, historyPerInvoice: history, cpuPerStep: perStep(cpu0, cpu1, n * K), cores: coresOf(cpu0, cpu1, cpuWindowMs), failed: failedSoFar(stack, 'floor') - failed0 };
}

interface Burst {
  /** Until every enrollment (start) was answered. */
  answeredMs: number;
  /** Until every first step was planned (first workflow task completed). */
  plannedMs: number;
  rssPerWorkflow: number;
  idleRss: number;
}

/** A fresh project worker, then `n` invoices enrolled at once, each idle on its first step 61 days ahead. */
async function projectIdle(stack: BenchStack, prefix: string, n: number): Promise<Burst> {
  const invoices = invoicesOf(prefix, n);
  const dueDate = today().plus({ days: 60 }).toISODate()!;
  const issueDate = today().toISODate()!;
  await intoErp(stack, invoices, dueDate, issueDate);
  await stack.restart('project');
  await sleep(2000);
  const idleRss = await settledRss(stack.pids.project);
  const t0 = Date.now();
  await enroll(stack, invoices, dueDate, issueDate);
  const answeredMs = Date.now() - t0;
  let planned = { n: 0, lastMs: 0 };
  await until(`${prefix}: ${n} first steps planned`, async () => (planned = await auditCount(stack, prefix, 'enrolled')).n >= n || `${planned.n} planned`, 180_000);
  await sleep(2000);
  const rss = await settledRss(stack.pids.project);
  return { answeredMs, plannedMs: planned.lastMs - t0, rssPerWorkflow: (rss - idleRss) / n, idleRss };
}

/** A fresh floor worker, then `n` floor workflows started at once, each idle on a timer 30 days long. */
async function floorIdle(stack: BenchStack, prefix: string, n: number): Promise<Burst> {
  const invoices = invoicesOf(prefix, n);
  await stack.restart('floor');
  await sleep(2000);
  const idleRss = await settledRss(stack.pids.floor);
  const firstAt = Date.now() + 30 * 86_400_000;
  const t0 = Date.now();
  const handles = await pool(invoices, CONCURRENCY, (inv) =>
    stack.client.workflow.start('floorDunning', { workflowId: floorWorkflowId(inv.number), taskQueue: FLOOR_TASK_QUEUE, args: [floorInput(inv, firstAt)] }),
  );
  const answeredMs = Date.now() - t0;
  // Each history's first WorkflowTaskCompleted: when the worker had run the workflow up to its timer.
  const completedAt = new Map<string, number>();
  const firstTaskDone = (history: History) => history.events?.find((e) => e.workflowTaskCompletedEventAttributes);
  const look = (some: typeof handles) =>
    pool(some, 10, async (h) => {
      const done = firstTaskDone(await h.fetchHistory());
      if (done) completedAt.set(h.workflowId, msOf(done.eventTime));
    });
  // Light on the server while the worker works: only the last started ones are watched, the rest swept once they are done.
  await until(`${prefix}: ${n} first workflow tasks`, async () => {
    const open = handles.filter((h) => !completedAt.has(h.workflowId));
    await look(open.slice(-10));
    if (open.slice(-10).every((h) => completedAt.has(h.workflowId))) await look(open.slice(0, -10));
    return completedAt.size >= n || `${completedAt.size} done`;
  }, 180_000, 500);
  await sleep(2000);
  const rss = await settledRss(stack.pids.floor);
  return { answeredMs, plannedMs: Math.max(...completedAt.values()) - t0, rssPerWorkflow: (rss - idleRss) / n, idleRss };
}

export const bench: Bench = {
  timeoutMs: 12 * 60_000,
  async run() {
    check(Number.isInteger(N) && N > 0 && Number.isInteger(SPACING_S) && SPACING_S > 0 && RUNS >= 1, 'BENCH_N, BENCH_STEP_SECONDS and BENCH_RUNS must be positive integers');
    const started = Date.now();
    const load = () => os.loadavg()[0]!.toFixed(1);
    const loadAtStart = load();
    const stack = await startBenchStack({ steps: K, spacingSeconds: SPACING_S });
    const phase = (what: string) => console.log(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${what}`);
    try {
      phase('stack up: PostgreSQL, Temporal dev server (in memory), SMTP peer, ERP simulator, API, project worker, floor worker');
      // Warm-up (not counted): JIT, the workers' first workflow tasks, connection pools.
      await floorRun(stack, 'WF-', WARM_UP);
      await projectRun(stack, 'WP-', WARM_UP);
      phase(`warmed up (${WARM_UP} invoices each)`);

      const floor: RunFigures[] = [];
      const project: RunFigures[] = [];
      for (let r = 1; r <= RUNS; r++) {
        floor.push(await floorRun(stack, `R${r}F-`, N));
        phase(`run ${r}: floor ${fmt(floor.at(-1)!.stepsPerSec)} steps/s`);
        project.push(await projectRun(stack, `R${r}P-`, N));
        phase(`run ${r}: project ${fmt(project.at(-1)!.stepsPerSec)} steps/s`);
      }

      const floorIdleRun = await floorIdle(stack, 'IF-', IDLE);
      const projectIdleRun = await projectIdle(stack, 'IP-', IDLE);
      phase(`${IDLE} idle workflows each`);
      const floorBurst = await floorIdle(stack, 'BF-', BURST);
      phase(`floor burst of ${BURST}`);
      const projectBurst = await projectIdle(stack, 'BP-', BURST);
      phase(`project burst of ${BURST}`);

      // No workflow of the run failed, timed out or was terminated (invoices stay open, floors complete).
      const failed = await stack.client.workflow.count(`ExecutionStatus = 'Failed' OR ExecutionStatus = 'TimedOut' OR ExecutionStatus = 'Terminated'`);
      check(failed.count === 0, `${failed.count} workflows failed, timed out or were terminated`);

      const ratios = (f: (x: RunFigures) => number) => project.map((p, i) => f(p) / f(floor[i]!));
      const col = (xs: RunFigures[], f: (x: RunFigures) => number) => spread(xs.map(f));
      const throughput = ratios((x) => x.stepsPerSec);
      const history = ratios((x) => x.historyPerInvoice);
      const timerBound = (K - 1) * SPACING_S;
      table(
        `dev-server: project vs bare-Temporal floor, ${N} invoices × ${K} steps ${SPACING_S} s apart, ${RUNS} runs each (median (min–max); ratio: project / floor of the same run); ` +
          `machine load average ${loadAtStart} at the start, ${load()} now, on ${os.cpus().length} cores`,
        [
          ['figure', 'floor', 'project', 'ratio', 'target', ''],
          ['steps/s', col(floor, (x) => x.stepsPerSec), col(project, (x) => x.stepsPerSec), spread(throughput), '≥ 0.8× floor', mark(median(throughput) >= 0.8)],
          [`  wall, first start to last step (timers alone: ${timerBound} s)`, `${col(floor, (x) => x.wallMs / 1000)} s`, `${col(project, (x) => x.wallMs / 1000)} s`, '', '', ''],
          ['history events per invoice', col(floor, (x) => x.historyPerInvoice), col(project, (x) => x.historyPerInvoice), spread(history), '≤ 1.5× floor', mark(median(history) <= 1.5)],
          ['  invoice workflow + contact workflow', '', `${col(project, (x) => x.historySplit![0])} + ${col(project, (x) => x.historySplit![1])}`, '', '', ''],
          ['worker CPU per step', `${col(floor, (x) => x.cpuPerStep.worker)} ms`, `${col(project, (x) => x.cpuPerStep.worker)} ms`, spread(ratios((x) => x.cpuPerStep.worker)), '', ''],
          ['  worker, Temporal server busy (CPU / wall, cores)', `${col(floor, (x) => x.cores.worker)}, ${col(floor, (x) => x.cores.temporal)}`, `${col(project, (x) => x.cores.worker)}, ${col(project, (x) => x.cores.temporal)}`, '', '', ''],
          ['  failed activity attempts and workflow tasks (retried)', col(floor, (x) => x.failed), col(project, (x) => x.failed), '', '', ''],
          ['Temporal server CPU per step', `${col(floor, (x) => x.cpuPerStep.temporal)} ms`, `${col(project, (x) => x.cpuPerStep.temporal)} ms`, spread(ratios((x) => x.cpuPerStep.temporal)), '', ''],
          ['API CPU per step', '', `${col(project, (x) => x.cpuPerStep.api)} ms`, '', '', ''],
          ['PostgreSQL CPU per step', '', `${col(project, (x) => x.cpuPerStep.postgres)} ms`, '', '', ''],
        ],
      );
      const heapMiB = v8.getHeapStatistics().heap_size_limit / 2 ** 20;
      const cacheSize = Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10); // the SDK's default maxCachedWorkflows
      table(`memory: worker RSS per cached workflow, idle on a long timer (fresh worker each; SDK default cache ≈ ${fmt(cacheSize)} workflows)`, [
        ['open workflows', 'floor', 'project', 'target', ''],
        [`${IDLE}`, mib(floorIdleRun.rssPerWorkflow), mib(projectIdleRun.rssPerWorkflow), '≤ 1 MiB', mark(projectIdleRun.rssPerWorkflow <= 2 ** 20)],
        [`${BURST}`, mib(floorBurst.rssPerWorkflow), mib(projectBurst.rssPerWorkflow), '≤ 1 MiB', mark(projectBurst.rssPerWorkflow <= 2 ** 20)],
        ['idle worker RSS before', `${mib(floorIdleRun.idleRss)}, ${mib(floorBurst.idleRss)}`, `${mib(projectIdleRun.idleRss)}, ${mib(projectBurst.idleRss)}`, '', ''],
      ]);
      table(`burst: ${BURST} enrollments (floor: workflow starts), at most ${CONCURRENCY} at a time`, [
        ['', 'floor', 'project', 'target', ''],
        ['all answered', `${fmt(floorBurst.answeredMs / 1000)} s`, `${fmt(projectBurst.answeredMs / 1000)} s`, '', ''],
        ['all first steps planned', `${fmt(floorBurst.plannedMs / 1000)} s`, `${fmt(projectBurst.plannedMs / 1000)} s`, '≤ 20 s', mark(projectBurst.plannedMs <= 20_000)],
      ]);
      for (const which of ['floor', 'project'] as const) {
        const f = stack.failures[which];
        if (f.first) console.log(`\n  ${which} worker: ${f.activity} failed activity attempts, ${f.workflowTask} failed workflow tasks in the whole bench; the first:\n    ${f.first}`);
      }
      console.log(
        `\n  checked: every invoice ran ${K} steps (${EXPECTED_STEPS.join(', ')}), exactly N×3 mails per project run (N×${K} per floor run), every first step planned, no workflow failed`,
      );
    } catch (err) {
      console.error(`\nlast lines of the API and workers:\n${stack.tails().join('\n')}`);
      throw err;
    }
  },
};
