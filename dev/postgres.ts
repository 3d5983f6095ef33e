import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import path from 'node:path';
import postgres from 'postgres';
import { startService, waitFor, type Service } from './process';

/**
 * A private PostgreSQL cluster from Debian's packages, in a folder of ours, on a free port.
 * PostgreSQL refuses to run as root, so as root it runs as the `postgres` user the package creates.
 */
export interface LocalPostgres {
  port: number;
  url(database: string): string;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(path.join(root, v, 'bin', 'postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL server binaries not found under /usr/lib/postgresql: run scripts/setup (or set DATABASE_URL)');
  return path.join(root, newest, 'bin');
}

const asPostgres = ['setpriv', '--reuid=postgres', '--regid=postgres', '--init-groups', '--'];

/**
 * As root the cluster belongs to the postgres user, who must be able to reach its folder. Ours is
 * opened up (755); when a folder above it is private (a checkout in a 0700 temp dir), the cluster
 * goes to the postgres user's own /var/lib/postgresql instead, one per checkout, rather than
 * loosening the permissions of someone else's folders.
 */
function reachableDataDir(dataDir: string): string {
  const parent = path.dirname(dataDir);
  mkdirSync(parent, { recursive: true });
  chmodSync(parent, 0o755);
  try {
    execFileSync(asPostgres[0]!, [...asPostgres.slice(1), 'test', '-x', parent], { stdio: 'ignore' });
    return dataDir;
  } catch {
    const elsewhere = path.join('/var/lib/postgresql/dunning-orchestrator', createHash('sha256').update(dataDir).digest('hex').slice(0, 12), path.basename(dataDir));
    process.stderr.write(`[postgres] ${parent} is not reachable by the postgres user; keeping the cluster in ${elsewhere}\n`);
    mkdirSync(path.dirname(elsewhere), { recursive: true, mode: 0o755 });
    return elsewhere;
  }
}

export async function startLocalPostgres(opts: { dataDir: string; port: number; databases: string[]; durable: boolean }): Promise<LocalPostgres> {
  const bin = binDir();
  const asRoot = process.getuid?.() === 0;
  const run = (exe: string, args: string[]) =>
    asRoot ? [asPostgres[0]!, [...asPostgres.slice(1), path.join(bin, exe), ...args]] as const : [path.join(bin, exe), args] as const;
  const dataDir = asRoot ? reachableDataDir(opts.dataDir) : opts.dataDir;
  const socketDir = path.join(dataDir, '..', `${path.basename(dataDir)}-socket`);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  mkdirSync(socketDir, { recursive: true });
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dataDir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) {
    const [cmd, args] = run('initdb', ['-D', dataDir, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
    try {
      execFileSync(cmd, [...args], { stdio: 'pipe' });
    } catch (err) {
      throw new Error(`initdb failed: ${(err as { stderr?: Buffer }).stderr?.toString().trim() ?? (err as Error).message}`);
    }
  }
  const settings = ['-c', 'listen_addresses=127.0.0.1', '-c', `unix_socket_directories=${socketDir}`, '-c', 'max_connections=200'];
  if (!opts.durable) settings.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  const [cmd, args] = run('postgres', ['-D', dataDir, '-p', String(opts.port), ...settings]);
  const service: Service = startService('postgres', cmd, [...args], { quiet: true });
  const url = (db: string) => `postgres://postgres@127.0.0.1:${opts.port}/${db}`;
  const admin = postgres(url('postgres'), { max: 1, onnotice: () => {}, connect_timeout: 2 });
  try {
    await waitFor('PostgreSQL', () => admin`select 1`, 30_000, service.child);
    for (const db of opts.databases) {
      const [exists] = await admin`select 1 from pg_database where datname = ${db}`;
      if (!exists) await admin.unsafe(`create database "${db.replace(/"/g, '""')}"`);
    }
  } finally {
    await admin.end();
  }
  // SIGINT is PostgreSQL's "fast" shutdown: sessions end, data is flushed.
  return { port: opts.port, url, stop: () => service.stop('SIGINT', 20_000) };
}
