import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** What the bench reads of a process from /proc (Linux): CPU time and resident memory. */

let ticksPerSecond: number | undefined;
const clockTicks = () => (ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100);

/** The fields of /proc/<pid>/stat after the command name (which may hold spaces): index 0 is field 3 (state). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime of the process (all its threads), in ms. */
export function cpuMs(pid: number): number {
  const f = statFields(pid);
  return ((Number(f[11]) + Number(f[12])) * 1000) / clockTicks();
}

/** utime + stime of the process and of its children, the live ones and those it has waited for (cutime + cstime), in ms. */
export function treeCpuMs(pid: number): number {
  const f = statFields(pid);
  let ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const child = statFields(Number(entry));
      if (Number(child[1]) === pid) ticks += Number(child[11]) + Number(child[12]);
    } catch {
      // gone meanwhile
    }
  }
  return (ticks * 1000) / clockTicks();
}

/** VmRSS of the process, in bytes. */
export function rssBytes(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for process ${pid}`);
  return Number(match[1]) * 1024;
}

/**
 * VmRSS once it holds still (two readings a second apart within 1 MiB, at most `maxMs`): a worker that
 * has just bundled its workflow code or run a burst of tasks is still growing or handing pages back.
 */
export async function settledRss(pid: number, maxMs = 10_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = rssBytes(pid);
  for (;;) {
    await sleep(1000);
    const now = rssBytes(pid);
    if (Math.abs(now - last) < 2 ** 20 || Date.now() > deadline) return now;
    last = now;
  }
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it answers true; throws naming `what` (and the last answer's note) at the deadline. */
export async function until(what: string, probe: () => Promise<boolean | string>, timeoutMs: number, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const answer = await probe();
    if (answer === true) return;
    if (Date.now() > deadline) throw new Error(`${what}: not done after ${timeoutMs / 1000} s${typeof answer === 'string' ? ` (${answer})` : ''}`);
    await sleep(everyMs);
  }
}
