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
 * Local activities run in the worker that runs the workflow task and are recorded as one marker event when
 * that task completes, instead of three events and a workflow task of their own each. The guarantees are the
 * same ones the activities already give (each is idempotent by its key, a send at most once by its outbox
 * claim): a worker that dies during one has its workflow task retried, which runs the activity again. Backoff
 * beyond `localRetryThreshold` waits on a workflow timer, so an ERP down for hours costs a timer per retry.
 */
const LOCAL = { localRetryThreshold: '1 minute' } as const;

const remote = { system: proxyActivities<Activities>(SYSTEM_CALLS), contact: proxyActivities<Activities>(CUSTOMER_CONTACT) };
const local = { system: proxyLocalActivities<Activities>({ ...SYSTEM_CALLS, ...LOCAL }), contact: proxyLocalActivities<Activities>({ ...CUSTOMER_CONTACT, ...LOCAL }) };

/**
 * Whether this workflow's activities run as local activities. Module state is per workflow here (workflows/ is not
 * among the bundle's shared modules: worker/workflows-path.ts), so each workflow sets it once, at its start, from a
 * patch marker: histories recorded before local activities replay with the activities they scheduled.
 */
let runLocally = false;
export function runActivitiesLocally(on: boolean): void {
  runLocally = on;
}

const switching = (kind: 'system' | 'contact'): Activities =>
  new Proxy({} as Activities, { get: (_, name: string) => (runLocally ? local : remote)[kind][name as keyof Activities] });

export const system = switching('system');
export const contact = switching('contact');

/**
 * The failure of an activity that retrying cannot fix (a non-retryable ApplicationFailure), or undefined. An activity's
 * arrives wrapped in an ActivityFailure; a local activity's arrives as the ApplicationFailure itself.
 */
export function permanentFailure(err: unknown): ApplicationFailure | undefined {
  const failure = err instanceof ActivityFailure ? err.cause : err;
  return failure instanceof ApplicationFailure && failure.nonRetryable ? failure : undefined;
}
