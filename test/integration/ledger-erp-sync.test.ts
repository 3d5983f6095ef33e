import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Connection } from '@temporalio/client';
import { DateTime } from 'luxon';
import { startStack, type Stack } from '../support/stack';
import { syncRunner } from '../support/erp-sync';

/**
 * Ledger mode end to end (ERP_KIND=ledger: a team without an ERP API): a file uploaded to POST /imports is the
 * system of record; the ERP sync, through the ledger adapter alone, enrolls its open invoices that fall due, and a
 * re-import that shows one paid closes its workflow. Everything real: API and worker processes, Temporal dev
 * server, PostgreSQL, SMTP.
 */

let stack: Stack;
let temporal: Client;
let connection: Connection;

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-fast.json', erpSync: true, erpKind: 'ledger' });
  connection = await Connection.connect({ address: stack.env.TEMPORAL_ADDRESS! });
  temporal = new Client({ connection });
}, 120_000);

afterAll(async () => {
  await connection?.close();
  await stack?.stop();
});

const day = (n: number) => DateTime.utc().plus({ days: n }).toISODate()!;
const HEADER = 'invoice_number,customer_id,customer_name,email,country,currency,amount,open_amount,issue_date,due_date,settled_date,status';

/** Uploads a CSV through the API and waits for its job. */
async function importCsv(lines: string[]) {
  const form = new FormData();
  form.append('file', new Blob([[HEADER, ...lines].join('\n')], { type: 'text/csv' }), 'ledger.csv');
  const res = await fetch(`http://127.0.0.1:${stack.env.API_PORT}/imports`, { method: 'POST', headers: { authorization: `Bearer ${stack.admin.token}` }, body: form });
  expect(res.status).toBe(202);
  const { importId } = (await res.json()) as { importId: number };
  let job: { status: string } & Record<string, unknown> = { status: 'queued' };
  await expect
    .poll(
      async () => {
        job = (await stack.api('GET', `/imports/${importId}`)).body;
        return job.status;
      },
      { timeout: 30_000, interval: 100 },
    )
    .toMatch(/succeeded|failed/);
  return job;
}

const syncNow = syncRunner((method, url) => stack.api(method, url));

const mirror = async (n: string) => (await stack.sql`select stage, next_step_id from invoices where tenant_id = ${stack.tenantId} and invoice_number = ${n}`)[0];

describe('ledger mode: an imported file is the system of record', () => {
  const rows = {
    soon: `LED-A,LED-C1,Ledger Kunde GmbH,ap@ledger-c1.example,DE,EUR,100.00,100.00,${day(-27)},${day(3)},,open`,
    later: `LED-B,LED-C1,Ledger Kunde GmbH,ap@ledger-c1.example,DE,EUR,200.00,200.00,${day(-5)},${day(40)},,open`,
    overdue: `LED-G,LED-C1,Ledger Kunde GmbH,ap@ledger-c1.example,DE,EUR,500.00,500.00,${day(-50)},${day(-20)},,open`,
    history: `LED-H,LED-C1,Ledger Kunde GmbH,ap@ledger-c1.example,DE,EUR,80.00,0,${day(-200)},${day(-170)},${day(-160)},paid`,
  };

  it('the sync enrolls the imported open invoices that fall due, from the ledger alone', async () => {
    await expect.poll(async () => (await stack.api('GET', '/erp-sync')).status, { timeout: 30_000 }).toBe(200);
    expect((await stack.api('GET', '/erp-sync')).body).toMatchObject({ erp: 'ledger' });
    expect(await importCsv(Object.values(rows))).toMatchObject({ status: 'succeeded', stored: true, created: 4, erpKind: 'ledger' });

    const run = await syncNow();
    expect(run).toMatchObject({ status: 'completed', counts: { received: 4, enrolled: 2, errors: 0 } });
    await expect.poll(async () => (await mirror('LED-A'))?.next_step_id, { timeout: 20_000 }).toBe('reminder-1');
    expect(await mirror('LED-G')).toBeDefined();
    expect(await mirror('LED-B')).toBeUndefined(); // not due soon: in the ledger only
    expect(await mirror('LED-H')).toBeUndefined(); // paid long ago: history
    const customer = (await stack.sql`select email, time_zone from customers where tenant_id = ${stack.tenantId} and customer_id = 'LED-C1'`)[0];
    expect(customer).toEqual({ email: 'ap@ledger-c1.example', time_zone: 'Europe/Berlin' });
    // The sync reads the ledger; it never writes it back as the ERP's (which would clear what imports alone carry).
    const sources = await stack.sql`select distinct source from ledger_invoices where tenant_id = ${stack.tenantId} and invoice_number like 'LED-%'`;
    expect(sources.map((r) => r.source)).toEqual(['import']);
  });

  it('a re-import that shows an invoice paid closes its workflow through the sync', async () => {
    const paid = `LED-G,LED-C1,Ledger Kunde GmbH,ap@ledger-c1.example,DE,EUR,500.00,0,${day(-50)},${day(-20)},${day(-1)},paid`;
    expect(await importCsv([rows.soon, rows.later, paid, rows.history])).toMatchObject({ status: 'succeeded', created: 0, updated: 1, unchanged: 3 });
    const run = await syncNow();
    expect(run).toMatchObject({ status: 'completed', counts: { received: 1, closed: 1 } });
    await expect
      .poll(async () => (await temporal.workflow.getHandle(`invoice-dunning:${stack.tenantId}:LED-G`).describe()).status.name, { timeout: 30_000 })
      .toBe('COMPLETED');
    // The other invoice's workflow reads its balance from the ledger and goes on.
    expect((await temporal.workflow.getHandle(`invoice-dunning:${stack.tenantId}:LED-A`).describe()).status.name).toBe('RUNNING');
  });
});
