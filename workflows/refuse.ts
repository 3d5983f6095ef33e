import { ApplicationFailure } from '@temporalio/workflow';
import type { Refusal, RefusalCode } from '../domain/refusals';

/**
 * Refuses a request from an update validator (or an activity's caller): an ApplicationFailure whose
 * `type` is the refusal code, which the API maps to an HTTP status (api/refusal-status.ts).
 */
export function refuse(code: RefusalCode, message: string): never {
  throw ApplicationFailure.create({ type: code, message, nonRetryable: true });
}

/** Throws the refusal, if there is one. */
export function refuseIf(r: Refusal | undefined): void {
  if (r) refuse(r.code, r.message);
}
