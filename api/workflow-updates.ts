import { randomUUID } from 'node:crypto';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError, isGrpcServiceError, type Client } from '@temporalio/client';
import { isRefusalCode } from '../domain/refusals';
import { DomainError, UpdateNotCompleted } from './errors';

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

export type WorkflowHandle = ReturnType<Client['workflow']['getHandle']>;

/**
 * How long a person waits for a workflow to take a change. A workflow update needs the workflow's worker:
 * while it is down, Temporal holds the update (admitted) and the client would wait for as long as it is down.
 */
export const UPDATE_TIMEOUT_MS = 10_000;

/**
 * Runs a workflow update (or several, `send` gets the workflow's handle), bounded by UPDATE_TIMEOUT_MS: its
 * refusal is thrown as above, a closed workflow is `undefined`, Temporal down is a 503 (api/errors.ts).
 * An update not completed in time is thrown as UpdateNotCompleted, admitted or not: answered 202 with the
 * update's id and where to look it up (the workflow applies it when it runs again), or 504 when Temporal
 * does not even hold it. An update sent without an id gets one here, so that it can be looked up.
 */
export async function runUpdate<R>(temporal: Client, workflowId: string, send: (handle: WorkflowHandle) => Promise<R>, timeoutMs = UPDATE_TIMEOUT_MS): Promise<R | undefined> {
  const handle = temporal.workflow.getHandle(workflowId);
  let updateId: string | undefined;
  const tracked: WorkflowHandle = {
    ...handle,
    executeUpdate: ((def: never, options: { updateId?: string }) => {
      updateId = options?.updateId ?? randomUUID();
      return handle.executeUpdate(def, { ...options, updateId } as never);
    }) as WorkflowHandle['executeUpdate'],
  };
  try {
    return await temporal.withDeadline(Date.now() + timeoutMs, () => send(tracked));
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) throw refusalOf(err);
    if (isWorkflowClosed(err)) return undefined;
    if (err instanceof WorkflowUpdateRPCTimeoutOrCancelledError && updateId !== undefined)
      throw new UpdateNotCompleted(workflowId, updateId, (await updateStage(temporal, workflowId, updateId)) !== undefined, err);
    throw err;
  }
}

/** The stages of an update as Temporal reports them (UpdateWorkflowExecutionLifecycleStage). */
const STAGES = { 1: 'admitted', 2: 'accepted', 3: 'completed' } as const;

/** Where Temporal has the update, without waiting: undefined when it does not know it (or does not answer in 2 s). */
async function updateStage(temporal: Client, workflowId: string, updateId: string): Promise<(typeof STAGES)[keyof typeof STAGES] | undefined> {
  try {
    const response = await temporal.withDeadline(Date.now() + 2_000, () =>
      temporal.workflowService.pollWorkflowExecutionUpdate({ namespace: temporal.options.namespace, updateRef: { workflowExecution: { workflowId }, updateId }, waitPolicy: {} }),
    );
    return STAGES[(response.stage ?? 0) as keyof typeof STAGES];
  } catch (err) {
    if (isGrpcServiceError(err) || err instanceof Error) return undefined;
    throw err;
  }
}

export type UpdateStatus =
  | { status: 'pending'; stage: 'admitted' | 'accepted' }
  | { status: 'completed'; result: unknown }
  | { status: 'refused'; error: string; message: string };

/**
 * A workflow update looked up by its id (after a 202): still pending (held by Temporal, or taken by the
 * workflow and running), completed with its result, or refused with its code. Undefined when Temporal does
 * not know it: it was never admitted, or lost with the server's memory (admitted updates are not durable
 * until the workflow takes them).
 */
export async function lookUpUpdate(temporal: Client, workflowId: string, updateId: string): Promise<UpdateStatus | undefined> {
  const stage = await updateStage(temporal, workflowId, updateId);
  if (stage === undefined) return undefined;
  if (stage !== 'completed') return { status: 'pending', stage };
  try {
    const result = await temporal.withDeadline(Date.now() + 5_000, () => temporal.workflow.getHandle(workflowId).getUpdateHandle(updateId).result());
    return { status: 'completed', result };
  } catch (err) {
    if (!(err instanceof WorkflowUpdateFailedError)) throw err;
    const refusal = refusalOf(err);
    return { status: 'refused', error: refusal instanceof DomainError ? refusal.code : 'internal_error', message: refusal.message };
  }
}
