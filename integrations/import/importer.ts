import { stat } from 'node:fs/promises';
import { appendAuditEvent } from '../../db/audit-events';
import {
  appendImportRows,
  createImportJob,
  createStaging,
  erpOwnedInvoices,
  finishImportJob,
  stagedBatch,
  stageRows,
  startImportJob,
  takeStagedDuplicates,
  updateImportProgress,
  upsertLedgerCustomers,
  type ImportCounts,
  type ImportMode,
  type ImportPhase,
  type ErpOwnedInvoice,
  type ImportReportRow,
  type StagedRow,
} from '../../db/imports';
import { upsertLedgerInvoices } from '../../db/ledger';
import type { Sql } from '../../db/sql';
import { findHeader, HEADER_SEARCH_ROWS, PRESETS, customLayout, withCurrency, type CustomMapping, type ImportLayout, type PresetName } from '../../domain/imports/presets';
import { customMappingSchema } from '../../domain/imports/presets';
import { fingerprint, interpretRow, type ImportedInvoice } from '../../domain/imports/rows';
import { readRows, sniffFormat, UnreadableFileError, type FileFormat, type SheetRow } from './readers';

/**
 * One import of one file into the ledger (ledger_invoices through db/ledger.ts, ledger_customers), for the CLI and
 * the API alike. Two passes inside one transaction: the file is streamed, each row interpreted through its preset
 * (domain/imports) and the good ones staged in a temporary table, a thousand at a time; then duplicates are settled
 * (an invoice number given twice with different data: every one of its rows rejected; identical: counted once) and
 * the staged rows are written to the ledger in batches of a thousand. The transaction commits only for a real run
 * with no rejected row (all_or_nothing) or with rejects allowed (keep_good); a dry run always rolls back, after
 * having found out per row what would have been created, updated or left unchanged. The per-row report is written
 * outside the transaction, so that it stays when nothing is stored.
 */

export interface ImportRequest {
  tenantId: string;
  filePath: string;
  /** As the user named it (the upload's file name). */
  fileName: string;
  format?: FileFormat;
  /** A preset; none (and no mapping): detected from the header. */
  preset?: PresetName;
  /** A custom column mapping instead of a preset (checked with customMappingSchema). */
  mapping?: CustomMapping;
  /** The currency of files that name none (QuickBooks: default USD). */
  currency?: string;
  mode: ImportMode;
  requestedBy: string;
  /** The ERP connection in force; with one connected (not 'ledger'), invoices the ERP sync wrote are not overwritten. */
  erpKind: string;
}

export interface ImportProgress {
  importId: number;
  phase: ImportPhase;
  rowsRead: number;
  bytesRead: number;
  bytesTotal: number;
  rowsPerSecond: number;
  /** Writing: rows written to the ledger so far, of rowsToWrite (the good rows, duplicates settled). */
  rowsWritten: number;
  rowsToWrite: number;
}

export interface ImportResult extends ImportCounts {
  importId: number;
  status: 'succeeded' | 'failed';
  stored: boolean;
  preset: string | null;
  error: string | null;
  rowsRead: number;
  rowsPerSecond: number;
  seconds: number;
}

/** A mapping or option that is wrong before the file is even opened: a 400 / exit 2. */
export class ImportRequestError extends Error {
  override readonly name = 'ImportRequestError';
}

const BATCH = 1_000;
const PROGRESS_EVERY_MS = 1_000;

