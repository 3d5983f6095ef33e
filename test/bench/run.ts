/**
 * Benchmarks: `npm run bench` runs them all, `npm run bench -- schedule history-size` picks some.
 * They print figures; they fail (exit 1) only when the code they measure misbehaves.
 * BENCH_WORKFLOWS=1000 changes the number of workflows of workflow-throughput (default 200).
 */
import os from 'node:os';
import { teardown, type Bench } from './harness';

// Loaded lazily: the pure benchmark does not load Temporal's worker.
const BENCHES: Record<string, () => Promise<{ bench: Bench }>> = {
  schedule: () => import('./schedule.bench'),
  'workflow-throughput': () => import('./workflow-throughput.bench'),
  'history-size': () => import('./history-size.bench'),
};

async function main() {
  const names = process.argv.slice(2);
  const unknown = names.filter((n) => !(n in BENCHES));
  if (unknown.length) throw new Error(`unknown bench ${unknown.join(', ')}; choose from: ${Object.keys(BENCHES).join(', ')}`);
  const cpus = os.cpus();
  console.log(`node ${process.version} · ${cpus[0]?.model ?? 'unknown CPU'} · ${cpus.length} cores · ${os.platform()}/${os.arch()}`);
  let failed = 0;
  try {
    for (const name of names.length ? names : Object.keys(BENCHES)) {
      const t0 = performance.now();
      try {
        await (await BENCHES[name]!()).bench.run();
        console.log(`  (${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
      } catch (err) {
        failed++;
        console.error(`\n${name} FAILED:`, err);
      }
    }
  } finally {
    await teardown();
  }
  if (failed) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
