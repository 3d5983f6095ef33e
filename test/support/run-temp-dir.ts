import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A temporary folder of this test run's own, and the check that the run leaves nothing in it.
 *
 * The global setups call `useRunTempDir()` first: it creates `<tmp>/dunning-test-run-<pid>-XXXXXX` and
 * points TMPDIR at it, which the test processes (forked after every global setup ran) and what they
 * start inherit, so `os.tmpdir()` and `mkdtemp` land there. Other runs on the same machine, other
 * people's and other agents', have folders of their own: only what this run created is looked at.
 * When the last global teardown releases it, anything still in it is reported (by name, with the
 * reason) and fails the run (exit code 1), then the folder goes. Run folders of runs that died
 * (their process is gone) are removed at the next start.
 */
export const RUN_DIR_PREFIX = 'dunning-test-run-';

/** Kept by tools between runs, not created by the tests: tsx's compile cache is shared with the machine's. */
const TOOL_CACHE = /^tsx(-\d+)?$/;

interface Run {
  dir: string;
  previousTmpdir: string | undefined;
  users: number;
}

// Each project's global setup is loaded as a module of its own: the run is shared through globalThis.
const RUN = Symbol.for('dunning-orchestrator.test-run-temp-dir');
const shared = globalThis as { [RUN]?: Run };

/** Counted: the folder is checked and removed when every user has released it. */
export function useRunTempDir(): () => void {
  let run = shared[RUN];
  if (!run) {
    const base = os.tmpdir();
    removeAbandoned(base);
    const dir = mkdtempSync(path.join(base, `${RUN_DIR_PREFIX}${process.pid}-`));
    chmodSync(dir, 0o755); // run as root, the tests' PostgreSQL (the postgres user) keeps its cluster inside
    const cache = path.join(base, `tsx-${os.userInfo().uid}`);
    mkdirSync(cache, { recursive: true });
    symlinkSync(cache, path.join(dir, path.basename(cache)));
    run = shared[RUN] = { dir, previousTmpdir: process.env.TMPDIR, users: 0 };
    process.env.TMPDIR = dir;
  }
  const current = run;
  current.users++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--current.users > 0) return;
    delete shared[RUN];
    if (current.previousTmpdir === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = current.previousTmpdir;
    const left = leftBehind(current.dir);
    rmSync(current.dir, { recursive: true, force: true });
    if (left.length) {
      const message = [
        `This test run left ${left.length} temporary folder(s) or file(s) behind in ${current.dir} (now removed):`,
        ...left.map((name) => `  ${name}`),
        'Each test removes what it creates in os.tmpdir() (afterAll, onTestFinished, a global teardown).',
      ].join('\n');
      process.exitCode = 1; // vitest reports the error below but would not fail the run for it
      throw new Error(message);
    }
  };
}

/** What is in the run's folder, apart from tool caches. */
export function leftBehind(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => !TOOL_CACHE.test(name))
    .sort();
}

function removeAbandoned(base: string): void {
  for (const name of readdirSync(base)) {
    const match = new RegExp(`^${RUN_DIR_PREFIX}(\\d+)-`).exec(name);
    if (!match || alive(Number(match[1]))) continue;
    rmSync(path.join(base, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
