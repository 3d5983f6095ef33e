import type { FastifyError, FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';

/** Domain errors carry their HTTP status; the one error handler below maps everything once. */
export class DomainError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string) => new DomainError(404, 'not_found', `${what} not found`);

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      return reply.code(400).send({
        error: 'validation_failed',
        message: `invalid ${err.validationContext ?? 'request'}`,
        issues: err.validation.map(({ params }) => {
          const issue = params.issue as z.core.$ZodIssue;
          return { path: [err.validationContext, ...issue.path].filter((p) => p !== undefined).join('.'), code: issue.code, message: issue.message };
        }),
      });
    }
    if (err instanceof DomainError) return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...err.details });
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: err.code ?? 'bad_request', message: err.message });
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal_error', message: 'internal error; see the server log' });
  });
}
