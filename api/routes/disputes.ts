import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { APPROVAL_ACTIONS } from '../../domain/authority-matrix';
import { DISPUTE_REASONS } from '../../domain/disputes';
import { ROOT_CAUSES } from '../../domain/disputes';
import type { DisputeApprovalService } from '../dispute-approval-service';
import { requestKey } from '../idempotency';
import { amountMinorSchema, customerParams, errorResponses, instantSchema, invoiceNumberSchema, invoiceParams, nextStepSchema, pageQuery, updateResponses } from '../schemas';
import { dateSchema } from '../dates';
import { multiLineText, singleLineText } from '../../domain/text';

/** Disputes for owner teams, approval requests for approvers, and everyone's notifications. */

const page = pageQuery;
const instant = instantSchema;
const note = multiLineText(2000);
const errors = errorResponses;
/** A route that changes a workflow: 202 when its worker does not take the change in time, 503, 504 (api/schemas.ts). */
const changes = { ...errorResponses, ...updateResponses };
const disputeParams = z.object({ disputeId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/) });
const requestParams = z.object({ requestId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._/-]{0,127}$/) });
const nullableString = z.string().nullable();
const routeSchema = z.object({
  ownerTeam: z.string(), ownerTeamName: z.string(), owner: nullableString, lead: z.string(), deadlineBusinessDays: z.number(),
  reminderBusinessDaysBefore: z.number(), deadlineDate: z.string(), deadlineAt: z.string(), reminderAt: nullableString,
});
const openedSchema = z.object({ disputeId: z.string(), disputeWorkflowId: z.string(), amountMinor: z.number(), route: routeSchema, stage: z.string() });
const disputeSchema = z.object({
  disputeId: z.string(), invoiceNumber: z.string(), customerId: z.string(), disputedAmountMinor: z.number(), currency: z.string(), reasonCode: z.string(),
  evidenceNote: z.string(), source: z.string(), openedBy: z.string(), openedAt: z.string(), ownerTeam: z.string(), owner: nullableString, lead: nullableString,
  deadlineDate: z.string(), status: z.string(), ageDays: z.number(), overdue: z.boolean(), remindedAt: nullableString, escalatedAt: nullableString,
  resolution: z.object({ creditAmountMinor: z.number().nullable(), creditMemoId: nullableString, rebillInvoiceNumber: nullableString, rootCause: nullableString, note: nullableString, resolvedBy: nullableString, resolvedAt: nullableString }).nullable(),
});
const outcomeSchema = z.object({
  disputeId: z.string(), status: z.string(), creditAmountMinor: z.number(), creditMemoId: nullableString, rebillInvoiceNumber: nullableString,
  openAmountMinorAfter: z.number().nullable(), resolvedBy: z.string(), rootCause: nullableString,
});
const reportSchema = z.object({
  from: nullableString, to: nullableString,
  byReason: z.array(z.object({ reasonCode: z.string(), opened: z.number(), open: z.number(), overdue: z.number(), resolvedValid: z.number(), resolvedInvalid: z.number(), withdrawn: z.number(), avgDaysToResolve: z.number().nullable() })),
  byRootCause: z.array(z.object({ rootCause: z.string(), currency: z.string(), resolved: z.number(), creditedMinor: z.number() })),
});
const requestedSchema = z.object({ requestId: z.string(), approvalWorkflowId: z.string(), requiredRole: z.string(), amountMinor: z.number(), amountReportingMinor: z.number(), stage: z.string() });
const approvalSchema = z.object({
  requestId: z.string(), invoiceNumber: z.string(), customerId: z.string(), action: z.string(), amountMinor: z.number(), currency: z.string(), amountReportingMinor: z.number(),
  reason: z.string(), source: z.string(), requestedBy: z.string(), requestedAt: z.string(), requiredRole: z.string(), level: z.number(), status: z.string(), escalatedAt: nullableString,
  decision: z.object({ by: z.string(), at: nullableString, note: nullableString }).nullable(),
  effect: z.unknown().describe('what the approved decision did: a journal id, a promise, a hold, a hand-off package'),
  details: z.unknown().describe('settlement or installments, the cadence step that asked'),
  canDecide: z.boolean(),
});
const decidedSchema = z.object({ requestId: z.string(), status: z.string(), requiredRole: z.string(), level: z.number() });
const notificationSchema = z.object({
  id: z.number(), kind: z.string(), to: nullableString, invoiceNumber: z.string(), customerId: z.string(), note: z.string(), disputeId: nullableString, requestId: nullableString, status: z.string(), createdAt: z.string(),
});

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
      response: { 201: openedSchema, ...changes },
    },
    handler: async (request, reply) => reply.code(201).send(await service.openDispute(request.user, request.body, requestKey(request))),
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
      response: { 200: z.object({ total: z.number(), overdue: z.number(), items: z.array(disputeSchema) }), ...errors },
    },
    handler: async (request) => service.listDisputes(request.user, request.query),
  });

  app.get('/disputes/:disputeId', {
    schema: { summary: 'One dispute: owner, deadline, age, resolution', params: disputeParams, response: { 200: disputeSchema, ...errors } },
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
          rebill: z.strictObject({ amountMinor: amountMinorSchema, dueDate: dateSchema }).optional(),
          rootCause: z.enum(ROOT_CAUSES),
          note,
        }),
        z.strictObject({ resolution: z.literal('invalid'), rootCause: z.enum(ROOT_CAUSES), note: note.describe('sent to the customer: why the invoice stands') }),
      ]),
      response: { 200: outcomeSchema, ...changes },
    },
    handler: async (request) => service.resolveDispute(request.user, request.params.disputeId, request.body),
  });

  app.get('/reports/disputes', {
    schema: {
      summary: 'Dispute statistics over disputes opened in [from, to): by reason (open, overdue, valid, invalid, days to resolve) and by root cause',
      querystring: z.object({ from: instant.optional(), to: instant.optional() }),
      response: { 200: reportSchema, ...errors },
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
          reason: multiLineText(1000),
          amountMinor: amountMinorSchema.optional().describe('default: the open amount (a settlement: the amount given up)'),
          settlement: z.strictObject({ amountMinor: amountMinorSchema.describe('what the customer pays instead'), payBy: dateSchema }).optional(),
          installments: z.array(z.strictObject({ dueDate: dateSchema, amountMinor: amountMinorSchema })).min(2).max(60).optional(),
        })
        .refine((b) => b.action !== 'settlement' || b.settlement, { path: ['settlement'], message: 'a settlement needs { amountMinor, payBy }' })
        .refine((b) => b.action !== 'extended_payment_plan' || b.installments, { path: ['installments'], message: 'an extended payment plan needs its installments' }),
      response: { 201: requestedSchema, ...changes },
    },
    handler: async (request, reply) => {
      const { action, reason, amountMinor, settlement, installments } = request.body;
      const details = { ...(settlement ? { settlement } : {}), ...(installments ? { installments } : {}) };
      return reply.code(201).send(await service.requestApproval(request.user, request.params.invoiceNumber, { action, reason, details, ...(amountMinor !== undefined ? { amountMinor } : {}) }, requestKey(request)));
    },
  });

  app.get('/approval-requests', {
    schema: {
      summary: 'The approval queue: pending requests the caller may decide (or their own with mine=true; decided ones with status=decided)',
      querystring: z.object({ status: z.enum(['pending', 'decided', 'all']).default('pending'), mine: z.enum(['true', 'false']).transform((v) => v === 'true').optional(), ...page }),
      response: { 200: z.object({ total: z.number(), items: z.array(approvalSchema) }), ...errors },
    },
    handler: async (request) => service.listApprovals(request.user, request.query),
  });

  app.get('/approval-requests/:requestId', {
    schema: { summary: 'One approval request with its decision and effect', params: requestParams, response: { 200: approvalSchema, ...errors } },
    handler: async (request) => service.approval(request.user, request.params.requestId),
  });

  app.post('/approval-requests/:requestId/decision', {
    schema: {
      summary: 'Approve or reject with a note; never one’s own request, never above one’s role or approval limit (403)',
      params: requestParams,
      body: z.object({ decision: z.enum(['approve', 'reject']), note }),
      response: { 200: decidedSchema, ...changes },
    },
    handler: async (request) => service.decide(request.user, request.params.requestId, request.body),
  });

  app.get('/notifications', {
    schema: {
      summary: 'Notifications for the caller or their role (disputes assigned, reminders, escalations, approvals to decide)',
      querystring: z.object({ status: z.enum(['open', 'acknowledged', 'all']).default('open'), ...page }),
      response: { 200: z.object({ total: z.number(), items: z.array(notificationSchema) }), ...errors },
    },
    handler: async (request) => service.notifications(request.user, request.query),
  });

  app.post('/notifications/:id/acknowledge', {
    schema: { summary: 'Mark a notification as seen', params: z.object({ id: z.coerce.number().int().positive() }), response: { 200: z.object({ id: z.number(), status: z.string() }), ...errors } },
    handler: async (request) => service.acknowledge(request.user, request.params.id),
  });
};
