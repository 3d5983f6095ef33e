import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sql } from '../../db/sql';
import type { FxTable } from '../../domain/fx';
import type { ReportsConfig } from '../../domain/reports/config';
import { segmentSchema } from '../../domain/cadence';
import { assertCustomerAccess, portfolioScope, type AuthUser } from '../auth';
import { DomainError, notFound } from '../errors';
import { createPortfolioService } from '../portfolio-service';
import { contactViewSchema } from './contacts';
import { customerParams, errorSchema, invoiceParams } from '../schemas';

const flag = z.enum(['true', 'false']).transform((v) => v === 'true');
const page = {
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
};

const customerListQuery = z.strictObject({
  collectorId: z.string().min(1).max(64).optional().describe("a collector's portfolio (managers; a collector sees their own anyway)"),
  segment: segmentSchema.optional(),
  country: z.string().regex(/^[A-Z]{2}$/, 'ISO 3166-1 alpha-2 code, e.g. DE').optional(),
  creditHold: flag.optional(),
  doNotContact: flag.optional(),
  hasOpenDispute: flag.optional().describe('a dispute open or escalated'),
  hasActivePromise: flag.optional().describe('an open promise (or installment of a payment plan)'),
  minOpenMinor: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe('open amount now, in reporting minor units, at least'),
  minDaysPastDue: z.coerce.number().int().min(-36_500).max(36_500).optional().describe("the oldest open invoice's days past due (today in the reporting zone), at least"),
  sort: z.enum(['openAmount', 'oldestPastDue', 'priority', 'name']).default('openAmount'),
  order: z.enum(['asc', 'desc']).optional().describe('default: desc for openAmount, oldestPastDue and priority, asc for name'),
  ...page,
});

const currencyLine = z.object({ currency: z.string(), count: z.number(), openAmountMinor: z.number() });
const customerListSchema = z.object({
  asOf: z.string().describe('today in the reporting zone: the day days past due are counted to'),
  reportingCurrency: z.string(),
  total: z.number().describe('the customers the filter selects'),
  totals: z.object({
    customers: z.number(),
    openCount: z.number().describe('their open invoices (enrolled and ledger)'),
    openAmountReportingMinor: z.number().describe("each currency's sum converted once, then added"),
    byCurrency: z.array(currencyLine),
  }),
  limit: z.number(),
  offset: z.number(),
  items: z.array(
    z.object({
      customerId: z.string(),
      name: z.string(),
      segment: z.string(),
      country: z.string().nullable(),
      timeZone: z.string(),
      collectorId: z.string().nullable(),
      collectorName: z.string().nullable(),
      creditHold: z.boolean(),
      doNotContact: z.boolean(),
      paused: z.boolean(),
      hasOpenDispute: z.boolean(),
      hasActivePromise: z.boolean(),
      openCount: z.number(),
      openAmountReportingMinor: z.number().describe("the customer's sum per currency converted once (half to even), added"),
      byCurrency: z.array(currencyLine),
      oldestDueDate: z.string().nullable(),
      oldestDaysPastDue: z.number().nullable(),
      priority: z.number().nullable().describe("the highest stored priority score of the customer's open call tasks (domain/priority.ts); null without any"),
    }),
  ),
});

const customerViewSchema = z.object({
  asOf: z.string(),
  reportingCurrency: z.string(),
  customer: z.object({
    customerId: z.string(),
    name: z.string(),
    email: z.string(),
    segment: z.string(),
    country: z.string().nullable(),
    region: z.string().nullable(),
    timeZone: z.string(),
    locale: z.string(),
    doNotContact: z.boolean(),
    creditHold: z.boolean(),
    paused: z.boolean(),
    pausedUntil: z.string().nullable(),
    pauseReason: z.string().nullable(),
    cadenceOverride: z.string().nullable(),
  }),
  collector: z.object({ userId: z.string(), name: z.string().nullable() }).nullable(),
  contacts: z.array(contactViewSchema),
  openInvoices: z.array(
    z.object({
      invoiceNumber: z.string(),
      currency: z.string(),
      amountMinor: z.number(),
      openAmountMinor: z.number(),
      issueDate: z.string(),
      dueDate: z.string(),
      daysPastDue: z.number(),
      bucket: z.string().describe('aging bucket of config/reports.json agingBuckets'),
      enrolled: z.boolean().describe('false: a ledger invoice (ERP sync, import) not in dunning'),
      stage: z.string().nullable(),
    }),
  ),
  totals: z.object({ openCount: z.number(), openAmountReportingMinor: z.number(), byCurrency: z.array(currencyLine) }),
  promises: z.array(
    z.object({
      promiseId: z.string(),
      invoiceNumber: z.string(),
      planId: z.string().nullable(),
      installmentNo: z.number().nullable(),
      amountMinor: z.number(),
      currency: z.string(),
      promisedDate: z.string(),
      madeBy: z.string(),
      recordedBy: z.string(),
    }),
  ),
  paymentPlans: z.array(
    z.object({ planId: z.string(), currency: z.string(), totalMinor: z.number(), maxMissed: z.number(), createdBy: z.string(), createdAt: z.string() }),
  ),
  disputes: z.array(
    z.object({
      disputeId: z.string(),
      invoiceNumber: z.string(),
      disputedAmountMinor: z.number(),
      currency: z.string(),
      reasonCode: z.string(),
      status: z.string(),
      ownerTeam: z.string(),
      openedAt: z.string(),
      deadlineDate: z.string(),
    }),
  ),
  lastContacts: z.array(
    z.object({
      at: z.string(),
      actor: z.string(),
      kind: z.string(),
      invoiceNumber: z.string().nullable(),
      outcome: z.string().nullable(),
      reached: z.boolean(),
      note: z.string(),
    }),
  ),
  nextStep: z.object({ invoiceNumber: z.string(), stepId: z.string(), action: z.string().nullable(), at: z.string() }).nullable(),
  openTasks: z.array(
    z.object({
      taskId: z.number(),
      invoiceNumber: z.string(),
      collectorId: z.string().nullable(),
      dueAt: z.string(),
      kind: z.string(),
      note: z.string(),
      priorityScore: z.number(),
    }),
  ),
});

