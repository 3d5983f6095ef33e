import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Sql } from '../db/sql';
import { collectorOfCustomer } from '../db/customers';
import { invoiceWithCollector, type InvoiceAccessRow } from '../db/invoices';
import {
  insertTokenOnce,
  insertUserOnce,
  markTokenUsed,
  revokeTokenOfTenant,
  tokensOfTenant,
  tokenWithUser,
  userById,
  usersOfTenant,
  type UserRow,
} from '../db/users';
import { validationIssues, zodErrorLine } from '../config/validation-issues';
import { DomainError } from './errors';
import { instantSchema } from './dates';
import { singleLineText } from '../domain/text';
import { ROLES, roleRank, teamIdSchema, userIdSchema, type Role } from '../domain/roles';

/**
 * Users, their API tokens, roles and portfolios. A token is `dun_<tokenId>_<secret>`: the token id
 * finds the row, and only the SHA-256 of the secret is stored, so the database never holds a usable
 * token. Every request except health, the docs and the signed ERP webhook carries one as
 * `Authorization: Bearer …`; the hook below turns it into `request.user`.
 */

// Roles in rank order (team_member < collector < team_lead < ar_manager < admin) live in domain/roles.ts.
export { ROLES, roleRank, userIdSchema, type Role };

export interface AuthUser {
  tenantId: string;
  userId: string;
  name: string;
  role: Role;
  /** Largest amount (reporting currency, minor units) the user may approve; null = the role's default. */
  approvalLimitMinor: number | null;
  /** The owner team the user belongs to (disputes), if any. */
  team?: string | null;
}

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The web console's calls into this API (api/console/api-client.ts): a one-time random key, sent as
     * `x-console-call` by app.inject() from inside this process, stands for the signed-in user of the page being
     * served. Nothing outside the process can know a key; each lives for one call.
     */
    consoleCalls: Map<string, AuthUser>;
  }
  interface FastifyRequest {
    /** The authenticated caller; set for every route except the public ones (see PUBLIC_PATHS). */
    user: AuthUser;
  }
}

// ------------------------------------------------------------------------------------- pure parts

export const roleSchema = z.enum(ROLES);
export const tokenIdSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'letters, digits and -, at most 64');
export const tokenSecretSchema = z.string().regex(/^[A-Za-z0-9_-]{16,256}$/, 'at least 16 of letters, digits, _ and -');
export const approvalLimitSchema = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const newUserSchema = z.object({
  userId: userIdSchema,
  name: singleLineText(200),
  role: roleSchema,
  approvalLimitMinor: approvalLimitSchema.nullable().optional(),
  team: teamIdSchema.nullable().optional(),
});
export const newTokenSchema = z.object({
  label: singleLineText(200, { min: 0 }).optional(),
  expiresAt: instantSchema.optional(),
});

export function hasRole(user: Pick<AuthUser, 'role'>, minimum: Role): boolean {
  return roleRank(user.role) >= roleRank(minimum);
}

/** Throws 403 `forbidden` unless the user's role ranks at least `minimum`. */
export function requireRole(user: AuthUser, minimum: Role): void {
  if (!hasRole(user, minimum))
    throw new DomainError('role_too_low', `this needs the role ${minimum} or above; ${user.userId} is ${user.role}`, { requiredRole: minimum });
}

/**
 * A collector works their own portfolio (customers.collector_id = their user id); a team member has
 * none (their work reaches them as disputes); every other role sees all.
 */
export function portfolioScope(user: AuthUser): string | undefined {
  return user.role === 'collector' || user.role === 'team_member' ? user.userId : undefined;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** True when `secret` hashes to `storedHex`, compared in constant time. */
export function secretMatches(secret: string, storedHex: string): boolean {
  const actual = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHex, 'hex');
  return stored.length === actual.length && timingSafeEqual(actual, stored);
}

export const formatToken = (tokenId: string, secret: string) => `dun_${tokenId}_${secret}`;

/** `dun_<tokenId>_<secret>` → its parts; undefined if it cannot be one of ours. The secret may contain `_`, the id may not. */
export function parseToken(token: string): { tokenId: string; secret: string } | undefined {
  const match = /^dun_([A-Za-z0-9-]{1,64})_([A-Za-z0-9_-]{16,256})$/.exec(token);
  return match ? { tokenId: match[1]!, secret: match[2]! } : undefined;
}

