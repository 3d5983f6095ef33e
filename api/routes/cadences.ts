import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  cadenceDefinitionSchema,
  cadenceHistorySchema,
  cadenceListSchema,
  cadenceParams,
  cadenceVersionParams,
  cadenceVersionViewSchema,
  customerCadenceBody,
  customerCadenceSchema,
  customerParams,
  errorSchema,
  previewRequestSchema,
  previewResponseSchema,
  segmentAssignmentBody,
  segmentAssignmentSchema,
  segmentParams,
  badRequestSchema,
} from '../schemas';
import type { CadenceService } from '../cadence-service';
import { minimumRole } from '../auth';

// Reading and previewing cadences is open to every role; changing them (and who gets which) takes an AR manager.
const writer = minimumRole('ar_manager');

export const cadenceRoutes: FastifyPluginAsyncZod<{ cadences: CadenceService }> = async (app, { cadences }) => {
  app.post('/cadences', {
    schema: {
      summary: 'Save a cadence definition as its next version, a draft (the version in the body is ignored: the server numbers versions)',
      body: cadenceDefinitionSchema,
      response: { 201: cadenceVersionViewSchema, 400: errorSchema, 403: errorSchema },
    },
    onRequest: writer,
    handler: async (request, reply) => reply.code(201).send(await cadences.create(request.body, request.user.userId)),
  });

  app.post('/cadences/validate', {
    schema: {
      summary: 'Check a cadence definition without saving it: every problem at once, by path',
      body: z.unknown().describe('a cadence definition'),
      response: { 200: z.object({ valid: z.literal(true) }), 400: badRequestSchema },
    },
    handler: async (request) => cadences.validate(request.body),
  });

  app.post('/cadences/preview', {
    schema: {
      summary: 'The dated timeline of a cadence for an invoice as of a moment; nothing runs, nothing is written',
      description:
        'Without a cadence named, the one an enrollment would pin, resolved from the active cadences and segment assignments as of at most 5 s ago ' +
        '(a change made through the API counts at once; one made through another API process may take up to 5 s).',
      body: previewRequestSchema,
      response: { 200: previewResponseSchema, 400: errorSchema, 404: errorSchema, 409: errorSchema },
    },
    handler: async (request) => cadences.preview(request.body),
  });

  app.get('/cadences', {
    schema: { summary: 'Every cadence with its latest and its active version', response: { 200: cadenceListSchema } },
    handler: async () => cadences.list(),
  });

  app.get('/cadences/:cadenceId', {
    schema: { summary: 'A cadence: all its versions', params: cadenceParams, response: { 200: cadenceHistorySchema, 400: errorSchema, 404: errorSchema } },
    handler: async (request) => cadences.get(request.params.cadenceId),
  });

  app.get('/cadences/:cadenceId/versions/:version', {
    schema: { summary: 'One version of a cadence', params: cadenceVersionParams, response: { 200: cadenceVersionViewSchema, 400: errorSchema, 404: errorSchema } },
    handler: async (request) => cadences.getVersion(request.params.cadenceId, request.params.version),
  });

  app.post('/cadences/:cadenceId/versions/:version/activate', {
    schema: {
      summary: 'Make a version the one new enrollments pin; the previously active version is retired. Running invoices keep theirs',
      params: cadenceVersionParams,
      response: { 200: cadenceVersionViewSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema },
    },
    onRequest: writer,
    handler: async (request) => cadences.activate(request.params.cadenceId, request.params.version, request.user.userId),
  });

  app.get('/cadence-assignments', {
    schema: { summary: 'Which cadence each customer segment gets', response: { 200: z.object({ items: z.array(segmentAssignmentSchema) }) } },
    handler: async () => cadences.listAssignments(),
  });

  app.put('/cadence-assignments/:segment', {
    schema: {
      summary: "Give a customer segment a cadence (its active version); it takes precedence over the cadences' selection rules",
      params: segmentParams,
      body: segmentAssignmentBody,
      response: { 200: segmentAssignmentSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema },
    },
    onRequest: writer,
    handler: async (request) => cadences.assignSegment(request.params.segment, request.body.cadenceId, request.user.userId),
  });

  app.delete('/cadence-assignments/:segment', {
    schema: { summary: "Remove a segment's cadence: its invoices follow the selection rules", params: segmentParams, response: { 204: z.null(), 400: errorSchema, 403: errorSchema } },
    onRequest: writer,
    handler: async (request, reply) => {
      await cadences.unassignSegment(request.params.segment, request.user.userId);
      return reply.code(204).send(null);
    },
  });

  app.put('/customers/:customerId/cadence', {
    schema: {
      summary: "Pin a customer to a cadence (its active version at each enrollment), or remove the override with null",
      params: customerParams,
      body: customerCadenceBody,
      response: { 200: customerCadenceSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema, 409: errorSchema },
    },
    onRequest: writer,
    handler: async (request) => cadences.setCustomerOverride(request.params.customerId, request.body.cadenceId, request.user.userId),
  });
};