/** The layout a request asks for (undefined: detect it), or ImportRequestError. */
export function layoutOf(req: Pick<ImportRequest, 'preset' | 'mapping' | 'currency'>): ImportLayout | undefined {
  if (req.preset && req.mapping) throw new ImportRequestError('give a preset or a mapping, not both');
  if (req.mapping) {
    const parsed = customMappingSchema.safeParse(req.mapping);
    if (!parsed.success) throw new ImportRequestError(`invalid mapping: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(mapping)'}: ${i.message}`).join('; ')}`);
    return withCurrency(customLayout(parsed.data), req.currency);
  }
  return req.preset ? withCurrency(PRESETS[req.preset], req.currency) : undefined;
}

/** Creates the job (status queued) and answers its id; `runImport` then does the work. */
export async function createImport(sql: Sql, req: ImportRequest): Promise<number> {
  layoutOf(req);
  const format = req.format ?? (await sniffFormat(req.filePath));
  const { size } = await stat(req.filePath);
  return createImportJob(sql, {
    tenantId: req.tenantId,
    fileName: req.fileName,
    format,
    preset: req.mapping ? 'custom' : (req.preset ?? null),
    mode: req.mode,
    requestedBy: req.requestedBy,
    erpKind: req.erpKind,
    bytesTotal: size,
  });
}

class Rollback extends Error {}

/** Why an ERP's invoice is left as it is, and where the file disagrees with it (a reconciliation). */
function erpWins(erpKind: string, erp: ErpOwnedInvoice, file: ImportedInvoice): string {
  const fields = [
    ['customer', erp.customerId, file.customerId],
    ['currency', erp.currency, file.currency],
    ['amount', erp.amountMinor, file.amountMinor],
    ['open amount', erp.openAmountMinor, file.openAmountMinor],
    ['status', erp.status, file.status],
    ['due date', erp.dueDate, file.dueDate],
  ] as const;
  const differ = fields.filter(([, a, b]) => a !== b).map(([name, a, b]) => `${name} ${a} in the ERP, ${b} in the file`);
  return `the ERP (${erpKind}) holds this invoice and its word wins: not overwritten by an import; ${differ.length ? `the file differs: ${differ.join(', ')}` : 'the file agrees'}`;
}

/**
 * Runs the job: never throws for the file's own problems (an unreadable file, a header no preset fits: the job
 * fails with the message); a database failure fails the job and is thrown.
 */
export async function runImport(sql: Sql, importId: number, req: ImportRequest, onProgress: (p: ImportProgress) => void = () => {}): Promise<ImportResult> {
  const t0 = performance.now();
  const format = req.format ?? (await sniffFormat(req.filePath));
  const { size: bytesTotal } = await stat(req.filePath);
  const counts: ImportCounts = { created: 0, updated: 0, unchanged: 0, rejected: 0, skipped: 0, customersWritten: 0 };
  let rowsRead = 0;
  let bytesRead = 0;
  let phase: ImportPhase = 'reading';
  let preset: string | null = req.mapping ? 'custom' : (req.preset ?? null);
  let header: string[] | null = null;
  let lastWrite = 0;
  let rowsStaged = 0;
  let rowsWritten = 0;
  let rowsToWrite = 0;
  const rate = () => rowsRead / Math.max((performance.now() - t0) / 1000, 0.001);
  const progress = async (force = false) => {
    const p = { importId, phase, rowsRead, bytesRead, bytesTotal, rowsPerSecond: rate(), rowsWritten, rowsToWrite };
    onProgress(p);
    if (force || performance.now() - lastWrite >= PROGRESS_EVERY_MS) {
      lastWrite = performance.now();
      await updateImportProgress(sql, importId, { ...p, preset, header });
    }
  };

  const report: ImportReportRow[] = [];
  const flushReport = async () => {
    await appendImportRows(sql, importId, report.splice(0));
  };
  const note = async (row: ImportReportRow) => {
    counts[row.outcome]++;
    report.push(row);
    if (report.length >= BATCH) await flushReport();
  };

  await startImportJob(sql, importId);
  let error: string | null = null;
  let stored = false;
  /** The file's rows: returned at the end, which closes the file when pass 1 ended early (a header no preset fits). */
  let reading: AsyncGenerator<SheetRow> | undefined;
  try {
    const layoutGiven = layoutOf(req);
    await sql
      .begin(async (tx) => {
        // One import of the tenant's ledger at a time (two files naming the same invoice would race).
        await tx`select pg_advisory_xact_lock(hashtext(${`ledger-import:${req.tenantId}`}))`;
        // The rows this transaction writes are in no statistics yet: after five executions the prepared per-batch look-up
        // of db/ledger.ts switched to a generic plan that reads the tenant's every row (100k rows in one file went
        // quadratic). Custom plans, made with each batch's invoice numbers, take the primary key.
        await tx`set local plan_cache_mode = force_custom_plan`;
        await createStaging(tx);

        // Pass 1: read, interpret, stage.
        const rows = readRows(req.filePath, format, (n) => (bytesRead = n));
        reading = rows;
        const head: SheetRow[] = [];
        for (let next = await rows.next(); ; next = await rows.next()) {
          if (next.done) break;
          head.push(next.value);
          if (head.length >= HEADER_SEARCH_ROWS) break;
        }
        const match = findHeader(
          head.map((r) => r.cells.map(String)),
          layoutGiven,
        );
        if (!match.ok) throw new UnreadableFileError(match.message);
        preset = match.layout.name;
        const layout = match.layout === layoutGiven ? layoutGiven : withCurrency(match.layout, req.currency);
        header = head[match.headerRow - 1]!.cells.map(String);
        await progress(true);

        let staged: StagedRow[] = [];
        const take = async (r: SheetRow) => {
          rowsRead++;
          const result = interpretRow(r.cells, layout, match.columns);
          if (result.kind === 'layout') return;
          if (result.kind === 'skipped') await note({ rowNumber: r.row, outcome: 'skipped', invoiceNumber: result.invoiceNumber, issues: [{ column: 'row', reason: result.reason }] });
          else if (result.kind === 'rejected') await note({ rowNumber: r.row, outcome: 'rejected', invoiceNumber: result.invoiceNumber, issues: result.issues, cells: r.cells });
          else {
            rowsStaged++;
            staged.push({ rowNumber: r.row, invoice: result.invoice, customer: result.customer, fingerprint: fingerprint(result.invoice, result.customer), cells: r.cells });
            if (staged.length >= BATCH) {
              await stageRows(tx, staged);
              staged = [];
            }
          }
          if (rowsRead % BATCH === 0) await progress();
        };
        for (const r of head.slice(match.headerRow)) await take(r);
        for await (const r of rows) await take(r);
        await stageRows(tx, staged);
        staged = [];

        // Pass 2: duplicates, then the ledger in batches.
        phase = 'writing';
        await progress(true);
        const { conflicting, repeated } = await takeStagedDuplicates(tx);
        rowsToWrite = rowsStaged - conflicting.length - repeated.length;
        for (const c of conflicting.sort((a, b) => a.rowNumber - b.rowNumber))
          await note({
            rowNumber: c.rowNumber,
            outcome: 'rejected',
            invoiceNumber: c.invoiceNumber,
            issues: [{ column: match.columns.invoiceNumber?.name ?? 'invoiceNumber', reason: `invoice ${c.invoiceNumber} appears on rows ${c.rows.join(', ')} with different data` }],
            cells: c.cells,
          });
        for (const r of repeated.sort((a, b) => a.rowNumber - b.rowNumber))
          await note({ rowNumber: r.rowNumber, outcome: 'skipped', invoiceNumber: r.invoiceNumber, issues: [{ column: 'row', reason: `the same as row ${r.first}: counted once` }] });

        const ledgerIsRecord = req.erpKind === 'ledger';
        for (let after = 0; ; ) {
          const batch = await stagedBatch(tx, after, BATCH);
          if (batch.length === 0) break;
          after = batch[batch.length - 1]!.rowNumber;
          const owned = ledgerIsRecord ? new Map<string, ErpOwnedInvoice>() : await erpOwnedInvoices(tx, req.tenantId, batch.map((b) => b.invoice.invoiceNumber));
          const mine = batch.filter((b) => !owned.has(b.invoice.invoiceNumber));
          counts.customersWritten += await upsertLedgerCustomers(tx, req.tenantId, mine.map((b) => b.customer), importId);
          const outcomes = await upsertLedgerInvoices(tx, req.tenantId, mine.map((b) => b.invoice), { source: 'import', importId });
          for (const b of batch) {
            const outcome = outcomes.get(b.invoice.invoiceNumber);
            await note(
              outcome
                ? { rowNumber: b.rowNumber, outcome, invoiceNumber: b.invoice.invoiceNumber, issues: [] }
                : { rowNumber: b.rowNumber, outcome: 'skipped', invoiceNumber: b.invoice.invoiceNumber, issues: [{ column: 'row', reason: erpWins(req.erpKind, owned.get(b.invoice.invoiceNumber)!, b.invoice) }] },
            );
          }
          rowsWritten += batch.length;
          await progress();
        }
        const commit = req.mode === 'keep_good' || (req.mode === 'all_or_nothing' && counts.rejected === 0);
        if (!commit) throw new Rollback();
        stored = true;
      })
      .catch((err: unknown) => {
        if (!(err instanceof Rollback)) throw err;
      });
    if (!stored && req.mode === 'all_or_nothing')
      error = `${counts.rejected} row(s) rejected: nothing stored (the file is imported all or nothing; fix the rows, or import the good ones and write the rejected ones to a reject file)`;
  } catch (err) {
    if (!(err instanceof UnreadableFileError) && !(err instanceof ImportRequestError)) {
      await flushReport().catch(() => undefined);
      await finish(`import failed: ${(err as Error).message}`).catch(() => undefined);
      throw err;
    }
    error = err.message;
  } finally {
    await reading?.return(undefined);
  }
  await flushReport();
  phase = 'done';
  return finish(error);

  async function finish(err: string | null): Promise<ImportResult> {
    const status = err === null ? 'succeeded' : 'failed';
    const result: ImportResult = { importId, status, stored, preset, error: err, rowsRead, rowsPerSecond: rate(), seconds: (performance.now() - t0) / 1000, ...counts };
    await finishImportJob(sql, importId, { ...counts, status, stored, error: err, rowsRead, bytesRead, rowsPerSecond: result.rowsPerSecond });
    await appendAuditEvent(sql, {
      type: 'import_finished',
      eventKey: `import:${req.tenantId}:${importId}`,
      tenantId: req.tenantId,
      actor: req.requestedBy,
      details: { importId, fileName: req.fileName, preset, mode: req.mode, status, stored, counts: { ...counts }, error: err },
    });
    onProgress({ importId, phase: 'done', rowsRead, bytesRead, bytesTotal, rowsPerSecond: result.rowsPerSecond, rowsWritten, rowsToWrite });
    return result;
  }
}
