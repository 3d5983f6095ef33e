import type { Client } from '@temporalio/client';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Sql } from '../../db/sql';
import { invoiceForUser } from '../auth';
import { DomainError } from '../errors';
import { errorSchema, invoiceNumberSchema } from '../schemas';
import { lookUpUpdate } from '../workflow-updates';

/**
 * A change to an invoice that its workflow did not take within the bound (api/workflow-updates.ts) was
 * answered 202 `{ status: 'pending', updateId, lookup }`: this is the lookup. Pending while Temporal holds
 * it (admitted) or the workflow works on it (accepted); completed with the answer the route would have
 * given; refused with the refusal's code.
 */
export const workflowUpdateRoutes: FastifyPluginAsyncZod<{ sql: Sql; temporal: Client }> = async (app, { sql, temporal }) => {
  app.get('/invoices/:invoiceNumber/updates/:updateId', {
    schema: {
      summary: "The outcome of a change to an invoice answered 202 (its workflow's worker was down or slow)",
      params: z.object({ invoiceNumber: invoiceNumberSchema, updateId: z.string().min(1).max(300) }),
      response: {
        200: z.discriminatedUnion('status', [
          z.object({ status: z.literal('pending'), stage: z.enum(['admitted', 'accepted']).describe('admitted: held by Temporal until the worker runs; accepted: the workflow took it') }),
          z.object({ status: z.literal('completed'), result: z.unknown().describe("what the change's route answers") }),
          z.object({ status: z.literal('refused'), error: z.string(), message: z.string() }),
        ]),
        403: errorSchema,
        404: errorSchema,
      },
    },
    handler: async (request) => {
      const inv = await invoiceForUser(sql, request.user, request.params.invoiceNumber);
      const status = await lookUpUpdate(temporal, inv.workflow_id, request.params.updateId);
      if (!status)
        throw new DomainError('not_found', `no change ${request.params.updateId} is known for invoice ${request.params.invoiceNumber} (never admitted, or lost when Temporal restarted: send it again)`);
      return status;
    },
  });
};
