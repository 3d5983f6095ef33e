/**
 * Roles, in rank order: every role may do what the roles before it may. Pure, so that domain code
 * (the authority matrix) and the API share one definition.
 *
 * A team_member works in an owner team (pricing, logistics...) on its disputes, with no portfolio.
 */
export const ROLES = ['team_member', 'collector', 'team_lead', 'ar_manager', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** team_member < collector < team_lead < ar_manager < admin */
export function roleRank(role: Role): number {
  return ROLES.indexOf(role);
}
