/**
 * Benchmarks: `npm run bench` runs them all, `npm run bench -- schedule history-size` picks some.
 * They print figures, and fail (exit 1) only when the code they measure misbehaves.
 * BENCH_WORKFLOWS=1000 changes the number of workflows of workflow-throughput (default 200).
 *
 * Each benchmark runs in a child process of its own (with --expose-gc), so that memory figures are
 * its own; the workflow code is bundled once, here, so that the bundler's memory is in none of them.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { teardown, type Bench } from './harness';

// Loaded lazily: the pure benchmark does not load Temporal's worker.
const BENCHES: Record<string, { temporal?: true; load: () => Promise<{ bench: Bench }> }> = {
  schedule: { load: () => import('./schedule.bench') },
  'api-load': { load: () => import('./api-load.bench') },
  'workflow-throughput': { temporal: true, load: () => import('./workflow-throughput.bench') },
  'history-size': { temporal: true, load: () => import('./history-size.bench') },
  // Starts its own stack (PostgreSQL, Temporal dev server, API and worker processes): no bundle of run.ts's.
  'dev-server': { load: () => import('./dev-server.bench') },
  // Starts its own PostgreSQL: a generated 100k-row CSV and XLSX through the importer.
  import: { load: () => import('./import.bench') },
  // Starts a Tryton of its own, seeded with 10,000 invoices (minutes the first time, cached in .tools/tryton-db/).
  'tryton-sync': { load: () => import('./tryton-sync.bench') },
  // Starts its own stack (PostgreSQL, Temporal dev server, API and worker processes): 10,000 invoices synced from the simulator.
  'erp-sync': { load: () => import('./erp-sync.bench') },
  // 100,000 open ledger items and 2,000 queued payments in PostgreSQL: a page of the unapplied-cash queue with its suggestions.
  'unapplied-cash': { load: () => import('./unapplied-cash.bench') },
  // Its own PostgreSQL: 200,000 receivables and a year of activities, promises, disputes and approvals; the activity reports timed.
  'activity-reports': { load: () => import('./activity-reports.bench') },
  // Its own PostgreSQL: 1,000,000 ledger invoices over 36 months; aging, DSO and CEI timed over real HTTP beside a floor.
  reports: { load: () => import('./reports.bench') },
  // No database: an aging-shaped table of 1,000 to 50,000 rows as CSV and XLSX (reports/formats.ts).
  'report-formats': { load: () => import('./report-formats.bench') },
  // Its own PostgreSQL: 10,000 customers, 200,000 receivables (50,000 enrolled): GET /customers, a customer, timelines, the invoice list's filters.
  portfolio: { load: () => import('./portfolio.bench') },
  // The dev-server bench's stack: the project's throughput with metrics and tracing off and on (issue 15), beside the floor.
  telemetry: { load: () => import('./telemetry.bench') },
  // Its own PostgreSQL and the API in process over HTTP, Debian's chromium: the worklist (200 tasks) and a customer (100 invoices) pages (issue 14).
  console: { load: () => import('./console.bench') },
};

/** Runs one benchmark; a hang (a workflow that never closes) fails it after its time limit instead of blocking the run. */
async function runChild(name: string) {
  const { bench } = await BENCHES[name]!.load();
  const limitMs = bench.timeoutMs ?? 180_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([bench.run(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no result after ${limitMs / 1000} s`)), limitMs)))]);
  } catch (err) {
    console.error(`\n${name}:`, err);
    process.exitCode = 1;
  } finally {
    clearTimeout(timer);
    await teardown();
  }
  if (process.exitCode) process.exit(); // a worker still polling would keep a failed run alive
}

/** The bundle the workflow tests use (their globalSetup builds it): path handed to the children. */
async function bundleWorkflows(): Promise<string> {
  const { default: setup } = await import('../support/setup-workflow');
  const provided: Record<string, string> = {};
  await setup({ provide: (key: string, value: string) => (provided[key] = value) } as unknown as Parameters<typeof setup>[0]);
  return provided.workflowBundlePath!;
}

async function main() {
  if (process.env.BENCH_CHILD) return runChild(process.env.BENCH_CHILD);
  const names = process.argv.length > 2 ? process.argv.slice(2) : Object.keys(BENCHES);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')}; choose from: ${Object.keys(BENCHES).join(', ')}`);
  const cpus = os.cpus();
  console.log(`node ${process.version} · ${cpus[0]?.model ?? 'unknown CPU'} · ${cpus.length} cores · ${os.platform()}/${os.arch()}`);

  const env: NodeJS.ProcessEnv = { ...process.env };
  if (names.some((n) => BENCHES[n]!.temporal)) env.BENCH_WORKFLOW_BUNDLE = await bundleWorkflows();
  const failed = names.filter((name) => {
    const t0 = performance.now();
    const { status } = spawnSync(process.execPath, [...process.execArgv, '--expose-gc', __filename], { stdio: 'inherit', env: { ...env, BENCH_CHILD: name } });
    console.log(status === 0 ? `  (${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)` : `\n${name} FAILED (exit ${status})`);
    return status !== 0;
  });
  if (env.BENCH_WORKFLOW_BUNDLE) rmSync(path.dirname(env.BENCH_WORKFLOW_BUNDLE), { recursive: true, force: true });
  if (failed.length) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
