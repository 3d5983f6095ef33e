import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { freePort } from '../../dev/process';
import { startLocalPostgres } from '../../dev/postgres';
import { migrate } from '../../db/migrate';
import { createSql } from '../../db/sql';
import { findHeader } from '../../domain/imports/presets';
import { interpretRow } from '../../domain/imports/rows';
import { createImport, runImport, type ImportRequest, type ImportResult } from '../../integrations/import/importer';
import { readRows, type FileFormat } from '../../integrations/import/readers';
import { check, fmt, mib, onTeardown, seededRandom, table, type Bench } from './harness';

/**
 * Bulk import at scale (issue 12 §3): a generated 100,000-row export in the project's own template, as CSV and as
 * XLSX, imported into a fresh ledger (all created), then the CSV again (all unchanged). Beside each: the floor measured
 * in the same run (the file only read and every row interpreted, no database), and the RSS the process grew by while
 * importing (sampled every 20 ms above what it held before), against the file's size: the rows stream, the file is
 * never held in memory.
 */

const ROWS = Number(process.env.BENCH_IMPORT_ROWS ?? 100_000);
const HEADER = ['invoice_number', 'customer_id', 'customer_name', 'email', 'country', 'currency', 'amount', 'open_amount', 'issue_date', 'due_date', 'settled_date', 'status'];

function* generatedRows(): Generator<string[]> {
  const random = seededRandom(12);
  const currencies = ['EUR', 'USD', 'GBP', 'JPY', 'CHF'];
  for (let i = 0; i < ROWS; i++) {
    const currency = currencies[i % currencies.length]!;
    const whole = 10 + Math.floor(random() * 90_000);
    const amount = currency === 'JPY' ? `${whole}` : `${whole}.${String(Math.floor(random() * 100)).padStart(2, '0')}`;
    const paid = random() < 0.3;
    const month = 1 + (i % 12);
    const issue = `2026-${String(month).padStart(2, '0')}-01`;
    const due = `2026-${String(month).padStart(2, '0')}-28`;
    const customer = `C-${i % 2000}`;
    yield [`B-${String(i).padStart(7, '0')}`, customer, `Customer ${i % 2000}`, `ap${i % 2000}@example.com`, 'DE', currency, amount, paid ? '0' : amount, issue, due, paid ? due : '', paid ? 'paid' : 'open'];
  }
}

async function writeCsv(file: string) {
  const out = createWriteStream(file);
  for (const line of [HEADER, ...generatedRows()]) if (!out.write(`${line.join(',')}\n`)) await once(out, 'drain');
  out.end();
  await once(out, 'finish');
}

async function writeXlsx(file: string) {
  const wb = new ExcelJS.stream.xlsx.WorkbookWriter({ filename: file, useSharedStrings: false, useStyles: false });
  const ws = wb.addWorksheet('AR');
  ws.addRow(HEADER).commit();
  for (const r of generatedRows()) ws.addRow(r).commit();
  ws.commit();
  await wb.commit();
}

/** Both files, written by a child process of their own (so that generating them is in none of the memory figures). */
export async function generateFiles(dir: string) {
  await writeCsv(path.join(dir, 'ar.csv'));
  await writeXlsx(path.join(dir, 'ar.xlsx'));
}

/** The floor: the file read and each row interpreted, nothing written. */
async function readOnly(file: string, format: FileFormat) {
  const t0 = performance.now();
  let rows = 0;
  let match: ReturnType<typeof findHeader> | undefined;
  for await (const r of readRows(file, format)) {
    if (!match) {
      match = findHeader([r.cells.map(String)]);
      continue;
    }
    if (match.ok && interpretRow(r.cells, match.layout, match.columns).kind === 'record') rows++;
  }
  return { rows, rowsPerSecond: rows / ((performance.now() - t0) / 1000) };
}

/** Runs `fn` while sampling RSS; answers its result and how far RSS rose above where it stood before. */
async function withPeakRss<T>(fn: () => Promise<T>): Promise<[T, number]> {
  global.gc?.();
  const base = process.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    return [await fn(), peak - base];
  } finally {
    clearInterval(timer);
  }
}

