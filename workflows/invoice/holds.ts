import { fullDispute } from '../../domain/invoice-state';
import { holdForPause } from './pauses';
import { holdForPromise } from './promises';
import type { InvoiceRun } from './run';

/** While paused, disputed, awaiting a decision or promised, no cadence step runs: wait for what the hold waits for. */
export async function hold(run: InvoiceRun): Promise<void> {
  if (run.state.pause) return holdForPause(run);
  if (fullDispute(run.state) || run.state.approval) return run.waitUntil(Infinity); // the child workflow's signal wakes it
  return holdForPromise(run);
}
