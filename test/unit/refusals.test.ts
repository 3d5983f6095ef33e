import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ApplicationFailure, WorkflowUpdateFailedError } from '@temporalio/client';
import { REFUSAL_CODES, REFUSALS, WORKFLOW_REFUSALS, isRefusalCode } from '../../domain/refusals';
import { KIND_STATUS, REFUSAL_STATUS } from '../../api/refusal-status';
import { DomainError } from '../../api/errors';
import { refusalOf, UntypedWorkflowFailure } from '../../api/workflow-updates';

/**
 * Refusals are typed: one list of codes (domain/refusals.ts), one table of HTTP statuses
 * (api/refusal-status.ts), and every code the workflows can raise is in the list.
 */
const ROOT = path.resolve(__dirname, '..', '..');

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** The literal codes a source raises: refuse('code', …), refusal('code', …), ApplicationFailure.create({ type: 'code', … }). */
function raisedCodes(source: string): string[] {
  const codes: string[] = [];
  for (const m of source.matchAll(/\brefuse\(\s*['"`](\w+)['"`]/g)) codes.push(m[1]!);
  for (const m of source.matchAll(/\brefusal\(\s*['"`](\w+)['"`]/g)) codes.push(m[1]!);
  for (const m of source.matchAll(/ApplicationFailure\.create\(\s*\{[^}]*?\btype:\s*['"`](\w+)['"`]/g)) codes.push(m[1]!);
  return codes;
}

describe('refusal codes and their HTTP status', () => {
  it('gives every code a status that follows its kind (invalid 400 … unavailable 503), and no status to an unknown code', () => {
    expect(KIND_STATUS).toEqual({ invalid: 400, unauthenticated: 401, forbidden: 403, not_found: 404, conflict: 409, unprocessable: 422, unavailable: 503 });
    for (const code of REFUSAL_CODES) expect([code, REFUSAL_STATUS[code]]).toEqual([code, KIND_STATUS[REFUSALS[code]]]);
    expect(Object.keys(REFUSAL_STATUS).sort()).toEqual([...REFUSAL_CODES].sort());
  });

  it('lists every refusal a workflow validator may raise among the codes', () => {
    for (const code of WORKFLOW_REFUSALS) expect(isRefusalCode(code), code).toBe(true);
  });

  it('recognises the ways a refusal is raised in source', () => {
    expect(
      raisedCodes(`refuse('invoice_closed', 'x'); return refusal("already_disputed", m); throw ApplicationFailure.create({ message: 'm', type: 'self_approval', nonRetryable: true });`),
    ).toEqual(['invoice_closed', 'already_disputed', 'self_approval']);
  });

  it('knows every code the workflows raise, themselves or through the domain rules they import', () => {
    const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
    const workflowFiles = sourceFiles('workflows');
    // The domain modules workflow code imports: their refusals are what the workflows' validators raise.
    const imported = new Set(
      workflowFiles.flatMap((file) =>
        [...read(file).matchAll(/from\s+'((?:\.\.\/)+domain\/[\w-]+)'/g)].map((m) => path.normalize(path.join(path.dirname(file), `${m[1]}.ts`))),
      ),
    );
    const raisedBy = (files: string[]) => files.flatMap((file) => raisedCodes(read(file)).map((code) => ({ file, code })));
    const byWorkflows = raisedBy([...workflowFiles, ...[...imported].filter((f) => f !== path.join('domain', 'refusals.ts'))]);
    expect(byWorkflows.length).toBeGreaterThan(0);
    expect(byWorkflows.filter(({ code }) => !(WORKFLOW_REFUSALS as readonly string[]).includes(code))).toEqual([]);
    // Every other domain rule's refusal is a code of the list too.
    const byDomain = raisedBy(sourceFiles('domain').filter((f) => f !== path.join('domain', 'refusals.ts')));
    expect(byDomain.filter(({ code }) => !isRefusalCode(code))).toEqual([]);
  });
});

describe('a refused workflow update as the API answers it', () => {
  const failed = (cause: Error) => new WorkflowUpdateFailedError('Workflow Update failed', cause);

  it("answers a typed refusal with its code's status and the message", () => {
    const err = refusalOf(failed(ApplicationFailure.create({ type: 'invoice_closed', message: 'invoice INV-1 is paid', nonRetryable: true })));
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ statusCode: 409, code: 'invoice_closed', message: 'invoice INV-1 is paid' });
    expect(refusalOf(failed(ApplicationFailure.create({ type: 'over_limit', message: 'above the limit' })))).toMatchObject({ statusCode: 403, code: 'over_limit' });
    expect(refusalOf(failed(ApplicationFailure.create({ type: 'promise_does_not_fit', message: 'too far ahead' })))).toMatchObject({ statusCode: 422 });
  });

  it('treats a failure without a known code as a bug (500), whatever its message says', () => {
    for (const cause of [
      ApplicationFailure.create({ type: 'Error', message: 'invoice INV-1 is already paid' }),
      ApplicationFailure.create({ message: 'task 7 was already completed' }),
      new Error('is disputed'),
    ]) {
      const err = refusalOf(failed(cause));
      expect(err).toBeInstanceOf(UntypedWorkflowFailure);
      expect(err).not.toHaveProperty('statusCode');
    }
  });

  it('builds API refusals from the table', () => {
    expect(new DomainError('not_in_portfolio', 'x')).toMatchObject({ statusCode: 403, code: 'not_in_portfolio' });
    expect(new DomainError('idempotency_key_reused', 'x').statusCode).toBe(422);
    expect(new DomainError('idempotency_key_in_use', 'x').statusCode).toBe(409);
  });
});
