import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sql } from '../../db/sql';
import { createUser, issueToken, listUsers, minimumRole, newTokenSchema, newUserSchema, revokeToken, roleSchema, tokenIdSchema, userIdSchema } from '../auth';
import { notFound } from '../errors';
import { errorSchema } from '../schemas';
import { setUserPassword } from '../console/accounts';
import { passwordSchema } from '../console/passwords';
import { setUserFormats } from '../../db/console';

/** A BCP 47 locale Intl knows, e.g. en-GB, de-DE. */
const localeSchema = z.string().max(35).refine((l) => {
  try {
    return Intl.NumberFormat.supportedLocalesOf([l]).length === 1;
  } catch {
    return false;
  }
}, 'a BCP 47 locale this server knows, e.g. en-GB or de-DE');
/** An IANA time zone, e.g. Europe/Berlin. */
const timeZoneSchema = z.string().max(64).refine((z) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: z });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone, e.g. Europe/Berlin');

const userSchema = z.object({
  userId: z.string(),
  name: z.string(),
  role: roleSchema,
  approvalLimitMinor: z.number().nullable(),
  team: z.string().nullable().optional().describe('the owner team the user works disputes for (resolution matrix); null: none'),
});
export const tokenInfoSchema = z.object({
  tokenId: z.string(),
  label: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
});
const adminOnly = minimumRole('admin');

/** Who am I, and (admins) users and their tokens. A token is shown once, when it is issued. */
export const userRoutes: FastifyPluginAsyncZod<{ sql: Sql; tenantId: string }> = async (app, { sql, tenantId }) => {
  app.get('/me', {
    schema: { summary: 'The user behind the token: id, name, role, approval limit and team', response: { 200: userSchema.extend({ tenantId: z.string() }) } },
    handler: async (request) => request.user,
  });

  app.put('/me/preferences', {
    schema: {
      summary: "The signed-in user's locale and time zone, for the web console's amounts and dates (null: the tenant's)",
      body: z.strictObject({ locale: localeSchema.nullable(), timeZone: timeZoneSchema.nullable() }),
      response: { 200: z.object({ locale: z.string().nullable(), timeZone: z.string().nullable() }), 400: errorSchema },
    },
    handler: async (request) => {
      await setUserFormats(sql, tenantId, request.user.userId, request.body);
      return request.body;
    },
  });

  app.put('/users/:userId/password', {
    schema: {
      summary: "Set a user's web console password (admin): given, generated (answered once), or cleared; their console sessions end",
      params: z.object({ userId: userIdSchema }),
      body: z.union([z.strictObject({ password: passwordSchema }), z.strictObject({ generate: z.literal(true) }), z.strictObject({ clear: z.literal(true) })]),
      response: { 200: z.object({ userId: z.string(), password: z.string().optional().describe('only when generated: shown this once'), sessionsEnded: z.number() }), 400: errorSchema, 403: errorSchema, 404: errorSchema },
    },
    onRequest: adminOnly,
    // Never replayed: a generated password is stored nowhere in clear.
    config: { idempotent: false },
    handler: async (request) => {
      const { userId } = request.params;
      const result = await setUserPassword(sql, tenantId, userId, request.body, request.user.userId);
      request.log.info({ actor: request.user.userId, userId, sessionsEnded: result.sessionsEnded }, 'console password set');
      return result;
    },
  });

  app.get('/users', {
    schema: {
      summary: 'Every user with their tokens (ids and dates only) (admin)',
      response: { 200: z.object({ items: z.array(userSchema.extend({ active: z.boolean(), tokens: z.array(tokenInfoSchema) })) }), 403: errorSchema },
    },
    onRequest: adminOnly,
    handler: async () => ({ items: await listUsers(sql, tenantId) }),
  });

  app.post('/users', {
    schema: {
      summary: 'Create a user with a role (admin); 409 if the id is taken',
      body: newUserSchema,
      response: { 201: userSchema, 400: errorSchema, 403: errorSchema, 409: errorSchema },
    },
    onRequest: adminOnly,
    handler: async (request, reply) => {
      const { tenantId: _tenant, ...user } = await createUser(sql, tenantId, request.body);
      request.log.info({ actor: request.user.userId, userId: user.userId, role: user.role }, 'user created');
      return reply.code(201).send(user);
    },
  });

  app.post('/users/:userId/tokens', {
    schema: {
      summary: 'Issue an API token for a user (admin). The response is the only place the token appears: store it now',
      params: z.object({ userId: userIdSchema }),
      body: newTokenSchema.refine((t) => t.expiresAt === undefined || Date.parse(t.expiresAt) > Date.now(), { message: 'must be in the future', path: ['expiresAt'] }).default({}),
      response: {
        201: z.object({ token: z.string(), tokenId: z.string(), userId: z.string(), label: z.string(), expiresAt: z.string().nullable() }),
        400: errorSchema,
        403: errorSchema,
        404: errorSchema,
      },
    },
    onRequest: adminOnly,
    // Never replayed: the answer holds the token's secret, which is stored nowhere.
    config: { idempotent: false },
    handler: async (request, reply) => {
      const { userId } = request.params;
      const issued = await issueToken(sql, tenantId, userId, request.body);
      request.log.info({ actor: request.user.userId, userId, tokenId: issued.tokenId }, 'token issued');
      return reply.code(201).send({ ...issued, userId, label: request.body.label ?? '', expiresAt: request.body.expiresAt ? new Date(request.body.expiresAt).toISOString() : null });
    },
  });

  app.delete('/tokens/:tokenId', {
    schema: {
      summary: 'Revoke a token (admin); it stops working at once. Revoking twice is fine',
      params: z.object({ tokenId: tokenIdSchema }),
      response: { 204: z.null(), 400: errorSchema, 403: errorSchema, 404: errorSchema },
    },
    onRequest: adminOnly,
    handler: async (request, reply) => {
      if (!(await revokeToken(sql, tenantId, request.params.tokenId))) throw notFound(`token ${request.params.tokenId}`);
      request.log.info({ actor: request.user.userId, tokenId: request.params.tokenId }, 'token revoked');
      return reply.code(204).send(null);
    },
  });
};
