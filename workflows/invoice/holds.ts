import { fullDispute, isPaused } from '../../domain/invoice-state';
import { holdForAttention } from './attention';
import { holdForPause } from './pauses';
import { holdForPromise } from './promises';
import type { InvoiceRun } from './run';

/** While paused, parked for attention, disputed, awaiting a decision or promised, no cadence step runs: wait for what the hold waits for. */
export async function hold(run: InvoiceRun): Promise<void> {
  if (isPaused(run.state)) return holdForPause(run);
  if (run.state.attention) return holdForAttention(run);
  if (fullDispute(run.state) || run.state.approval) return run.waitUntil(Infinity); // the child workflow's signal wakes it
  return holdForPromise(run);
}
