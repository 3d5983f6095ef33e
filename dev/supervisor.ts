import type { Service } from './process';

/**
 * Keeps one of the main job's own processes (the API, the worker) running: when it exits without
 * being asked to, it is started again after a delay that doubles with each failure (1 s, 2 s, 4 s...,
 * at most 30 s), with a log line each time; after `maxFailures` unexpected exits within `windowMs`
 * (5 within 60 s) it gives up loudly, and the caller stops everything and exits non-zero.
 *
 * The first start is not retried: a process that cannot come up at all is a start-up error, reported
 * as one (`ready` rejects). A restarted process counts as back once `ready` resolves; one that exits,
 * or is not ready in time (then it is killed), before that is another failure.
 */
export interface SupervisorOptions {
  /** Resolves once a started process does its job (answers its health check, polls its queue). */
  ready?: (service: Service) => Promise<void>;
  maxFailures?: number;
  windowMs?: number;
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Where restart lines go (default: standard output). */
  log?: (line: string) => void;
  /** Called once, when the supervisor gives up, with a message naming the process and the failures, for the caller to report. */
  onGiveUp: (message: string) => void;
}

export interface Supervised {
  readonly name: string;
  /** The first start: resolves when it is ready, rejects when it exits (or is not ready) first. */
  readonly firstReady: Promise<void>;
  /** The process running now, if any. */
  current(): Service | undefined;
  restarts(): number;
  /** Stops supervising (no more restarts), then stops the process. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

export function supervise(name: string, spawn: () => Service, options: SupervisorOptions): Supervised {
  const {
    ready = async () => undefined,
    maxFailures = 5,
    windowMs = 60_000,
    initialBackoffMs = 1_000,
    maxBackoffMs = 30_000,
    log = (line: string) => console.log(line),
    onGiveUp,
  } = options;
  let service: Service | undefined;
  let stopping = false;
  let restartTimer: NodeJS.Timeout | undefined;
  let restarts = 0;
  const failures: number[] = [];

  function failed(how: string): void {
    const now = Date.now();
    failures.push(now);
    while (failures[0]! <= now - windowMs) failures.shift();
    if (failures.length >= maxFailures) {
      stopping = true;
      onGiveUp(`[supervisor] the ${name} failed ${failures.length} times within ${seconds(windowMs)} (last: ${how}): giving up`);
      return;
    }
    const delay = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (failures.length - 1));
    log(`[supervisor] the ${name} ${how}; restarting it in ${seconds(delay)} (failure ${failures.length} of ${maxFailures} allowed within ${seconds(windowMs)})`);
    restartTimer = setTimeout(() => {
      restartTimer = undefined;
      if (!stopping) void run('restart');
    }, delay);
  }

  function run(attempt: 'first' | 'restart'): Promise<void> {
    const svc = spawn();
    service = svc;
    const startedAt = Date.now();
    log(`[supervisor] the ${name} ${attempt === 'first' ? 'starts' : 'is restarting'} (pid ${svc.child.pid})`);
    let isUp = false;
    let notReady: string | undefined;
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
      if (service === svc) service = undefined;
      if (stopping || (attempt === 'first' && !isUp)) return; // asked to stop, or a start-up error (firstReady rejects)
      const how = notReady ?? (signal ? `was killed by ${signal}` : `exited with code ${code}`);
      failed(`${how} after ${seconds(Date.now() - startedAt)}`);
    };
    if (svc.child.exitCode !== null || svc.child.signalCode !== null) setImmediate(() => onExit(svc.child.exitCode, svc.child.signalCode));
    else svc.child.once('exit', onExit);
    return ready(svc).then(
      () => {
        isUp = true;
        if (attempt === 'restart') {
          restarts++;
          log(`[supervisor] the ${name} is back (pid ${svc.child.pid}, restart ${restarts})`);
        }
      },
      async (err: Error) => {
        if (attempt === 'first') {
          await svc.stop('SIGKILL', 0);
          throw err;
        }
        // Not ready in time, or gone already: its exit counts as the failure.
        if (svc.child.exitCode === null && svc.child.signalCode === null) {
          notReady = `was not ready (${err.message}), so it was killed`;
          await svc.stop('SIGKILL', 0);
        }
      },
    );
  }

  const firstReady = run('first');
  return {
    name,
    firstReady,
    current: () => service,
    restarts: () => restarts,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      stopping = true;
      if (restartTimer) clearTimeout(restartTimer);
      restartTimer = undefined;
      await service?.stop(signal, graceMs);
    },
  };
}
