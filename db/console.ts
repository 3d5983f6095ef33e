import type { Db } from './sql';
import type { UserRow } from './users';

/**
 * The web console's rows (migration 020): password hashes on users, sessions (only the SHA-256 of the cookie's
 * secret), failed sign-ins for the rate limit. What a hash or a cookie looks like is api/console's business.
 */

export type UserWithPassword = UserRow & { password_hash: string | null; locale: string | null; time_zone: string | null };

export async function userWithPassword(db: Db, tenantId: string, userId: string): Promise<UserWithPassword | undefined> {
  const [row] = await db<UserWithPassword[]>`
    select tenant_id, user_id, name, role, approval_limit_minor, team, active, password_hash, locale, time_zone
    from users where tenant_id = ${tenantId} and user_id = ${userId}`;
  return row;
}

/** Sets (or with null clears) the user's password hash; false for an unknown user. */
export async function setPasswordHash(db: Db, tenantId: string, userId: string, hash: string | null): Promise<boolean> {
  const rows = await db`
    update users set password_hash = ${hash}, password_set_at = case when ${hash}::text is null then null else now() end
    where tenant_id = ${tenantId} and user_id = ${userId} returning user_id`;
  return rows.length > 0;
}

/** Sets the user's locale and time zone (null = the tenant's); false for an unknown user. */
export async function setUserFormats(db: Db, tenantId: string, userId: string, formats: { locale: string | null; timeZone: string | null }): Promise<boolean> {
  const rows = await db`
    update users set locale = ${formats.locale}, time_zone = ${formats.timeZone}
    where tenant_id = ${tenantId} and user_id = ${userId} returning user_id`;
  return rows.length > 0;
}

export async function insertSession(
  db: Db,
  s: { sessionSha256: string; tenantId: string; userId: string; expiresAt: Date; ip: string; userAgent: string },
): Promise<void> {
  await db`
    insert into console_sessions (session_sha256, tenant_id, user_id, expires_at, ip, user_agent)
    values (${s.sessionSha256}, ${s.tenantId}, ${s.userId}, ${s.expiresAt}, ${s.ip}, ${s.userAgent.slice(0, 300)})`;
}

export type SessionWithUser = UserWithPassword & { session_sha256: string; created_at: Date; expires_at: Date; last_seen_at: Date; ended_at: Date | null };

/** The session and its user, whatever its state (the caller tells expired, ended and inactive apart). */
export async function sessionWithUser(db: Db, tenantId: string, sessionSha256: string): Promise<SessionWithUser | undefined> {
  const [row] = await db<SessionWithUser[]>`
    select s.session_sha256, s.created_at, s.expires_at, s.last_seen_at, s.ended_at,
           u.tenant_id, u.user_id, u.name, u.role, u.approval_limit_minor, u.team, u.active, u.password_hash, u.locale, u.time_zone
    from console_sessions s join users u on u.tenant_id = s.tenant_id and u.user_id = s.user_id
    where s.session_sha256 = ${sessionSha256} and s.tenant_id = ${tenantId}`;
  return row;
}

/** Slides the idle expiry (never past the absolute end the caller computed). */
export async function touchSession(db: Db, sessionSha256: string, expiresAt: Date): Promise<void> {
  await db`update console_sessions set last_seen_at = now(), expires_at = ${expiresAt} where session_sha256 = ${sessionSha256}`;
}

export async function endSession(db: Db, sessionSha256: string): Promise<void> {
  await db`update console_sessions set ended_at = coalesce(ended_at, now()) where session_sha256 = ${sessionSha256}`;
}

/** Ends every open session of the user (a password set or reset, the user made inactive); how many were open. */
export async function endSessionsOfUser(db: Db, tenantId: string, userId: string): Promise<number> {
  const rows = await db`
    update console_sessions set ended_at = now()
    where tenant_id = ${tenantId} and user_id = ${userId} and ended_at is null and expires_at > now() returning session_sha256`;
  return rows.length;
}

export async function recordSignInFailure(db: Db, tenantId: string, userId: string, ip: string): Promise<void> {
  await db`insert into console_sign_in_failures (tenant_id, user_id, ip) values (${tenantId}, ${userId.slice(0, 64)}, ${ip})`;
  // Kept a day: the rate limit looks back minutes, the audit trail keeps the record.
  await db`delete from console_sign_in_failures where tenant_id = ${tenantId} and at < now() - interval '1 day'`;
}

/** Failed sign-ins for the user id and from the address since `since`, and the oldest of each within it. */
export async function signInFailuresSince(db: Db, tenantId: string, userId: string, ip: string, since: Date) {
  const [row] = await db<{ by_user: number; by_ip: number; oldest_user: Date | null; oldest_ip: Date | null }[]>`
    select count(*) filter (where user_id = ${userId})::int as by_user,
           count(*) filter (where ip = ${ip})::int as by_ip,
           min(at) filter (where user_id = ${userId}) as oldest_user,
           min(at) filter (where ip = ${ip}) as oldest_ip
    from console_sign_in_failures
    where tenant_id = ${tenantId} and at >= ${since} and (user_id = ${userId} or ip = ${ip})`;
  return { byUser: row!.by_user, byIp: row!.by_ip, oldestUser: row!.oldest_user, oldestIp: row!.oldest_ip };
}

/** Clears the user's failures after a good sign-in (the address keeps its own). */
export async function clearSignInFailures(db: Db, tenantId: string, userId: string): Promise<void> {
  await db`delete from console_sign_in_failures where tenant_id = ${tenantId} and user_id = ${userId}`;
}

declare module './audit-events' {
  interface AuditDetailsByType {
    /** A good sign-in to the console: the session's first 12 hex of its hash names it in the trail, never the cookie. */
    console_signed_in: { userId: string; session: string; ip: string; userAgent: string };
    console_signed_out: { userId: string; session: string };
    /** A refused sign-in: unknown user, wrong password, no password set, inactive, or refused by the rate limit. */
    console_sign_in_failed: { userId: string; ip: string; reason: 'bad_credentials' | 'rate_limited'; userAgent: string };
    /** A password set or cleared by an admin (API or npm run users); the user's sessions ended. */
    password_set: { userId: string; by: string; cleared: boolean; sessionsEnded: number };
  }
}
