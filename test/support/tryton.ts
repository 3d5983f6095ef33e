import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../../dev/process';
import { startTryton, trytonInstalled, type TrytonSeed, type TrytonServer } from '../../dev/tryton';

/**
 * A real Tryton for a test file: its own SQLite copy of the cached template (.tools/tryton-db/, built on the first
 * run, ~15-40 s), seeded with `seed` and served on a free port. Never skipped: without Tryton installed the test
 * fails and says how to install it (CI's scripts/test installs it through scripts/setup with WITH_TRYTON=1).
 */
export async function startTestTryton(opts: { seed: TrytonSeed | { bulk: { count: number; startDate: string } }; today: string }): Promise<TrytonServer & { close(): Promise<void> }> {
  if (!trytonInstalled()) throw new Error('Tryton is not installed: run WITH_TRYTON=1 scripts/setup (scripts/test does)');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tryton-'));
  try {
    const server = await startTryton({ dir, port: await freePort(), today: opts.today, seed: opts.seed });
    return {
      ...server,
      close: async () => {
        await server.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
