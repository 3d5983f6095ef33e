import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AGING_BUCKETS } from '../../domain/aging';
import { DISPUTE_REASONS } from '../../domain/disputes';
import { requestKey } from '../idempotency';
import type { NotesService } from '../notes-service';
import type { TasksService } from '../tasks-service';
import type { WorklistService } from '../worklist-service';
import { TOTALS_AS_OF, amountMinorSchema, customerParams, errorResponses, instantSchema, invoiceNumberSchema, nextStepSchema, pageQuery, updateResponses } from '../schemas';
import { DATE_RANGE, dateSchema } from '../dates';
import { multiLineText, singleLineText } from '../../domain/text';

/** The collectors' day: worklist, tasks and outcomes, notes and history, portfolios (promises and plans, pauses: their own routes). */

const localTime = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'HH:mm');
const instant = instantSchema;
const note = multiLineText(2000, { min: 0 });
const madeBy = singleLineText(200).describe('who at the customer made the commitment');

export const callOutcomeSchema = z.discriminatedUnion('code', [
  z.strictObject({ code: z.literal('promise_to_pay'), amountMinor: amountMinorSchema, promisedDate: dateSchema.describe(`the customer's local date YYYY-MM-DD, ${DATE_RANGE}`), madeBy }),
  z.strictObject({ code: z.literal('will_pay').describe('reached: will pay, no commitment') }),
  z.strictObject({ code: z.literal('dispute'), reasonCode: z.enum(DISPUTE_REASONS) }),
  z.strictObject({ code: z.literal('refused') }),
  z.strictObject({ code: z.literal('request_copy').describe('reached: the customer needs a copy of the invoice (sent at once)') }),
  z.strictObject({ code: z.literal('no_answer') }),
  z.strictObject({ code: z.literal('voicemail') }),
  z.strictObject({ code: z.literal('wrong_contact'), contactId: z.string().min(1).max(64).optional().describe('default: the primary contact') }),
  z.strictObject({ code: z.literal('callback_requested'), callbackDate: dateSchema, callbackTime: localTime.describe("in the customer's time zone") }),
]);

const outcomeBody = z
  .object({ outcome: callOutcomeSchema, note: note.default('') })
  .refine((b) => b.outcome.code !== 'dispute' || b.note.length > 0, { path: ['note'], message: 'a dispute needs a note: what the customer contests and why' });

const taskParams = z.object({ taskId: z.coerce.number().int().positive() });
const page = pageQuery;
const nextStep = nextStepSchema;

export const taskSchema = z.object({
  taskId: z.number(),
  kind: z.string(),
  status: z.enum(['open', 'done', 'cancelled']),
  attempt: z.number(),
  parentTaskId: z.number().nullable(),
  dueAt: z.string(),
  note: z.string(),
  collectorId: z.string().nullable(),
  customer: z.object({ id: z.string(), name: z.string(), segment: z.string(), timeZone: z.string() }),
  invoice: z.object({
    number: z.string(),
    currency: z.string(),
    openAmountMinor: z.number(),
    openAmountReportingMinor: z.number(),
    dueDate: z.string(),
    daysPastDue: z.number(),
    bucket: z.enum(AGING_BUCKETS),
    stage: z.string(),
  }),
  brokenPromises: z.number(),
  lastReachedAt: z.string().nullable(),
  priority: z.object({ score: z.number(), components: z.record(z.string(), z.number()) }),
  outcome: z.object({ code: z.string(), note: z.string(), completedAt: z.string(), completedBy: z.string().nullable() }).nullable(),
  cancelledReason: z.string().nullable(),
});
const errors = errorResponses;

