import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { DemoPortfolio } from './demo-portfolio';
import { startService, waitFor } from './process';

/**
 * Tryton (trytond 8.2, a real open-source ERP) as an embedded default, like dev/temporal.ts and dev/postgres.ts:
 * scripts/setup installs it into .tools/tryton (WITH_TRYTON=1 or ERP_KIND=tryton); this module creates its
 * database, seeds it and runs `trytond` on a port, answering JSON-RPC at `${url}/${database}/rpc/`.
 *
 * Creating a database (`trytond-admin --all` with account_invoice and account_payment, then the company, fiscal
 * years and chart of accounts) takes ~15 s; it is done once into a template (.tools/tryton-db/, keyed by a hash
 * of the seed script and the fiscal years) that every run copies, then seeded with its own customers and invoices
 * by dev/tryton/seed.py in one Python process (trytond's pool, no RPC per record).
 */

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..');
export const TRYTON_VENV = path.join(ROOT, '.tools', 'tryton');
const SEED_SCRIPT = path.join(__dirname, 'tryton', 'seed.py');
const TEMPLATE_DIR = path.join(ROOT, '.tools', 'tryton-db');
/** Bump when the template's contents change in a way the seed script's text does not show. */
const TEMPLATE_VERSION = 1;

export const TRYTON_ADMIN = { user: 'admin', password: 'admin' } as const;

export function trytonBin(name: 'trytond' | 'trytond-admin' | 'python'): string {
  const exe = path.join(TRYTON_VENV, 'bin', name);
  if (!existsSync(exe)) throw new Error(`${exe} is missing: run WITH_TRYTON=1 scripts/setup`);
  return exe;
}

export function trytonInstalled(): boolean {
  return existsSync(path.join(TRYTON_VENV, 'bin', 'trytond'));
}

/** What dev/tryton/seed.py's `demo` mode creates. Amounts are decimal strings in the currency's major unit. */
export interface TrytonSeed {
  customers: {
    customerId: string;
    name: string;
    email: string | null;
    contactName?: string | null;
    country?: string | null;
    region?: string | null;
    category?: string | null;
    /** Tryton's language code (ir.lang), e.g. 'en', 'de', 'ja_JP'. */
    lang?: string | null;
  }[];
  invoices: { invoiceNumber: string; customerId: string; amount: string; issueDate: string; dueDate: string; cancelled?: boolean; description?: string }[];
  payments?: { paymentId: string; invoiceNumber: string; amount: string; date: string }[];
  creditNotes?: { invoiceNumber: string; amount: string; date: string; number: string; reason?: string }[];
  /** Receipts on the customer's receivable account that no invoice is paid with (the unapplied-cash queue). */
  unapplied?: { customerId: string; amount: string; date: string; remittance: string }[];
}

/** Minor units as the decimal string Tryton takes, exactly (no float). */
export function minorToDecimal(minor: number, digits = 2): string {
  if (!Number.isSafeInteger(minor)) throw new Error(`not an integer amount: ${minor}`);
  const sign = minor < 0 ? '-' : '';
  const abs = String(Math.abs(minor)).padStart(digits + 1, '0');
  return digits === 0 ? `${sign}${abs}` : `${sign}${abs.slice(0, -digits)}.${abs.slice(-digits)}`;
}

const TRYTON_LANGS: Record<string, string> = { en: 'en', de: 'de', ja: 'ja_JP', fr: 'fr', es: 'es', it: 'it', nl: 'nl' };

/**
 * The demo portfolio as Tryton holds it: its customers and invoices, plus what a real ledger has and the simulator
 * only schedules: a partial payment, a full payment, a credit note, a cancelled invoice and a receipt nobody could
 * match. `today` dates those postings.
 */
