import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { listMigrations, migrate, MIGRATIONS_DIR } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';

/**
 * migrate() against fresh databases on the test PostgreSQL server (one per test, dropped afterwards),
 * and listMigrations() against temporary folders of SQL files.
 */

const FOUNDATION = '001_foundation.sql';
const FOUNDATION_TABLES = ['audit_events', 'call_tasks', 'customers', 'invoices', 'outbound_messages', 'payments'];

/** The same server, its maintenance database: the test user may create databases there. */
function urlFor(database: string): string {
  const url = new URL(inject('databaseUrl'));
  url.pathname = `/${database}`;
  return url.toString();
}

let admin: Sql;
const databases: string[] = [];
const pools: Sql[] = [];
const dirs: string[] = [];

beforeAll(() => {
  admin = createSql(urlFor('postgres'), { max: 1 });
});

afterAll(async () => {
  await Promise.all(pools.map((p) => p.end()));
  for (const db of databases) await admin.unsafe(`drop database if exists "${db}" with (force)`);
  await admin?.end();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A new, empty database and a pool on it. */
async function freshDatabase(): Promise<{ name: string; connect(): Sql }> {
  const name = `migrations_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  await admin.unsafe(`create database "${name}"`);
  databases.push(name);
  return {
    name,
    connect() {
      const sql = createSql(urlFor(name), { max: 1 });
      pools.push(sql);
      return sql;
    },
  };
}

/** A temporary migrations folder holding the given files (content, or a path to copy). */
function migrationsDir(files: Record<string, string | { copy: string }>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'migrations-'));
  dirs.push(dir);
  for (const [name, content] of Object.entries(files)) {
    if (typeof content === 'string') writeFileSync(path.join(dir, name), content);
    else copyFileSync(content.copy, path.join(dir, name));
  }
  return dir;
}

const foundation = { copy: path.join(MIGRATIONS_DIR, FOUNDATION) };

async function appliedVersions(sql: Sql): Promise<number[]> {
  const [exists] = await sql`select to_regclass('public.schema_migrations') as t`;
  if (!exists?.t) return [];
  return (await sql<{ version: number }[]>`select version from schema_migrations order by version`).map((r) => r.version);
}

async function tables(sql: Sql): Promise<string[]> {
  return (await sql<{ table_name: string }[]>`
    select table_name from information_schema.tables where table_schema = 'public' and table_name <> 'schema_migrations' order by table_name`).map(
    (r) => r.table_name,
  );
}

describe('migrate()', () => {
  it('applies every shipped migration on a fresh database, then [] on the second run', async () => {
    const db = await freshDatabase();
    const sql = db.connect();
    const shipped = (await listMigrations()).map((m) => m.version);
    expect(shipped.slice(0, 3)).toEqual([1, 2, 3]);
    expect(await migrate(sql)).toEqual(shipped);
    expect(await tables(sql)).toEqual(expect.arrayContaining([...FOUNDATION_TABLES, 'cadence_versions', 'cadence_assignments', 'internal_notifications']));
    const rows = await sql`select version, name, applied_at from schema_migrations order by version`;
    expect(rows[0]).toEqual({ version: 1, name: 'foundation', applied_at: expect.any(Date) });
    expect(rows).toHaveLength(shipped.length);

    expect(await migrate(sql)).toEqual([]);
    expect(await appliedVersions(sql)).toEqual(shipped);
  });

  it('applies only what is pending: a later migration on top of an up-to-date schema', async () => {
    const db = await freshDatabase();
    const sql = db.connect();
    expect(await migrate(sql, migrationsDir({ [FOUNDATION]: foundation }))).toEqual([1]);
    const dir = migrationsDir({ [FOUNDATION]: foundation, '002_notes.sql': 'create table notes (id int primary key);' });
    expect(await migrate(sql, dir)).toEqual([2]);
    expect(await migrate(sql, dir)).toEqual([]);
    expect(await sql`select version, name from schema_migrations order by version`).toEqual([
      { version: 1, name: 'foundation' },
      { version: 2, name: 'notes' },
    ]);
  });

  it('lets concurrent runs from separate connections all succeed, applying each migration exactly once', async () => {
    const db = await freshDatabase();
    // A second migration that fails when run twice (plain create table, an insert into a unique key),
    // and takes a moment, so that the runs really overlap.
    const dir = migrationsDir({
      [FOUNDATION]: foundation,
      '002_counter.sql': `
        create table migration_runs (id int primary key);
        select pg_sleep(0.3);
        insert into migration_runs (id) values (1);`,
    });
    const connections = Array.from({ length: 4 }, () => db.connect());
    const results = await Promise.all(connections.map((sql) => migrate(sql, dir)));

    // Exactly one run applied everything; the others waited for the lock and found nothing to do.
    expect(results.filter((r) => r.length > 0)).toEqual([[1, 2]]);
    expect(results.filter((r) => r.length === 0)).toHaveLength(3);
    const sql = connections[0]!;
    expect(await appliedVersions(sql)).toEqual([1, 2]);
    expect(await sql`select id from migration_runs`).toEqual([{ id: 1 }]);
  });

  it('rolls a failing migration back entirely: no version row, no half-made table, earlier versions kept', async () => {
    const db = await freshDatabase();
    const sql = db.connect();
    expect(await migrate(sql, migrationsDir({ [FOUNDATION]: foundation }))).toEqual([1]);
    const dir = migrationsDir({
      [FOUNDATION]: foundation,
      '002_broken.sql': `
        create table partial_thing (id int primary key);
        alter table invoices add column broken_flag boolean;
        insert into no_such_table values (1);`,
    });
    await expect(migrate(sql, dir)).rejects.toThrow(/no_such_table/);

    expect(await appliedVersions(sql)).toEqual([1]);
    const [state] = await sql`
      select to_regclass('public.partial_thing') as partial,
             exists (select 1 from information_schema.columns where table_name = 'invoices' and column_name = 'broken_flag') as column_added`;
    expect(state).toEqual({ partial: null, column_added: false });
    // The connection is healthy afterwards, and a fixed migration then applies.
    writeFileSync(path.join(dir, '002_broken.sql'), 'create table partial_thing (id int primary key);');
    expect(await migrate(sql, dir)).toEqual([2]);
  });

  it('leaves a fresh database untouched when a migration of the first run fails (one transaction for all)', async () => {
    const db = await freshDatabase();
    const sql = db.connect();
    const dir = migrationsDir({ [FOUNDATION]: foundation, '002_broken.sql': 'create table partial_thing (id int); select 1/0;' });
    await expect(migrate(sql, dir)).rejects.toThrow(/division by zero/);
    expect(await appliedVersions(sql)).toEqual([]);
    expect(await tables(sql)).toEqual([]);
  });
});

describe('listMigrations()', () => {
  it('lists the shipped migrations in order, numbered from 1 without gaps', async () => {
    const migrations = await listMigrations();
    expect(migrations[0]).toEqual({ version: 1, name: 'foundation', file: path.join(MIGRATIONS_DIR, FOUNDATION) });
    expect(migrations.map((m) => m.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it('sorts by number and ignores files that are not .sql', async () => {
    const dir = migrationsDir({ '002_second.sql': '', '001_first.sql': '', 'README.md': '# notes', '003_third.sql': '' });
    expect((await listMigrations(dir)).map((m) => `${m.version}:${m.name}`)).toEqual(['1:first', '2:second', '3:third']);
  });

  it('refuses a gap in the numbering', async () => {
    const dir = migrationsDir({ '001_first.sql': '', '003_third.sql': '' });
    await expect(listMigrations(dir)).rejects.toThrow('migration "003_third.sql" should be number 2: no gaps, no duplicates');
  });

  it('refuses two migrations with the same number', async () => {
    const dir = migrationsDir({ '001_first.sql': '', '001_other.sql': '' });
    await expect(listMigrations(dir)).rejects.toThrow('migration "001_other.sql" should be number 2: no gaps, no duplicates');
  });

  it('refuses a numbering that does not start at 1', async () => {
    const dir = migrationsDir({ '002_second.sql': '' });
    await expect(listMigrations(dir)).rejects.toThrow(/should be number 1/);
  });

  it.each(['init.sql', '001-init.sql', '001_Init.sql', '001_add-column.sql', '001_.sql'])('refuses the badly named file %s', async (file) => {
    const dir = migrationsDir({ [file]: '' });
    await expect(listMigrations(dir)).rejects.toThrow(`migration file "${file}" must be named NNN_name.sql`);
  });

  it('refuses before touching the database: migrate() with a bad folder changes nothing', async () => {
    const db = await freshDatabase();
    const sql = db.connect();
    const dir = migrationsDir({ [FOUNDATION]: foundation, '003_skipped.sql': 'create table skipped (id int);' });
    await expect(migrate(sql, dir)).rejects.toThrow(/should be number 2/);
    expect(await appliedVersions(sql)).toEqual([]);
    expect(await tables(sql)).toEqual([]);
  });
});
