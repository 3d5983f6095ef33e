import { createWriteStream, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import { SingleBar } from 'cli-progress';
import { loadEnvOrExit } from '../config/env';
import { importReport } from '../db/imports';
import { migrate } from '../db/migrate';
import { createSql, type Sql } from '../db/sql';
import { PRESET_NAMES, type CustomMapping, type PresetName } from '../domain/imports/presets';
import { isCurrencyCode } from '../domain/money';
import { rejectFileLines } from '../integrations/import/rejects';
import { createImport, ImportRequestError, runImport, type ImportProgress, type ImportRequest, type ImportResult } from '../integrations/import/importer';

/**
 * Bulk import of an AR export (CSV or XLSX) into the ledger, against DATABASE_URL and TENANT_ID (docs/imports.md):
 *
 *   npm run import -- <file> [--preset own|sap-fbl5n|quickbooks-aging|ibm-ar] [--mapping <json file>] [--currency <ISO 4217>]
 *                            [--dry-run] [--rejects <file>]
 *
 * Without --preset or --mapping the preset is detected from the header. All or nothing by default: one rejected row
 * and nothing is stored (exit 1). With --rejects, the good rows are stored and the rejected ones written to that
 * file (the file's columns plus `reason`). --dry-run stores nothing and says per row what would happen (exit 1 when
 * a row would be rejected). Bad arguments exit 2. Progress on stderr: a bar with rows per second and ETA on a
 * terminal, a line every 5 s otherwise.
 */

export const USAGE = [
  `usage: npm run import -- <file> [--preset ${PRESET_NAMES.join('|')}] [--mapping <json file>] [--currency <code>] [--dry-run] [--rejects <file>]`,
  '  CSV or XLSX; the preset is detected from the header unless given; all or nothing unless --rejects names a file for the rejected rows',
].join('\n');

class UsageError extends Error {}

export function parseImportArgs(argv: string[]) {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        preset: { type: 'string' },
        mapping: { type: 'string' },
        currency: { type: 'string' },
        'dry-run': { type: 'boolean', default: false },
        rejects: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { help: true as const };
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'name the file to import' : `one file at a time, got ${positionals.length}`);
  const file = positionals[0]!;
  if (!existsSync(file) || !statSync(file).isFile()) throw new UsageError(`no such file: ${file}`);
  if (values.preset !== undefined && !(PRESET_NAMES as readonly string[]).includes(values.preset))
    throw new UsageError(`unknown preset ${JSON.stringify(values.preset)}; choose from ${PRESET_NAMES.join(', ')}`);
  let mapping: CustomMapping | undefined;
  if (values.mapping !== undefined) {
    try {
      mapping = JSON.parse(readFileSync(values.mapping, 'utf8')) as CustomMapping;
    } catch (err) {
      throw new UsageError(`the mapping ${values.mapping} is not readable JSON: ${(err as Error).message}`);
    }
  }
  if (values.currency !== undefined && !isCurrencyCode(values.currency)) throw new UsageError(`--currency: ${JSON.stringify(values.currency)} is not an ISO 4217 code`);
  return {
    help: false as const,
    file,
    preset: values.preset as PresetName | undefined,
    mapping,
    currency: values.currency,
    dryRun: values['dry-run'],
    rejects: values.rejects,
  };
}

/** The rejected rows as a CSV file: the file's own columns, then `row` and `reason`; answers how many. */
export async function writeRejectFile(sql: Sql, tenantId: string, importId: number, file: string): Promise<number> {
  const out = createWriteStream(file);
  let n = -1; // the header line
  for await (const line of rejectFileLines(sql, tenantId, importId)) {
    if (!out.write(line)) await once(out, 'drain');
    n++;
  }
  out.end();
  await once(out, 'finish');
  return n;
}

/**
 * How far the import is, in thousandths: reading the file (by bytes) is the first fifth, writing the ledger (by rows)
 * the rest, about as the time divides (the bench: reading and checking alone runs five to six times faster).
 */
const READ_SHARE = 200;
function permille(p: ImportProgress): number {
  if (p.phase === 'done') return 1000;
  if (p.phase !== 'writing') return p.bytesTotal > 0 ? Math.floor((READ_SHARE * p.bytesRead) / p.bytesTotal) : 0;
  return READ_SHARE + (p.rowsToWrite > 0 ? Math.floor(((1000 - READ_SHARE) * p.rowsWritten) / p.rowsToWrite) : 0);
}

