import { permanentFailure } from '../activity-proxies';
import { needAttention, retryAttention } from '../../domain/invoice-transitions';
import type { InvoiceRun } from './run';

/** A step that could not run for a reason retrying cannot fix: the customer's contact workflow said so. */
export class NeedsAttention extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'NeedsAttention';
  }
}

/**
 * A configuration or data problem, as opposed to an outage: an activity that failed for good (a non-retryable
 * ApplicationFailure: an unknown template or webhook endpoint, an invoice or customer the ERP does not know, a
 * request the ERP refuses), or a message the contact workflow could not send. Anything else is not ours to catch.
 */
export function attentionProblem(err: unknown): { code: string; reason: string } | undefined {
  if (err instanceof NeedsAttention) return { code: err.code, reason: err.message };
  const failure = permanentFailure(err);
  if (failure) return { code: failure.type ?? 'ActivityFailed', reason: failure.message };
  return undefined;
}

/** A workflow never fails on such a problem: it parks the invoice visibly, tells an AR manager, and tries again later. */
export async function park(run: InvoiceRun, problem: { code: string; reason: string }, stepId: string | null): Promise<void> {
  run.commit(needAttention(run.state, { ...problem, stepId }, run.planContext()));
  run.wake++;
  const a = run.state.attention!;
  const n = run.invoice.number;
  await run.notifyInternal(
    `${run.workflowId}:attention:${a.since}`,
    'ar_manager',
    `Dunning of invoice ${n} is parked${stepId ? ` at step ${stepId}` : ''}: ${a.reason} (${a.code}). Fix the configuration or data, then resume the invoice (POST /invoices/${n}/resume); otherwise it is tried again by itself at ${a.retryAt}.`,
  );
  await run.audit('needs_attention', { code: a.code, reason: a.reason, stepId, attempts: a.attempts, retryAt: a.retryAt });
}

/** Parked: wait for the retry time or a person's resume, then let the loop try the step again. */
export async function holdForAttention(run: InvoiceRun): Promise<void> {
  const attention = run.state.attention!;
  await run.waitUntil(Date.parse(attention.retryAt));
  if (run.isClosed() || !run.state.attention || Date.now() < Date.parse(attention.retryAt)) return; // resumed, closed or woken early: the loop looks again
  run.commit(retryAttention(run.state, run.planContext()));
  await run.audit('attention_retry', { code: attention.code, stepId: attention.stepId, attempts: attention.attempts, by: 'schedule' });
}
