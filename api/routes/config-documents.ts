import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { resolutionMatrixSchema } from '../../domain/resolution-matrix';
import { authorityMatrixSchema } from '../../domain/authority-matrix';
import type { Role } from '../../domain/roles';
import { minimumRole } from '../auth';
import type { ConfigDocumentName, ConfigDocumentsService } from '../config-documents-service';
import { badRequestSchema, errorSchema } from '../schemas';

const versionSchema = <S extends z.ZodType>(name: ConfigDocumentName, document: S) =>
  z.object({
    name: z.literal(name),
    version: z.number().int().describe('1, 2, ... for saved versions; 0 while the file default is in force'),
    document,
    createdBy: z.string(),
    createdAt: z.string().nullable().describe('null for the file default'),
  });

/**
 * The resolution matrix (who owns which disputes, deadlines) and the authority matrix (who may
 * approve what). Collectors and above read both; an AR manager changes the resolution matrix, and
 * only an admin changes who may approve. Every change is a new version, in force at once.
 */
export const configDocumentRoutes: FastifyPluginAsyncZod<{ configDocs: ConfigDocumentsService }> = async (app, { configDocs }) => {
  const reader = minimumRole('collector');

  const documents = [
    { name: 'resolution_matrix', path: '/config/resolution-matrix', what: 'resolution matrix', schema: resolutionMatrixSchema, writer: 'ar_manager' },
    { name: 'authority_matrix', path: '/config/authority-matrix', what: 'authority matrix', schema: authorityMatrixSchema, writer: 'admin' },
  ] as const satisfies readonly { name: ConfigDocumentName; path: string; what: string; schema: z.ZodType; writer: Role }[];

  for (const doc of documents) {
    const view = versionSchema(doc.name, doc.schema);

    app.get(doc.path, {
      schema: { summary: `The ${doc.what} in force: the newest saved version, or the file default (version 0)`, response: { 200: view, 403: errorSchema } },
      onRequest: reader,
      handler: async () => configDocs.current(doc.name),
    });

    app.put(doc.path, {
      schema: {
        summary: `Replace the ${doc.what} (${doc.writer}${doc.writer === 'admin' ? ' only' : ' and above'}): validated, saved as the next version, in force at once`,
        body: z.unknown().describe(`the whole ${doc.what}`),
        response: { 200: view, 400: badRequestSchema, 403: errorSchema },
      },
      onRequest: minimumRole(doc.writer),
      handler: async (request) => configDocs.save(doc.name, request.body, request.user.userId),
    });

    app.get(`${doc.path}/versions`, {
      schema: {
        summary: `Every saved version of the ${doc.what}, newest first (empty while the file default is in force)`,
        response: { 200: z.object({ items: z.array(view) }), 403: errorSchema },
      },
      onRequest: reader,
      handler: async () => ({ items: await configDocs.history(doc.name) }),
    });
  }
};