export function demoTrytonSeed(portfolio: DemoPortfolio): TrytonSeed {
  const today = portfolio.today;
  const invoices: TrytonSeed['invoices'] = portfolio.invoices.map((i) => ({
    invoiceNumber: i.invoiceNumber,
    customerId: i.customerId,
    amount: minorToDecimal(i.amountMinor),
    issueDate: i.invoiceDate,
    dueDate: i.dueDate,
    description: `Services (${i.paperless ? 'electronic' : 'paper'} bill)`,
  }));
  const seed: TrytonSeed = {
    customers: portfolio.customers.map((c) => ({
      customerId: c.customerId,
      name: c.name,
      email: c.email,
      contactName: 'Accounts Payable',
      country: c.country,
      region: c.region ?? null,
      category: c.paperless ? 'paperless' : 'paper',
      lang: TRYTON_LANGS[c.locale.split('-')[0]!] ?? null,
    })),
    invoices,
    payments: [],
    creditNotes: [],
    unapplied: [],
  };
  const [partial, full, credited, cancelled] = portfolio.invoices;
  if (partial) seed.payments!.push({ paymentId: 'DEMO-PAY-1', invoiceNumber: partial.invoiceNumber, amount: minorToDecimal(Math.floor(partial.amountMinor * 0.4)), date: today });
  if (full) seed.payments!.push({ paymentId: 'DEMO-PAY-2', invoiceNumber: full.invoiceNumber, amount: minorToDecimal(full.amountMinor), date: today });
  if (credited) seed.creditNotes!.push({ invoiceNumber: credited.invoiceNumber, amount: minorToDecimal(Math.floor(credited.amountMinor / 10)), date: today, number: `CN-${credited.invoiceNumber}`, reason: 'price adjustment' });
  if (cancelled && portfolio.invoices.length > 6) invoices.find((i) => i.invoiceNumber === cancelled.invoiceNumber)!.cancelled = true;
  if (partial) seed.unapplied!.push({ customerId: partial.customerId, amount: '250.00', date: today, remittance: `ACH CREDIT ${partial.customerId} REF ${partial.invoiceNumber} ${credited?.invoiceNumber ?? ''}`.trim() });
  return seed;
}

function configText(dir: string, port: number): string {
  return [
    '[database]',
    'uri = sqlite://',
    `path = ${dir}`,
    '[web]',
    `listen = 127.0.0.1:${port}`,
    '[session]',
    'authentications = password',
    // A JSON-RPC session lives for a day of inactivity (the adapter logs in again when it expires anyway).
    'max_age = 86400',
    '',
  ].join('\n');
}

