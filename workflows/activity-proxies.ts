import { ActivityFailure, ApplicationFailure, proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
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

/**
 * Reads as local activities: run in the worker that runs the workflow task and recorded as one marker event
 * when that task completes, instead of three events and a workflow task of their own. Only reads: a local
 * activity runs before its workflow task is committed, and a task that fails (a worker that dies, new events
 * arriving while it runs) is run again from the last committed state, possibly taking another course. A read
 * done twice is harmless; an effect (an audit row keyed by the event sequence, a message queued, an ERP
 * posting, a task for a collector) could have been made on a course the workflow then did not take. Effects
 * stay ordinary activities: scheduling one commits the decision before it runs. Backoff beyond
 * `localRetryThreshold` waits on a workflow timer, so an ERP down for hours costs a timer per retry.
 * The contact workflow's recheckBeforeSend is a read too, but it queries invoice workflows: as a local activity it
 * would hold its workflow task slot while waiting for queries that need slots of their own.
 */
const LOCAL_READS: ReadonlySet<string> = new Set<keyof Activities>(['getInvoiceBalance', 'getCustomerFacts', 'getBusinessCalendar', 'approvalNeeded']);

const remote = proxyActivities<Activities>(SYSTEM_CALLS);
const local = proxyLocalActivities<Activities>({ ...SYSTEM_CALLS, localRetryThreshold: '1 minute' });

/**
 * Whether this workflow's reads run as local activities. Module state is per workflow here (workflows/ is not
 * among the bundle's shared modules: worker/workflows-path.ts), so a workflow sets it once, at its start, from a
 * patch marker: histories recorded before it replay with the activities they scheduled.
 */
let readsLocally = false;
export function runReadsLocally(on: boolean): void {
  readsLocally = on;
}

export const system: Activities = new Proxy({} as Activities, {
  get: (_, name: string) => (readsLocally && LOCAL_READS.has(name) ? local : remote)[name as keyof Activities],
});
export const contact = proxyActivities<Activities>(CUSTOMER_CONTACT);

/**
 * The failure of an activity that retrying cannot fix (a non-retryable ApplicationFailure), or undefined. An activity's
 * arrives wrapped in an ActivityFailure; a local activity's arrives as the ApplicationFailure itself.
 */
export function permanentFailure(err: unknown): ApplicationFailure | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure && failure.nonRetryable ? failure : undefined;
}