function progressReporter(fileName: string) {
  if (process.stderr.isTTY) {
    const bar = new SingleBar({
      format: `${fileName} [{bar}] {percentage}% | {phase} | {rows} rows | {rate} rows/s | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      etaBuffer: 50,
    });
    let started = false;
    return {
      update(p: ImportProgress) {
        const payload = { phase: p.phase, rows: p.rowsRead, rate: Math.round(p.rowsPerSecond) };
        if (!started) {
          bar.start(1000, 0, payload);
          started = true;
        }
        bar.update(permille(p), payload);
      },
      stop: () => started && bar.stop(),
    };
  }
  let last = 0;
  return {
    update(p: ImportProgress) {
      const now = performance.now();
      if (now - last < 5_000 && p.phase !== 'done') return;
      last = now;
      const where = p.phase === 'writing' ? `${p.rowsWritten} of ${p.rowsToWrite} rows written` : `${Math.floor(p.bytesTotal > 0 ? (100 * p.bytesRead) / p.bytesTotal : 0)}% of the file read`;
      process.stderr.write(`${fileName}: ${p.phase}, ${p.rowsRead} rows, ${where}, ${Math.round(p.rowsPerSecond)} rows/s, ${Math.floor(permille(p) / 10)}% done\n`);
    },
    stop: () => undefined,
  };
}

function summary(r: ImportResult): string {
  const what = r.stored ? 'stored' : 'nothing stored';
  return (
    `${r.status === 'succeeded' ? 'done' : 'FAILED'} (import ${r.importId}, preset ${r.preset ?? '?'}): ${r.rowsRead} rows in ${r.seconds.toFixed(1)} s ` +
    `(${Math.round(r.rowsPerSecond)} rows/s); created ${r.created}, updated ${r.updated}, unchanged ${r.unchanged}, rejected ${r.rejected}, ` +
    `skipped ${r.skipped}; customers written ${r.customersWritten}; ${what}`
  );
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseImportArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }
  if (args.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const env = loadEnvOrExit();
  const sql = createSql(env.DATABASE_URL, { max: 3 });
  try {
    await migrate(sql);
    const req: ImportRequest = {
      tenantId: env.TENANT_ID,
      filePath: args.file,
      fileName: path.basename(args.file),
      ...(args.preset ? { preset: args.preset } : {}),
      ...(args.mapping ? { mapping: args.mapping } : {}),
      ...(args.currency ? { currency: args.currency } : {}),
      mode: args.dryRun ? 'dry_run' : args.rejects ? 'keep_good' : 'all_or_nothing',
      requestedBy: `cli:${process.env.USER ?? 'unknown'}`,
      erpKind: env.ERP_KIND,
    };
    let importId;
    try {
      importId = await createImport(sql, req);
    } catch (err) {
      if (err instanceof ImportRequestError) {
        process.stderr.write(`${err.message}\n`);
        return 2;
      }
      throw err;
    }
    const progress = progressReporter(req.fileName);
    let result: ImportResult;
    try {
      result = await runImport(sql, importId, req, (p) => progress.update(p));
    } finally {
      progress.stop();
    }
    if (env.ERP_KIND !== 'ledger') process.stdout.write(`ERP_KIND=${env.ERP_KIND}: the import seeds or reconciles the ledger; invoices the ERP sync wrote are left as the ERP has them\n`);
    if (args.dryRun) process.stdout.write('dry run: the counts say what would happen; nothing was stored\n');
    for (const r of await importReport(sql, importId, { outcome: 'rejected', limit: 20 }))
      process.stdout.write(`  row ${r.rowNumber}${r.invoiceNumber ? ` (${r.invoiceNumber})` : ''}: ${r.issues.map((i) => `${i.column}: ${i.reason}`).join('; ')}\n`);
    if (result.rejected > 20) process.stdout.write(`  ... and ${result.rejected - 20} more rejected rows (GET /imports/${importId}/report?outcome=rejected)\n`);
    if (args.rejects && result.rejected > 0) {
      const n = await writeRejectFile(sql, env.TENANT_ID, importId, args.rejects);
      process.stdout.write(`${n} rejected row(s) written to ${args.rejects}\n`);
    }
    process.stdout.write(`${summary(result)}\n`);
    if (result.error) process.stderr.write(`${result.error}\n`);
    return result.status === 'succeeded' && !(args.dryRun && result.rejected > 0) ? 0 : 1;
  } finally {
    await sql.end({ timeout: 5 });
  }
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`import failed: ${(err as Error).message}\n`);
      process.exit(1);
    },
  );
}