async function python(args: string[], timeoutMs: number): Promise<void> {
  try {
    // -O for the bulk seed: trytond asserts over every id of a batch for each record it instantiates (quadratic).
    await run(trytonBin('python'), [...(args[0] === 'bulk' ? ['-O'] : []), SEED_SCRIPT, ...args], { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`Tryton seed (${args[0]}) failed: ${(e.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || e.message}`, { cause: err });
  }
}

/**
 * The seeded template database (company, fiscal years, chart of accounts, payment terms and methods, countries) for
 * the given fiscal years: built once, cached under .tools/tryton-db/ by a hash of what makes it.
 */
export async function trytonTemplate(years: readonly number[]): Promise<string> {
  const hash = createHash('sha256')
    .update(readFileSync(SEED_SCRIPT))
    .update(JSON.stringify({ years, TEMPLATE_VERSION }))
    .digest('hex')
    .slice(0, 16);
  const template = path.join(TEMPLATE_DIR, `template-${hash}.sqlite`);
  if (existsSync(template)) return template;
  mkdirSync(TEMPLATE_DIR, { recursive: true });
  // Built in a folder of its own, then renamed: a concurrent builder or a killed one never leaves a half template.
  const work = path.join(TEMPLATE_DIR, `building-${process.pid}-${Date.now()}`);
  mkdirSync(work, { recursive: true });
  try {
    const conf = path.join(work, 'trytond.conf');
    writeFileSync(conf, configText(work, 0));
    const passFile = path.join(work, 'pass');
    writeFileSync(passFile, `${TRYTON_ADMIN.password}\n`, { mode: 0o600 });
    writeFileSync(path.join(work, 'template.sqlite'), ''); // trytond-admin wants the SQLite file to exist
    try {
      await run(trytonBin('trytond-admin'), ['-c', conf, '-d', 'template', '--all', '-u', 'account_invoice', 'account_payment', '--activate-dependencies', '-p', '--email', 'admin@example.com'], {
        env: { ...process.env, TRYTONPASSFILE: passFile },
        timeout: 300_000,
        maxBuffer: 64 * 1024 * 1024,
      });
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new Error(`trytond-admin failed: ${(e.stderr ?? '').trim().split('\n').slice(-3).join(' | ') || e.message}`, { cause: err });
    }
    await python(['base', '--config', conf, '--database', 'template', '--years', years.join(',')], 300_000);
    renameSync(path.join(work, 'template.sqlite'), template);
    // Templates of an earlier seed script (and the bulk ledgers made from them) are of no use any more.
    for (const name of readdirSync(TEMPLATE_DIR)) {
      if (/^(template|bulk)-\w+/.test(name) && !name.includes(hash)) rmSync(path.join(TEMPLATE_DIR, name), { force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return template;
}

/** The fiscal years a ledger dated around `today` needs: the year before, this one and the next. */
export function fiscalYearsAround(today: string): number[] {
  const year = Number(today.slice(0, 4));
  return [year - 1, year, year + 1];
}

export interface TrytonServer {
  /** Server root; JSON-RPC at `${url}/${database}/rpc/`. */
  url: string;
  database: string;
  user: string;
  password: string;
  pid: number;
  stop(): Promise<void>;
}

export interface StartTrytonOptions {
  /** Folder for the SQLite database and the config; kept, so a restart finds the ledger as it was. */
  dir: string;
  port: number;
  database?: string;
  /** YYYY-MM-DD; the fiscal years cover the year before and after it. */
  today: string;
  /** Seeds a new database (never one that exists in `dir`): the demo mode's customers and invoices, or N bulk invoices. */
  seed?: TrytonSeed | { bulk: { count: number; startDate: string } };
  quiet?: boolean;
}

/** Creates (from the template) and seeds the database when `dir` has none, then starts `trytond` and waits for its JSON-RPC. */
export async function startTryton(opts: StartTrytonOptions): Promise<TrytonServer & { created: boolean }> {
  const database = opts.database ?? 'dunning';
  mkdirSync(opts.dir, { recursive: true });
  const conf = path.join(opts.dir, 'trytond.conf');
  writeFileSync(conf, configText(opts.dir, opts.port));
  const dbFile = path.join(opts.dir, `${database}.sqlite`);
  const created = !existsSync(dbFile);
  const bulk = opts.seed && 'bulk' in opts.seed ? opts.seed.bulk : undefined;
  const template = created ? await trytonTemplate(fiscalYearsAround(opts.today)) : undefined;
  // A bulk ledger (minutes to post) is kept beside the template it was made from, and copied on the next run.
  const bulkCache = bulk && template ? template.replace(/template-(\w+)\.sqlite$/, `bulk-$1-${bulk.count}-${bulk.startDate}.sqlite`) : undefined;
  if (created && bulkCache && existsSync(bulkCache)) {
    copyFileSync(bulkCache, `${dbFile}.copying`);
    renameSync(`${dbFile}.copying`, dbFile);
  } else if (created && template) {
    const partial = `${dbFile}.seeding`;
    copyFileSync(template, partial);
    try {
      // Seeded under another name, renamed when complete: a killed seed leaves no half ledger behind.
      const seedName = `${database}-seeding`;
      renameSync(partial, path.join(opts.dir, `${seedName}.sqlite`));
      if (opts.seed && 'bulk' in opts.seed) {
        await python(['bulk', '--config', conf, '--database', seedName, '--count', String(opts.seed.bulk.count), '--start-date', opts.seed.bulk.startDate], 1_800_000);
      } else if (opts.seed) {
        const file = path.join(opts.dir, 'seed.json');
        writeFileSync(file, JSON.stringify(opts.seed));
        try {
          await python(['demo', '--config', conf, '--database', seedName, '--file', file], 300_000);
        } finally {
          rmSync(file, { force: true });
        }
      }
      renameSync(path.join(opts.dir, `${seedName}.sqlite`), dbFile);
      if (bulkCache) {
        copyFileSync(dbFile, `${bulkCache}.${process.pid}`);
        renameSync(`${bulkCache}.${process.pid}`, bulkCache);
      }
    } finally {
      rmSync(partial, { force: true });
      rmSync(path.join(opts.dir, `${database}-seeding.sqlite`), { force: true });
    }
  }
  const service = startService('tryton', trytonBin('trytond'), ['-c', conf, '-d', database], { quiet: opts.quiet ?? true, env: { ...process.env, TRYTOND_LOGGING_LEVEL: '30' } });
  const url = `http://127.0.0.1:${opts.port}`;
  await waitFor(
    'Tryton',
    async () => {
      const response = await fetch(`${url}/${database}/rpc/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: 0, method: 'common.db.login', params: [TRYTON_ADMIN.user, { password: TRYTON_ADMIN.password }] }),
        signal: AbortSignal.timeout(2_000),
      });
      const body = (await response.json()) as { result?: unknown; error?: unknown };
      if (!body.result) throw new Error(`login answered ${JSON.stringify(body.error)}`);
    },
    60_000,
    service.child,
  );
  return { url, database, user: TRYTON_ADMIN.user, password: TRYTON_ADMIN.password, pid: service.child.pid!, created, stop: () => service.stop('SIGTERM', 10_000) };
}

/** A folder under the OS temp dir for a throwaway Tryton (tests, benches); the caller removes it. */
export function trytonTempDir(label: string): string {
  const dir = path.join(os.tmpdir(), `tryton-${label}-${process.pid}-${Date.now()}`);
  mkdirSync(dir, { recursive: true });
  return dir;
}
