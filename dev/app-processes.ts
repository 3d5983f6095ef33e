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

export async function startApi(env: AppEnv, opts: { quiet?: boolean } = {}): Promise<Service & { url: string }> {
  const service = startService('api', process.execPath, entry('api/server'), { env: { ...process.env, ...env }, cwd: ROOT, quiet: opts.quiet });
  const url = `http://${env.API_HOST ?? '127.0.0.1'}:${env.API_PORT ?? '3000'}`;
  await waitFor('API', async () => {
    const res = await fetch(`${url}/health`);
    if (!res.ok) throw new Error(`health ${res.status}`);
  }, 60_000, service.child);
  return { ...service, url };
}

export function startWorker(env: AppEnv, opts: { quiet?: boolean } = {}): Service {
  return startService('worker', process.execPath, entry('worker/main'), { env: { ...process.env, ...env }, cwd: ROOT, quiet: opts.quiet });
}

/** What worker/main.ts prints once it polls its task queue. */
export const WORKER_READY = /worker polling task queue/;
