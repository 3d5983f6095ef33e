import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { APPROVAL_ACTIONS } from '../../domain/authority-matrix';
import { DISPUTE_REASONS } from '../../domain/disputes';
import { ROOT_CAUSES } from '../../workflows/dispute-messages';
import type { DisputeApprovalService } from '../dispute-approval-service';
import { amountMinorSchema, customerParams, errorSchema, invoiceNumberSchema, invoiceParams } from '../schemas';

/** Disputes for owner teams, approval requests for approvers, and everyone's notifications. */

const page = { limit: z.coerce.number().int().min(1).max(500).default(50), offset: z.coerce.number().int().min(0).default(0) };
const instant = z.iso.datetime({ offset: true });
const note = z.string().trim().min(1).max(2000);
const errors = { 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema, 422: errorSchema };
const disputeParams = z.object({ disputeId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/) });
const requestParams = z.object({ requestId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/) });
/** Shapes documented in the README; the service builds them. */
const loose = z.unknown();

export const disputeRoutes: FastifyPluginAsyncZod<{ service: DisputeApprovalService }> = async (app, { service }) => {
  app.post('/disputes', {
    schema: {
      summary: 'Open a dispute on an invoice: routed by the resolution matrix to an owner with a deadline; collection of the disputed amount waits',
      body: z.object({
        invoiceNumber: invoiceNumberSchema,
        reasonCode: z.enum(DISPUTE_REASONS),
        disputedAmountMinor: amountMinorSchema.optional().describe('default: the whole open amount; less leaves the rest in dunning'),
        note: note.describe('what the customer contests and the evidence'),
      }),
      response: { 201: loose, ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await service.openDispute(request.user, request.body)),
  });

  app.get('/disputes', {
    schema: {
      summary: 'Disputes (open by default), by deadline; owner teams see theirs, collectors their portfolio’s',
      querystring: z.object({
        ownerTeam: z.string().min(1).max(41).optional(),
        status: z.enum(['open', 'resolved', 'all']).default('open'),
        overdue: z.enum(['true', 'false']).transform((v) => v === 'true').optional(),
        customerId: customerParams.shape.customerId.optional(),
        ...page,
      }),
      response: { 200: z.object({ total: z.number(), overdue: z.number(), items: z.array(loose) }), ...errors },
    },
    handler: async (request) => service.listDisputes(request.user, request.query),
  });

  app.get('/disputes/:disputeId', {
    schema: { summary: 'One dispute: owner, deadline, age, resolution', params: disputeParams, response: { 200: loose, ...errors } },
    handler: async (request) => service.dispute(request.user, request.params.disputeId),
  });

  app.post('/disputes/:disputeId/resolution', {
    schema: {
      summary: 'Resolve a dispute (owner, owner team, its lead, AR managers): valid = credit memo in the ERP (and optional rebill); invalid = the customer is told why and collection resumes',
      params: disputeParams,
      body: z.discriminatedUnion('resolution', [
        z.strictObject({
          resolution: z.literal('valid'),
          creditAmountMinor: amountMinorSchema,
          rebill: z.strictObject({ amountMinor: amountMinorSchema, dueDate: z.iso.date() }).optional(),
          rootCause: z.enum(ROOT_CAUSES),
          note,
        }),
        z.strictObject({ resolution: z.literal('invalid'), rootCause: z.enum(ROOT_CAUSES), note: note.describe('sent to the customer: why the invoice stands') }),
      ]),
      response: { 200: loose, ...errors },
    },
    handler: async (request) => service.resolveDispute(request.user, request.params.disputeId, request.body),
  });

  app.get('/reports/disputes', {
    schema: {
      summary: 'Dispute statistics over disputes opened in [from, to): by reason (open, overdue, valid, invalid, days to resolve) and by root cause',
      querystring: z.object({ from: instant.optional(), to: instant.optional() }),
      response: { 200: loose, ...errors },
    },
    handler: async (request) => service.disputeReport(request.user, request.query),
  });

  app.post('/invoices/:invoiceNumber/approval-requests', {
    schema: {
      summary: 'Ask for an approval (write-off, settlement, credit hold or release, legal or agency hand-off, extended payment plan); the invoice waits for the decision',
      params: invoiceParams,
      body: z
        .object({
          action: z.enum(APPROVAL_ACTIONS),
          reason: z.string().trim().min(1).max(1000),
          amountMinor: amountMinorSchema.optional().describe('default: the open amount (a settlement: the amount given up)'),
          settlement: z.strictObject({ amountMinor: amountMinorSchema.describe('what the customer pays instead'), payBy: z.iso.date() }).optional(),
          installments: z.array(z.strictObject({ dueDate: z.iso.date(), amountMinor: amountMinorSchema })).min(2).max(60).optional(),
        })
        .refine((b) => b.action !== 'settlement' || b.settlement, { path: ['settlement'], message: 'a settlement needs { amountMinor, payBy }' })
        .refine((b) => b.action !== 'extended_payment_plan' || b.installments, { path: ['installments'], message: 'an extended payment plan needs its installments' }),
      response: { 201: loose, ...errors },
    },
    handler: async (request, reply) => {
      const { action, reason, amountMinor, settlement, installments } = request.body;
      const details = { ...(settlement ? { settlement } : {}), ...(installments ? { installments } : {}) };
      return reply.code(201).send(await service.requestApproval(request.user, request.params.invoiceNumber, { action, reason, details, ...(amountMinor !== undefined ? { amountMinor } : {}) }));
    },
  });

  app.get('/approval-requests', {
    schema: {
      summary: 'The approval queue: pending requests the caller may decide (or their own with mine=true; decided ones with status=decided)',
      querystring: z.object({ status: z.enum(['pending', 'decided', 'all']).default('pending'), mine: z.enum(['true', 'false']).transform((v) => v === 'true').optional(), ...page }),
      response: { 200: z.object({ total: z.number(), items: z.array(loose) }), ...errors },
    },
    handler: async (request) => service.listApprovals(request.user, request.query),
  });

  app.get('/approval-requests/:requestId', {
    schema: { summary: 'One approval request with its decision and effect', params: requestParams, response: { 200: loose, ...errors } },
    handler: async (request) => service.approval(request.user, request.params.requestId),
  });

  app.post('/approval-requests/:requestId/decision', {
    schema: {
      summary: 'Approve or reject with a note; never one’s own request, never above one’s role or approval limit (403)',
      params: requestParams,
      body: z.object({ decision: z.enum(['approve', 'reject']), note }),
      response: { 200: loose, ...errors },
    },
    handler: async (request) => service.decide(request.user, request.params.requestId, request.body),
  });

  app.get('/notifications', {
    schema: {
      summary: 'Notifications for the caller or their role (disputes assigned, reminders, escalations, approvals to decide)',
      querystring: z.object({ status: z.enum(['open', 'acknowledged', 'all']).default('open'), ...page }),
      response: { 200: z.object({ total: z.number(), items: z.array(loose) }), ...errors },
    },
    handler: async (request) => service.notifications(request.user, request.query),
  });

  app.post('/notifications/:id/acknowledge', {
    schema: { summary: 'Mark a notification as seen', params: z.object({ id: z.coerce.number().int().positive() }), response: { 200: z.object({ id: z.number(), status: z.string() }), ...errors } },
    handler: async (request) => service.acknowledge(request.user, request.params.id),
  });
};
