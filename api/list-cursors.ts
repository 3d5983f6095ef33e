import { DomainError } from './errors';
import { validationIssue } from '../config/validation-issues';

/**
 * The opaque keyset cursors of the paged lists (GET /invoices, GET /worklist): base64url of a JSON array of the
 * last row's sort key. Each list checks the parts it decodes and refuses anything else with `invalidCursor`.
 */
export const encodeCursor = (parts: unknown[]): string => Buffer.from(JSON.stringify(parts)).toString('base64url');

/** The parts of a cursor, or [] when it is not one (the caller's checks then refuse it). */
export function cursorParts(text: string): unknown[] {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return Array.isArray(parsed) ? (parsed as unknown[]) : [];
  } catch {
    return [];
  }
}

export const invalidCursor = () =>
  new DomainError('validation_failed', 'invalid cursor: pass the nextCursor of the previous page unchanged', {
    issues: [validationIssue(['querystring', 'cursor'], 'custom', 'not a cursor of this list')],
  });