/** The token in an `Authorization: Bearer <token>` header; throws 401 with what is wrong. */
export function tokenFromHeader(header: string | undefined): { tokenId: string; secret: string } {
  if (header === undefined || header.trim() === '')
    throw unauthorized('missing Authorization header: send "Authorization: Bearer <token>" (create tokens with `npm run users -- token <userId>`)');
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header.trim());
  if (!match) throw unauthorized('malformed Authorization header: expected "Bearer <token>"');
  const parsed = parseToken(match[1]!);
  if (!parsed) throw unauthorized('malformed API token: expected dun_<tokenId>_<secret>');
  return parsed;
}

const unauthorized = (message: string) => new DomainError('unauthorized', message);

/** 12 characters of [A-Za-z0-9]: the public part of a token, also what revoke takes. */
function randomTokenId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  while (id.length < 12) {
    for (const byte of randomBytes(16)) {
      if (byte < 248 && id.length < 12) id += alphabet[byte % 62]; // 248 = 4 × 62: no modulo bias
    }
  }
  return id;
}

// ------------------------------------------------------------------------------------- database

const toUser = (r: UserRow): AuthUser => ({ tenantId: r.tenant_id, userId: r.user_id, name: r.name, role: r.role, approvalLimitMinor: r.approval_limit_minor, team: r.team });

function parseOrThrow<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new DomainError('validation_failed', `invalid ${what}: ${zodErrorLine(result.error)}`, { issues: validationIssues(result.error) });
}

/** Creates a user; 409 `user_exists` if the id is taken in the tenant (never overwrites). */
export async function createUser(
  sql: Sql,
  tenantId: string,
  u: { userId: string; name: string; role: Role; approvalLimitMinor?: number | null; team?: string | null },
): Promise<AuthUser> {
  const user = parseOrThrow(newUserSchema, u, 'user');
  const row = await insertUserOnce(sql, tenantId, { ...user, approvalLimitMinor: user.approvalLimitMinor ?? null, team: user.team ?? null });
  if (!row) throw new DomainError('user_exists', `user ${user.userId} already exists`);
  return toUser(row);
}

export async function findUser(sql: Sql, tenantId: string, userId: string): Promise<(AuthUser & { active: boolean }) | undefined> {
  const row = await userById(sql, tenantId, userId);
  return row ? { ...toUser(row), active: row.active } : undefined;
}

export interface TokenInfo {
  tokenId: string;
  label: string;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}
export type UserWithTokens = AuthUser & { active: boolean; tokens: TokenInfo[] };

/** Every user of the tenant with their tokens (ids and dates, never secrets or hashes). */
export async function listUsers(sql: Sql, tenantId: string): Promise<UserWithTokens[]> {
  const users = await usersOfTenant(sql, tenantId);
  const tokens = await tokensOfTenant(sql, tenantId);
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return users.map((u) => ({
    ...toUser(u),
    active: u.active,
    tokens: tokens
      .filter((t) => t.user_id === u.user_id)
      .map((t) => ({ tokenId: t.token_id, label: t.label, createdAt: t.created_at.toISOString(), expiresAt: iso(t.expires_at), revokedAt: iso(t.revoked_at), lastUsedAt: iso(t.last_used_at) })),
  }));
}

/**
 * Issues a token for an existing user and returns it: the only time it exists in clear. By default
 * a random 12-character id and 32 random bytes (base64url) of secret; the demo seed passes both.
 * 404 for an unknown user, 409 `token_exists` if the token id is taken.
 */
export async function issueToken(
  sql: Sql,
  tenantId: string,
  userId: string,
  opts: { label?: string; expiresAt?: string; secret?: string; tokenId?: string } = {},
): Promise<{ token: string; tokenId: string }> {
  const tokenId = opts.tokenId === undefined ? randomTokenId() : parseOrThrow(tokenIdSchema, opts.tokenId, 'token id');
  const secret = opts.secret === undefined ? randomBytes(32).toString('base64url') : parseOrThrow(tokenSecretSchema, opts.secret, 'token secret');
  const { label, expiresAt } = parseOrThrow(newTokenSchema, { label: opts.label, expiresAt: opts.expiresAt }, 'token options');
  if (!(await findUser(sql, tenantId, userId))) throw new DomainError('not_found', `user ${userId} not found`);
  const inserted = await insertTokenOnce(sql, { tokenId, tenantId, userId, secretSha256: hashSecret(secret), label: label ?? '', expiresAt: expiresAt ?? null });
  if (!inserted) throw new DomainError('token_exists', `token id ${tokenId} is already taken`);
  return { token: formatToken(tokenId, secret), tokenId };
}

/** Revokes a token of the tenant (again: no change). False if the tenant has no such token. */
export async function revokeToken(sql: Sql, tenantId: string, tokenId: string): Promise<boolean> {
  return revokeTokenOfTenant(sql, tenantId, tokenId);
}

