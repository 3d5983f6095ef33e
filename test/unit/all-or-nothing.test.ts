import { describe, expect, it } from 'vitest';
import { allOrNothing, PartiallyAppliedError, type Change } from '../../api/all-or-nothing';
import { DomainError } from '../../api/errors';

/** Several changes that stand or fall together: the compensation of a promise or plan over several invoices. */
describe('allOrNothing', () => {
  const journal: string[] = [];
  const change = (name: string, opts: { fails?: unknown; undo?: boolean; undoFails?: boolean } = {}): Change<string> => ({
    name,
    apply: async () => {
      if (opts.fails) throw opts.fails;
      journal.push(`apply ${name}`);
      return `${name}-done`;
    },
    ...(opts.undo === false
      ? {}
      : {
          undo: async (applied: string) => {
            if (opts.undoFails) throw new Error(`cannot undo ${name}`);
            journal.push(`undo ${applied}`);
          },
        }),
  });

  it('applies every change in order and answers their results', async () => {
    journal.length = 0;
    expect(await allOrNothing([change('A'), change('B'), change('C')])).toEqual(['A-done', 'B-done', 'C-done']);
    expect(journal).toEqual(['apply A', 'apply B', 'apply C']);
  });

  it('undoes what was applied, last first, when a change fails; applies nothing after it; throws the failure as it was', async () => {
    journal.length = 0;
    const refused = new DomainError('invoice_closed', 'invoice C is paid');
    await expect(allOrNothing([change('A'), change('B'), change('C', { fails: refused }), change('D')])).rejects.toBe(refused);
    expect(journal).toEqual(['apply A', 'apply B', 'undo B-done', 'undo A-done']);
  });

  it('says which changes stay when one cannot be undone: a refusal keeps its code, anything else is a PartiallyAppliedError', async () => {
    journal.length = 0;
    const failures: string[] = [];
    const err = await allOrNothing([change('A', { undo: false }), change('B', { undoFails: true }), change('C'), change('D', { fails: new DomainError('promise_active', 'D has a promise') })], (name) =>
      failures.push(name),
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'promise_active', statusCode: 409, details: { failedAt: 'D', notUndone: ['A', 'B'] } });
    expect(journal).toEqual(['apply A', 'apply B', 'apply C', 'undo C-done']);
    expect(failures).toEqual(['B']);

    const down = new Error('Temporal unavailable');
    const partial = await allOrNothing([change('A', { undo: false }), change('B', { fails: down })]).catch((e: unknown) => e);
    expect(partial).toBeInstanceOf(PartiallyAppliedError);
    expect(partial).toMatchObject({ failedAt: 'B', notUndone: ['A'], cause: down });
  });
});
