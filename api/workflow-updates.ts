import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { DomainError } from './errors';

/**
 * A workflow update as an HTTP answer, for every service that calls one: a refusal by the workflow's
 * validator is 409 when it conflicts with the invoice's state (already done, pending, disputed, closed)
 * and 422 otherwise (403 when `forbidden` matches); `undefined` when the workflow is closed.
 */
const CONFLICT = /already|pending|still being followed|is disputed|is (paid|cancelled|written_off|handed_off)/;

export async function runUpdate<R>(run: () => Promise<R>, forbidden?: RegExp): Promise<R | undefined> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) {
      const reason = err.cause?.message ?? err.message;
      if (forbidden?.test(reason)) throw new DomainError(403, 'forbidden', reason);
      const conflict = CONFLICT.test(reason);
      throw new DomainError(conflict ? 409 : 422, conflict ? 'conflict' : 'rejected_by_workflow', reason);
    }
    if (err instanceof WorkflowNotFoundError || /already completed/i.test((err as Error).message)) return undefined;
    throw err;
  }
}