export const worklistRoutes: FastifyPluginAsyncZod<{ worklist: WorklistService; tasks: TasksService; notes: NotesService }> = async (app, { worklist, tasks, notes }) => {
  app.get('/worklist', {
    schema: {
      summary: 'Call tasks by priority (highest first) with the filtered list’s total open amount in the reporting currency; collectors see their own',
      querystring: z.object({
        collectorId: z.string().min(1).max(64).optional(),
        customerId: customerParams.shape.customerId.optional(),
        bucket: z.enum(AGING_BUCKETS).optional(),
        status: z.enum(['open', 'done', 'cancelled', 'all']).default('open'),
        dueBefore: instant.optional(),
        dueAfter: instant.optional(),
        ...page,
        cursor: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,300}$/, 'the nextCursor of the previous page')
          .optional()
          .describe('the previous page’s nextCursor: the page that follows it (keyset paging, stable while tasks change; offset is then ignored)'),
      }),
      response: {
        200: z.object({
          reportingCurrency: z.string(),
          total: z.number().describe(`the tasks the filter selects; for open tasks ${TOTALS_AS_OF}`),
          totalOpenAmountReportingMinor: z.number().describe(`their invoices' open amount in the reporting currency, each invoice once; for open tasks ${TOTALS_AS_OF}`),
          items: z.array(taskSchema),
          nextCursor: z.string().nullable().describe('pass as cursor for the next page; null on the last page (and for status other than open, which pages by offset)'),
        }),
        ...errors,
      },
    },
    handler: async (request) => worklist.worklist(request.user, request.query),
  });

  app.post('/tasks', {
    schema: {
      summary: 'Create a call task by hand; it lands in the worklist of the customer’s collector',
      body: z.object({ invoiceNumber: invoiceNumberSchema, dueAt: instant, note: multiLineText(500) }),
      response: { 201: taskSchema, ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await tasks.createTask(request.user, request.body, requestKey(request))),
  });

  app.get('/tasks/:taskId', {
    schema: { summary: 'One call task with its priority and outcome', params: taskParams, response: { 200: taskSchema, ...errors } },
    handler: async (request) => tasks.task(request.user, request.params.taskId),
  });

  app.post('/tasks/:taskId/outcome', {
    schema: {
      summary: 'Complete a call task with its outcome; the invoice workflow applies it and answers with its new state and next step',
      params: taskParams,
      body: outcomeBody,
      response: {
        200: z.object({
          task: taskSchema,
          workflow: z.object({
            applied: z.boolean(),
            stage: z.string(),
            openAmountMinor: z.number(),
            nextStep,
            followUpTask: z.object({ taskId: z.number(), kind: z.string(), dueAt: z.string(), attempt: z.number() }).nullable(),
            effects: z.array(z.string()),
          }),
        }),
        ...errors,
        ...updateResponses,
      },
    },
    // Completes once anyway (by task); with a key, a retry gets the first answer instead of 409 task_already_completed.
    config: { idempotent: true },
    handler: async (request) => tasks.completeTask(request.user, request.params.taskId, request.body),
  });

  app.post('/customers/:customerId/notes', {
    schema: {
      summary: "Add a note to the customer's activity history (no task needed)",
      params: customerParams,
      body: z.object({ note: multiLineText(2000), invoiceNumber: invoiceNumberSchema.optional() }),
      response: { 201: z.object({ id: z.number(), customerId: z.string(), invoiceNumber: z.string().nullable(), note: z.string(), actor: z.string(), occurredAt: z.string() }), ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await notes.addNote(request.user, request.params.customerId, request.body, requestKey(request))),
  });

  app.get('/customers/:customerId/activities', {
    schema: {
      summary: "The customer's activity history, newest first: call outcomes, notes, promises and verdicts, pauses, reassignments",
      params: customerParams,
      querystring: z.object(page),
      response: {
        200: z.object({
          total: z.number(),
          items: z.array(z.object({ id: z.number(), occurredAt: z.string(), actor: z.string(), kind: z.string(), outcome: z.string().nullable(), reached: z.boolean(), note: z.string(), invoiceNumber: z.string().nullable(), taskId: z.number().nullable(), details: z.unknown() })),
        }),
        ...errors,
      },
    },
    handler: async (request) => notes.activities(request.user, request.params.customerId, request.query),
  });

  app.put('/customers/:customerId/collector', {
    schema: {
      summary: "Move a customer to another collector's portfolio; its open tasks move along (team lead and above)",
      params: customerParams,
      body: z.object({ collectorId: z.string().min(1).max(64) }),
      response: { 200: z.object({ customerId: z.string(), from: z.string().nullable(), to: z.string(), movedTasks: z.array(z.number()) }), ...errors },
    },
    handler: async (request) => worklist.reassign(request.user, request.params.customerId, request.body),
  });
};