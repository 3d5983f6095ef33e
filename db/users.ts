import type { Role } from '../domain/roles';
import type { Db } from './sql';

/**
 * Users (users) and their API tokens (api_tokens). Only the SHA-256 of a token's secret is stored;
 * what a token looks like and how it is checked is the API's business (api/auth.ts).
 */

export interface UserRow {
  tenant_id: string;
  user_id: string;
  name: string;
  role: Role;
  approval_limit_minor: number | null;
  team: string | null;
  active: boolean;
}

export interface ApiTokenRow {
  user_id: string;
  token_id: string;
  label: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/** A token with its user, as authentication reads it (the tenant is the token's). */
export type TokenWithUser = UserRow & { secret_sha256: string; expires_at: Date | null; revoked_at: Date | null; last_used_at: Date | null };

export interface NewUser {
  userId: string;
  name: string;
  role: Role;
  approvalLimitMinor: number | null;
  team: string | null;
}

/** Creates the user unless the id is taken in the tenant (never overwrites); the row written, undefined when taken. */
export async function insertUserOnce(db: Db, tenantId: string, u: NewUser): Promise<UserRow | undefined> {
  const [row] = await db<UserRow[]>`
    insert into users (tenant_id, user_id, name, role, approval_limit_minor, team)
    values (${tenantId}, ${u.userId}, ${u.name}, ${u.role}, ${u.approvalLimitMinor}, ${u.team})
    on conflict (tenant_id, user_id) do nothing
    returning tenant_id, user_id, name, role, approval_limit_minor, team, active`;
  return row;
}

export async function userById(db: Db, tenantId: string, userId: string): Promise<UserRow | undefined> {
  const [row] = await db<UserRow[]>`
    select tenant_id, user_id, name, role, approval_limit_minor, team, active from users where tenant_id = ${tenantId} and user_id = ${userId}`;
  return row;
}

/** The tenant's users by id. */
export async function usersOfTenant(db: Db, tenantId: string): Promise<UserRow[]> {
  return db<UserRow[]>`
    select tenant_id, user_id, name, role, approval_limit_minor, team, active from users where tenant_id = ${tenantId} order by user_id`;
}

/** The tenant's tokens (ids and dates, never hashes), oldest first. */
export async function tokensOfTenant(db: Db, tenantId: string): Promise<ApiTokenRow[]> {
  return db<ApiTokenRow[]>`
    select user_id, token_id, label, created_at, expires_at, revoked_at, last_used_at from api_tokens
    where tenant_id = ${tenantId} order by created_at, token_id`;
}

/** Stores a token unless its id is taken (token ids are global); false when taken. */
export async function insertTokenOnce(
  db: Db,
  t: { tokenId: string; tenantId: string; userId: string; secretSha256: string; label: string; expiresAt: string | null },
): Promise<boolean> {
  const rows = await db`
    insert into api_tokens (token_id, tenant_id, user_id, secret_sha256, label, expires_at)
    values (${t.tokenId}, ${t.tenantId}, ${t.userId}, ${t.secretSha256}, ${t.label}, ${t.expiresAt})
    on conflict (token_id) do nothing returning token_id`;
  return rows.length > 0;
}

/** Revokes a token of the tenant (a revoked one keeps its first revocation); false when the tenant has no such token. */
export async function revokeTokenOfTenant(db: Db, tenantId: string, tokenId: string): Promise<boolean> {
  const rows = await db`
    update api_tokens set revoked_at = coalesce(revoked_at, now()) where tenant_id = ${tenantId} and token_id = ${tokenId} returning token_id`;
  return rows.length > 0;
}

/** The token with its user, whatever its tenant, or undefined for an unknown token id. */
export async function tokenWithUser(db: Db, tokenId: string): Promise<TokenWithUser | undefined> {
  const [row] = await db<TokenWithUser[]>`
    select t.tenant_id, t.user_id, t.secret_sha256, t.expires_at, t.revoked_at, t.last_used_at, u.name, u.role, u.approval_limit_minor, u.team, u.active
    from api_tokens t join users u on u.tenant_id = t.tenant_id and u.user_id = t.user_id
    where t.token_id = ${tokenId}`;
  return row;
}

export async function markTokenUsed(db: Db, tokenId: string): Promise<void> {
  await db`update api_tokens set last_used_at = now() where token_id = ${tokenId}`;
}
