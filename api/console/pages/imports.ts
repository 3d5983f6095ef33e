import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import { z } from 'zod';
import { consoleApi, type ApiErrorBody, type ConsoleApi } from '../api-client';
import { renderPage, setNotice } from '../render';
import type { ConsolePages } from './index';
import type { importJobSchema } from '../../routes/imports';

/** An import job and its per-row report (api/routes/imports.ts). */
type ImportJob = z.infer<typeof importJobSchema>;
interface ReportRow {
  rowNumber: number;
  outcome: 'created' | 'updated' | 'unchanged' | 'rejected' | 'skipped';
  invoiceNumber: string | null;
  issues: { column: string; reason: string }[];
}

export const PRESETS = ['own', 'sap-fbl5n', 'quickbooks-aging', 'ibm-ar'] as const;
/** The largest upload the console takes (the API has its own limit, which it reports). */
export const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;
/** How long an uploaded file waits for its dry run to be confirmed. */
const HELD_MS = 60 * 60 * 1000;
const HELD_MAX_BYTES = 256 * 1024 * 1024;

/**
 * A dry run's file, held in this process until its user confirms (the API has no "commit this dry run": the console
 * sends the same bytes again, without dryRun). Keyed by the dry run's import id; only its uploader may confirm it.
 */
interface HeldUpload {
  userId: string;
  fileName: string;
  bytes: Buffer;
  fields: Record<string, string>;
  heldAt: number;
  committing?: Promise<{ ok: true; importId: number } | { ok: false; error: ApiErrorBody; status: number }>;
}
const held = new Map<number, HeldUpload>();
function prune(now = Date.now()): void {
  for (const [id, h] of held) if (now - h.heldAt > HELD_MS) held.delete(id);
  let total = [...held.values()].reduce((s, h) => s + h.bytes.length, 0);
  for (const [id, h] of held) {
    if (total <= HELD_MAX_BYTES) break;
    held.delete(id);
    total -= h.bytes.length;
  }
}

