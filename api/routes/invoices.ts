import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { cadenceVersionParams, enrollmentSchema, errorSchema, invoiceNumberSchema, invoiceListQuery, invoiceListSchema, invoiceParams, invoiceViewSchema, paymentSchema, pendingUpdateSchema } from '../schemas';
import type { InvoiceService } from '../invoice-service';
import type { Sql } from '../../db/sql';
import { assertCustomerAccess, minimumRole, portfolioScope, type AuthUser } from '../auth';
import { DomainError, notFound } from '../errors';
import { bucketLabels } from '../../domain/reports/config';
import { validationIssue } from '../../config/validation-issues';
import { assertPortfolioHolder } from '../collectors';

/**
 * The days past due an aging bucket of config/reports.json covers: current is <= 0, '31-60' is 31..60, '91+' is >= 91.
 * A label the configuration does not name is 400.
 */
export function bucketRange(label: string, bounds: readonly number[]): { min?: number; max?: number } {
  const labels = bucketLabels(bounds);
  const i = labels.indexOf(label);
  if (i === -1)
    throw new DomainError('validation_failed', `unknown aging bucket ${label}: one of ${labels.join(', ')} (config/reports.json agingBuckets)`, {
      issues: [validationIssue(['querystring', 'bucket'], 'custom', `one of ${labels.join(', ')}`)],
    });
  if (i === 0) return { max: 0 };
  const min = i === 1 ? 1 : bounds[i - 2]! + 1;
  return i === labels.length - 1 ? { min } : { min, max: bounds[i - 1]! };
}

