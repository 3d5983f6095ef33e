import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { FastifyBaseLogger, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { validationIssues } from '../config/validation-issues';
import { importJob, importJobs, importReport, type ImportJob, type RowOutcome } from '../db/imports';
import type { Sql } from '../db/sql';
import { customMappingSchema, PRESET_NAMES } from '../domain/imports/presets';
import { currencyCodeSchema } from '../domain/money';
import { createImport, ImportRequestError, runImport, type ImportRequest } from '../integrations/import/importer';
import { rejectFileLines } from '../integrations/import/rejects';
import { requireRole, type AuthUser } from './auth';
import { DomainError, notFound } from './errors';

/**
 * POST /imports: an AR export uploaded (multipart), stored in a temporary file and imported in the background of
 * this process by the same importer as `npm run import` (integrations/import/importer.ts); the job's id is answered
 * at once, its progress and result read with GET /imports/:id, its per-row report with GET /imports/:id/report, its
 * rejected rows as a CSV with GET /imports/:id/rejects. AR managers and admins only.
 *
 * A job runs in the API process that took the upload: if that process stops, the job's transaction never commits
 * (nothing of it is stored) and the job stays 'running'; upload the file again.
 */

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');

/** The form's fields besides `file`. */
export const importFieldsSchema = z.strictObject({
  preset: z.enum(PRESET_NAMES).optional().describe('default: detected from the header'),
  mapping: z
    .string()
    .max(20_000)
    .transform((s, ctx) => {
      try {
        return JSON.parse(s) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'must be a JSON object (a custom column mapping, docs/imports.md)' });
        return z.NEVER;
      }
    })
    .pipe(customMappingSchema)
    .optional(),
  currency: currencyCodeSchema.optional().describe('the currency of a file that names none (QuickBooks: default USD)'),
  dryRun: flag.default(false).describe('true: nothing stored; the report says per row what would happen'),
  keepRejects: flag.default(false).describe('true: store the good rows and keep the rejected ones for GET /imports/:id/rejects; default all or nothing'),
});

export interface ImportsServiceDeps {
  sql: Sql;
  tenantId: string;
  /** The ERP connection in force (ERP_KIND): with one connected, an import does not overwrite what the ERP sync wrote. */
  erpKind: string;
  log: FastifyBaseLogger;
  /** Largest upload, bytes; default 200 MiB. */
  maxFileBytes?: number;
}

function unreadable(err: unknown): DomainError {
  const message = `the multipart body cannot be read: ${(err as Error).message}`;
  return new DomainError('validation_failed', message, { issues: [{ path: 'body', code: 'invalid_format', message }] });
}

/** A multipart body that cannot be read (malformed, cut short, too many parts): 400, never a 500. */
async function* readParts(request: FastifyRequest, maxFileBytes: number) {
  const parts = request.parts({ limits: { fileSize: maxFileBytes, files: 1, fields: 10 } })[Symbol.asyncIterator]();
  for (;;) {
    let next;
    try {
      next = await parts.next();
    } catch (err) {
      if (err instanceof DomainError || typeof (err as NodeJS.ErrnoException).errno === 'number') throw err; // ours, or the disk's
      throw unreadable(err);
    }
    if (next.done) return;
    yield next.value;
  }
}

