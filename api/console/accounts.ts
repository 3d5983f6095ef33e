import type { Sql } from '../../db/sql';
import { appendAuditEvent } from '../../db/audit-events';
import { endSessionsOfUser, setPasswordHash } from '../../db/console';
import { DomainError } from '../errors';
import { generatePassword, hashPassword, passwordSchema } from './passwords';
import { zodErrorLine, validationIssues } from '../../config/validation-issues';

/**
 * Console passwords as an admin sets them (PUT /users/:userId/password, npm run users -- password): hashed with
 * scrypt, the user's open sessions ended, the change audited. `generate` makes one and answers it, once.
 */
export async function setUserPassword(
  sql: Sql,
  tenantId: string,
  userId: string,
  change: { password: string } | { generate: true } | { clear: true },
  by: string,
): Promise<{ userId: string; password?: string; sessionsEnded: number }> {
  let password: string | undefined;
  if ('password' in change) {
    const checked = passwordSchema.safeParse(change.password);
    if (!checked.success)
      throw new DomainError('validation_failed', `invalid password: ${zodErrorLine(checked.error)}`, { issues: validationIssues(checked.error, ['body', 'password']) });
    password = checked.data;
  } else if ('generate' in change) password = generatePassword();
  const hash = password === undefined ? null : await hashPassword(password);
  return sql.begin(async (tx) => {
    if (!(await setPasswordHash(tx, tenantId, userId, hash))) throw new DomainError('not_found', `user ${userId} not found`);
    const sessionsEnded = await endSessionsOfUser(tx, tenantId, userId);
    await appendAuditEvent(tx, {
      eventKey: `password-set:${tenantId}:${userId}:${Date.now()}:${Math.random().toString(36).slice(2)}`,
      tenantId,
      actor: by,
      type: 'password_set',
      details: { userId, by, cleared: hash === null, sessionsEnded },
    });
    return { userId, ...('generate' in change ? { password } : {}), sessionsEnded };
  });
}
