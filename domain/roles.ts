import { z } from 'zod';

/**
 * Roles, in rank order: every role may do what the roles before it may. Pure, so that domain code
 * (the authority matrix) and the API share one definition.
 *
 * A team_member works in an owner team (pricing, logistics...) on its disputes, with no portfolio.
 */
export const ROLES = ['team_member', 'collector', 'team_lead', 'ar_manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** A role with its article, for messages: "a collector", "an ar_manager", "an admin". */
export const aRole = (role: string): string => `${/^[aeiou]/i.test(role) ? 'an' : 'a'} ${role}`;

/** team_member < collector < team_lead < ar_manager < admin */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}

/** A user id (users.user_id): the API, the users CLI and the matrices that name people share this one rule. */
export const userIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lower-case letters, digits, . _ -, at most 64, starting with a letter or digit');

/** An owner team's id (users.team, the resolution matrix's teams), e.g. pricing. */
export const teamIdSchema = z.string().regex(/^[a-z][a-z0-9_]{0,40}$/, 'lower-case team id: a letter, then letters, digits and _ (at most 41), e.g. pricing');