export function createImportsService(deps: ImportsServiceDeps) {
  const { sql, tenantId } = deps;
  const running = new Set<Promise<unknown>>();
  const maxFileBytes = deps.maxFileBytes ?? 200 * 2 ** 20;

  const visibleJob = async (user: AuthUser, id: number): Promise<ImportJob> => {
    requireRole(user, 'ar_manager');
    const job = await importJob(sql, tenantId, id);
    if (!job) throw notFound(`import ${id}`);
    return job;
  };

  return {
    maxFileBytes,

    async start(user: AuthUser, request: FastifyRequest) {
      requireRole(user, 'ar_manager');
      if (!request.isMultipart())
        throw new DomainError('validation_failed', 'send the file as multipart/form-data: a part named file, and the optional fields preset, mapping, currency, dryRun, keepRejects', {
          issues: [{ path: 'body', code: 'invalid_type', message: 'expected multipart/form-data' }],
        });
      const dir = await mkdtemp(path.join(os.tmpdir(), 'dunning-import-'));
      let handedOver = false;
      try {
        const fields: Record<string, string> = {};
        let file: { path: string; name: string } | undefined;
        for await (const part of readParts(request, maxFileBytes)) {
          if (part.type === 'file') {
            if (part.fieldname !== 'file' || file) {
              part.file.resume();
              throw new DomainError('validation_failed', 'one file, in the part named file', { issues: [{ path: `body.${part.fieldname}`, code: 'unrecognized_keys', message: 'one file, named file' }] });
            }
            // As the user named it, without control characters (PostgreSQL stores no NUL), at most 200 characters.
            const name = path.basename(part.filename || 'upload').replace(/\p{Cc}/gu, '').slice(0, 200) || 'upload';
            const target = path.join(dir, 'upload');
            await pipeline(part.file, createWriteStream(target)).catch((err: unknown) => {
              if (typeof (err as NodeJS.ErrnoException).errno === 'number') throw err; // the disk's
              throw unreadable(err);
            });
            if (part.file.truncated) throw new DomainError('validation_failed', `the file is larger than ${maxFileBytes} bytes`, { issues: [{ path: 'body.file', code: 'too_big', message: `at most ${maxFileBytes} bytes` }] });
            file = { path: target, name };
          } else fields[part.fieldname] = String(part.value);
        }
        const parsed = importFieldsSchema.safeParse(fields);
        const issues = parsed.success ? [] : validationIssues(parsed.error, ['body']);
        if (!file) issues.push({ path: 'body.file', code: 'invalid_type', message: 'a part named file (the CSV or XLSX) is required' });
        if (!parsed.success || !file) throw new DomainError('validation_failed', 'invalid upload', { issues });
        const f = parsed.data;
        const req: ImportRequest = {
          tenantId,
          filePath: file.path,
          fileName: file.name,
          ...(f.preset ? { preset: f.preset } : {}),
          ...(f.mapping ? { mapping: f.mapping } : {}),
          ...(f.currency ? { currency: f.currency } : {}),
          mode: f.dryRun ? 'dry_run' : f.keepRejects ? 'keep_good' : 'all_or_nothing',
          requestedBy: user.userId,
          erpKind: deps.erpKind,
        };
        let importId: number;
        try {
          importId = await createImport(sql, req);
        } catch (err) {
          if (err instanceof ImportRequestError) throw new DomainError('validation_failed', err.message, { issues: [{ path: 'body', code: 'custom', message: err.message }] });
          throw err;
        }
        const job = runImport(sql, importId, req)
          .catch((err: unknown) => deps.log.error({ err, importId }, 'import failed'))
          .finally(() => rm(dir, { recursive: true, force: true }));
        handedOver = true;
        running.add(job);
        void job.finally(() => running.delete(job));
        return { importId, status: 'queued' as const, mode: req.mode, links: { self: `/imports/${importId}`, report: `/imports/${importId}/report`, rejects: `/imports/${importId}/rejects` } };
      } finally {
        if (!handedOver) await rm(dir, { recursive: true, force: true });
      }
    },

    job: visibleJob,

    async list(user: AuthUser, q: { before?: number; limit: number }) {
      requireRole(user, 'ar_manager');
      const items = await importJobs(sql, tenantId, { ...(q.before ? { beforeId: q.before } : {}), limit: q.limit });
      return { items, nextBefore: items.length === q.limit ? items[items.length - 1]!.id : null };
    },

    async report(user: AuthUser, id: number, q: { outcome?: RowOutcome; after?: number; limit: number }) {
      await visibleJob(user, id);
      const items = await importReport(sql, id, { ...(q.outcome ? { outcome: q.outcome } : {}), afterRow: q.after ?? 0, limit: q.limit });
      return { items, nextAfter: items.length === q.limit ? items[items.length - 1]!.rowNumber : null };
    },

    async rejects(user: AuthUser, id: number) {
      const job = await visibleJob(user, id);
      return { job, lines: rejectFileLines(sql, tenantId, id) };
    },

    /** Waits for the jobs this process runs (the app's close). */
    async drain() {
      await Promise.allSettled([...running]);
    },
  };
}

export type ImportsService = ReturnType<typeof createImportsService>;
