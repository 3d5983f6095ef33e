import type { z } from 'zod';
import type { ValidationIssue } from '../domain/templates';

/**
 * One formatter for validation problems, for the API (400 validation_failed with `issues`), the users
 * CLI, configuration files and the ERP webhook alike: each problem as `{ path, code, message }` with a
 * dotted path, and all of them as one line for a message or a terminal. Imports only zod and domain/.
 */
export type { ValidationIssue };

type IssueLike = Pick<z.core.$ZodIssue, 'path' | 'code' | 'message'> | { path: readonly PropertyKey[]; code: string; message: string };

/** One problem at a path (segments, e.g. ['body', 'steps', 1, 'id'] → "body.steps.1.id"). */
export const validationIssue = (path: readonly PropertyKey[], code: string, message: string): ValidationIssue => ({
  path: path.map(String).join('.'),
  code,
  message,
});

/** zod's issues (a ZodError or its list) as `{ path, code, message }`, each path under `at` (e.g. ['body']). */
export function validationIssues(error: z.ZodError | readonly IssueLike[], at: readonly PropertyKey[] = []): ValidationIssue[] {
  const issues: readonly IssueLike[] = 'issues' in error ? error.issues : error;
  return issues.map((i) => validationIssue([...at, ...i.path], i.code, i.message));
}

/** Every problem on one line: "userId: too long; team: lower-case team id…" (a problem without a path is its message alone). */
export function issuesLine(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join('; ');
}

/** A zod error on one line, as above. */
export const zodErrorLine = (error: z.ZodError, at: readonly PropertyKey[] = []): string => issuesLine(validationIssues(error, at));
