import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { requestKey } from '../idempotency';
import type { PromisesService } from '../promises-service';
import { amountMinorSchema, customerParams, errorResponses, instantSchema, invoiceNumberSchema, nextStepSchema, pageQuery } from '../schemas';
import { dateSchema } from '../dates';
import { multiLineText, singleLineText } from '../../domain/text';

/** Promises to pay and payment plans over a customer's invoices, their list and the promise-kept rate. */

const instant = instantSchema;
const madeBy = singleLineText(200).describe('who at the customer made the commitment');
const page = pageQuery;
const nextStep = nextStepSchema;
const errors = errorResponses;

export const promiseRoutes: FastifyPluginAsyncZod<{ promises: PromisesService }> = async (app, { promises }) => {
  app.post('/promises', {
    schema: {
      summary: 'Record a promise to pay over one or more invoices of a customer; their dunning waits for the date',
      body: z.object({
        customerId: customerParams.shape.customerId,
        madeBy,
        promisedDate: dateSchema,
        invoices: z.array(z.object({ number: invoiceNumberSchema, amountMinor: amountMinorSchema })).min(1).max(50),
      }),
      response: { 201: z.object({ promiseId: z.string(), invoices: z.array(z.object({ invoiceNumber: z.string(), stage: z.string(), nextStep })) }), ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await promises.makePromise(request.user, request.body, requestKey(request))),
  });

  app.get('/promises', {
    schema: {
      summary: 'Promises and plan installments with their status (open, kept, partially_kept, broken, cancelled)',
      querystring: z.object({ customerId: customerParams.shape.customerId.optional(), status: z.enum(['open', 'kept', 'partially_kept', 'broken', 'cancelled']).optional(), ...page }),
      response: {
        200: z.object({
          total: z.number(),
          items: z.array(
            z.object({
              promiseId: z.string(), invoiceNumber: z.string(), customerId: z.string(), planId: z.string().nullable(), installmentNo: z.number().nullable(),
              amountMinor: z.number(), currency: z.string(), promisedDate: z.string(), checkDate: z.string().nullable(), madeBy: z.string(), recordedBy: z.string(),
              collectorId: z.string().nullable(), status: z.string(), paidMinor: z.number().nullable(), evaluatedAt: z.string().nullable(),
            }),
          ),
        }),
        ...errors,
      },
    },
    handler: async (request) => promises.promises(request.user, request.query),
  });

  app.post('/payment-plans', {
    schema: {
      summary: 'Agree a payment plan: installments over invoices of one customer (oldest invoice first); they must add up to the open total',
      body: z.object({
        customerId: customerParams.shape.customerId,
        madeBy,
        invoiceNumbers: z.array(invoiceNumberSchema).min(1).max(50),
        installments: z.array(z.object({ dueDate: dateSchema, amountMinor: amountMinorSchema })).min(2).max(36),
      }),
      response: { 201: z.object({ planId: z.string(), customerId: z.string(), currency: z.string(), totalMinor: z.number(), maxMissedInstallments: z.number(), invoices: z.array(z.object({ invoiceNumber: z.string(), installments: z.array(z.object({ dueDate: z.string(), amountMinor: z.number() })), stage: z.string() })) }), ...errors },
    },
    handler: async (request, reply) => reply.code(201).send(await promises.createPaymentPlan(request.user, request.body, requestKey(request))),
  });

  app.get('/reports/promise-kept-rate', {
    schema: {
      summary: 'Promise-kept rate per collector or per customer: kept / settled promises checked in [from, to)',
      querystring: z.object({ by: z.enum(['collector', 'customer']).default('collector'), from: instant.optional(), to: instant.optional() }),
      response: {
        200: z.object({
          by: z.string(),
          from: z.string().nullable(),
          to: z.string().nullable(),
          items: z.array(
            z.object({
              collectorId: z.string().optional().describe('with by=collector'),
              customerId: z.string().optional().describe('with by=customer'),
              kept: z.number(), partiallyKept: z.number(), broken: z.number(), open: z.number(), settled: z.number(),
              keptRate: z.number().nullable().describe('kept / settled; null when none is settled'),
            }),
          ),
        }),
        ...errors,
      },
    },
    handler: async (request) => promises.promiseKeptRate(request.user, request.query),
  });
};
