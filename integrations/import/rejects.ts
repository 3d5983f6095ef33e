import { importJob, rejectedRows } from '../../db/imports';
import type { Db } from '../../db/sql';

/**
 * The reject file of an import: the rejected rows as CSV lines (with their line ends), under the file's own header
 * followed by `row` (the row number in the file) and `reason` (each column's problem). Read from the per-row report,
 * a thousand rows at a time; the same for the CLI (--rejects <file>) and the API (GET /imports/:id/rejects).
 */

/** One CSV cell, quoted when it holds a quote, a separator (',' or ';') or a line end. */
export const csvCell = (v: unknown) => {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\r\n;]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export async function* rejectFileLines(db: Db, tenantId: string, importId: number): AsyncGenerator<string> {
  const header = (await importJob(db, tenantId, importId))?.header ?? [];
  yield `${[...header, 'row', 'reason'].map(csvCell).join(',')}\n`;
  for await (const r of rejectedRows(db, importId)) {
    const cells = [...(r.cells ?? [])];
    while (cells.length < header.length) cells.push('');
    yield `${[...cells, r.rowNumber, r.issues.map((i) => `${i.column}: ${i.reason}`).join('; ')].map(csvCell).join(',')}\n`;
  }
}
