import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The main job as `./scripts/start` runs it (`node --import tsx dev/main.ts`, after scripts/setup), in
 * its own process, with its state in a temporary folder of its own: for tests of the whole local stack.
 */
export const ROOT = path.resolve(__dirname, '..', '..');

export interface Banner {
  api: string;
  temporalAddress?: string;
  mail?: string;
  erp?: string;
  databaseUrl?: string;
  /** The web console's address, and each demo user's console password, as the banner prints them. */
  console?: string;
  passwords: Record<string, string>;
}

export interface MainJob {
  child: ChildProcess;
  dataDir: string;
  /** Everything printed so far, stdout and stderr interleaved as they arrived. */
  output(): string;
  /** Resolves when the output matches (checked on every chunk); rejects when the job exits first or after timeoutMs. */
  waitForOutput(pattern: RegExp, timeoutMs: number, from?: number): Promise<RegExpExecArray>;
  /** The banner's URLs, once it is printed. */
  banner(timeoutMs?: number): Promise<Banner>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Ctrl-C (SIGINT), as a user stops it; SIGKILL after graceMs. Removes the data folder. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startMainJob(opts: { args?: string[]; env?: Record<string, string | undefined>; dataDir?: string } = {}): MainJob {
  const dataDir = opts.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'main-job-'));
  const env: NodeJS.ProcessEnv = { ...process.env, DEV_DATA_DIR: dataDir, ...opts.env };
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dev', 'main.ts'), ...(opts.args ?? [])], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    if (process.env.MAIN_JOB_VERBOSE) process.stderr.write(chunk);
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      for (const listener of listeners) listener();
      resolve({ code, signal });
    }),
  );

  const waitForOutput = (pattern: RegExp, timeoutMs: number, from = 0) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const match = pattern.exec(text.slice(from));
        if (match) return finish(() => resolve(match));
        if (child.exitCode !== null || child.signalCode !== null)
          finish(() => reject(new Error(`the main job exited (${child.signalCode ?? child.exitCode}) before printing ${pattern}; its output:\n${tail(text)}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms; the main job's output:\n${tail(text)}`))), timeoutMs);
      const finish = (settle: () => void) => {
        clearTimeout(timer);
        listeners.delete(check);
        settle();
      };
      listeners.add(check);
      check();
    });

  return {
    child,
    dataDir,
    output: () => text,
    waitForOutput,
    exited,
    async banner(timeoutMs = 240_000) {
      await waitForOutput(/Dunning orchestrator is running\.[\s\S]*?\n\n/, timeoutMs);
      const banner = text.slice(text.indexOf('Dunning orchestrator is running.'));
      const field = (re: RegExp) => re.exec(banner)?.[1];
      return {
        api: field(/^ {2}API +(\S+)/m)!,
        temporalAddress: field(/^ {2}Temporal +(\d[\d.]*:\d+)/m),
        mail: field(/^ {2}Caught mail +(http\S+?)\/messages/m),
        erp: field(/^ {2}ERP +(http\S+)/m),
        databaseUrl: field(/^ {2}PostgreSQL +(postgres\S+)/m),
        console: field(/^ {2}Web console +(http\S+)/m),
        passwords: Object.fromEntries([...banner.matchAll(/^ {4}([a-z][a-z0-9._-]*) +\S+ +(?:\S+ +)?(\S+-demo-pass) /gm)].map((m) => [m[1]!, m[2]!])),
      };
    },
    async stop(graceMs = 60_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGINT');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      }
      if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
      return exited;
    },
  };
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * A main job on free ports, up to its banner. A port found free can be taken by another process before the
 * API binds it (other test runs share this machine): such a start (EADDRINUSE) is tried again, on new ports.
 */
export async function startMainJobOnFreePorts(opts: Parameters<typeof startMainJob>[0] = {}, attempts = 3): Promise<{ job: MainJob; banner: Banner }> {
  for (let attempt = 1; ; attempt++) {
    const job = startMainJob({ ...opts, args: ['--free-ports', ...(opts.args ?? [])] });
    try {
      return { job, banner: await job.banner() };
    } catch (err) {
      await job.stop();
      if (attempt >= attempts || !/EADDRINUSE/.test(job.output())) throw err;
    }
  }
}
