import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requestKey } from '../idempotency';
import type { PausesService } from '../pauses-service';
import { customerParams, errorResponses, instantSchema, invoiceParams, nextStepSchema, updateResponses } from '../schemas';
import { multiLineText, singleLineText } from '../../domain/text';

/** Pausing and resuming dunning: one invoice, or a whole customer. Each takes an Idempotency-Key (api/idempotency.ts). */

const instant = instantSchema;
const note = multiLineText(2000, { min: 0 });
const nextStep = nextStepSchema;
const stageResult = z.object({ invoiceNumber: z.string(), stage: z.string(), openAmountMinor: z.number(), nextStep, changed: z.boolean() });
const pauseBody = z.object({
  reason: multiLineText(500),
  until: instant.nullable().default(null).describe('omitted or null: until someone resumes'),
});
const resumeBody = z.object({ note: note.default('') });
// Each route changes workflows: 202 when a workflow's worker does not take the change in time, 503, 504 (api/schemas.ts).
const errors = { ...errorResponses, ...updateResponses };

export const pauseRoutes: FastifyPluginAsyncZod<{ pauses: PausesService }> = async (app, { pauses }) => {
  app.post('/invoices/:invoiceNumber/pause', {
    schema: { summary: 'Pause dunning for an invoice, until a date or until resumed, with a reason', params: invoiceParams, body: pauseBody, response: { 200: stageResult, ...errors } },
    config: { idempotent: true },
    handler: async (request) => pauses.pauseInvoice(request.user, request.params.invoiceNumber, request.body, requestKey(request)),
  });

  app.post('/invoices/:invoiceNumber/resume', {
    schema: { summary: 'Resume dunning for a paused invoice', params: invoiceParams, body: resumeBody, response: { 200: stageResult, ...errors } },
    config: { idempotent: true },
    handler: async (request) => pauses.resumeInvoice(request.user, request.params.invoiceNumber, request.body, requestKey(request)),
  });

  app.post('/customers/:customerId/pause', {
    schema: {
      summary: 'Pause dunning for every open invoice of a customer (and invoices enrolled meanwhile)',
      params: customerParams,
      body: pauseBody,
      response: { 200: z.object({ customerId: z.string(), paused: z.boolean(), until: z.string().nullable(), invoices: z.array(z.object({ invoiceNumber: z.string(), stage: z.string(), pendingUpdateId: z.string().optional() })) }), ...errors },
    },
    config: { idempotent: true },
    handler: async (request) => pauses.pauseCustomer(request.user, request.params.customerId, request.body, requestKey(request)),
  });

  app.post('/customers/:customerId/resume', {
    schema: {
      summary: "Lift a customer-wide pause (invoices paused on their own stay paused)",
      params: customerParams,
      body: resumeBody,
      response: { 200: z.object({ customerId: z.string(), paused: z.boolean(), invoices: z.array(z.object({ invoiceNumber: z.string(), stage: z.string(), pendingUpdateId: z.string().optional(), resumed: z.boolean() })) }), ...errors },
    },
    config: { idempotent: true },
    handler: async (request) => pauses.resumeCustomer(request.user, request.params.customerId, request.body, requestKey(request)),
  });
};
