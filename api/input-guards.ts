import type { FastifyInstance } from 'fastify';
import { validationIssue, type ValidationIssue } from '../config/validation-issues';
import { DomainError } from './errors';

/**
 * Checks every request makes before its route's schema: no NUL character in any string of the body, the
 * query or the path, keys included. PostgreSQL stores no NUL in text or jsonb, so such a value could only
 * fail later as a 500; here it is a 400 validation_failed naming where it is. Route schemas refuse the other
 * control characters in the text they take (api/text.ts); this one is refused everywhere, free-form JSON too.
 */
const MAX_ISSUES = 20;

/** Where `value` holds a NUL (in a string or a key), as paths under `at`; walks iteratively, so deep JSON cannot overflow the stack. */
export function nulIssues(value: unknown, at: readonly PropertyKey[]): ValidationIssue[] {
  const issues: ValidationIssue[] = [];
  const stack: { value: unknown; path: readonly PropertyKey[] }[] = [{ value, path: at }];
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) issues.push(validationIssue(path, 'invalid_string', 'must not contain a NUL character (U+0000)'));
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    } else if (typeof v === 'object' && v !== null && !Buffer.isBuffer(v)) {
      for (const [key, item] of Object.entries(v)) {
        if (key.includes('\u0000')) issues.push(validationIssue([...path, key.replace(/\u0000/g, '\\u0000')], 'invalid_key', 'a key must not contain a NUL character (U+0000)'));
        else stack.push({ value: item, path: [...path, key] });
      }
    }
  }
  return issues;
}

export function registerInputGuards(app: FastifyInstance): void {
  app.addHook('preValidation', async (request) => {
    const issues = [
      ...nulIssues(request.params, ['params']),
      ...nulIssues(request.query, ['querystring']),
      ...nulIssues(request.body, ['body']),
    ];
    if (issues.length > 0) {
      const where = issues[0]!.path.split('.')[0];
      throw new DomainError('validation_failed', `invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, { issues });
    }
  });
}
