import { proxyActivities } from '@temporalio/workflow';
import type { createActivities } from '../activities';

type Activities = ReturnType<typeof createActivities>;

/**
 * One proxy per retry policy, shared by the workflows. Timeouts are short so that a crashed worker's
 * activity is retried on another within seconds; retries go on with backoff for as long as it takes.
 */

/** ERP and database calls: quick, retried for as long as it takes (the ERP may be down for hours). */
const SYSTEM_CALLS = {
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
} as const;

/** Customer-facing sends: the activity itself guarantees at most once; Temporal retries transient SMTP failures. */
const CUSTOMER_CONTACT = {
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
} as const;

export const system = proxyActivities<Activities>(SYSTEM_CALLS);
export const contact = proxyActivities<Activities>(CUSTOMER_CONTACT);
