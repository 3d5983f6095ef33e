import type { ErpAdapter } from '../integrations/erp/adapter';
import { createAuditActivities } from './audit';
import { createBeforeSendActivities } from './before-send';
import { createCallTaskActivities } from './call-tasks';
import { createCreditHoldActivities } from './credit-hold';
import { createCustomerActivities, type CustomerActivityDeps } from './customer';
import { createErpActivities } from './erp-balance';
import { createErpActionActivities } from './erp-actions';
import { createHandoffActivities } from './handoff';
import { createMailActivities, type MailDeps } from './mail';
import { createPromiseActivities } from './promises';
import { createPeopleWorkActivities, type PeopleWorkDeps } from './people-work';
import { createOutboundWebhookActivities } from './outbound-webhook';
import type { WebhookEndpoints } from '../config/webhook-endpoints';

export interface ActivityDeps extends MailDeps, CustomerActivityDeps, PeopleWorkDeps {
  erp: ErpAdapter;
  webhookEndpoints: WebhookEndpoints;
}

/** All activities, with their dependencies injected; workflows import only this function's type. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createErpActivities(deps),
    ...createBeforeSendActivities(deps),
    ...createMailActivities(deps),
    ...createCallTaskActivities(deps),
    ...createAuditActivities(deps),
    ...createCustomerActivities(deps),
    ...createCreditHoldActivities(deps),
    ...createErpActionActivities(deps),
    ...createHandoffActivities(deps),
    ...createPromiseActivities(deps),
    ...createPeopleWorkActivities(deps),
    ...createOutboundWebhookActivities({ endpoints: deps.webhookEndpoints }),
  };
}
