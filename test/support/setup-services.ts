import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { freePort } from '../../dev/process';
import { startLocalPostgres } from '../../dev/postgres';
import { startTemporalDevServer } from '../../dev/temporal';
import { useRunTempDir } from './run-temp-dir';

/**
 * Real services for integration and end-to-end tests, started once per run: a throw-away PostgreSQL
 * cluster (or TEST_DATABASE_URL) and the Temporal dev server (or TEST_TEMPORAL_ADDRESS).
 */
export default async function setup(project: TestProject) {
  const releaseTempDir = useRunTempDir();
  const stops: (() => Promise<void>)[] = [];
  let dir: string | undefined;
  try {
    let databaseUrl = process.env.TEST_DATABASE_URL;
    if (!databaseUrl) {
      dir = mkdtempSync(path.join(os.tmpdir(), 'dunning-test-'));
      const pg = await startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), databases: ['dunning_test'], durable: false });
      stops.push(pg.stop);
      databaseUrl = pg.url('dunning_test');
    }
    let temporalAddress = process.env.TEST_TEMPORAL_ADDRESS;
    if (!temporalAddress) {
      const temporal = await startTemporalDevServer({ port: await freePort(), namespace: 'default' });
      stops.push(temporal.stop);
      temporalAddress = temporal.address;
    }
    project.provide('databaseUrl', databaseUrl);
    project.provide('temporalAddress', temporalAddress);
  } catch (err) {
    await Promise.all(stops.map((stop) => stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    releaseTempDir();
    throw err;
  }
  return async () => {
    await Promise.all(stops.map((stop) => stop()));
    if (dir) rmSync(dir, { recursive: true, force: true });
    releaseTempDir();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    databaseUrl: string;
    temporalAddress: string;
  }
}
