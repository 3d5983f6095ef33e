import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { isRefusalCode } from '../domain/refusals';
import { DomainError } from './errors';

/**
 * A workflow update's failure that carries no refusal code: a bug in the workflow (an update validator
 * or handler that threw something else), answered 500 and logged by the error handler, never guessed at.
 */
export class UntypedWorkflowFailure extends Error {
  constructor(readonly failure: WorkflowUpdateFailedError) {
    const cause = failure.cause;
    super(`workflow update failed without a refusal code (${cause instanceof ApplicationFailure ? `type ${cause.type ?? 'none'}` : (cause?.name ?? 'no cause')}): ${cause?.message ?? failure.message}`, { cause: failure });
    this.name = 'UntypedWorkflowFailure';
  }
}

/**
 * The one mapping of a refused workflow update to an HTTP answer: the validator (or handler) threw an
 * ApplicationFailure whose `type` is a refusal code (workflows/refuse.ts), answered with that code's
 * status (api/refusal-status.ts) and its message. Anything else is a bug, never classified by its wording.
 */
export function refusalOf(err: WorkflowUpdateFailedError): DomainError | UntypedWorkflowFailure {
  const cause = err.cause;
  if (cause instanceof ApplicationFailure && isRefusalCode(cause.type)) return new DomainError(cause.type, cause.message);
  return new UntypedWorkflowFailure(err);
}

/**
 * The workflow is closed: it never existed or completed (paid, written off...), including an update it
 * admitted but aborted by completing. The client reports each as WorkflowNotFoundError.
 */
export const isWorkflowClosed = (err: unknown): err is WorkflowNotFoundError => err instanceof WorkflowNotFoundError;

/** Runs a workflow update: its refusal is thrown as above; `undefined` when the workflow is closed. */
export async function runUpdate<R>(run: () => Promise<R>): Promise<R | undefined> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw refusalOf(err);
    if (isWorkflowClosed(err)) return undefined;
    throw err;
  }
}
