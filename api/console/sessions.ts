import { createHash, randomBytes } from 'node:crypto';
import type { Sql } from '../../db/sql';
import { appendAuditEvent } from '../../db/audit-events';
import {
  clearSignInFailures,
  endSession,
  insertSession,
  recordSignInFailure,
  sessionWithUser,
  signInFailuresSince,
  touchSession,
  userWithPassword,
  type UserWithPassword,
} from '../../db/console';
import type { AuthUser } from '../auth';
import { verifyPassword } from './passwords';

/**
 * Console sessions: a sign-in checks the password (scrypt) under a rate limit on failures per user id and per
 * address, and opens a session whose cookie holds 32 random bytes; the database keeps only their SHA-256.
 * A session ends at sign-out, when an admin sets the user's password, when the user is made inactive, after
 * `idleMinutes` without a request, and at most `maxHours` after the sign-in.
 */

export interface SessionOptions {
  idleMinutes: number;
  maxHours: number;
  /** Failures allowed per user id, and per address, within `failureWindowMinutes` before sign-ins are refused. */
  maxFailuresPerUser: number;
  maxFailuresPerIp: number;
  failureWindowMinutes: number;
}

export const DEFAULT_SESSION_OPTIONS: SessionOptions = { idleMinutes: 480, maxHours: 12, maxFailuresPerUser: 5, maxFailuresPerIp: 30, failureWindowMinutes: 15 };

/** The signed-in user as the console knows it: the API's user plus the session and how to format for them. */
export interface ConsoleUser extends AuthUser {
  /** SHA-256 hex of the cookie's secret: the session's name in the database and the CSRF binding. */
  session: string;
  locale: string | null;
  timeZone: string | null;
}

export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

export type SignInResult =
  | { ok: true; cookie: string; user: ConsoleUser; expiresAt: Date }
  | { ok: false; reason: 'bad_credentials' }
  | { ok: false; reason: 'rate_limited'; retryAfterSeconds: number };

const toConsoleUser = (row: UserWithPassword & { session_sha256: string }): ConsoleUser => ({
  tenantId: row.tenant_id,
  userId: row.user_id,
  name: row.name,
  role: row.role,
  approvalLimitMinor: row.approval_limit_minor,
  team: row.team,
  session: row.session_sha256,
  locale: row.locale,
  timeZone: row.time_zone,
});

export function createSessions(deps: { sql: Sql; tenantId: string; options?: Partial<SessionOptions> }) {
  const { sql, tenantId } = deps;
  const opts = { ...DEFAULT_SESSION_OPTIONS, ...deps.options };

  async function audit(type: 'console_sign_in_failed', details: { userId: string; ip: string; reason: 'bad_credentials' | 'rate_limited'; userAgent: string }): Promise<void> {
    await appendAuditEvent(sql, { eventKey: `console-sign-in-failed:${tenantId}:${randomBytes(12).toString('hex')}`, tenantId, actor: details.userId.slice(0, 64) || '(none)', type, details });
  }

  return {
    options: opts,

    async signIn(input: { userId: string; password: string; ip: string; userAgent: string }): Promise<SignInResult> {
      const userId = input.userId.trim().toLowerCase().slice(0, 64);
      const userAgent = input.userAgent.slice(0, 300);
      const since = new Date(Date.now() - opts.failureWindowMinutes * 60_000);
      const failures = await signInFailuresSince(sql, tenantId, userId, input.ip, since);
      if (failures.byUser >= opts.maxFailuresPerUser || failures.byIp >= opts.maxFailuresPerIp) {
        const oldest = failures.byUser >= opts.maxFailuresPerUser ? failures.oldestUser : failures.oldestIp;
        const retryAfterSeconds = Math.max(1, Math.ceil(((oldest?.getTime() ?? Date.now()) + opts.failureWindowMinutes * 60_000 - Date.now()) / 1000));
        await audit('console_sign_in_failed', { userId, ip: input.ip, reason: 'rate_limited', userAgent });
        return { ok: false, reason: 'rate_limited', retryAfterSeconds };
      }
      const user = userId === '' ? undefined : await userWithPassword(sql, tenantId, userId);
      // The same work whether the user exists or not: the answer tells nothing about which user ids there are.
      const good = await verifyPassword(input.password, user?.password_hash);
      if (!user || !good || !user.active) {
        await recordSignInFailure(sql, tenantId, userId || '(none)', input.ip);
        await audit('console_sign_in_failed', { userId, ip: input.ip, reason: 'bad_credentials', userAgent });
        return { ok: false, reason: 'bad_credentials' };
      }
      await clearSignInFailures(sql, tenantId, userId);
      const cookie = randomBytes(32).toString('base64url');
      const session = sha256(cookie);
      const expiresAt = new Date(Date.now() + Math.min(opts.idleMinutes * 60_000, opts.maxHours * 3_600_000));
      await insertSession(sql, { sessionSha256: session, tenantId, userId, expiresAt, ip: input.ip, userAgent });
      await appendAuditEvent(sql, {
        eventKey: `console-signed-in:${session}`,
        tenantId,
        actor: userId,
        type: 'console_signed_in',
        details: { userId, session: session.slice(0, 12), ip: input.ip, userAgent },
      });
      return { ok: true, cookie, expiresAt, user: toConsoleUser({ ...user, session_sha256: session }) };
    },

    /** The session's user for a cookie value, sliding its idle expiry; undefined when unknown, ended, expired or the user inactive. */
    async resume(cookie: string | undefined): Promise<ConsoleUser | undefined> {
      if (!cookie || !/^[A-Za-z0-9_-]{43}$/.test(cookie)) return undefined;
      const row = await sessionWithUser(sql, tenantId, sha256(cookie));
      const now = Date.now();
      if (!row || row.ended_at || row.expires_at.getTime() <= now || !row.active) return undefined;
      // Slid at most once a minute; never beyond maxHours after the sign-in (created_at is last_seen's floor).
      if (now - row.last_seen_at.getTime() >= 60_000) {
        const cap = row.created_at.getTime() + opts.maxHours * 3_600_000;
        await touchSession(sql, row.session_sha256, new Date(Math.min(now + opts.idleMinutes * 60_000, cap)));
      }
      return toConsoleUser(row);
    },

    async signOut(user: ConsoleUser): Promise<void> {
      await endSession(sql, user.session);
      await appendAuditEvent(sql, {
        eventKey: `console-signed-out:${user.session}`,
        tenantId,
        actor: user.userId,
        type: 'console_signed_out',
        details: { userId: user.userId, session: user.session.slice(0, 12) },
      });
    },
  };
}

export type Sessions = ReturnType<typeof createSessions>;
