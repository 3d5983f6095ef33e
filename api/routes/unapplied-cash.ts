import { z } from 'zod';
import multipart from '@fastify/multipart';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { UnappliedCashService } from '../unapplied-cash-service';
import { amountMinorSchema, customerParams, errorResponses, invoiceNumberSchema, pageQuery } from '../schemas';
import { multiLineText } from '../../domain/text';
import { DomainError } from '../errors';
import { minimumRole } from '../auth';
import { validationIssue } from '../../config/validation-issues';

/**
 * The unapplied-cash queue (api/unapplied-cash-service.ts): payments without an open invoice, with matching
 * suggestions, applied through the ERP or resolved as refund / on account; bank statement uploads into it.
 */

const errors = { ...errorResponses, 503: errorResponses[400] };
const nullableString = z.string().nullable();
/** Largest statement file taken (a month of a busy account's camt.053 is a few MB). */
export const STATEMENT_MAX_BYTES = 20 * 1024 * 1024;

const cashParams = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });
const allocationSchema = z.object({ invoiceNumber: z.string(), amountMinor: z.number() });
const suggestionSchema = z.object({
  kind: z.enum(['remittance', 'exact_amount', 'combination']),
  confidence: z.number().describe('0 to 1'),
  reason: z.string(),
  allocations: z.array(allocationSchema).describe('ready to send as the body of POST /unapplied-cash/{id}/apply'),
  unappliedMinor: z.number().describe('what these allocations would leave unapplied'),
});
export const cashItemSchema = z.object({
  id: z.number(),
  source: z.string().describe('erp_sync, erp_webhook or bank_statement'),
  paymentId: z.string().describe("the source's id: the ERP's payment id, or the bank entry's"),
  customerId: nullableString.describe('the payer, when known'),
  payerName: nullableString,
  amountMinor: z.number(),
  currency: z.string(),
  appliedMinor: z.number(),
  unappliedMinor: z.number(),
  receivedAt: z.string(),
  ageDays: z.number().describe('whole days since it was received (UTC days)'),
  remittance: z.string(),
  status: z.enum(['open', 'applied', 'refund', 'on_account']),
  resolution: z.object({ by: z.string(), at: z.string(), note: nullableString }).nullable(),
  details: z.record(z.string(), z.unknown()).describe("what the source told besides: the bank's references and statement, the ERP's invoice of a webhook payment"),
  suggestions: z.array(suggestionSchema).describe('ranked, best first; the list shows the best 3, the item all (at most 10)'),
});
const applicationSchema = z.object({
  cashId: z.number(),
  erpPaymentId: z.string().describe('the payment the ERP applied: the ERP\u2019s own for ERP payments, a new receipt per application for bank lines'),
  allocations: z.array(allocationSchema),
  appliedMinor: z.number(),
  appliedBy: z.string(),
  appliedAt: z.string(),
  invoices: z.array(
    z.object({
      invoiceNumber: z.string(),
      appliedMinor: z.number(),
      openAmountMinor: z.number().describe("the ERP's open amount after"),
      status: z.string(),
      workflow: z.enum(['notified', 'closed', 'not_enrolled', 'not_reached']).describe('whether its dunning workflow was told (not_reached: Temporal could not be asked; the same request again tells it)'),
    }),
  ),
  unappliedMinor: z.number().describe('what the ERP still holds unapplied of its payment'),
  replayed: z.boolean().describe('true: this allocation set was applied before; the first application is answered and nothing is applied again'),
});

