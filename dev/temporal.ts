import path from 'node:path';
import { existsSync } from 'node:fs';
import { Connection } from '@temporalio/client';
import { startService, waitFor } from './process';
import { SEARCH_ATTRIBUTES } from '../workflows/messages';

export const TOOLS_BIN = path.resolve(__dirname, '..', '.tools', 'bin');

export function toolPath(name: 'temporal' | 'temporal-test-server'): string {
  const exe = path.join(TOOLS_BIN, name);
  if (!existsSync(exe)) throw new Error(`${exe} is missing: run scripts/setup`);
  return exe;
}

/** Temporal's dev server (the official CLI), with our search attributes registered at start. */
export async function startTemporalDevServer(opts: { port: number; uiPort?: number; dbFile?: string; namespace: string }) {
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(opts.port), '--namespace', opts.namespace, '--log-level', 'error'];
  args.push(...(opts.uiPort ? ['--ui-port', String(opts.uiPort)] : ['--headless']));
  if (opts.dbFile) args.push('--db-filename', opts.dbFile);
  for (const key of SEARCH_ATTRIBUTES) args.push('--search-attribute', `${key.name}=Keyword`);
  const service = startService('temporal', toolPath('temporal'), args, { quiet: true });
  const address = `127.0.0.1:${opts.port}`;
  await waitFor(
    'Temporal dev server',
    async () => {
      const connection = await Connection.connect({ address, connectTimeout: 1000 });
      try {
        await connection.workflowService.describeNamespace({ namespace: opts.namespace });
      } finally {
        await connection.close();
      }
    },
    60_000,
    service.child,
  );
  // The pid lets a test stop the server without ending it (SIGSTOP: a hung Temporal) and let it go on (SIGCONT).
  return { address, uiUrl: opts.uiPort ? `http://127.0.0.1:${opts.uiPort}` : undefined, pid: service.child.pid!, stop: () => service.stop('SIGTERM', 15_000) };
}
