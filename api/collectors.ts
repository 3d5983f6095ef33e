import type { Sql } from '../db/sql';
import { userById } from '../db/users';
import { roleRank } from '../domain/roles';
import { DomainError } from './errors';

/**
 * Who may hold a portfolio: an active user whose role is collector or above (team_lead, ar_manager, admin).
 * An unknown or inactive user, or a member of an owner team (team_member), would gain customers nobody
 * works; enrollment and reassignment refuse them with 422 unknown_collector.
 */
export async function assertPortfolioHolder(sql: Sql, tenantId: string, collectorId: string): Promise<void> {
  const user = await userById(sql, tenantId, collectorId);
  const refuse = (why: string) => new DomainError('unknown_collector', `${collectorId} cannot hold a portfolio: ${why}`, { collectorId });
  if (!user) throw refuse('no such user');
  if (!user.active) throw refuse('the user is inactive');
  if (roleRank(user.role) < roleRank('collector')) throw refuse(`the user is ${user.role === 'team_member' ? 'a team_member (an owner team)' : user.role}; a collector or above is needed`);
}
