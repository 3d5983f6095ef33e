import { check, fmt, mib, table, timed, type Bench } from './harness';
import { CALLS_PER_FULL_RUN, checkPaidAfterFullCadence, invoiceRun } from './temporal';

const N = Number(process.env.BENCH_WORKFLOWS ?? 200);

/** The worker runs in this process: its memory is ours. */
const memory = () => ({ ...process.memoryUsage(), peakRss: process.resourceUsage().maxRSS * 1024 });

export const bench: Bench = {
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
      check(run.calls.length === N * (CALLS_PER_FULL_RUN - 2), `${run.calls.length} activity calls after 30 days, expected ${N * (CALLS_PER_FULL_RUN - 2)}`);
      mem.push(memory());
      const results = await phase('pay and close', async () => {
        await run.pay(handles);
        return Promise.all(handles.map((h) => h.result()));
      });
      checkPaidAfterFullCadence(results);
      mem.push(memory());
    });
    check(run.calls.length === N * CALLS_PER_FULL_RUN, `${run.calls.length} activity calls, expected ${N * CALLS_PER_FULL_RUN}`);

    const totalMs = phases.reduce((sum, [, ms]) => sum + ms, 0);
    table(`workflow-throughput: ${N} standard-cadence invoices on the time-skipping server (all ended paid after 4 steps)`, [
      ['phase', 'wall', 'workflows/s', 'activity calls', 'calls/s'],
      ...phases.map(([name, ms, calls]) => [name, `${fmt(ms)} ms`, '', fmt(calls), fmt((calls / ms) * 1000)]),
      ['total', `${fmt(totalMs)} ms`, fmt((N / totalMs) * 1000), fmt(run.calls.length), fmt((run.calls.length / totalMs) * 1000)],
    ]);
    table('worker process memory (in-process worker, client and fakes)', [
      ['', 'before start', `after 30 days (${N} open)`, 'after close'],
      ...(['rss', 'heapUsed', 'heapTotal', 'external', 'peakRss'] as const).map((k) => [k, ...mem.map((m) => mib(m[k]))]),
    ]);
  },
};
