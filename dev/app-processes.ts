import path from 'node:path';
import { startService, waitFor, type Service } from './process';

/**
 * Starts the API and the worker as their own processes, exactly as they run in production,
 * from sources (tsx) or from the build (dist/). Used by the main command and the end-to-end tests.
 */
const ROOT = path.resolve(__dirname, '..');
const fromBuild = path.basename(ROOT) === 'dist';

function entry(file: 'api/server' | 'worker/main'): string[] {
  return fromBuild ? [path.join(ROOT, `${file}.js`)] : ['--import', 'tsx', path.join(ROOT, `${file}.ts`)];
}

export type AppEnv = Record<string, string>;

export const apiUrl = (env: AppEnv) => `http://${env.API_HOST ?? '127.0.0.1'}:${env.API_PORT ?? '3000'}`;

/** Starts the API process without waiting for it (see apiReady). */
export function spawnApi(env: AppEnv, opts: { quiet?: boolean } = {}): Service {
  return startService('api', process.execPath, entry('api/server'), { env: { ...process.env, ...env }, cwd: ROOT, quiet: opts.quiet });
}

/** Resolves once the API answers /health; rejects when its process exits first or after 60 s. */
export async function apiReady(service: Service, env: AppEnv): Promise<void> {
  const url = apiUrl(env);
  await waitFor('API', async () => {
    const res = await fetch(`${url}/health`);
    if (!res.ok) throw new Error(`health ${res.status}`);
  }, 60_000, service.child);
}

export async function startApi(env: AppEnv, opts: { quiet?: boolean } = {}): Promise<Service & { url: string }> {
  const service = spawnApi(env, opts);
  try {
    await apiReady(service, env);
  } catch (err) {
    await service.stop('SIGKILL', 0); // not left running behind a failed start
    throw err;
  }
  return { ...service, url: apiUrl(env) };
}

export function startWorker(env: AppEnv, opts: { quiet?: boolean } = {}): Service {
  return startService('worker', process.execPath, entry('worker/main'), { env: { ...process.env, ...env }, cwd: ROOT, quiet: opts.quiet });
}

/** What worker/main.ts prints once it polls its task queue. */
export const WORKER_READY = /worker polling task queue/;
