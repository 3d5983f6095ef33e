import { DomainError } from './errors';

/**
 * Several changes that stand or fall together (a promise or a plan over several invoices, one
 * workflow update each): applied in order; when one fails, those already applied are undone, last
 * first, and the failure is thrown as it was. A change that cannot be undone (no undo, or its undo
 * failed) makes the failure say so: a refusal keeps its code with `notUndone` in its details, any
 * other failure becomes a PartiallyAppliedError (a 500, logged).
 */
export interface Change<R> {
  /** What the change is about, e.g. the invoice number. */
  name: string;
  apply: () => Promise<R>;
  undo?: (applied: R) => Promise<void>;
}

export class PartiallyAppliedError extends Error {
  constructor(
    readonly failedAt: string,
    readonly notUndone: string[],
    cause: unknown,
  ) {
    super(`${failedAt} failed after ${notUndone.join(', ')} had been changed, and these could not be undone: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'PartiallyAppliedError';
  }
}

export async function allOrNothing<R>(changes: readonly Change<R>[], onUndoFailure?: (name: string, err: unknown) => void): Promise<R[]> {
  const applied: { change: Change<R>; result: R }[] = [];
  for (const change of changes) {
    try {
      applied.push({ change, result: await change.apply() });
    } catch (err) {
      const notUndone: string[] = [];
      for (const { change: done, result } of applied.reverse()) {
        if (!done.undo) {
          notUndone.unshift(done.name);
          continue;
        }
        try {
          await done.undo(result);
        } catch (undoErr) {
          notUndone.unshift(done.name);
          onUndoFailure?.(done.name, undoErr);
        }
      }
      if (notUndone.length === 0) throw err;
      if (err instanceof DomainError)
        throw new DomainError(err.code, `${err.message} (${notUndone.join(', ')} had already been changed and could not be undone)`, { ...err.details, failedAt: change.name, notUndone });
      throw new PartiallyAppliedError(change.name, notUndone, err);
    }
  }
  return applied.map((a) => a.result);
}