/** A multipart/form-data body as the API's POST /imports reads it: the fields, then the part `file`. */
export function multipartBody(fields: Record<string, string>, file: { name: string; bytes: Buffer }): { body: Buffer; contentType: string } {
  const boundary = `----dunningConsole${randomBytes(12).toString('hex')}`;
  const safe = (s: string) => s.replace(/["\r\n\\]/g, '_');
  const chunks: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${safe(name)}"\r\n\r\n${value}\r\n`, 'utf8'));
  }
  chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${safe(file.name)}"\r\nContent-Type: application/octet-stream\r\n\r\n`, 'utf8'));
  chunks.push(file.bytes, Buffer.from(`\r\n--${boundary}--\r\n`, 'utf8'));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

type Posted = { ok: true; importId: number } | { ok: false; error: ApiErrorBody; status: number };
async function postImport(api: ConsoleApi, fields: Record<string, string>, file: { name: string; bytes: Buffer }): Promise<Posted> {
  const { body, contentType } = multipartBody(fields, file);
  const res = await api.raw('POST', '/imports', { body, contentType });
  let json: unknown;
  try {
    json = JSON.parse(res.body.toString('utf8'));
  } catch {
    json = { error: 'not_json', message: `the API answered ${res.status}` };
  }
  if (res.status === 202) return { ok: true, importId: (json as { importId: number }).importId };
  return { ok: false, error: json as ApiErrorBody, status: res.status };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const done = (j: ImportJob) => j.status === 'succeeded' || j.status === 'failed';

const commitForm = z.object({ mode: z.enum(['all_or_nothing', 'keep_good']).default('all_or_nothing') });
const idParam = /^[1-9]\d{0,14}$/;

/**
 * Imports (docs/imports.md): the jobs, an upload that is dry-run first (its report row by row: row, column, reason),
 * then a Confirm that sends the same file for real. The upload form is multipart, so its CSRF token travels in the
 * action URL (?_csrf=), checked before the body is read.
 */
export const importPages: ConsolePages = async (app, { defaults }) => {
  const listPage = async (request: FastifyRequest, reply: FastifyReply, extra: { error?: ApiErrorBody; form?: Record<string, string> } = {}, status = 200) => {
    const res = await consoleApi(app, request.consoleUser).get<{ items: ImportJob[] }>('/imports?limit=50');
    if (!res.ok && res.status === 403) return renderPage(request, reply, defaults, 'error', { title: 'Refused', status: 403, message: res.body.message }, 403);
    return renderPage(
      request,
      reply,
      defaults,
      'imports',
      {
        title: 'Imports',
        jobs: res.ok ? res.body.items : [],
        listError: res.ok ? undefined : res.body.message,
        presets: PRESETS,
        form: extra.form ?? {},
        maxMb: MAX_UPLOAD_BYTES / 1024 / 1024,
        ...(extra.error ? { error: extra.error } : {}),
      },
      status,
    );
  };

  app.get('/app/imports', async (request, reply) => listPage(request, reply));

  // The upload: its own scope, where multipart bodies are parsed (the console's forms are urlencoded elsewhere).
  await app.register(async (uploads) => {
    await uploads.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1, fields: 10 } });
    uploads.post('/app/imports', async (request, reply) => {
      if (!request.isMultipart()) return listPage(request, reply, { error: { error: 'validation_failed', message: 'Send the file with the upload form' } }, 422);
      const fields: Record<string, string> = {};
      let file: { name: string; bytes: Buffer } | undefined;
      try {
        for await (const part of request.parts()) {
          if (part.type === 'file') {
            const bytes = await part.toBuffer();
            if (part.fieldname === 'file' && part.filename && bytes.length > 0) file = { name: part.filename, bytes };
          } else if (typeof part.value === 'string') fields[part.fieldname] = part.value;
        }
      } catch (err) {
        const tooBig = (err as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE';
        return listPage(request, reply, { error: { error: 'validation_failed', message: tooBig ? `The file is larger than ${MAX_UPLOAD_BYTES / 1024 / 1024} MB` : 'The upload could not be read; try again' } }, tooBig ? 413 : 400);
      }
      const form = { preset: fields.preset ?? '', currency: (fields.currency ?? '').trim().toUpperCase() };
      if (!file) return listPage(request, reply, { error: { error: 'validation_failed', message: 'Choose a file (CSV or XLSX)', issues: [{ path: 'file', code: 'required', message: 'choose the export to import' }] }, form }, 422);
      const apiFields: Record<string, string> = {};
      if (form.preset && (PRESETS as readonly string[]).includes(form.preset)) apiFields.preset = form.preset;
      if (form.currency) apiFields.currency = form.currency;
      const api = consoleApi(app, request.consoleUser);
      const dry = await postImport(api, { ...apiFields, dryRun: 'true' }, file);
      if (!dry.ok) return listPage(request, reply, { error: dry.error, form }, dry.status === 400 ? 422 : dry.status);
      prune();
      held.set(dry.importId, { userId: request.consoleUser.userId, fileName: file.name, bytes: file.bytes, fields: apiFields, heldAt: Date.now() });
      return reply.redirect(`/app/imports/${dry.importId}`, 303);
    });
  });

  app.get('/app/imports/:importId', async (request: FastifyRequest<{ Params: { importId: string }; Querystring: { outcome?: string } }>, reply) => {
    if (!idParam.test(request.params.importId)) return renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: 'No such import' }, 404);
    const id = Number(request.params.importId);
    const api = consoleApi(app, request.consoleUser);
    let job = await api.get<ImportJob>(`/imports/${id}`);
    // A small file is done in a moment: wait a little so the report is there on the first look.
    for (let waited = 0; job.ok && !done(job.body) && waited < 10_000; waited += 250) {
      await sleep(250);
      job = await api.get<ImportJob>(`/imports/${id}`);
    }
    if (!job.ok) return renderPage(request, reply, defaults, 'error', { title: job.status === 404 ? 'Not found' : 'Refused', status: job.status, message: job.body.message }, job.status);
    const rows: ReportRow[] = [];
    if (done(job.body)) {
      // The rows with something to say (rejected, skipped): at most 2,000 on the page; the reject file has them all.
      for (const outcome of ['rejected', 'skipped'] as const) {
        const res = await api.get<{ items: ReportRow[] }>(`/imports/${id}/report?outcome=${outcome}&limit=1000`);
        if (res.ok) rows.push(...res.body.items);
      }
      rows.sort((a, b) => a.rowNumber - b.rowNumber);
    }
    const h = held.get(id);
    const canConfirm = job.body.mode === 'dry_run' && done(job.body) && h !== undefined && h.userId === request.consoleUser.userId && !h.committing && job.body.created + job.body.updated + job.body.unchanged > 0;
    return renderPage(request, reply, defaults, 'import', {
      title: `Import ${id}`,
      job: job.body,
      rows,
      finished: done(job.body),
      canConfirm,
    });
  });

  // The reject file (the file's own columns, then row and reason), fetched as the user and passed on.
  app.get('/app/imports/:importId/rejects.csv', async (request: FastifyRequest<{ Params: { importId: string } }>, reply) => {
    if (!idParam.test(request.params.importId)) return renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: 'No such import' }, 404);
    const res = await consoleApi(app, request.consoleUser).raw('GET', `/imports/${request.params.importId}/rejects`);
    if (res.status >= 400) return renderPage(request, reply, defaults, 'error', { title: 'Refused', status: res.status, message: `The reject file is not available (${res.status})` }, res.status);
    reply.header('content-type', String(res.headers['content-type'] ?? 'text/csv; charset=utf-8'));
    reply.header('content-disposition', String(res.headers['content-disposition'] ?? `attachment; filename="import-${request.params.importId}-rejects.csv"`));
    return reply.send(res.body);
  });

  app.post('/app/imports/:importId/commit', async (request: FastifyRequest<{ Params: { importId: string } }>, reply) => {
    if (!idParam.test(request.params.importId)) return renderPage(request, reply, defaults, 'error', { title: 'Not found', status: 404, message: 'No such import' }, 404);
    const id = Number(request.params.importId);
    const h = held.get(id);
    if (!h || h.userId !== request.consoleUser.userId) {
      setNotice(reply, 'That dry run can no longer be confirmed (its file is kept for an hour, by the console that took it): upload the file again');
      return reply.redirect(`/app/imports/${id}`, 303);
    }
    const form = commitForm.safeParse(request.body ?? {});
    const mode = form.success ? form.data.mode : 'all_or_nothing';
    // A second press while (or after) the first is sent gets the first's result: one import per dry run.
    h.committing ??= postImport(consoleApi(app, request.consoleUser), { ...h.fields, ...(mode === 'keep_good' ? { keepRejects: 'true' } : {}) }, { name: h.fileName, bytes: h.bytes });
    const result = await h.committing;
    if (!result.ok) {
      delete h.committing;
      setNotice(reply, `Not imported: ${result.error.message}`);
      return reply.redirect(`/app/imports/${id}`, 303);
    }
    h.bytes = Buffer.alloc(0);
    setNotice(reply, `Import ${result.importId} started from dry run ${id}`);
    return reply.redirect(`/app/imports/${result.importId}`, 303);
  });
};
