/** Shared by the benchmarks: timing, number formatting and a compact table. No Temporal imports here. */

export interface Bench {
  /** Prints its figures; throws when the code it measures misbehaves, so that `npm run bench` fails. */
  run(): Promise<void>;
  /** Fails the benchmark when it has not finished by then (default 3 minutes). */
  timeoutMs?: number;
}

const teardowns: (() => Promise<void>)[] = [];
/** Registers cleanup (a server to stop) for when the benchmark is done: run.ts calls `teardown`. */
export const onTeardown = (fn: () => Promise<void>) => void teardowns.push(fn);
export const teardown = () => Promise.all(teardowns.splice(0).map((fn) => fn()));

/** Wall time of `fn`, in milliseconds. */
export async function timed<T>(fn: () => T | Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  const result = await fn();
  return [result, performance.now() - t0];
}

/**
 * Runs `batch(run)`, which does `opsPerRun` operations, once to warm up and then `runs` times;
 * the median run gives ops/s and µs/op.
 */
export function opsPerSecond(opsPerRun: number, batch: (run: number) => unknown, runs = 5) {
  batch(0);
  const ms = Array.from({ length: runs }, (_, run) => {
    const t0 = performance.now();
    batch(run);
    return performance.now() - t0;
  }).sort((a, b) => a - b);
  const median = ms[Math.floor(runs / 2)]!;
  return { opsPerSec: (opsPerRun / median) * 1000, usPerOp: (median * 1000) / opsPerRun, spread: `${fmt(ms[0]!)}–${fmt(ms[runs - 1]!)} ms` };
}

/** Three significant digits at most, thousands separated: 12,345 / 123 / 12.3 / 1.23. */
export function fmt(n: number): string {
  const digits = Math.abs(n) >= 100 ? 0 : Math.abs(n) >= 10 ? 1 : 2;
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

export const mib = (bytes: number) => `${fmt(bytes / 2 ** 20)} MiB`;

/** Prints `rows` with left-aligned first column and right-aligned others, under a title. */
export function table(title: string, rows: (string | number)[][]): void {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : c)));
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  console.log(`\n${title}`);
  for (const r of cells) console.log('  ' + r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '));
}

/** Deterministic pseudo-random numbers in [0, 1), so every run measures the same inputs. */
export function seededRandom(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A benchmark that silently measures broken code is worthless: fail the run instead. */
export function check(ok: boolean, message: string): asserts ok {
  if (!ok) throw new Error(`bench check failed: ${message}`);
}