/** Any valid hash: compared against when the token id is unknown, so that both paths take the same time. */
const NO_HASH = hashSecret('no such token');
const LAST_USED_RESOLUTION_MS = 60_000;

/** The user behind an `Authorization` header, or a 401 `unauthorized` saying what is wrong. */
export async function authenticate(sql: Sql, tenantId: string, header: string | undefined): Promise<AuthUser> {
  const { tokenId, secret } = tokenFromHeader(header);
  const row = await tokenWithUser(sql, tokenId);
  // The secret is checked first: what is wrong with a token is only told to whoever holds it.
  const matches = secretMatches(secret, row?.secret_sha256 ?? NO_HASH);
  if (!row || !matches) throw unauthorized('unknown API token');
  if (row.tenant_id !== tenantId) throw unauthorized('API token belongs to another tenant');
  if (row.revoked_at) throw unauthorized(`API token ${tokenId} was revoked at ${row.revoked_at.toISOString()}`);
  const now = Date.now();
  if (row.expires_at && row.expires_at.getTime() <= now) throw unauthorized(`API token ${tokenId} expired at ${row.expires_at.toISOString()}`);
  if (!row.active) throw unauthorized(`user ${row.user_id} is inactive`);
  if (!row.last_used_at || now - row.last_used_at.getTime() >= LAST_USED_RESOLUTION_MS)
    await markTokenUsed(sql, tokenId);
  return toUser(row);
}

/** An invoice as the people's services act on it (db/invoices.ts). */
export type InvoiceForUser = Omit<InvoiceAccessRow, 'collector_id'>;

/** An invoice the user may act on, in one query: 404 if the tenant has no such invoice; 403 outside a collector's portfolio. */
export async function invoiceForUser(sql: Sql, user: AuthUser, invoiceNumber: string): Promise<InvoiceForUser> {
  const row = await invoiceWithCollector(sql, user.tenantId, invoiceNumber);
  if (!row) throw new DomainError('not_found', `invoice ${invoiceNumber} not found`);
  const scope = portfolioScope(user);
  if (scope !== undefined && row.collector_id !== scope)
    throw new DomainError('not_in_portfolio', `customer ${row.customer_id} is not in the portfolio of ${user.userId}`);
  const { collector_id: _, ...invoice } = row;
  return invoice;
}

/** 404 if the tenant has no such customer; 403 if a collector asks for a customer outside their portfolio. */
export async function assertCustomerAccess(sql: Sql, user: AuthUser, customerId: string): Promise<void> {
  const row = await collectorOfCustomer(sql, user.tenantId, customerId);
  if (!row) throw new DomainError('not_found', `customer ${customerId} not found`);
  const scope = portfolioScope(user);
  if (scope !== undefined && row.collectorId !== scope)
    throw new DomainError('not_in_portfolio', `customer ${customerId} is not in the portfolio of ${user.userId}`);
}

// ------------------------------------------------------------------------------------- HTTP

/**
 * Route patterns that need no token: health, the Prometheus metrics, the OpenAPI document and UI, the ERP webhook
 * (HMAC-signed instead), and the web console under /app (its own session cookie, api/console/plugin.ts).
 */
export function isPublicPath(path: string): boolean {
  return path === '/app' || path.startsWith('/app/') || path === '/health' || path === '/metrics' || path === '/health/live' || path === '/health/ready' || path === '/openapi.json' || path === '/docs' || path.startsWith('/docs/') || path === '/webhooks/erp';
}

/**
 * Sets `request.user` on every request to a non-public path, before body parsing and validation,
 * so that a caller without a valid token learns nothing else. Call before registering routes.
 */
export function registerAuth(app: FastifyInstance, deps: { sql: Sql; tenantId: string }): void {
  app.decorateRequest('user');
  app.decorate('consoleCalls', new Map<string, AuthUser>());
  app.addHook('onRequest', async (request) => {
    const consoleCall = request.headers['x-console-call'];
    if (consoleCall !== undefined) {
      const user = typeof consoleCall === 'string' ? app.consoleCalls.get(consoleCall) : undefined;
      if (!user) throw unauthorized('unknown console call');
      request.user = user;
      return;
    }
    // The matched route's pattern, not the raw URL: no spelling of a path reaches a private route as public.
    // A URL that matches no route needs a token too (401 before 404: no probing for routes).
    const route = request.routeOptions.url;
    if (route !== undefined && isPublicPath(route)) return;
    request.user = await authenticate(deps.sql, deps.tenantId, request.headers.authorization);
  });
}

/** A route-level onRequest hook (runs after authentication, before validation): 403 below `minimum`. */
export function minimumRole(minimum: Role) {
  return async (request: FastifyRequest): Promise<void> => requireRole(request.user, minimum);
}
