import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { isPublicPath } from './auth';
import { badRequestSchema, errorSchema } from './schemas';

/**
 * The OpenAPI document says every answer a route can give, so that a client (or schemathesis, in
 * test/e2e/fuzz.e2e.test.ts) can rely on it. Besides each route's own responses:
 * - 400 wherever a request can be malformed: a schema's validation_failed with its issues, a NUL in any
 *   string (api/input-guards.ts), an empty or malformed JSON body;
 * - 401 (no, or no valid, token) and 403 (role or portfolio) on every route that needs a token;
 * - 414 on routes with path parameters: a parameter longer than the router takes;
 * - a 204 without content (it has none: no JSON, no content type).
 * Only the document changes: validation and serialization stay with each route's zod schemas.
 */
type TransformArgs = Parameters<typeof jsonSchemaTransform>[0];

const NO_CONTENT = { type: 'null', description: 'No Content' } as const;

export function openApiTransform(args: TransformArgs): ReturnType<typeof jsonSchemaTransform> {
  const schema = args.schema as (Record<string, unknown> & { response?: Record<string, unknown>; hide?: boolean; params?: unknown }) | undefined;
  if (!schema || schema.hide) return jsonSchemaTransform(args);
  const response: Record<string, unknown> = { ...(schema.response ?? {}) };
  const documented = (code: number) => response[code] !== undefined || response[String(code)] !== undefined;
  const add = (code: number, s: unknown) => {
    if (!documented(code)) response[code] = s;
  };
  add(400, badRequestSchema);
  if (!isPublicPath(args.url)) {
    add(401, errorSchema.describe('no valid token: missing, malformed, unknown, revoked, expired, or its user inactive'));
    add(403, errorSchema.describe('the role is too low, or the customer is outside the caller’s portfolio'));
  }
  if (schema.params !== undefined || args.url.includes(':')) add(414, errorSchema.describe('a path parameter longer than the router takes'));
  const noContent = documented(204);
  if (noContent) delete response[204], delete response['204'];
  const out = jsonSchemaTransform({ ...args, schema: { ...schema, response } } as TransformArgs);
  if (noContent) (out.schema as { response: Record<string, unknown> }).response['204'] = NO_CONTENT;
  return out;
}
