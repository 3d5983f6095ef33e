import type { FastifyInstance } from 'fastify';
import type { ConsoleDefaults } from '../render';
import { worklistPages } from './worklist';
import { customerPages } from './customer';
import { unappliedCashPages } from './unapplied-cash';
import { disputePages } from './disputes';
import { approvalPages } from './approvals';
import { dashboardPages } from './dashboard';
import { importPages } from './imports';
import { erpSyncPages } from './erp-sync';
import { userPages } from './users';
import { cadencePages } from './cadences';

/** What a page module gets: the scope to add its /app routes to (session and CSRF already applied), and the formats' defaults. */
export interface PageContext {
  defaults: ConsoleDefaults;
}
export type ConsolePages = (app: FastifyInstance, ctx: PageContext) => Promise<void>;

/** Every page module of the console, registered in the console's scope by api/console/plugin.ts. */
export const CONSOLE_PAGES: ConsolePages[] = [
  worklistPages,
  customerPages,
  unappliedCashPages,
  disputePages,
  approvalPages,
  dashboardPages,
  importPages,
  erpSyncPages,
  userPages,
  cadencePages,
];
