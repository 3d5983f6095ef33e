import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { startStack, type Stack } from '../support/stack';
import { userWithToken } from '../support/auth';
import { syncRunner } from '../support/erp-sync';

/**
 * The ERP sync end to end: the API process creates the tenant's Temporal Schedule, POST /erp-sync/trigger runs
 * it, the worker process pages through the simulator's change feed, enrolls, reconciles, links rebills; the run's
 * record through the API. Everything real: API and worker processes, Temporal dev server, PostgreSQL, SMTP, ERP.
 */

let stack: Stack;
let temporal: Client;
let connection: Connection;
beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-fast.json', erpSync: true });
  connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
  temporal = new Client({ connection });
}, 120_000);
afterAll(async () => {
  await connection?.close();
  await stack?.stop();
});

const today = DateTime.utc().toISODate()!;
const day = (n: number) => DateTime.utc().plus({ days: n }).toISODate()!;
const erp = async (url: string, body: unknown, key?: string) => {
  const res = await fetch(`${stack.erp.url}${url}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.env.ERP_API_KEY}`, ...(key ? { 'idempotency-key': key } : {}) },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`ERP ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<any>;
};
const invoice = (n: string, customerId: string, amountMinor: number, dueDate: string) =>
  erp('/invoices', { invoiceNumber: n, customerId, currency: 'EUR', amountMinor, issueDate: day(-60), dueDate });

const syncNow = syncRunner((method, url) => stack.api(method, url));

const mirror = async (n: string) => (await stack.sql`select stage, next_step_id, to_char(due_date, 'YYYY-MM-DD') as due_date from invoices where tenant_id = ${stack.tenantId} and invoice_number = ${n}`)[0];
const workflowId = (n: string) => `invoice-dunning:${stack.tenantId}:${n}`;
async function signalsOf(n: string): Promise<unknown[]> {
  const history = await temporal.workflow.getHandle(workflowId(n)).fetchHistory();
  return (history.events ?? []).filter((e) => e.workflowExecutionSignaledEventAttributes?.signalName === 'ledgerChanged').map((e) => e.workflowExecutionSignaledEventAttributes);
}

// Each syncNow waits up to 60 s for its run; a test makes several.
describe('ERP sync through the schedule, the worker and the simulator', { timeout: 180_000 }, () => {
  it('shows the schedule, visible to Temporal, to AR managers only', async () => {
    await expect.poll(async () => (await stack.api('GET', '/erp-sync')).status, { timeout: 30_000 }).toBe(200);
    const status = (await stack.api('GET', '/erp-sync')).body;
    expect(status).toMatchObject({ scheduleId: `erp-sync:${stack.tenantId}:main`, erp: 'simulator', intervalMinutes: 1440, intervalSource: 'env', paused: false, cursor: null, lastRun: null });
    const ids: string[] = [];
    for await (const s of temporal.schedule.list()) ids.push(s.scheduleId);
    expect(ids).toContain(`erp-sync:${stack.tenantId}:main`);
    const cli = path.resolve(__dirname, '../../.tools/bin/temporal');
    if (existsSync(cli)) expect(execFileSync(cli, ['schedule', 'list', '--address', stack.env.TEMPORAL_ADDRESS!], { encoding: 'utf8' })).toContain(`erp-sync:${stack.tenantId}:main`);
    const collector = await userWithToken(stack.sql, stack.tenantId, { userId: 'sync-col', role: 'collector' });
    expect((await stack.api('GET', '/erp-sync', undefined, collector.token)).status).toBe(403);
    expect((await stack.api('POST', '/erp-sync/trigger', undefined, collector.token)).status).toBe(403);
  });

  it('enrolls what the policy admits, records what it cannot, keeps the rest in the ledger, queues unapplied cash', async () => {
    await erp('/customers', { customerId: 'SYNC-C1', name: 'Sync Kunde GmbH', email: 'ap@sync-c1.example', country: 'DE', category: 'enterprise' });
    await invoice('SYNC-A', 'SYNC-C1', 10_000, day(3)); // within 7 days: enrolled, planned
    await invoice('SYNC-B', 'SYNC-C1', 20_000, day(40)); // not due soon: ledger only
    await invoice('SYNC-E', 'SYNC-C1', 30_000, day(2));
    await invoice('SYNC-F', 'SYNC-C1', 40_000, day(2));
    await invoice('SYNC-G', 'SYNC-C1', 50_000, day(-20)); // overdue: its steps run at once
    await invoice('SYNC-N', 'SYNC-NOMAIL', 5_000, day(-1)); // an implied customer without e-mail: an error of the run
    await erp('/payments', { paymentId: 'SYNC-CASH-1', amountMinor: 1_234, currency: 'EUR', payerName: 'Someone', remittance: 'for SYNC-X' });

    const run = await syncNow();
    expect(run).toMatchObject({ status: 'completed', counts: { received: 6, created: 6, enrolled: 4, errors: 1, unappliedPayments: 1 } });
    expect(run.counts.skipped).toBe(2); // SYNC-B (later) and SYNC-N (error)
    expect(run.errors).toEqual([expect.objectContaining({ erpId: 'SYNC-N', invoiceNumber: 'SYNC-N', code: 'customer_without_email' })]);
    const customer = (await stack.sql`select email, time_zone, locale, segment from customers where tenant_id = ${stack.tenantId} and customer_id = 'SYNC-C1'`)[0];
    expect(customer).toEqual({ email: 'ap@sync-c1.example', time_zone: 'Europe/Berlin', locale: 'de-DE', segment: 'strategic' });
    await expect.poll(async () => (await mirror('SYNC-A'))?.next_step_id, { timeout: 20_000 }).toBe('reminder-1');
    expect(await mirror('SYNC-B')).toBeUndefined();
    const ledger = await stack.sql`select invoice_number, source from ledger_invoices where tenant_id = ${stack.tenantId} order by invoice_number`;
    expect(ledger.map((r) => r.invoice_number)).toEqual(['SYNC-A', 'SYNC-B', 'SYNC-E', 'SYNC-F', 'SYNC-G', 'SYNC-N']);
    const audit = await stack.sql`select actor from audit_events where tenant_id = ${stack.tenantId} and invoice_number = 'SYNC-A' and event_type = 'invoice_enrolled'`;
    expect(audit).toEqual([{ actor: 'erp-sync' }]);
    const cash = await stack.sql`select payment_id, amount_minor from unapplied_cash where tenant_id = ${stack.tenantId}`;
    expect(cash).toEqual([{ payment_id: 'SYNC-CASH-1', amount_minor: 1_234 }]);
    const status = (await stack.api('GET', '/erp-sync')).body;
    expect(status.cursor).toBe(run.cursorTo);
    expect(status.lastRun.runId).toBe(run.runId);
  });

  it('reconciles: a new open amount, an extension, a credit and a cancellation reach the workflows; a split carries the steps', async () => {
    // SYNC-G's first reminder goes out (overdue); its split parts must carry it.
    await expect.poll(async () => (await stack.sql`select count(*)::int as n from audit_events where tenant_id = ${stack.tenantId} and invoice_number = 'SYNC-G' and event_type = 'step_done'`)[0]!.n, { timeout: 30_000 }).toBeGreaterThan(0);

    await erp('/payments/SYNC-PAY-A/apply', { currency: 'EUR', allocations: [{ invoiceNumber: 'SYNC-A', amountMinor: 4_000 }], receivedAt: new Date().toISOString() }, 'sync-pay-a');
    await erp('/invoices/SYNC-A/due-date', { dueDate: day(20) });
    await erp('/invoices/SYNC-E/credit-memos', { amountMinor: 30_000, currency: 'EUR', reason: 'goods returned' }, 'sync-cm-e');
    await erp('/invoices/SYNC-F/cancel', { reason: 'raised in error' });
    await erp('/invoices/SYNC-G/split', { parts: [{ amountMinor: 30_000, dueDate: day(10) }, { amountMinor: 20_000, dueDate: day(40) }] }, 'sync-split-g');

    const run = await syncNow();
    // A (amount and due date), E (credited), F (cancelled), G (credited by the split): four signals, three closing.
    // SYNC-N stays unenrolled, reported again by each run until its customer has an e-mail address.
    expect(run).toMatchObject({ status: 'completed', counts: { received: 6, created: 2, updated: 4, enrolled: 2, linked: 2, signalled: 4, closed: 3, errors: 1 } });
    expect(run.errors.map((e: { erpId: string }) => e.erpId)).toEqual(['SYNC-N']);
    const toA = (await signalsOf('SYNC-A')) as { input: { payloads: { data: Uint8Array }[] } }[];
    expect(toA).toHaveLength(1);
    expect(JSON.parse(Buffer.from(toA[0]!.input.payloads[0]!.data).toString('utf8'))).toMatchObject({ dueDate: day(20), openAmountMinor: 6_000, status: 'open' });
    const told = await stack.sql`select invoice_number, to_char(due_date, 'YYYY-MM-DD') as due_date, open_amount_minor, status from erp_sync_signals where tenant_id = ${stack.tenantId} order by invoice_number`;
    expect(told).toEqual([
      { invoice_number: 'SYNC-A', due_date: day(20), open_amount_minor: 6_000, status: 'open' },
      { invoice_number: 'SYNC-E', due_date: day(2), open_amount_minor: 0, status: 'credited' },
      { invoice_number: 'SYNC-F', due_date: day(2), open_amount_minor: 0, status: 'cancelled' },
      { invoice_number: 'SYNC-G', due_date: day(-20), open_amount_minor: 0, status: 'credited' },
    ]);
    // The workflows close on credit and cancellation, and re-plan on the extension (the invoice workflow's side).
    for (const n of ['SYNC-E', 'SYNC-F']) {
      await expect.poll(async () => (await temporal.workflow.getHandle(workflowId(n)).describe()).status.name, { timeout: 30_000 }).toBe('COMPLETED');
    }
    await expect.poll(async () => (await mirror('SYNC-A'))?.due_date, { timeout: 30_000 }).toBe(day(20));

    // The split parts: enrolled (the second though due in 40 days), linked, carrying G's steps in their input.
    const links = await stack.sql`select invoice_number, original_number, carried_steps from erp_sync_links where tenant_id = ${stack.tenantId} order by invoice_number`;
    expect(links.map((l) => [l.invoice_number, l.original_number])).toEqual([['SYNC-G-S1', 'SYNC-G'], ['SYNC-G-S2', 'SYNC-G']]);
    expect(links[0]!.carried_steps).toBeGreaterThan(0);
    const history = await temporal.workflow.getHandle(workflowId('SYNC-G-S2')).fetchHistory();
    const started = history.events![0]!.workflowExecutionStartedEventAttributes!;
    const args = JSON.parse(Buffer.from(started.input!.payloads![0]!.data as Uint8Array).toString('utf8'));
    expect(args.carriedFrom.invoiceNumber).toBe('SYNC-G');
    expect(args.carriedFrom.steps.map((s: { stepId: string }) => s.stepId)).toContain('reminder-1');
    const linkedAudit = await stack.sql`select details from audit_events where tenant_id = ${stack.tenantId} and invoice_number = 'SYNC-G-S1' and event_type = 'invoice_rebill_linked'`;
    expect(linkedAudit[0]!.details.original).toBe('SYNC-G');
  });

  it('changes nothing when nothing changed, nor when a page is applied again', async () => {
    const before = await stack.sql`select count(*)::int as n from invoices where tenant_id = ${stack.tenantId}`;
    const signalsBefore = (await signalsOf('SYNC-A')).length;
    const quiet = await syncNow();
    expect(quiet).toMatchObject({ status: 'completed', counts: { pages: 1, received: 0, enrolled: 0, signalled: 0 } });

    // The same pages again: the cursor set back to where the previous run started.
    const previous = (await stack.api('GET', `/erp-sync/runs/${quiet.runId - 1}`)).body;
    await stack.sql`update erp_sync_state set cursor = ${previous.cursorFrom} where tenant_id = ${stack.tenantId}`;
    const again = await syncNow();
    expect(again).toMatchObject({ status: 'completed', counts: { received: 6, created: 0, updated: 0, unchanged: 6, enrolled: 0, signalled: 0, linked: 0, errors: 1 } });
    expect(await stack.sql`select count(*)::int as n from invoices where tenant_id = ${stack.tenantId}`).toEqual(before);
    expect((await signalsOf('SYNC-A')).length).toBe(signalsBefore);
    const enrolledTwice = await stack.sql`select invoice_number from audit_events where tenant_id = ${stack.tenantId} and event_type = 'invoice_enrolled' group by invoice_number having count(*) > 1`;
    expect(enrolledTwice).toEqual([]);
  });

  it('enrolls a ledger invoice once it comes within the window, without the ERP changing it', async () => {
    // SYNC-B is due in 40 days; its due date moved in our ledger stands in for 33 days passing.
    await stack.sql`update ledger_invoices set due_date = ${day(5)} where tenant_id = ${stack.tenantId} and invoice_number = 'SYNC-B'`;
    const run = await syncNow();
    expect(run.counts).toMatchObject({ received: 0, enrolled: 1 });
    await expect.poll(async () => (await mirror('SYNC-B'))?.next_step_id, { timeout: 20_000 }).toBe('reminder-1');
    expect(today).toBeTruthy();
  });

  it('a trigger during a run queues one run behind it, however often it is pressed', async () => {
    const runs = async () => (await stack.sql`select count(*)::int as n from erp_sync_runs where tenant_id = ${stack.tenantId}`)[0]!.n as number;
    const before = await runs();
    // The run under way is held on its page: this transaction holds the cursor's row, which each page locks.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = stack.sql.begin(async (tx) => {
      await tx`select cursor from erp_sync_state where tenant_id = ${stack.tenantId} for update`;
      locked();
      await held;
    });
    try {
      await isLocked;
      const first = await stack.api('POST', '/erp-sync/trigger');
      expect(first).toMatchObject({ status: 202, body: { triggered: true, queued: false } });
      await expect.poll(async () => (await stack.api('GET', '/erp-sync')).body.running.length, { timeout: 30_000 }).toBe(1);
      for (let i = 0; i < 2; i++) expect((await stack.api('POST', '/erp-sync/trigger')).body).toMatchObject({ triggered: true, queued: true });
    } finally {
      release();
      await holder;
    }
    // The held run, then the one queued behind it, then nothing: two runs for three presses.
    await expect.poll(async () => (await stack.sql`select count(*)::int as n from erp_sync_runs where tenant_id = ${stack.tenantId} and status <> 'running'`)[0]!.n - before, { timeout: 45_000 }).toBe(2);
    await expect.poll(async () => (await stack.api('GET', '/erp-sync')).body.running, { timeout: 15_000 }).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    expect(await runs()).toBe(before + 2);
    const audit = await stack.sql`select details from audit_events where tenant_id = ${stack.tenantId} and event_type = 'erp_sync_triggered' order by id desc limit 3`;
    expect(audit.map((a) => a.details.queued)).toEqual([true, true, false]);
  });

  it('pauses, resumes and sets the interval of the schedule', async () => {
    const paused = await stack.api('POST', '/erp-sync/pause', { note: 'ERP maintenance' });
    expect(paused).toMatchObject({ status: 200, body: { paused: true, note: 'ERP maintenance' } });
    expect((await temporal.schedule.getHandle(`erp-sync:${stack.tenantId}:main`).describe()).state.paused).toBe(true);
    const resumed = await stack.api('POST', '/erp-sync/resume', {});
    expect(resumed.body.paused).toBe(false);
    const interval = await stack.api('PUT', '/erp-sync/interval', { minutes: 30 });
    expect(interval.body).toMatchObject({ intervalMinutes: 30, intervalSource: 'api' });
    expect((await temporal.schedule.getHandle(`erp-sync:${stack.tenantId}:main`).describe()).spec.intervals?.[0]?.every).toBe(30 * 60_000);
    expect((await stack.api('PUT', '/erp-sync/interval', { minutes: 0 })).status).toBe(400);
    expect((await stack.api('PUT', '/erp-sync/interval', { minutes: null })).body).toMatchObject({ intervalMinutes: 1440, intervalSource: 'env' });
    const audit = await stack.sql`select event_type from audit_events where tenant_id = ${stack.tenantId} and event_type like 'erp_sync_%' and event_type not like 'erp_sync_run_%' order by id`;
    expect(audit.map((a) => a.event_type)).toEqual(expect.arrayContaining(['erp_sync_triggered', 'erp_sync_paused', 'erp_sync_resumed', 'erp_sync_interval_changed']));
    expect((await stack.api('GET', '/erp-sync/runs/999999')).status).toBe(404);
  });
});
