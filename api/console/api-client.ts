import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { AuthUser } from '../auth';

/**
 * The console reads and writes through the HTTP API itself: each call is an app.inject() into the same fastify
 * instance, as the signed-in user, so every validation, authorization rule, idempotency key and audit row is the
 * API's own. There is no second path to the data. The user travels as a one-time key (`x-console-call`) that
 * only this process can have made (api/auth.ts).
 */

export interface ValidationIssueBody {
  path: string;
  code: string;
  message: string;
}

/** The API's error body: a code, a message for people, the zod issues of a 400, and whatever the error adds. */
export interface ApiErrorBody {
  error: string;
  message: string;
  issues?: ValidationIssueBody[];
  [key: string]: unknown;
}

export type ApiResult<T> = { ok: true; status: number; body: T; headers: Record<string, unknown> } | { ok: false; status: number; body: ApiErrorBody; headers: Record<string, unknown> };

export interface ConsoleApi {
  get<T = unknown>(url: string): Promise<ApiResult<T>>;
  /** A write: JSON body; `idempotencyKey` (a form's hidden `_key`) makes a double submit apply once. */
  send<T = unknown>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, opts?: { idempotencyKey?: string }): Promise<ApiResult<T>>;
  /** The raw answer (a file download: Excel, CSV), status, headers and bytes. */
  raw(method: 'GET' | 'POST', url: string, opts?: { body?: Buffer | string; contentType?: string }): Promise<{ status: number; headers: Record<string, unknown>; body: Buffer }>;
}

export function consoleApi(app: FastifyInstance, user: AuthUser, context: { traceparent?: string } = {}): ConsoleApi {
  async function call(method: string, url: string, payload: Buffer | string | undefined, headers: Record<string, string>) {
    const key = randomBytes(24).toString('base64url');
    app.consoleCalls.set(key, user);
    try {
      return await app.inject({
        method: method as 'GET',
        url,
        ...(payload === undefined ? {} : { payload }),
        headers: { 'x-console-call': key, ...(context.traceparent ? { traceparent: context.traceparent } : {}), ...headers },
      });
    } finally {
      app.consoleCalls.delete(key);
    }
  }
  const result = <T>(res: { statusCode: number; body: string; headers: Record<string, unknown> }): ApiResult<T> => {
    let body: unknown = undefined;
    if (res.body !== '') {
      try {
        body = JSON.parse(res.body);
      } catch {
        body = { error: 'not_json', message: res.body.slice(0, 500) };
      }
    }
    return res.statusCode < 400
      ? { ok: true, status: res.statusCode, body: body as T, headers: res.headers }
      : { ok: false, status: res.statusCode, body: body as ApiErrorBody, headers: res.headers };
  };
  return {
    async get<T>(url: string) {
      return result<T>(await call('GET', url, undefined, {}));
    },
    async send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown, opts: { idempotencyKey?: string } = {}) {
      const headers: Record<string, string> = {};
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
      return result<T>(await call(method, url, body === undefined ? undefined : JSON.stringify(body), headers));
    },
    async raw(method: 'GET' | 'POST', url: string, opts: { body?: Buffer | string; contentType?: string } = {}) {
      const res = await call(method, url, opts.body, opts.contentType ? { 'content-type': opts.contentType } : {});
      return { status: res.statusCode, headers: res.headers, body: res.rawPayload };
    },
  };
}

/** A fresh key for a form's hidden `_key` field: the form's submit and its retries are one request to the API. */
export const formKey = () => randomUUID();
