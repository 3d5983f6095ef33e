import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAuditActivities, eventSeqOf, type DunningEvent } from '../../activities/audit';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';

/**
 * recordDunningEvent against PostgreSQL: every event lands in the audit trail once, and the invoice
 * mirror shows the newest event of the workflow, whatever order the activities finish in.
 */
const tenantId = `mirror-${randomUUID().slice(0, 8)}`;
let sql: Sql;
let activities: ReturnType<typeof createAuditActivities>;
const env = new MockActivityEnvironment();
const record = (event: DunningEvent) => env.run(activities.recordDunningEvent, event) as Promise<void>;

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  await migrate(sql);
  activities = createAuditActivities({ sql });
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale)
            values (${tenantId}, 'C1', 'Kunde', 'ap@kunde.example', 'Europe/Berlin', 'de-DE')`;
});
afterAll(async () => {
  await sql?.end();
});

let invoices = 0;
async function enrolled(): Promise<{ invoiceNumber: string; workflowId: string }> {
  const invoiceNumber = `INV-${++invoices}`;
  const workflowId = `invoice-dunning:${tenantId}:${invoiceNumber}`;
  await sql`insert into invoices (tenant_id, invoice_number, customer_id, currency, amount_minor, open_amount_minor, issue_date, due_date, workflow_id, cadence_id, cadence_version)
            values (${tenantId}, ${invoiceNumber}, 'C1', 'EUR', 100000, 100000, '2025-01-01', '2025-01-31', ${workflowId}, 'standard', 1)`;
  return { invoiceNumber, workflowId };
}

const event = (inv: { invoiceNumber: string; workflowId: string }, seq: number, over: Partial<DunningEvent> = {}): DunningEvent => ({
  eventKey: `${inv.workflowId}:event:${seq}`,
  tenantId,
  invoiceNumber: inv.invoiceNumber,
  workflowId: inv.workflowId,
  type: 'step_done',
  stage: 'active',
  openAmountMinor: 100_000,
  nextStep: null,
  hold: { pausedUntil: null, promiseDate: null },
  details: {},
  ...over,
});

const mirror = async (invoiceNumber: string) =>
  (
    await sql`select stage, open_amount_minor, next_step_id, to_char(promise_date, 'YYYY-MM-DD') as promise_date, mirror_seq, cadence_id, cadence_version
              from invoices where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber}`
  )[0];
const trail = async (invoiceNumber: string) =>
  (await sql`select event_key, event_type, details from audit_events where tenant_id = ${tenantId} and invoice_number = ${invoiceNumber} order by id`).map(
    (r) => `${String(r.event_key).split(':event:')[1]} ${r.event_type}`,
  );

describe('the invoice mirror follows the workflow event sequence', () => {
  it('keeps the newer state when an older event arrives late, and records the older event in the audit trail', async () => {
    const inv = await enrolled();
    await record(event(inv, 1, { type: 'enrolled', nextStep: { stepId: 'reminder-1', action: 'email', at: '2025-02-03T08:00:00.000Z' } }));
    // Event 3 (a promise) finishes before event 2 (a step done), whose activity was retried.
    await record(
      event(inv, 3, {
        type: 'promise_made',
        stage: 'promised',
        openAmountMinor: 60_000,
        nextStep: { stepId: 'promise-check', action: 'promise_check', at: '2025-02-21T08:00:00.000Z' },
        hold: { pausedUntil: null, promiseDate: '2025-02-20' },
      }),
    );
    await record(event(inv, 2, { type: 'step_done', stage: 'active', openAmountMinor: 60_000, nextStep: { stepId: 'reminder-2', action: 'email', at: '2025-02-10T08:00:00.000Z' } }));

    expect(await mirror(inv.invoiceNumber)).toEqual({
      stage: 'promised',
      open_amount_minor: 60_000,
      next_step_id: 'promise-check',
      promise_date: '2025-02-20',
      mirror_seq: 3,
      cadence_id: 'standard',
      cadence_version: 1,
    });
    expect(await trail(inv.invoiceNumber)).toEqual(['1 enrolled', '3 promise_made', '2 step_done']);

    // The next event moves the mirror on as usual.
    await record(event(inv, 4, { type: 'payment_received', stage: 'paid', openAmountMinor: 0 }));
    expect(await mirror(inv.invoiceNumber)).toMatchObject({ stage: 'paid', open_amount_minor: 0, next_step_id: null, promise_date: null, mirror_seq: 4 });
  });

  it('writes a retried event once: neither a second audit row nor a second mirror write', async () => {
    const inv = await enrolled();
    await record(event(inv, 1, { type: 'enrolled' }));
    await record(event(inv, 2, { type: 'paused', stage: 'paused', hold: { pausedUntil: '2025-03-01T00:00:00.000Z', promiseDate: null } }));
    // Someone else's write in between: a retry of event 2 must not put its state back.
    await sql`update invoices set stage = 'active', paused_until = null where tenant_id = ${tenantId} and invoice_number = ${inv.invoiceNumber}`;
    await record(event(inv, 2, { type: 'paused', stage: 'paused', hold: { pausedUntil: '2025-03-01T00:00:00.000Z', promiseDate: null } }));
    expect(await trail(inv.invoiceNumber)).toEqual(['1 enrolled', '2 paused']);
    expect(await mirror(inv.invoiceNumber)).toMatchObject({ stage: 'active', mirror_seq: 2 });
  });

  it('applies a cadence migration even when a newer event moved the mirror first, and closes open call tasks on a closing event', async () => {
    const inv = await enrolled();
    await record(event(inv, 2, { type: 'resumed' }));
    await record(event(inv, 1, { type: 'cadence_migrated', details: { from: { id: 'standard', version: 1 }, to: { id: 'standard', version: 2 } } }));
    expect(await mirror(inv.invoiceNumber)).toMatchObject({ cadence_id: 'standard', cadence_version: 2, mirror_seq: 2 });

    await sql`insert into call_tasks (idempotency_key, tenant_id, invoice_number, customer_id, due_at, note)
              values (${`${inv.workflowId}:task`}, ${tenantId}, ${inv.invoiceNumber}, 'C1', now(), 'call')`;
    await record(event(inv, 3, { type: 'closed', stage: 'paid', openAmountMinor: 0 }));
    expect(await sql`select status, cancelled_reason from call_tasks where tenant_id = ${tenantId} and invoice_number = ${inv.invoiceNumber}`).toEqual([
      { status: 'cancelled', cancelled_reason: 'invoice paid' },
    ]);
    expect(await mirror(inv.invoiceNumber)).toMatchObject({ stage: 'paid', mirror_seq: 3 });
  });

  it('takes the sequence from the eventSeq field when given, else from the key; a key without one writes the mirror unguarded', async () => {
    expect(eventSeqOf({ eventKey: 'invoice-dunning:t:INV-1:event:12' })).toBe(12);
    expect(eventSeqOf({ eventKey: 'anything', eventSeq: 7 })).toBe(7);
    expect(eventSeqOf({ eventKey: 'invoice-dunning:t:INV-1:event:x' })).toBeUndefined();

    const inv = await enrolled();
    await record(event(inv, 5, { type: 'paused', stage: 'paused' }));
    await record({ ...event(inv, 0, { type: 'resumed', stage: 'active' }), eventKey: `${inv.workflowId}:legacy`, eventSeq: 4 });
    expect(await mirror(inv.invoiceNumber)).toMatchObject({ stage: 'paused', mirror_seq: 5 });
    await record({ ...event(inv, 0, { type: 'resumed', stage: 'active' }), eventKey: `${inv.workflowId}:unnumbered` });
    expect(await mirror(inv.invoiceNumber)).toMatchObject({ stage: 'active', mirror_seq: 5 });
  });
});
