import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { minimumRole } from '../auth';
import type { ErpSyncService } from '../erp-sync-service';
import { errorResponses } from '../schemas';
import { multiLineText } from '../../domain/text';

/**
 * The ERP sync (docs/erp-sync.md): the tenant's schedule (interval, paused, next run, cursor, last run), trigger now,
 * pause, resume, interval, and each run's record with its errors. AR managers and admins.
 */

const counts = z
  .record(z.string(), z.number().int())
  .describe(
    'pages; received (receivables in the pages); created, updated, unchanged (ledger rows); enrolled; signalled (enrolled invoices told of a change); ' +
      'closed (of those, paid, credited, written off or cancelled); linked (rebills and split parts carrying the original\'s steps); skipped (not enrolled: ' +
      'policy or error); customers; unappliedPayments (new in the unapplied-cash queue); errors',
  );
const runSchema = z.object({
  runId: z.number().int(),
  workflowId: z.string(),
  status: z.enum(['running', 'completed', 'failed']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  cursorFrom: z.string().nullable(),
  cursorTo: z.string().nullable(),
  counts,
  failure: z.string().nullable(),
});
const runWithErrors = runSchema.extend({
  errors: z.array(
    z.object({ erpId: z.string().describe("the ERP's own id of the record"), invoiceNumber: z.string().nullable(), customerId: z.string().nullable(), code: z.string(), reason: z.string(), at: z.string() }),
  ),
});
const statusSchema = z.object({
  scheduleId: z.string().describe('the Temporal Schedule (temporal schedule list)'),
  erp: z.string(),
  connection: z.string(),
  intervalMinutes: z.number().int(),
  intervalSource: z.enum(['api', 'env', 'config']).describe('api: PUT /erp-sync/interval; env: ERP_SYNC_INTERVAL_MINUTES; config: config/erp-sync.json'),
  paused: z.boolean(),
  note: z.string().nullable(),
  nextRunAt: z.string().nullable(),
  running: z.array(z.string()).describe('workflow ids of the runs under way'),
  cursor: z.string().nullable().describe("the ERP change feed's cursor after the last applied page"),
  lastRun: runSchema.nullable(),
});
const noteBody = z.object({ note: multiLineText(500, { min: 0 }).default('') });

export const erpSyncRoutes: FastifyPluginAsyncZod<{ erpSync: ErpSyncService }> = async (app, { erpSync }) => {
  const manager = minimumRole('ar_manager');

  app.get('/erp-sync', {
    schema: { summary: "The ERP sync's schedule: interval, paused, next run, cursor and last run", response: { 200: statusSchema, ...errorResponses } },
    onRequest: manager,
    handler: async () => erpSync.status(),
  });

  app.post('/erp-sync/trigger', {
    schema: { summary: 'Run the ERP sync now, or right after the run under way (queued: true); pressed again meanwhile, still one run',
      response: { 202: z.object({ scheduleId: z.string(), triggered: z.boolean(), queued: z.boolean().describe('a run was under way: this one starts when it ends') }), ...errorResponses } },
    config: { idempotent: false },
    onRequest: manager,
    handler: async (request, reply) => reply.code(202).send(await erpSync.trigger(request.user.userId)),
  });

  app.post('/erp-sync/pause', {
    schema: { summary: 'Pause the ERP sync schedule (a run under way finishes)', body: noteBody, response: { 200: statusSchema, ...errorResponses } },
    config: { idempotent: false },
    onRequest: manager,
    handler: async (request) => erpSync.pause(request.user.userId, request.body.note),
  });

  app.post('/erp-sync/resume', {
    schema: { summary: 'Resume the ERP sync schedule', body: noteBody, response: { 200: statusSchema, ...errorResponses } },
    config: { idempotent: false },
    onRequest: manager,
    handler: async (request) => erpSync.resume(request.user.userId, request.body.note),
  });

  app.put('/erp-sync/interval', {
    schema: {
      summary: "Set the sync's interval (kept across restarts); null: back to ERP_SYNC_INTERVAL_MINUTES or config/erp-sync.json",
      body: z.object({ minutes: z.number().int().min(1).max(24 * 60).nullable() }),
      response: { 200: statusSchema, ...errorResponses },
    },
    onRequest: manager,
    handler: async (request) => erpSync.setInterval(request.user.userId, request.body.minutes),
  });

  app.get('/erp-sync/runs', {
    schema: {
      summary: 'Sync runs, newest first',
      querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(20), before: z.coerce.number().int().positive().optional().describe('nextBefore of the previous page') }),
      response: { 200: z.object({ items: z.array(runSchema), nextBefore: z.number().int().nullable() }), ...errorResponses },
    },
    onRequest: manager,
    handler: async (request) => erpSync.runs({ limit: request.query.limit, ...(request.query.before !== undefined ? { before: request.query.before } : {}) }),
  });

  app.get('/erp-sync/runs/:runId', {
    schema: {
      summary: "One sync run: counts and errors (the ERP's id and the reason)",
      params: z.object({ runId: z.coerce.number().int().positive() }),
      response: { 200: runWithErrors, ...errorResponses },
    },
    onRequest: manager,
    handler: async (request) => erpSync.run(request.params.runId),
  });
};