const timelineQuery = z.strictObject({ order: z.enum(['asc', 'desc']).default('asc'), ...page });
export const timelineSchema = z.object({
  total: z.number(),
  order: z.enum(['asc', 'desc']),
  limit: z.number(),
  offset: z.number(),
  items: z.array(
    z.object({
      at: z.string(),
      actor: z.string(),
      source: z.enum(['audit', 'activity']).describe('audit: the audit trail; activity: the customer history (calls, notes, promises, pauses)'),
      type: z.string(),
      invoiceNumber: z.string().nullable(),
      summary: z.string(),
      details: z.record(z.string(), z.unknown()),
    }),
  ),
});

/** The portfolio: GET /customers, GET /customers/:customerId, the customer's and an invoice's timeline. */
export const customerRoutes: FastifyPluginAsyncZod<{ sql: Sql; tenantId: string; fx: FxTable; config: ReportsConfig }> = async (app, deps) => {
  const portfolio = createPortfolioService(deps);
  const { sql } = deps;

  /** A collector names only their own portfolio (403 for another's); a manager any. */
  const collectorFilter = (user: AuthUser, collectorId: string | undefined): string | undefined => {
    const scope = portfolioScope(user);
    if (scope === undefined) return collectorId;
    if (collectorId !== undefined && collectorId !== scope)
      throw new DomainError('not_in_portfolio', `the portfolio of ${collectorId} is not ${user.userId}'s`);
    return scope;
  };

  app.get('/customers', {
    schema: {
      summary: "Customers with their open amounts (a collector's: their portfolio's), filtered and sorted, with totals",
      description:
        'Open amounts and days past due from the receivables (ar_items: enrolled and ledger invoices open now). ' +
        "A customer's open amount in the reporting currency is each of its currency's sums converted once; the totals convert each currency's sum over " +
        'the selected customers once, so they may differ from the sum of the lines by a minor unit per currency and customer. ' +
        'priority is the highest stored priority score of its open call tasks. A currency without a rate: 422 no_exchange_rate.',
      querystring: customerListQuery,
      response: { 200: customerListSchema, 400: errorSchema, 403: errorSchema, 422: errorSchema },
    },
    handler: async (request) => {
      const { collectorId, order, sort, ...rest } = request.query;
      const scope = collectorFilter(request.user, collectorId);
      return portfolio.listCustomers({ ...rest, sort, order: order ?? (sort === 'name' ? 'asc' : 'desc'), ...(scope !== undefined ? { collectorId: scope } : {}) });
    },
  });

  app.get('/customers/:customerId', {
    schema: {
      summary: 'One customer at a glance: contacts, open invoices with aging, promises, plans, disputes, credit hold, last contacts, next step, the collector',
      params: customerParams,
      response: { 200: customerViewSchema, 403: errorSchema, 404: errorSchema, 422: errorSchema },
    },
    handler: async (request) => {
      await assertCustomerAccess(sql, request.user, request.params.customerId);
      return portfolio.customer(request.params.customerId);
    },
  });

  app.get('/customers/:customerId/timeline', {
    schema: {
      summary: "The customer's story in order: the audit trail of its invoices and of the customer, and its history (calls, notes, promises)",
      params: customerParams,
      querystring: timelineQuery,
      response: { 200: timelineSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema },
    },
    handler: async (request) => {
      await assertCustomerAccess(sql, request.user, request.params.customerId);
      return portfolio.timeline({ customerId: request.params.customerId }, request.query);
    },
  });

  app.get('/invoices/:invoiceNumber/timeline', {
    schema: {
      summary: "The invoice's story in order: its audit trail (steps, mails, calls, promises, payments, disputes, approvals) and the customer history about it",
      params: invoiceParams,
      querystring: timelineQuery,
      response: { 200: timelineSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema },
    },
    handler: async (request) => {
      const customerId = await portfolio.customerOfInvoice(request.params.invoiceNumber);
      if (customerId === undefined) throw notFound(`invoice ${request.params.invoiceNumber}`);
      if (portfolioScope(request.user) !== undefined) await assertCustomerAccess(sql, request.user, customerId);
      return portfolio.timeline({ invoiceNumber: request.params.invoiceNumber }, request.query);
    },
  });
};
