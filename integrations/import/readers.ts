import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { parse as csvParse } from 'csv-parse';
import ExcelJS from 'exceljs';

/**
 * Streaming readers of the exports: a CSV through csv-parse, an XLSX through exceljs' streaming WorkbookReader
 * (first worksheet). Rows come one at a time, never the whole file in memory; `onBytes` reports how far into the
 * file the reader is (for rows per second and an ETA). A cell is text, or a number from an XLSX numeric cell
 * (exact decimal text in the file, so String(n) gives it back), or an XLSX date cell as YYYY-MM-DD.
 */

export type Cell = string | number;
export interface SheetRow {
  /** 1-based: the CSV line (where the record ends) or the worksheet's row number. */
  row: number;
  cells: Cell[];
}
export type FileFormat = 'csv' | 'xlsx';

/** A file that cannot be read as its format at all (not a row's problem): the import fails with this message. */
export class UnreadableFileError extends Error {
  override readonly name = 'UnreadableFileError';
}

/** XLSX is a zip (PK\x03\x04); anything else is read as CSV. */
export async function sniffFormat(path: string): Promise<FileFormat> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.readUInt32LE(0) === 0x04034b50 ? 'xlsx' : 'csv';
  } finally {
    await handle.close();
  }
}

function counting(onBytes: (n: number) => void) {
  let total = 0;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      total += chunk.length;
      onBytes(total);
      done(null, chunk);
    },
  });
}

/** The delimiter of the first lines outside quotes: ',' ';' or tab (SAP exports in a German locale use ';'). */
export function sniffDelimiter(head: string): string {
  const counts = new Map([[',', 0], [';', 0], ['\t', 0]]);
  let quoted = false;
  let lines = 0;
  for (const ch of head) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
    else if (!quoted && ch === '\n' && ++lines >= 25) break;
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

async function readHead(path: string, bytes = 16_384): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(bytes), 0, bytes, 0);
    return buffer.subarray(0, bytesRead).toString('utf8');
  } finally {
    await handle.close();
  }
}

export async function* readCsv(path: string, onBytes: (n: number) => void = () => {}): AsyncGenerator<SheetRow> {
  const delimiter = sniffDelimiter(await readHead(path));
  const source = createReadStream(path);
  const parser = source.pipe(counting(onBytes)).pipe(csvParse({ delimiter, bom: true, relax_column_count: true, skip_empty_lines: false, info: true }));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) yield { row: info.lines, cells: record };
  } catch (err) {
    throw new UnreadableFileError(`the CSV cannot be read: ${(err as Error).message}`);
  } finally {
    source.destroy(); // left early (a header no preset fits): the file is closed now, not at the next GC
  }
}

function cellOf(value: ExcelJS.CellValue): Cell {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string' || typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString().slice(0, 10);
  if ('richText' in value) return value.richText.map((t) => t.text).join('');
  if ('formula' in value || 'sharedFormula' in value) return cellOf((value as ExcelJS.CellFormulaValue).result as ExcelJS.CellValue);
  if ('text' in value) return String(value.text);
  if ('error' in value) return String(value.error);
  return '';
}

export async function* readXlsx(path: string, onBytes: (n: number) => void = () => {}): AsyncGenerator<SheetRow> {
  const source = createReadStream(path);
  const input = source.pipe(counting(onBytes));
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, { sharedStrings: 'cache', styles: 'cache', hyperlinks: 'ignore', worksheets: 'emit', entries: 'ignore' });
  let sheets = 0;
  try {
    for await (const sheet of reader) {
      sheets++;
      for await (const row of sheet) {
        if (sheets > 1) continue; // the first worksheet only; the others are read past
        const values = row.values as ExcelJS.CellValue[];
        const cells: Cell[] = [];
        for (let c = 1; c < values.length; c++) cells.push(cellOf(values[c]));
        yield { row: row.number, cells };
      }
    }
  } catch (err) {
    throw new UnreadableFileError(`the XLSX cannot be read (truncated or not a workbook): ${(err as Error).message}`);
  } finally {
    source.destroy();
  }
  if (sheets === 0) throw new UnreadableFileError('the XLSX has no worksheet (truncated or not a workbook)');
}

export function readRows(path: string, format: FileFormat, onBytes?: (n: number) => void): AsyncGenerator<SheetRow> {
  return format === 'xlsx' ? readXlsx(path, onBytes) : readCsv(path, onBytes);
}
