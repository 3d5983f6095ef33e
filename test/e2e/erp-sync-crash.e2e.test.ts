import { afterAll, beforeAll, expect, it } from 'vitest';
import { DateTime } from 'luxon';
import { Client, Connection } from '@temporalio/client';
import { startStack, type Stack } from '../support/stack';
import { loadErpSyncConfig } from '../../config/erp-sync';

/**
 * The ERP sync survives a worker SIGKILLed in the middle of a page: the page's activity is retried by the restarted
 * worker (heartbeat timeout), fetches the same page from the cursor that did not move, finds the invoices it had
 * enrolled, enrolls the rest; nothing lost, nothing twice.
 */

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-fast.json', erpSync: true });
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

const INVOICES = 300; // two pages of config/erp-sync.json's 250
const dueDate = DateTime.utc().plus({ days: 5 }).toISODate()!; // within the window; no step due during the test

it('loses and duplicates nothing when the worker is SIGKILLed mid-page', async () => {
  const post = (url: string, body: unknown) =>
    fetch(`${stack.erp.url}${url}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.env.ERP_API_KEY}` }, body: JSON.stringify(body) });
  for (let c = 0; c < 20; c++) expect((await post('/customers', { customerId: `CR-C${c}`, name: `Crash Customer ${c}`, email: `ap${c}@crash.example`, country: 'DE' })).ok).toBe(true);
  for (let i = 0; i < INVOICES; i += 50) {
    await Promise.all(
      Array.from({ length: 50 }, (_, k) =>
        post('/invoices', { invoiceNumber: `CR-${String(i + k).padStart(4, '0')}`, customerId: `CR-C${(i + k) % 20}`, currency: 'EUR', amountMinor: 10_000 + i + k, issueDate: '2026-01-01', dueDate }),
      ),
    );
  }
  await expect.poll(async () => (await stack.api('GET', '/erp-sync')).status, { timeout: 30_000 }).toBe(200);
  expect((await stack.api('POST', '/erp-sync/trigger')).status).toBe(202);

  // Kill the worker once the first page is partly enrolled and before its cursor moved.
  const enrolled = async () => (await stack.sql`select count(*)::int as n from invoices where tenant_id = ${stack.tenantId}`)[0]!.n as number;
  await expect.poll(enrolled, { timeout: 60_000, interval: 20 }).toBeGreaterThanOrEqual(20);
  await stack.killWorker();
  const atKill = await enrolled();
  const [atKillRun] = await stack.sql`select pages, status from erp_sync_runs where tenant_id = ${stack.tenantId}`;
  // Mid-run: some invoices enrolled, the page holding them not yet applied (its cursor not moved).
  expect(atKill).toBeLessThan(INVOICES);
  expect(atKillRun).toMatchObject({ status: 'running' });
  expect(atKillRun!.pages).toBeLessThan(2);
  stack.restartWorker();

  await expect
    .poll(async () => (await stack.sql`select status from erp_sync_runs where tenant_id = ${stack.tenantId}`).map((r) => r.status), { timeout: 150_000, interval: 500 })
    .toEqual(['completed']);
  const [run] = await stack.sql`select * from erp_sync_runs where tenant_id = ${stack.tenantId}`;
  // Counted once per page, by the attempt that moved the cursor.
  expect(run).toMatchObject({ pages: 2, received: INVOICES, created: INVOICES, errors: 0 });
  expect(await enrolled()).toBe(INVOICES);
  const twice = await stack.sql`select invoice_number from audit_events where tenant_id = ${stack.tenantId} and event_type = 'invoice_enrolled' group by invoice_number having count(*) <> 1`;
  expect(twice).toEqual([]);
  expect((await stack.sql`select count(*)::int as n from ledger_invoices where tenant_id = ${stack.tenantId}`)[0]!.n).toBe(INVOICES);
  // Every invoice's workflow runs, once.
  const temporal = new Client({ connection: await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS! }) });
  try {
    await expect
      .poll(async () => (await temporal.workflow.count(`WorkflowId STARTS_WITH 'invoice-dunning:${stack.tenantId}:' AND ExecutionStatus = 'Running'`)).count, { timeout: 60_000, interval: 1_000 })
      .toBe(INVOICES);
  } finally {
    await temporal.connection.close();
  }
  // Each has planned its first step in the mirror, including those whose workflow the kill left started before their
  // enrollment committed (enroll() starts the workflow inside its transaction): their first mirror write found no
  // row, and the enrollment's retry, which completed the row, brought the mirror up to the workflow's state.
  const early = await stack.sql`
    select w.invoice_number from audit_events w join audit_events e on e.tenant_id = w.tenant_id and e.invoice_number = w.invoice_number
    where w.tenant_id = ${stack.tenantId} and w.event_type = 'enrolled' and e.event_type = 'invoice_enrolled' and w.occurred_at < e.occurred_at`;
  expect(early.length).toBeLessThanOrEqual(loadErpSyncConfig().enrollConcurrency);
  await expect
    .poll(async () => (await stack.sql`select count(*)::int as n from invoices where tenant_id = ${stack.tenantId} and next_step_id = 'reminder-1'`)[0]!.n, { timeout: 60_000, interval: 1_000 })
    .toBe(INVOICES);
}, 400_000);
