import type { FastifyError, FastifyInstance } from 'fastify';
import { isGrpcServiceError, ServiceError } from '@temporalio/client';
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

/** What the API depends on; each can be down on its own (GET /health/ready says which). */
export type Dependency = 'postgresql' | 'temporal' | 'erp';

/**
 * postgres.js's own connection errors and the socket errors it passes on (the API talks raw sockets to
 * PostgreSQL only: Temporal's errors come as gRPC statuses, the ERP adapter wraps its own), and the
 * SQLSTATEs of a server that is shutting down, starting or out of connections (class 08: connection exception).
 */
const PG_UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN',
  'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED',
  '57P01', '57P02', '57P03', '53300',
]);
/** gRPC UNAVAILABLE (unreachable) and DEADLINE_EXCEEDED (no answer in time: api/temporal-connection.ts bounds every call). */
const GRPC_DOWN = new Set([14, 4]);

/** The dependency an error says is down (not a refusal, not a bug): answered 503 with Retry-After by the handler below. */
export function unavailableDependency(err: unknown): Dependency | undefined {
  for (const e of [err, (err as { cause?: unknown } | null)?.cause]) {
    const grpc = e instanceof ServiceError ? e.cause : e;
    if (isGrpcServiceError(grpc) && GRPC_DOWN.has(grpc.code)) return 'temporal';
    const code = (e as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && (PG_UNAVAILABLE.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return 'postgresql';
  }
  return undefined;
}

const DEPENDENCY_NAME: Record<Dependency, string> = { postgresql: 'PostgreSQL', temporal: 'Temporal', erp: 'the ERP' };

/**
 * A workflow update that did not complete within its bound (api/workflow-updates.ts): the workflow's worker
 * is down or busy. Admitted (Temporal holds it, and the workflow takes it when it runs again): 202 with the
 * update's id and where to look it up. Not even admitted (Temporal did not answer in time): 504; the change has
 * most likely not reached the workflow (a hung server may still take it when it wakes), so the request is sent
 * again, with the same Idempotency-Key where the route takes one: the same update id, applied once.
 */
export class UpdateNotCompleted extends Error {
  constructor(
    readonly workflowId: string,
    readonly updateId: string,
    readonly admitted: boolean,
    cause: unknown,
  ) {
    super(`update ${updateId} of workflow ${workflowId} did not complete in time (${admitted ? 'admitted' : 'not admitted'})`, { cause });
    this.name = 'UpdateNotCompleted';
  }
}

/** Where a pending update's outcome shows: its own route for an invoice's updates, the request's view for disputes and approvals. */
export function updateLookup(workflowId: string, updateId: string): string | null {
  const [kind, , ...rest] = workflowId.split(':');
  const id = encodeURIComponent(rest.join(':'));
  if (kind === 'invoice-dunning') return `/invoices/${id}/updates/${encodeURIComponent(updateId)}`;
  if (kind === 'dispute') return `/disputes/${id}`;
  if (kind === 'approval') return `/approval-requests/${id}`;
  return null;
}

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
    if (err instanceof UpdateNotCompleted) {
      const { workflowId, updateId } = err;
      if (!err.admitted)
        return reply.code(504).send({
          error: 'update_timeout',
          message:
            'the workflow did not take the change in time and Temporal did not confirm it holds it: it has most likely not reached the workflow; ' +
            'send the request again (with the same Idempotency-Key it applies once)',
          workflowId,
          updateId,
        });
      return reply.code(202).send({
        status: 'pending',
        message: 'the change is held by Temporal and applied when the workflow runs again (its worker did not answer in time); look it up to see its outcome',
        workflowId,
        updateId,
        lookup: updateLookup(workflowId, updateId),
      });
    }
    const down = unavailableDependency(err);
    if (down) {
      request.log.warn({ err, dependency: down }, 'dependency unavailable');
      reply.header('retry-after', String(RETRY_AFTER_SECONDS));
      return reply.code(503).send({ error: 'dependency_unavailable', message: `${DEPENDENCY_NAME[down]} cannot be reached now; try again later`, dependency: down });
    }
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: err.code ?? 'bad_request', message: err.message });
    request.log.error({ err }, 'request failed');
    return reply.code(500).send({ error: 'internal_error', message: 'internal error; see the server log' });
  });
}
