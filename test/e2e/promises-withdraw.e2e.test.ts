import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import type { AuthUser } from '../../api/auth';
import { createCadenceService } from '../../api/cadence-service';
import { collectorWork } from '../../api/collector-work';
import { DomainError } from '../../api/errors';
import { createPromisesService } from '../../api/promises-service';
import { loadEmailTemplates } from '../../config/load';
import { dunningStateQuery, type DunningState } from '../../workflows/messages';
import { userWithToken } from '../support/auth';
import { createAndEnroll, startStack, type Stack } from '../support/stack';

/**
 * A promise or plan over several invoices is all or nothing, also when an invoice changes between the check
 * and its update: the shares already made are taken back through the workflow's withdrawPromise update.
 * Before, such a failure left them standing (named as notUndone): a promise on some invoices of the request only.
 *
 * The promises service runs in the test, over the product's worker and Temporal (startStack), with one
 * seam: right before the update of the invoice named `victim`, its workflow is terminated, which no check
 * made before the updates can foresee.
 */
let stack: Stack;
let connection: Connection;
let temporal: Client;
const CUSTOMER = 'CUST-WD';
const anna: AuthUser = { tenantId: '', userId: 'anna', name: 'Anna', role: 'collector', approvalLimitMinor: null };

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-collector.json' });
  anna.tenantId = stack.tenantId;
  connection = await Connection.connect({ address: inject('temporalAddress') });
  temporal = new Client({ connection });
  await userWithToken(stack.sql, stack.tenantId, { userId: 'anna', role: 'collector' }); // a portfolio holder: enrollment checks
  for (const number of ['WD-1', 'WD-2', 'WD-3', 'WD-4', 'WD-5', 'WD-6']) {
    const res = await createAndEnroll(stack, { number, customerId: CUSTOMER, amountMinor: 100_000, dueDate: '2026-11-16' }, 'ap@wd.example', { collectorId: 'anna' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});
afterAll(async () => {
  await connection?.close();
  await stack?.stop();
});

/** The promises service of the API, its workflow updates passing through `before(workflowId)` first. */
function promisesWithSeam(before: (workflowId: string) => Promise<void>) {
  const work = collectorWork({ sql: stack.sql, temporal, tenantId: stack.tenantId });
  const seamed = { ...work, update: async <R>(workflowId: string, run: Parameters<typeof work.update<R>>[1]) => (await before(workflowId), work.update(workflowId, run)) };
  const cadences = createCadenceService({ sql: stack.sql, tenantId: stack.tenantId, templates: loadEmailTemplates(), defaultCadenceId: 'collector-e2e' });
  return createPromisesService(seamed, cadences);
}
const terminateBeforeItsUpdate = (victim: string) => {
  let done = false;
  return async (workflowId: string) => {
    if (done || workflowId !== `invoice-dunning:${stack.tenantId}:${victim}`) return;
    done = true;
    await temporal.workflow.getHandle(workflowId).terminate('test: closed between the check and the update');
  };
};
const stateOf = (number: string) => temporal.workflow.getHandle(`invoice-dunning:${stack.tenantId}:${number}`).query(dunningStateQuery) as Promise<DunningState>;
const promiseRows = (number: string) =>
  stack.sql<{ promise_id: string; status: string }[]>`select promise_id, status from promises where tenant_id = ${stack.tenantId} and invoice_number = ${number} order by promise_id`;
const day = (n: number) => DateTime.now().setZone('Europe/Berlin').plus({ days: n }).toISODate()!;
async function refusal(run: Promise<unknown>): Promise<DomainError> {
  const err = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

describe('all or nothing when an invoice changes between the check and its update', () => {
  it('takes back the promise made on the invoices before the one that failed: no promise stands', async () => {
    const promises = promisesWithSeam(terminateBeforeItsUpdate('WD-3'));
    const body = { customerId: CUSTOMER, madeBy: 'Jana Roth, AP', promisedDate: day(5), invoices: ['WD-1', 'WD-2', 'WD-3'].map((number) => ({ number, amountMinor: 20_000 })) };
    const err = await refusal(promises.makePromise(anna, body));
    expect(err.code).toBe('invoice_closed');
    expect(err.details).toMatchObject({ invoiceNumber: 'WD-3' });
    expect(err.details.notUndone).toBeUndefined(); // everything was undone
    for (const number of ['WD-1', 'WD-2']) {
      const state = await stateOf(number);
      expect([number, state.stage, state.promise]).toEqual([number, 'active', undefined]);
      expect((await promiseRows(number)).map((r) => r.status)).toEqual(['cancelled']);
    }

    // The same request again, WD-3 left out, is made anew (a fresh promise id: the first was taken back).
    const again = await promisesWithSeam(async () => undefined).makePromise(anna, { ...body, invoices: body.invoices.slice(0, 2) });
    expect(again.invoices.map((i) => i.stage)).toEqual(['promised', 'promised']);
    expect((await stateOf('WD-1')).promise?.promiseId).toBe(again.promiseId);
    expect((await promiseRows('WD-1')).map((r) => r.status).sort()).toEqual(['cancelled', 'open']);
  });

  it('takes back a plan the same way: its shares cancelled, the plan cancelled, no invoice follows it', async () => {
    const promises = promisesWithSeam(terminateBeforeItsUpdate('WD-6'));
    const body = {
      customerId: CUSTOMER, madeBy: 'CFO', invoiceNumbers: ['WD-4', 'WD-5', 'WD-6'],
      installments: [{ dueDate: day(10), amountMinor: 150_000 }, { dueDate: day(40), amountMinor: 150_000 }],
    };
    const err = await refusal(promises.createPaymentPlan(anna, body, `plan-${randomUUID()}`));
    expect(err.code).toBe('invoice_closed');
    for (const number of ['WD-4', 'WD-5']) expect([number, (await stateOf(number)).promise]).toEqual([number, undefined]);
    const plans = await stack.sql<{ status: string }[]>`select status from payment_plans where tenant_id = ${stack.tenantId} and customer_id = ${CUSTOMER}`;
    expect(plans).toEqual([{ status: 'cancelled' }]);
    const rows = await stack.sql<{ status: string }[]>`select distinct status from promises where tenant_id = ${stack.tenantId} and invoice_number in ('WD-4', 'WD-5')`;
    expect(rows).toEqual([{ status: 'cancelled' }]);
  });
});
