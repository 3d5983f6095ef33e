import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { issuesLine, validationIssue, validationIssues, zodErrorLine } from '../../config/validation-issues';

describe('one formatter for validation issues', () => {
  const schema = z.object({ userId: z.string().min(3), steps: z.array(z.object({ id: z.string() })) });
  const error = schema.safeParse({ userId: 'a', steps: [{ id: 1 }] }).error!;

  it('lists each zod issue as { path, code, message }, dotted, under a prefix', () => {
    expect(validationIssues(error, ['body'])).toEqual([
      { path: 'body.userId', code: 'too_small', message: expect.any(String) },
      { path: 'body.steps.0.id', code: 'invalid_type', message: expect.any(String) },
    ]);
    expect(validationIssues(error).map((i) => i.path)).toEqual(['userId', 'steps.0.id']);
    expect(validationIssues(error.issues, ['query']).map((i) => i.path)).toEqual(['query.userId', 'query.steps.0.id']);
  });

  it('says everything on one line; a problem without a path is its message alone', () => {
    expect(issuesLine([validationIssue(['body', 'name'], 'custom', 'must not be blank'), validationIssue([], 'custom', 'not an object')])).toBe(
      'body.name: must not be blank; not an object',
    );
    expect(zodErrorLine(error)).toMatch(/^userId: .+; steps\.0\.id: .+$/);
  });
});
