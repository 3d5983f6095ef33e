import { check, fmt, mib, table, timed, type Bench } from './harness';
import { checkFullCadence, invoiceRun } from './temporal';

const N = Number(process.env.BENCH_WORKFLOWS ?? 200);

/** The worker runs in this process (run.ts gives each benchmark its own, with --expose-gc): its memory is ours. */
const memory = () => {
  globalThis.gc?.();
  return { ...process.memoryUsage(), peakRss: process.resourceUsage().maxRSS * 1024 };
};

export const bench: Bench = {
  timeoutMs: 60_000 + 200 * N,
  async run() {
    check(Number.isInteger(N) && N > 0, `BENCH_WORKFLOWS must be a positive integer, got ${process.env.BENCH_WORKFLOWS}`);
    const run = await invoiceRun(N);
    const mem = [memory()];
    const phases: [string, number, number][] = []; // name, ms, activity calls
    const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const before = run.calls.length;
      const [result, ms] = await timed(fn);
      phases.push([name, ms, run.calls.length - before]);
      return result;
    };

    await run.worker.runUntil(async () => {
      const handles = await phase(`start ${N} workflows`, run.start);
      await phase('30 simulated days', () => run.env.sleep('30 days'));
      // The simulated days did the work measured: every invoice ran its 4 steps before the payments.
      checkFullCadence(await run.state(handles), 'active');
      mem.push(memory());
      const results = await phase('pay and close', () => run.close(handles));
      checkFullCadence(results, 'paid');
      mem.push(memory());
    });

    const totalMs = phases.reduce((sum, [, ms]) => sum + ms, 0);
    table(`workflow-throughput: ${N} standard-cadence invoices on the time-skipping server (checked: 4 steps each after 30 days, all paid at the end)`, [
      ['phase', 'wall', 'workflows/s', 'activity calls', 'calls/s'],
      ...phases.map(([name, ms, calls]) => [name, `${fmt(ms)} ms`, '', fmt(calls), fmt((calls / ms) * 1000)]),
      ['total', `${fmt(totalMs)} ms`, fmt((N / totalMs) * 1000), fmt(run.calls.length), fmt((run.calls.length / totalMs) * 1000)],
    ]);
    table('worker process memory after a GC (heap: main thread only; workflow sandboxes run in worker threads, in rss)', [
      ['', 'before start', `after 30 days (${N} open)`, 'after close'],
      ...(['rss', 'heapUsed', 'heapTotal', 'external', 'peakRss'] as const).map((k) => [k, ...mem.map((m) => mib(m[k]))]),
    ]);
  },
};