export const unappliedCashRoutes: FastifyPluginAsyncZod<{ cash: UnappliedCashService }> = async (app, { cash }) => {
  // Statement uploads are multipart; registered here unless the app already parses multipart for another route.
  if (!app.hasContentTypeParser('multipart/form-data')) await app.register(multipart, { limits: { fileSize: STATEMENT_MAX_BYTES, files: 1, fields: 10 } });

  app.get('/unapplied-cash', {
    schema: {
      summary: 'The unapplied-cash queue: payments without an open invoice, oldest first, with their best matching suggestions, totals and the oldest age per currency',
      querystring: z.object({ status: z.enum(['open', 'applied', 'refund', 'on_account']).optional(), customerId: customerParams.shape.customerId.optional(), ...pageQuery }),
      response: {
        200: z.object({
          total: z.number().describe('items matching the filter'),
          totals: z.array(z.object({ currency: z.string(), count: z.number(), unappliedMinor: z.number(), oldestAgeDays: z.number() })).describe('per currency over the filter: never summed across currencies'),
          oldestAgeDays: z.number().nullable(),
          items: z.array(cashItemSchema),
        }),
        ...errors,
      },
    },
    handler: async (request) => cash.list(request.user, request.query),
  });

  app.get('/unapplied-cash/:id', {
    schema: {
      summary: 'One unapplied payment with all its matching suggestions and its applications so far',
      params: cashParams,
      response: { 200: cashItemSchema.extend({ applications: z.array(applicationSchema) }), ...errors },
    },
    handler: async (request) => cash.get(request.user, request.params.id),
  });

  app.post('/unapplied-cash/:id/apply', {
    config: { idempotent: false },
    schema: {
      summary:
        'Apply (part of) the payment to invoices through the ERP; each enrolled invoice\u2019s workflow follows the ERP\u2019s open amount. Idempotent per item and allocation set: the same allocations again answer the first application',
      params: cashParams,
      body: z.object({
        allocations: z.array(z.object({ invoiceNumber: invoiceNumberSchema, amountMinor: amountMinorSchema })).min(1).max(50),
      }),
      response: { 200: applicationSchema, ...errors },
    },
    handler: async (request) => cash.apply(request.user, request.params.id, request.body.allocations),
  });

  app.post('/unapplied-cash/:id/resolve', {
    config: { idempotent: false },
    schema: {
      summary: 'Resolve what is left of the payment as a refund to the payer or as on account (a credit kept for the customer)',
      params: cashParams,
      body: z.object({ as: z.enum(['refund', 'on_account']), note: multiLineText(2000) }),
      response: { 200: cashItemSchema.extend({ applications: z.array(applicationSchema) }), ...errors },
    },
    handler: async (request) => cash.resolve(request.user, request.params.id, request.body),
  });

  app.post('/bank-statements', {
    config: { idempotent: false },
    // Before the body is read: a statement holds every payer's payments.
    onRequest: minimumRole('team_lead'),
    schema: {
      summary: 'Upload a bank statement (multipart, field "file": ISO 20022 camt.053 XML or a CSV with date, amount, currency, payer, reference): its credits join the queue once each',
      consumes: ['multipart/form-data'],
      response: {
        200: z.object({
          format: z.enum(['camt.053', 'csv']),
          statementId: nullableString,
          account: nullableString,
          added: z.number(),
          duplicates: z.number().describe('entries already in the queue (an upload of the same statement again adds nothing)'),
          entries: z.array(z.object({ position: z.string(), entryId: z.string(), outcome: z.enum(['added', 'duplicate']), id: z.number().nullable(), amountMinor: z.number(), currency: z.string(), customerId: nullableString })),
          ignored: z.array(z.object({ position: z.string(), reason: z.string() })).describe('debits, reversals, entries not booked'),
          rejected: z.array(z.object({ position: z.string(), reason: z.string() })).describe('lines that cannot be read, with the field and why'),
        }),
        ...errors,
        413: errorResponses[400].describe('the file is larger than 20 MB'),
        415: errorResponses[400].describe('a body that is neither multipart nor JSON nor text'),
      },
    },
    handler: async (request) => {
      if (!request.isMultipart()) throw new DomainError('validation_failed', 'send the statement as multipart/form-data with a file field', { issues: [validationIssue(['file'], 'required', 'a multipart file is required')] });
      let content: Buffer;
      try {
        const file = await request.file();
        if (!file) throw new DomainError('validation_failed', 'no file in the upload', { issues: [validationIssue(['file'], 'required', 'a multipart file is required')] });
        content = await file.toBuffer();
      } catch (err) {
        // A body too large keeps its 413; a malformed multipart body (no boundary, cut short) is the client's: 400.
        if (err instanceof DomainError || (err as { statusCode?: number }).statusCode === 413) throw err;
        const why = err instanceof Error ? err.message : String(err);
        throw new DomainError('validation_failed', `not a readable multipart upload: ${why}`, { issues: [validationIssue(['file'], 'invalid_multipart', why)] });
      }
      if (content.length === 0) throw new DomainError('validation_failed', 'the uploaded file is empty', { issues: [validationIssue(['file'], 'too_small', 'the file is empty')] });
      return cash.importStatement(request.user, content);
    },
  });
};
