import { proxyActivities, sleep, workflowInfo } from '@temporalio/workflow';
import type { FloorActivities } from './activities';

/**
 * The bare floor the project is measured against (issue 11): a workflow of K steps, each a timer, one
 * balance read from the ERP and one send through SMTP; nothing else (no audit trail, no database
 * mirror, no contact workflow, no search attributes). Steps are dated as the project's cadence dates a
 * `previous_step` offset: step 1 at `firstAt` (the enrollment for the project: due at once, so no
 * timer), each next one `spacingMs` after the previous step's instant, or now when that has passed.
 */
export interface FloorInput {
  invoiceNumber: string;
  email: string;
  steps: number;
  spacingMs: number;
  /** Epoch ms of the first step: 0 runs it at once, a far instant leaves the workflow idle on its timer. */
  firstAt: number;
}

// The project's retry policy for ERP calls and sends (workflows/activity-proxies.ts), so that a failure costs the same.
const { checkBalance } = proxyActivities<FloorActivities>({
  startToCloseTimeout: '15 seconds',
  retry: { initialInterval: '2 seconds', backoffCoefficient: 2, maximumInterval: '10 minutes' },
});
const { send } = proxyActivities<FloorActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '30 minutes' },
});

/** Answers the number of steps done (the bench checks it is K). */
export async function floorDunning(input: FloorInput): Promise<number> {
  const { workflowId } = workflowInfo();
  let at = input.firstAt;
  let done = 0;
  for (let step = 1; step <= input.steps; step++) {
    if (step > 1) at = Math.max(at + input.spacingMs, Date.now());
    if (at > Date.now()) await sleep(at - Date.now());
    const balance = await checkBalance(input.invoiceNumber);
    if (balance.status !== 'open' || balance.openAmountMinor <= 0) break;
    await send({ idempotencyKey: `${workflowId}:step:${step}`, invoiceNumber: input.invoiceNumber, step, to: input.email, openAmountMinor: balance.openAmountMinor });
    done++;
  }
  return done;
}
