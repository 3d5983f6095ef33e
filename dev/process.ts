import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import net from 'node:net';

/** Small helpers for starting the local stand-ins (PostgreSQL, Temporal) as child processes. */

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T>, timeoutMs: number, child?: ChildProcess): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`${what}: process exited (${child.signalCode ?? `code ${child.exitCode}`})`);
    try {
      return await probe();
    } catch (err) {
      lastError = err;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  throw new Error(`${what} not ready after ${timeoutMs} ms: ${(lastError as Error)?.message ?? 'no answer'}`);
}

/**
 * Listeners given every chunk each service started from now on writes (tests that read the processes' logs, quiet or
 * not: test/e2e/logs.e2e.test.ts). Add before starting, delete when done.
 */
export const outputTaps = new Set<(service: string, stream: 'stdout' | 'stderr', chunk: string) => void>();

export interface Service {
  name: string;
  child: ChildProcess;
  /** Asks the process to stop, then kills it after `graceMs`. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<void>;
}

/**
 * Starts a process in its own process group, so a Ctrl-C in the terminal reaches only the launcher,
 * which then stops services in order. Output lines are prefixed with the service name.
 */
export function startService(name: string, command: string, args: string[], options: SpawnOptions & { quiet?: boolean } = {}): Service {
  const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const seen = () => {
    lastOutputAt = Date.now();
  };
  child.stdout?.on('data', seen);
  child.stderr?.on('data', seen);
  const tap = (stream: 'stdout' | 'stderr') => (c: Buffer) => {
    for (const listener of outputTaps) listener(name, stream, c.toString());
  };
  child.stdout?.on('data', tap('stdout'));
  child.stderr?.on('data', tap('stderr'));
  const prefix = (chunk: Buffer) =>
    chunk
      .toString()
      .split('\n')
      .filter(Boolean)
      .map((line) => `[${name}] ${line}\n`)
      .join('');
  if (!options.quiet) {
    child.stdout?.on('data', (c: Buffer) => process.stdout.write(prefix(c)));
    child.stderr?.on('data', (c: Buffer) => process.stderr.write(prefix(c)));
  } else {
    child.stdout?.resume();
    child.stderr?.resume();
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      if (child.pid) process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
  };
  liveServices.add(killGroup);
  child.once('exit', () => liveServices.delete(killGroup));
  return {
    name,
    child,
    async stop(signal = 'SIGTERM', graceMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      killGroup(signal);
      const timer = setTimeout(() => killGroup('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

let lastOutputAt = 0;

/** Resolves when the service prints a line matching `pattern`; rejects when it exits first or after `timeoutMs`. */
export function waitForOutput(service: Service, pattern: RegExp, timeoutMs: number): Promise<void> {
  const { child } = service;
  return new Promise((resolve, reject) => {
    let seen = '';
    const done = (err?: Error) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve();
    };
    const onData = (chunk: Buffer) => {
      seen = (seen + chunk.toString()).slice(-10_000);
      if (pattern.test(seen)) done();
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null) => done(new Error(`${service.name} exited (${signal ?? `code ${code}`}) before it was ready`));
    const timer = setTimeout(() => done(new Error(`${service.name} not ready after ${timeoutMs} ms`)), timeoutMs);
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    if (child.exitCode !== null || child.signalCode !== null) onExit(child.exitCode, child.signalCode);
  });
}

/**
 * Resolves once no service has printed anything for `quietMs` (at most after `maxMs`): what is printed
 * next, such as the main job's banner, then stays on screen instead of scrolling away under log lines.
 */
export async function outputSettled(quietMs = 1_500, maxMs = 15_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (Date.now() < deadline && Date.now() - lastOutputAt < quietMs) await new Promise((r) => setTimeout(r, 100));
}

// If the launcher itself dies, its services must not outlive it.
const liveServices = new Set<(signal: NodeJS.Signals) => void>();
process.once('exit', () => liveServices.forEach((kill) => kill('SIGKILL')));
