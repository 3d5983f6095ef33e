import { Readable } from 'node:stream';
import multipart from '@fastify/multipart';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { importFieldsSchema, type ImportsService } from '../imports-service';
import { errorResponses } from '../schemas';

/** Bulk import of AR exports (docs/imports.md): upload, job progress and result, per-row report, reject file. */

const importParams = z.object({ importId: z.coerce.number().int().min(1).max(2 ** 53 - 1) });
const counts = { created: z.number(), updated: z.number(), unchanged: z.number(), rejected: z.number(), skipped: z.number(), customersWritten: z.number() };
export const importJobSchema = z.object({
  id: z.number(),
  fileName: z.string(),
  format: z.enum(['csv', 'xlsx']),
  preset: z.string().nullable().describe('the preset asked for or detected; custom for a mapping'),
  mode: z.enum(['dry_run', 'all_or_nothing', 'keep_good']),
  status: z.enum(['queued', 'running', 'succeeded', 'failed']),
  phase: z.enum(['queued', 'reading', 'writing', 'done']).describe('reading: the file is streamed and checked; writing: the ledger is written'),
  requestedBy: z.string(),
  erpKind: z.string().describe('the ERP connection in force: with one connected (not ledger), invoices the ERP sync wrote are skipped'),
  bytesTotal: z.number(),
  bytesRead: z.number(),
  rowsRead: z.number(),
  rowsPerSecond: z.number(),
  ...counts,
  stored: z.boolean().describe('whether the ledger now holds the file’s rows (false for a dry run and a refused all-or-nothing file)'),
  error: z.string().nullable(),
  createdAt: z.string(),
  startedAt: z.string().nullable(),
  finishedAt: z.string().nullable(),
});
const outcome = z.enum(['created', 'updated', 'unchanged', 'rejected', 'skipped']);
const reportSchema = z.object({
  items: z.array(z.object({ rowNumber: z.number(), outcome, invoiceNumber: z.string().nullable(), issues: z.array(z.object({ column: z.string(), reason: z.string() })) })),
  nextAfter: z.number().nullable().describe('pass as after for the next page; null at the end'),
});

export const importRoutes: FastifyPluginAsyncZod<{ imports: ImportsService }> = async (app, { imports }) => {
  // Uploads only reach these routes' handlers (request.parts()); the limits are the service's.
  await app.register(multipart, { limits: { fileSize: imports.maxFileBytes, files: 1 } });

  app.post('/imports', {
    config: { idempotent: false },
    schema: {
      summary:
        'Import an AR export (CSV or XLSX) into the ledger: multipart/form-data with a part `file` and optional fields `preset` ' +
        '(own | sap-fbl5n | quickbooks-aging | ibm-ar; default detected from the header), `mapping` (a custom column mapping as JSON), ' +
        '`currency`, `dryRun` (true: nothing stored), `keepRejects` (true: store the good rows; default all or nothing). ' +
        'Answers the job at once; AR managers and admins',
      consumes: ['multipart/form-data'],
      // Documents the form; the multipart parser leaves the body null (the service reads the parts), hence nullish.
      body: z.object({ file: z.file().describe('the export, CSV or XLSX'), ...importFieldsSchema.shape, mapping: z.string().optional().describe('a custom column mapping, JSON (docs/imports.md)') }).nullish(),
      response: {
        202: z.object({ importId: z.number(), status: z.literal('queued'), mode: importJobSchema.shape.mode, links: z.object({ self: z.string(), report: z.string(), rejects: z.string() }) }),
        ...errorResponses,
      },
    },
    handler: async (request, reply) => reply.code(202).send(await imports.start(request.user, request)),
  });

  app.get('/imports', {
    schema: {
      summary: 'The import jobs, newest first (paged by id): what was imported, when, by whom, with what result',
      querystring: z.object({ before: importParams.shape.importId.optional().describe('the nextBefore of the previous page'), limit: z.coerce.number().int().min(1).max(200).default(50) }),
      response: { 200: z.object({ items: z.array(importJobSchema), nextBefore: z.number().nullable() }), ...errorResponses },
    },
    handler: async (request) => imports.list(request.user, request.query),
  });

  app.get('/imports/:importId', {
    schema: { summary: 'An import job: progress (phase, rows read, rows per second) while it runs, counts and outcome once done', params: importParams, response: { 200: importJobSchema, ...errorResponses } },
    handler: async (request) => imports.job(request.user, request.params.importId),
  });

  app.get('/imports/:importId/report', {
    schema: {
      summary: 'The per-row report of an import: each row’s outcome (created, updated, unchanged, rejected, skipped) with the column and reason of each problem, by row number',
      params: importParams,
      querystring: z.object({ outcome: outcome.optional(), after: z.coerce.number().int().min(0).max(2 ** 31 - 1).optional().describe('the row number after which the page starts'), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
      response: { 200: reportSchema, ...errorResponses },
    },
    handler: async (request) => imports.report(request.user, request.params.importId, request.query),
  });

  app.get('/imports/:importId/rejects', {
    schema: {
      summary: 'The rejected rows of an import as CSV: the file’s own columns, then row and reason',
      params: importParams,
      response: { 200: { description: 'the reject file', content: { 'text/csv': { schema: z.string() } } }, ...errorResponses },
    },
    handler: async (request, reply) => {
      const { job, lines } = await imports.rejects(request.user, request.params.importId);
      return reply
        .header('content-type', 'text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="import-${job.id}-rejects.csv"`)
        .send(Readable.from(lines) as unknown as string); // a stream is sent as it is, never serialized
    },
  });

  app.addHook('onClose', async () => imports.drain());
};
