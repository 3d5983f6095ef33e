import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { collectorIdKey } from '../../workflows/messages';
import { DateTime } from 'luxon';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { userWithToken } from '../support/auth';

/**
 * A collector's day through the HTTP API only, against the product as it runs (API and worker
 * processes, Temporal dev server, PostgreSQL, SMTP peer, ERP simulator): worklist, calls and their
 * outcomes, a promise, notes, a pause, a payment that keeps the promise, and a portfolio move.
 */
let stack: Stack;
const tokens: Record<'anna' | 'ben' | 'lena', string> = { anna: '', ben: '', lena: '' };

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-collector.json' });
  tokens.anna = (await userWithToken(stack.sql, stack.tenantId, { userId: 'anna', role: 'collector' })).token;
  tokens.ben = (await userWithToken(stack.sql, stack.tenantId, { userId: 'ben', role: 'collector' })).token;
  tokens.lena = (await userWithToken(stack.sql, stack.tenantId, { userId: 'lena', role: 'team_lead' })).token;
  for (const [number, customerId, collectorId, amountMinor, dueDate] of [
    ['COL-1', 'CUST-A', 'anna', 480_000, '2026-09-15'],
    ['COL-2', 'CUST-A', 'anna', 35_000, '2026-11-02'],
    ['COL-3', 'CUST-B', 'ben', 1_250_000, '2026-08-01'],
  ] as const) {
    const res = await createAndEnroll(stack, { number, customerId, amountMinor, dueDate }, `ap@${customerId.toLowerCase()}.example`, { collectorId });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
});
afterAll(async () => {
  await stack?.stop();
});

const as = (who: keyof typeof tokens) => (method: string, url: string, body?: unknown) => stack.api(method, url, body, tokens[who]);
const anna = as('anna');
type Task = { taskId: number; invoice: { number: string }; priority: { score: number }; kind: string; attempt: number; collectorId: string };