export const invoiceRoutes: FastifyPluginAsyncZod<{ invoices: InvoiceService; sql: Sql; agingBuckets?: readonly number[] }> = async (
  app,
  { invoices, sql, agingBuckets = [30, 60, 90] },
) => {
  /** 404 for an unknown invoice; 403 when a collector asks about an invoice outside their portfolio. */
  const assertInvoiceAccess = async (user: AuthUser, invoiceNumber: string) => {
    if (portfolioScope(user) === undefined) return; // every portfolio: the service answers 404 itself
    const customerId = await invoices.customerOf(invoiceNumber);
    if (customerId === undefined) throw notFound(`invoice ${invoiceNumber}`);
    await assertCustomerAccess(sql, user, customerId);
  };

  app.post('/invoices', {
    schema: {
      summary: 'Enroll an overdue invoice: stores it and starts its dunning workflow',
      description:
        'The ERP is asked first: an invoice it does not know is refused with 422 `unknown_to_erp`, one it knows with another customer, ' +
        'currency or amount with 422 `erp_mismatch`. When the ERP cannot answer, nothing is stored: 503 `dependency_unavailable` with Retry-After. ' +
        'A `collectorId` must be an active user with the role collector or above, else 422 `unknown_collector`.',
      body: enrollmentSchema,
      response: { 201: z.object({ workflowId: z.string(), runId: z.string() }), 400: errorSchema, 403: errorSchema, 409: errorSchema, 422: errorSchema, 503: errorSchema },
    },
    onRequest: minimumRole('team_lead'),
    handler: async (request, reply) => {
      // The customer's collector holds a portfolio: an active collector or above (422 unknown_collector), never any text.
      const { collectorId } = request.body.customer;
      if (collectorId !== undefined) await assertPortfolioHolder(sql, request.user.tenantId, collectorId);
      return reply.code(201).send(await invoices.enroll(request.body, request.user.userId));
    },
  });

  app.get('/invoices', {
    schema: {
      summary: "Enrolled invoices, most overdue first (a collector's: their portfolio's)",
      querystring: invoiceListQuery,
      response: { 200: invoiceListSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 422: errorSchema },
    },
    handler: async (request) => {
      const scope = portfolioScope(request.user);
      // Another collector's customer is 403 here too, as on every route that names a customer (not an empty list).
      if (scope !== undefined && request.query.customerId !== undefined) await assertCustomerAccess(sql, request.user, request.query.customerId);
      const { bucket, sort, order, collectorId: asked, ...query } = request.query;
      if (scope !== undefined && asked !== undefined && asked !== scope)
        throw new DomainError('not_in_portfolio', `the portfolio of ${asked} is not ${request.user.userId}'s`);
      const collectorId = scope ?? asked;
      const where = Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)) as typeof query;
      return invoices.list({
        ...where,
        ...(collectorId !== undefined ? { collectorId } : {}),
        ...(bucket !== undefined ? { daysPastDue: bucketRange(bucket, agingBuckets) } : {}),
        ...(sort !== undefined || order !== undefined ? { sort: { by: sort ?? 'dueDate', order: order ?? 'asc' } } : {}),
      });
    },
  });

  app.post('/cadences/:cadenceId/versions/:version/migrate', {
    schema: {
      summary: 'Move running invoices of a cadence to this (active) version; each switches at its next step boundary',
      params: cadenceVersionParams,
      body: z.object({ invoiceNumbers: z.array(invoiceNumberSchema).min(1).max(1000).optional() }).default({}),
      response: { 202: z.object({ cadence: z.object({ id: z.string(), version: z.number() }), migrating: z.array(z.string()) }), 403: errorSchema, 404: errorSchema, 409: errorSchema },
    },
    onRequest: minimumRole('ar_manager'),
    handler: async (request, reply) =>
      reply.code(202).send(await invoices.migrateCadence(request.params.cadenceId, request.params.version, request.body, request.user.userId)),
  });

  app.get('/invoices/:invoiceNumber', {
    schema: {
      summary: "An invoice's dunning state: stage, next step and when, steps done",
      params: invoiceParams,
      response: { 200: invoiceViewSchema, 403: errorSchema, 404: errorSchema },
    },
    handler: async (request) => {
      await assertInvoiceAccess(request.user, request.params.invoiceNumber);
      return invoices.view(request.params.invoiceNumber);
    },
  });

  app.post('/invoices/:invoiceNumber/payments', {
    schema: {
      summary: "Report a payment the customer says they made: a claim, which pauses dunning until the ERP shows it",
      description:
        "Only the ERP's word (its signed webhook) closes an invoice. A payment reported here is a claim: at most the open amount " +
        '(more is 422 `invalid_amount`), answered 202 with `claimed: true` and stage `paused`; dunning waits until the ERP shows the money, ' +
        'at most 3 business days (GET /invoices/:n shows `claim` with its `checkAt`). Unconfirmed by then, dunning resumes and the collector ' +
        'gets a task to check with the customer and cash application. The same payment id again answers `duplicate: true`; with other data, 409 `payment_conflict`. ' +
        'Nothing is recorded as paid.',
      params: invoiceParams,
      body: paymentSchema,
      response: {
        202: z.union([
          z.object({
            duplicate: z.boolean().describe('this payment id was claimed before: nothing changed'),
            stage: z.string().describe('paused while the claim waits for the ERP'),
            openAmountMinor: z.number().describe("the open amount as the ERP last showed it: a claim does not lower it"),
            claimed: z.boolean(),
          }),
          pendingUpdateSchema,
        ]),
        403: errorSchema,
        404: errorSchema,
        409: errorSchema,
        422: errorSchema,
        503: errorSchema,
        504: errorSchema,
      },
    },
    // Recorded once per paymentId anyway; with a key, a retry gets the first answer.
    config: { idempotent: true },
    handler: async (request, reply) => {
      await assertInvoiceAccess(request.user, request.params.invoiceNumber);
      const result = await invoices.reportPayment(
        request.params.invoiceNumber,
        { ...request.body, receivedAt: request.body.receivedAt ?? new Date().toISOString() },
        request.user.userId,
      );
      return reply.code(202).send({ duplicate: result.duplicate, stage: result.stage, openAmountMinor: result.openAmountMinor, claimed: result.claimed ?? false });
    },
  });
};