export const bench: Bench = {
  timeoutMs: 20 * 60_000,
  async run() {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dunning-import-bench-'));
    const stops: (() => Promise<unknown>)[] = [];
    onTeardown(async () => {
      for (const stop of stops.reverse()) await stop().catch((err: unknown) => console.error('teardown:', err));
      rmSync(dir, { recursive: true, force: true });
    });
    const pg = await startLocalPostgres({ dataDir: path.join(dir, 'pg'), port: await freePort(), databases: ['dunning_bench'], durable: false });
    stops.push(pg.stop);
    const sql = createSql(pg.url('dunning_bench'), { max: 4 });
    stops.push(() => sql.end({ timeout: 5 }));
    await migrate(sql);

    const csv = path.join(dir, 'ar.csv');
    const xlsx = path.join(dir, 'ar.xlsx');
    const generated = spawnSync(process.execPath, [...process.execArgv, '-e', `require(${JSON.stringify(__filename)}).generateFiles(${JSON.stringify(dir)})`], { stdio: 'inherit', env: process.env });
    check(generated.status === 0, `generating the files failed (exit ${generated.status})`);
    console.log(`  ${fmt(ROWS)} rows: CSV ${mib(statSync(csv).size)}, XLSX ${mib(statSync(xlsx).size)}`);

    const importOnce = async (tenantId: string, file: string): Promise<[ImportResult, number]> => {
      const req: ImportRequest = { tenantId, filePath: file, fileName: path.basename(file), mode: 'all_or_nothing', requestedBy: 'bench', erpKind: 'ledger' };
      const id = await createImport(sql, req);
      return withPeakRss(() => runImport(sql, id, req));
    };

    const [csvFloor, csvFloorRss] = await withPeakRss(() => readOnly(csv, 'csv'));
    const [xlsxFloor, xlsxFloorRss] = await withPeakRss(() => readOnly(xlsx, 'xlsx'));
    check(csvFloor.rows === ROWS && xlsxFloor.rows === ROWS, `the floor read ${csvFloor.rows} CSV and ${xlsxFloor.rows} XLSX rows of ${ROWS}`);

    const [first, firstRss] = await importOnce('bench-csv', csv);
    check(first.status === 'succeeded' && first.created === ROWS, `first CSV import: ${JSON.stringify(first)}`);
    const [again, againRss] = await importOnce('bench-csv', csv);
    check(again.status === 'succeeded' && again.unchanged === ROWS && again.created === 0 && again.updated === 0, `re-import: ${JSON.stringify(again)}`);
    const [fromXlsx, xlsxRss] = await importOnce('bench-xlsx', xlsx);
    check(fromXlsx.status === 'succeeded' && fromXlsx.created === ROWS, `XLSX import: ${JSON.stringify(fromXlsx)}`);

    table(`import of ${fmt(ROWS)} rows (own template; target: streamed, RSS far below the file's rows in memory)`, [
      ['run', 'seconds', 'rows/s', 'RSS growth', 'floor rows/s (read + interpret only)', 'floor RSS growth'],
      ['CSV, first import (all created)', first.seconds, first.rowsRead / first.seconds, mib(firstRss), csvFloor.rowsPerSecond, mib(csvFloorRss)],
      ['CSV, re-import (all unchanged)', again.seconds, again.rowsRead / again.seconds, mib(againRss), csvFloor.rowsPerSecond, mib(csvFloorRss)],
      ['XLSX, first import (all created)', fromXlsx.seconds, fromXlsx.rowsRead / fromXlsx.seconds, mib(xlsxRss), xlsxFloor.rowsPerSecond, mib(xlsxFloorRss)],
    ]);
    console.log(`  this process's peak RSS over the whole run (getrusage maxRSS; the files were generated by another): ${mib(process.resourceUsage().maxRSS * 1024)}`);
  },
};
