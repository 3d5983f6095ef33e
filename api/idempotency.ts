import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import { z } from 'zod';
import type { Sql } from '../db/sql';
import { claimIdempotencyKey, completeClaim, findIdempotencyKey, releaseClaim, takeOverStaleClaim } from '../db/api-idempotency-keys';
import { DomainError } from './errors';
import { errorSchema } from './schemas';

/**
 * Idempotent API writes. Every POST that creates something (a route answering 201, or one marked
 * `config: { idempotent: true }`) accepts an `Idempotency-Key` header. The key is claimed for the
 * tenant and user before the handler runs (a 'pending' row of api_idempotency_keys), and completed
 * with the answer once it is sent; a retry with the same key and the same request (method, URL and
 * body) gets that answer again with `Idempotent-Replayed: true`, without running the handler. The same
 * key with another request is 422 `idempotency_key_reused`; a duplicate while the first still runs is
 * 409 `idempotency_key_in_use`. A 5xx answer is not stored (the claim is released: the retry runs
 * again), and a claim left by a process that stopped may be taken over after the lease.
 *
 * The writes behind a route span the database and Temporal, so the claim is a row of its own rather
 * than part of one transaction; the services derive their ids from the key (requestKey()), so that a
 * request run again after a lost answer finds what it already made instead of making it twice.
 */

export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';
const DEFAULT_LEASE_MS = 5 * 60_000;

export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7E]{1,200}$/, '1 to 200 visible ASCII characters')
  .describe(
    'Optional. 1-200 visible ASCII characters, unique per request you mean (a UUID is fine). A retry with the same key and the same body gets the first answer ' +
      '(same status and body, with the header Idempotent-Replayed: true) and changes nothing; the same key with another body is 422 idempotency_key_reused; ' +
      'a retry while the first request still runs is 409 idempotency_key_in_use. Keys are per user and kept with the answer.',
  );

declare module 'fastify' {
  interface FastifyContextConfig {
    /** true: idempotent although it does not answer 201; false: never (its answer must not be stored, e.g. a token). */
    idempotent?: boolean;
  }
  interface FastifyRequest {
    /** The request's Idempotency-Key, claimed for it, when it sent one to an idempotent route. */
    idempotency?: { key: string; claimed: boolean };
  }
}

/** Whether a route takes an Idempotency-Key: a POST that creates (answers 201), unless it opts in or out. */
export function isIdempotentRoute(route: Pick<RouteOptions, 'method' | 'schema' | 'config'>): boolean {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  if (!methods.includes('POST')) return false;
  const marked = (route.config as { idempotent?: boolean } | undefined)?.idempotent;
  if (marked !== undefined) return marked;
  const response = (route.schema as { response?: Record<string, unknown> } | undefined)?.response;
  return response !== undefined && Object.hasOwn(response, 201);
}

/**
 * A key for the ids a request makes (a task's key, a note's event key, a promise id), the same
 * for every retry of it: derived from tenant, user and Idempotency-Key; undefined without one.
 */
export function requestKey(request: FastifyRequest): string | undefined {
  if (!request.idempotency) return undefined;
  return createHash('sha256').update(`${request.user.tenantId}\u0000${request.user.userId}\u0000${request.idempotency.key}`).digest('hex').slice(0, 24);
}

/** JSON with object keys sorted: the same body hashes the same however its keys were ordered. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(value) ?? 'null';
}

export const requestHash = (method: string, url: string, body: unknown): string =>
  createHash('sha256').update(`${method} ${url}\n${canonical(body ?? null)}`).digest('hex');

/** Registers the hooks; call before the swagger plugin and the routes, so that both see the header in each route's schema. */
export function registerIdempotency(app: FastifyInstance, deps: { sql: Sql; tenantId: string; leaseMs?: number }): void {
  const { sql, tenantId } = deps;
  const leaseMs = deps.leaseMs ?? DEFAULT_LEASE_MS;
  app.decorateRequest('idempotency', undefined);

  // Documents and validates the header on every idempotent route (OpenAPI: a header parameter, and the 409 and 422 it may answer).
  app.addHook('onRoute', (route) => {
    if (!isIdempotentRoute(route)) return;
    const schema = (route.schema ?? {}) as { headers?: unknown; response?: Record<string, unknown> };
    if (schema.headers !== undefined && !(schema.headers instanceof z.ZodObject)) throw new Error(`${route.url}: idempotent routes take zod header schemas`);
    const headers = ((schema.headers as z.ZodObject | undefined) ?? z.looseObject({})).extend({ [IDEMPOTENCY_KEY_HEADER]: idempotencyKeySchema.optional() });
    route.schema = { ...schema, headers, ...(schema.response ? { response: { 409: errorSchema, 422: errorSchema, ...schema.response } } : {}) };
    route.config = { ...route.config, idempotent: true };
  });

  app.addHook('preHandler', async (request, reply) => {
    if (request.routeOptions.config.idempotent !== true) return;
    const key = request.headers[IDEMPOTENCY_KEY_HEADER];
    if (typeof key !== 'string') return;
    const { userId } = request.user;
    const route = request.routeOptions.url ?? request.url;
    const hash = requestHash(request.method, request.url, request.body);
    const ref = { tenantId, userId, key };
    if (await claimIdempotencyKey(sql, ref, { method: request.method, route, hash })) {
      request.idempotency = { key, claimed: true };
      return;
    }
    const row = await findIdempotencyKey(sql, ref);
    if (!row) throw new DomainError('idempotency_key_in_use', `Idempotency-Key ${key} is being released by its first request; retry`);
    if (row.request_hash !== hash)
      throw new DomainError('idempotency_key_reused', `Idempotency-Key ${key} was used for another request (another route or body); use a new key for a new request`);
    if (row.status === 'completed') {
      request.idempotency = { key, claimed: false };
      return reply
        .code(row.response_status!)
        .header(REPLAYED_HEADER, 'true')
        .header('content-type', 'application/json; charset=utf-8')
        .send(row.response_body ?? '');
    }
    // Pending: the first request still runs, or died; after the lease, this one takes the claim over.
    if (!(await takeOverStaleClaim(sql, ref, leaseMs)))
      throw new DomainError('idempotency_key_in_use', `a request with Idempotency-Key ${key} is still being answered (since ${row.created_at.toISOString()}); retry later`);
    request.idempotency = { key, claimed: true };
  });

  // Completes the claim with the answer as sent; a 5xx releases it, so that a retry runs again.
  app.addHook('onSend', async (request, reply, payload) => {
    const claim = request.idempotency;
    if (!claim?.claimed) return payload;
    claim.claimed = false;
    const ref = { tenantId, userId: request.user.userId, key: claim.key };
    try {
      const body = typeof payload === 'string' ? payload : Buffer.isBuffer(payload) ? payload.toString('utf8') : undefined;
      if (reply.statusCode >= 500 || body === undefined) await releaseClaim(sql, ref);
      else await completeClaim(sql, ref, { status: reply.statusCode, body });
    } catch (err) {
      // The answer still goes out; the claim stays pending until its lease ends.
      request.log.error({ err, idempotencyKey: claim.key }, 'could not store the answer for an Idempotency-Key');
    }
    return payload;
  });
}