describe("a collector's day through the API", () => {
  it('works the worklist: prioritized tasks, outcomes that drive the workflows, notes, a pause, a kept promise, a portfolio move', async () => {
    // 1. The worklist: the cadence's call tasks of Anna's portfolio only, highest priority first.
    await expect.poll(async () => (await anna('GET', '/worklist')).body.total, { timeout: 30_000 }).toBe(2);
    const list = (await anna('GET', '/worklist')).body;
    expect(list.items.map((t: Task) => t.invoice.number)).toEqual(['COL-1', 'COL-2']); // older and larger first
    expect(list.items[0].priority.score).toBeGreaterThan(list.items[1].priority.score);
    expect(list.reportingCurrency).toBe('EUR');
    expect(list.totalOpenAmountReportingMinor).toBe(480_000 + 35_000);
    const [callCol1, callCol2] = list.items as Task[];
    expect((await anna('GET', '/worklist?bucket=1-30')).body.items.map((t: Task) => t.invoice.number)).toEqual(['COL-2']);

    // Ben's customer is not Anna's: 403 everywhere.
    const bens = (await as('ben')('GET', '/worklist')).body.items as Task[];
    expect(bens.map((t) => t.invoice.number)).toEqual(['COL-3']);
    expect((await anna('GET', '/worklist?collectorId=ben')).status).toBe(403);
    expect((await anna('GET', `/tasks/${bens[0]!.taskId}`)).status).toBe(403);
    expect((await anna('POST', `/tasks/${bens[0]!.taskId}/outcome`, { outcome: { code: 'will_pay' } })).status).toBe(403);
    expect((await anna('GET', '/invoices/COL-3')).status).toBe(403);

    // 2. A call with a promise to pay. A malformed outcome first: 400 with the issues.
    const bad = await anna('POST', `/tasks/${callCol1!.taskId}/outcome`, { outcome: { code: 'promise_to_pay', promisedDate: 'next friday' } });
    expect(bad.status).toBe(400);
    expect(bad.body.issues.map((i: { path: string }) => i.path)).toEqual(expect.arrayContaining(['body.outcome.amountMinor', 'body.outcome.promisedDate', 'body.outcome.madeBy']));
    const noNote = await anna('POST', `/tasks/${callCol1!.taskId}/outcome`, { outcome: { code: 'dispute', reasonCode: 'pricing' } });
    expect(noNote.status).toBe(400);
    expect(noNote.body.issues).toEqual([expect.objectContaining({ path: 'body.note', message: 'a dispute needs a note: what the customer contests and why' })]);
    const unknown = await anna('POST', `/tasks/${callCol1!.taskId}/outcome`, { outcome: { code: 'maybe_later' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.issues[0].path).toBe('body.outcome.code');
    const promisedDate = DateTime.now().setZone('Europe/Berlin').plus({ days: 5 }).toISODate()!;
    const promised = await anna('POST', `/tasks/${callCol1!.taskId}/outcome`, {
      outcome: { code: 'promise_to_pay', amountMinor: 480_000, promisedDate, madeBy: 'Jana Roth, AP' },
      note: 'Payment run on Friday, confirmed by Jana.',
    });
    expect(promised.status, JSON.stringify(promised.body)).toBe(200);
    expect(promised.body.workflow).toMatchObject({ applied: true, stage: 'promised', nextStep: { action: 'promise_check' }, followUpTask: null });
    expect(promised.body.task).toMatchObject({ status: 'done', outcome: { code: 'promise_to_pay', completedBy: 'anna' } });
    // The same task again: a clear 409, nothing changes.
    const again = await anna('POST', `/tasks/${callCol1!.taskId}/outcome`, { outcome: { code: 'refused' } });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ error: 'task_already_completed', task: { outcome: 'promise_to_pay', completedBy: 'anna' } });
    expect((await anna('GET', '/invoices/COL-1')).body).toMatchObject({ stage: 'promised', promiseDate: promisedDate, pausedUntil: null });
    const recorded = await stack.sql`
      select (select count(*)::int from customer_activities where tenant_id = ${stack.tenantId} and task_id = ${callCol1!.taskId}) as history,
             (select count(*)::int from call_tasks where tenant_id = ${stack.tenantId} and parent_task_id = ${callCol1!.taskId}) as follow_ups,
             (select count(*)::int from promises where tenant_id = ${stack.tenantId} and invoice_number = 'COL-1') as promises`;
    expect(recorded).toEqual([{ history: 1, follow_ups: 0, promises: 1 }]);

    // 3. The next call: nobody answers; the follow-up lands in the worklist for the next business day.
    const noAnswer = await anna('POST', `/tasks/${callCol2!.taskId}/outcome`, { outcome: { code: 'no_answer' } });
    expect(noAnswer.status, JSON.stringify(noAnswer.body)).toBe(200);
    const followUp = noAnswer.body.workflow.followUpTask;
    expect(followUp).toMatchObject({ kind: 'follow_up', attempt: 2 });
    expect(DateTime.fromISO(followUp.dueAt, { zone: 'Europe/Berlin' }).toFormat('HH:mm')).toBe('09:30');
    const open = (await anna('GET', '/worklist')).body.items as Task[];
    expect(open.map((t) => [t.invoice.number, t.kind, t.attempt])).toEqual([['COL-2', 'follow_up', 2]]);

    // 4. A note without a task, and the customer's history.
    expect((await anna('POST', '/customers/CUST-A/notes', { note: 'AP moves to a new ERP next month.', invoiceNumber: 'COL-2' })).status).toBe(201);
    const history = (await anna('GET', '/customers/CUST-A/activities')).body;
    expect(history.items.map((a: { kind: string; outcome: string | null }) => [a.kind, a.outcome])).toEqual(
      expect.arrayContaining([['note', null], ['call_outcome', 'no_answer'], ['call_outcome', 'promise_to_pay'], ['promise', null]]),
    );
    expect(history.items[0].kind).toBe('note');

    // 5. A pause and its end.
    const until = DateTime.now().plus({ days: 3 }).toUTC().toISO()!;
    const paused = await anna('POST', '/invoices/COL-2/pause', { reason: 'Customer asked for a week: audit in progress', until });
    expect(paused.body).toMatchObject({ stage: 'paused', changed: true, nextStep: { action: 'resume' } });
    await expect.poll(async () => Date.parse((await anna('GET', '/invoices/COL-2')).body.pausedUntil), { timeout: 10_000 }).toBe(Date.parse(until));
    expect((await anna('POST', '/invoices/COL-2/resume', { note: 'Audit done early' })).body).toMatchObject({ stage: 'active', changed: true });
    expect((await anna('POST', '/invoices/COL-2/resume', {})).status).toBe(409);

    // 6. The customer pays COL-1 in full, as the ERP reports (a payment Anna reports is only a claim): the invoice closes and the promise counts as kept.
    expect((await stack.erpCall('/payments', { paymentId: 'PAY-COL-1', invoiceNumber: 'COL-1', amountMinor: 480_000, currency: 'EUR' })).status).toBe(201);
    await expect.poll(async () => (await anna('GET', '/invoices/COL-1')).body, { timeout: 15_000 }).toMatchObject({ stage: 'paid', invoice: { openAmountMinor: 0 } });
    await expect.poll(async () => (await anna('GET', '/reports/promise-kept-rate?by=collector')).body.items, { timeout: 20_000 }).toEqual([
      { collectorId: 'anna', kept: 1, partiallyKept: 0, broken: 0, open: 0, settled: 1, keptRate: 1 },
    ]);
    expect((await anna('GET', '/promises?customerId=CUST-A')).body.items).toMatchObject([{ invoiceNumber: 'COL-1', status: 'kept', madeBy: 'Jana Roth, AP', recordedBy: 'anna' }]);

    // 7. The team lead moves CUST-A to Ben: the open follow-up moves with it, Anna no longer sees the customer.
    expect((await anna('PUT', '/customers/CUST-A/collector', { collectorId: 'ben' })).status).toBe(403);
    const moved = await as('lena')('PUT', '/customers/CUST-A/collector', { collectorId: 'ben' });
    expect(moved.body).toMatchObject({ from: 'anna', to: 'ben', movedTasks: [open[0]!.taskId] });
    expect((await anna('GET', '/worklist')).body.total).toBe(0);
    expect((await anna('GET', '/customers/CUST-A/activities')).status).toBe(403);
    expect(((await as('ben')('GET', '/worklist')).body.items as Task[]).map((t) => t.invoice.number).sort()).toEqual(['COL-2', 'COL-3']);
    // The open invoice's workflow now lists under Ben too (its later tasks go to him).
    const connection = await Connection.connect({ address: inject('temporalAddress') });
    try {
      const handle = new Client({ connection }).workflow.getHandle(`invoice-dunning:${stack.tenantId}:COL-2`);
      await expect.poll(async () => (await handle.describe()).typedSearchAttributes.get(collectorIdKey), { timeout: 10_000 }).toBe('ben');
    } finally {
      await connection.close();
    }

    // Everything people did is in the audit trail with who did it.
    const audit = await stack.sql<{ actor: string; event_type: string }[]>`
      select actor, event_type from audit_events where tenant_id = ${stack.tenantId} and actor <> 'workflow' order by id`;
    expect(audit.map((a) => `${a.actor}:${a.event_type}`)).toEqual(
      expect.arrayContaining(['anna:task_completed', 'anna:note_added', 'anna:pause_requested', 'anna:resume_requested', 'erp:payment_reported', 'lena:customer_reassigned']),
    );
  });

  it('agrees a payment plan over two invoices (oldest first), and pauses a whole customer including an invoice enrolled during the pause', async () => {
    for (const [number, amountMinor, dueDate] of [['PLN-1', 60_000, '2026-09-01'], ['PLN-2', 40_000, '2026-10-01']] as const) {
      const res = await createAndEnroll(stack, { number, customerId: 'CUST-P', amountMinor, dueDate }, 'ap@cust-p.example', { collectorId: 'anna' });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const day = (n: number) => DateTime.now().setZone('Europe/Berlin').plus({ days: n }).toISODate()!;
    const notAddingUp = await anna('POST', '/payment-plans', {
      customerId: 'CUST-P', madeBy: 'CFO', invoiceNumbers: ['PLN-1', 'PLN-2'],
      installments: [{ dueDate: day(10), amountMinor: 50_000 }, { dueDate: day(40), amountMinor: 40_000 }],
    });
    expect(notAddingUp.status).toBe(422);
    expect(notAddingUp.body.message).toBe("the installments add up to 90000 but the invoices' open amount is 100000");
    const plan = await anna('POST', '/payment-plans', {
      customerId: 'CUST-P', madeBy: 'CFO', invoiceNumbers: ['PLN-2', 'PLN-1'],
      installments: [{ dueDate: day(10), amountMinor: 50_000 }, { dueDate: day(40), amountMinor: 50_000 }],
    });
    expect(plan.status, JSON.stringify(plan.body)).toBe(201);
    expect(plan.body.invoices).toEqual([
      { invoiceNumber: 'PLN-1', installments: [{ dueDate: day(10), amountMinor: 50_000 }, { dueDate: day(40), amountMinor: 10_000 }], stage: 'promised' },
      { invoiceNumber: 'PLN-2', installments: [{ dueDate: day(40), amountMinor: 40_000 }], stage: 'promised' },
    ]);
    const rows = await stack.sql`select invoice_number, installment_no, amount_minor, status from promises where tenant_id = ${stack.tenantId} and plan_id = ${plan.body.planId} order by invoice_number, installment_no`;
    expect(rows).toEqual([
      { invoice_number: 'PLN-1', installment_no: 1, amount_minor: 50_000, status: 'open' },
      { invoice_number: 'PLN-1', installment_no: 2, amount_minor: 10_000, status: 'open' },
      { invoice_number: 'PLN-2', installment_no: 1, amount_minor: 40_000, status: 'open' },
    ]);

    // The whole customer is paused; an invoice enrolled meanwhile starts paused; the customer-wide resume lifts both pauses.
    const paused = await anna('POST', '/customers/CUST-P/pause', { reason: 'Insolvency check by credit management' });
    expect(paused.body).toMatchObject({ paused: true, until: null, invoices: [{ invoiceNumber: 'PLN-1', stage: 'paused' }, { invoiceNumber: 'PLN-2', stage: 'paused' }] });
    expect((await createAndEnroll(stack, { number: 'PLN-3', customerId: 'CUST-P', amountMinor: 5_000, dueDate: '2026-10-15' }, 'ap@cust-p.example', { collectorId: 'anna' })).status).toBe(201);
    await expect.poll(async () => (await anna('GET', '/invoices/PLN-3')).body.stage, { timeout: 10_000 }).toBe('paused');
    const resumed = await anna('POST', '/customers/CUST-P/resume', { note: 'Credit check passed' });
    expect(resumed.body.invoices).toEqual([
      { invoiceNumber: 'PLN-1', stage: 'promised', resumed: true },
      { invoiceNumber: 'PLN-2', stage: 'promised', resumed: true },
      { invoiceNumber: 'PLN-3', stage: 'active', resumed: true },
    ]);
  });
});
