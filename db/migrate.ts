import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Sql } from './sql';

/**
 * Forward-only migrations: numbered plain SQL files (001_name.sql, no gaps), all pending ones applied
 * in one transaction under an advisory lock, so that several processes starting at once stay safe.
 */
export const MIGRATIONS_DIR = path.resolve(__dirname, 'migrations');
const LOCK_ID = 7_262_001;

export interface Migration {
  version: number;
  name: string;
  file: string;
}

export async function listMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return files.map((file, i) => {
    const match = /^(\d+)_([a-z0-9_]+)\.sql$/.exec(file);
    if (!match) throw new Error(`migration file "${file}" must be named NNN_name.sql`);
    const version = Number(match[1]);
    if (version !== i + 1) throw new Error(`migration "${file}" should be number ${i + 1}: no gaps, no duplicates`);
    return { version, name: match[2]!, file: path.join(dir, file) };
  });
}

/** Applies pending migrations; returns the versions applied. */
export async function migrate(sql: Sql, dir = MIGRATIONS_DIR): Promise<number[]> {
  const migrations = await listMigrations(dir);
  return sql.begin(async (tx) => {
    await tx`select pg_advisory_xact_lock(${LOCK_ID})`;
    await tx`create table if not exists schema_migrations (
      version int primary key, name text not null, applied_at timestamptz not null default now())`;
    const applied = new Set((await tx<{ version: number }[]>`select version from schema_migrations`).map((r) => r.version));
    const pending = migrations.filter((m) => !applied.has(m.version));
    for (const m of pending) {
      await tx.unsafe(await readFile(m.file, 'utf8'));
      await tx`insert into schema_migrations (version, name) values (${m.version}, ${m.name})`;
    }
    return pending.map((m) => m.version);
  });
}

if (require.main === module) {
  // Imported lazily so that importing migrate() never requires a valid environment.
  void (async () => {
    const { loadEnvOrExit } = await import('../config/env');
    const { createSql } = await import('./sql');
    const sql = createSql(loadEnvOrExit().DATABASE_URL, { max: 1 });
    try {
      const done = await migrate(sql);
      console.log(done.length ? `applied migrations ${done.join(', ')}` : 'database schema is up to date');
    } catch (err) {
      console.error(`migration failed: ${(err as Error).message}`);
      process.exitCode = 1;
    } finally {
      await sql.end();
    }
  })();
}
