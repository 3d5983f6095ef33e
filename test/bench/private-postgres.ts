import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocalPostgres } from '../../dev/postgres';
import { freePort } from '../../dev/process';
import { migrate } from '../../db/migrate';
import { createSql, type Db, type Sql } from '../../db/sql';
import { onTeardown } from './harness';

/**
 * A PostgreSQL cluster of the bench's own (not durable, in a throw-away folder), migrated, with a pool of `max`
 * connections; stopped by the harness's teardown after whatever `beforeStop` returns (an app to close first).
 */
export async function startBenchDatabase(name: string, opts: { max?: number } = {}): Promise<{ sql: Sql; url: string; beforeStop(fn: () => Promise<void>): void }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `bench-${name}-`));
  const pg = await startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), databases: ['bench'], durable: false });
  const sql = createSql(pg.url('bench'), { max: opts.max ?? 4 });
  const first: (() => Promise<void>)[] = [];
  onTeardown(async () => {
    for (const fn of first) await fn();
    await sql.end();
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await migrate(sql);
  return { sql, url: pg.url('bench'), beforeStop: (fn) => void first.push(fn) };
}

/** The tenant's reporting zone and its collectors col-0 … col-(n-1), as the report benches seed them (triggers off in `tx`). */
export async function seedTenantCollectors(tx: Db, tenant: string, collectors: number): Promise<void> {
  await tx`insert into report_settings (tenant_id, time_zone) values (${tenant}, 'Europe/Berlin')`;
  await tx`insert into users (tenant_id, user_id, name, role)
           select ${tenant}, 'col-' || g, 'Collector ' || g, 'collector' from generate_series(0, ${collectors - 1}) g`;
}
