import { createUser, findUser, issueToken, type AuthUser, type Role } from '../../api/auth';
import type { Sql } from '../../db/sql';

/**
 * A user of the tenant (created if missing, left as it is otherwise) and a fresh token for them,
 * ready to send: `app.inject({ ..., headers })` or `fetch(url, { headers })`.
 */
export async function userWithToken(sql: Sql, tenantId: string, u: { userId: string; role: Role; name?: string; approvalLimitMinor?: number | null }) {
  const found = await findUser(sql, tenantId, u.userId);
  const user: AuthUser = found
    ? { tenantId: found.tenantId, userId: found.userId, name: found.name, role: found.role, approvalLimitMinor: found.approvalLimitMinor }
    : (await createUser(sql, tenantId, { userId: u.userId, role: u.role, name: u.name ?? `Test ${u.role} ${u.userId}`, approvalLimitMinor: u.approvalLimitMinor ?? null }));
  const { token, tokenId } = await issueToken(sql, tenantId, u.userId, { label: 'test' });
  return { user, token, tokenId, headers: { authorization: `Bearer ${token}` } };
}
