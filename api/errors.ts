import type { FastifyError, FastifyInstance } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { validationIssue } from '../config/validation-issues';
import type { RefusalCode } from '../domain/refusals';
import { REFUSAL_STATUS } from './refusal-status';

/**
 * A refusal the API answers: a typed code (domain/refusals.ts), whose HTTP status comes from the one
 * table (api/refusal-status.ts), and a message for people. The one error handler below maps everything once.
 */
export class DomainError extends Error {
  readonly statusCode: number;
  constructor(
    readonly code: RefusalCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'DomainError';
    this.statusCode = REFUSAL_STATUS[code];
  }
}

export const notFound = (what: string) => new DomainError('not_found', `${what} not found`);

/** Seconds a client is asked to wait (header Retry-After) when a dependency cannot answer (503). */
export const RETRY_AFTER_SECONDS = 5;

export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (hasZodFastifySchemaValidationErrors(err)) {
      return reply.code(400).send({
        error: 'validation_failed',
        message: `invalid ${err.validationContext ?? 'request'}`,
        // The type provider reports each zod issue as { keyword: code, instancePath: '/a/b', message }.
        issues: err.validation.map((v) =>
          validationIssue([...(err.validationContext ? [err.validationContext] : []), ...v.instancePath.split('/').filter(Boolean)], v.keyword, v.message ?? ''),
        ),
      });
    }
    if (err instanceof DomainError) {
      if (err.statusCode === 503) reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return reply.code(err.statusCode).send({ error: err.code, message: err.message, ...err.details });
    }
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: err.code ?? 'bad_request', message: err.message });
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal_error', message: 'internal error; see the server log' });
  });
}
