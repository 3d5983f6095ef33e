import type { ErpAdapter } from './erp/adapter';
import { createAuditActivities } from './audit';
import { createCallTaskActivities } from './call-tasks';
import { createErpActivities } from './erp-balance';
import { createMailActivities, type MailDeps } from './mail';

export interface ActivityDeps extends MailDeps {
  erp: ErpAdapter;
}

/** All activities, with their dependencies injected; workflows import only this function's type. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createErpActivities(deps),
    ...createMailActivities(deps),
    ...createCallTaskActivities(deps),
    ...createAuditActivities(deps),
  };
}
