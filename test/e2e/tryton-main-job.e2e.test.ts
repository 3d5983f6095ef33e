import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ADMIN_TOKEN } from '../../dev/seed';
import type { ErpReceivable } from '../../integrations/erp/changes';
import { createTrytonErp } from '../../integrations/erp/tryton-erp';
import { startMainJobOnFreePorts, type MainJob } from '../support/main-job';

/**
 * Issue 12's "done": the main job with ERP_KIND=tryton starts a real Tryton seeded with the demo portfolio instead
 * of the simulator, enrolls nothing itself, and the portfolio comes in by the ERP sync alone; a payment posted in
 * Tryton afterwards reaches the invoice's workflow by the next sync.
 */

let job: MainJob;
let api: string;
let tryton: ReturnType<typeof createTrytonErp>;

beforeAll(async () => {
  const started = await startMainJobOnFreePorts({ env: { ERP_KIND: 'tryton', TRYTON_URL: undefined, ERP_BASE_URL: undefined } });
  job = started.job;
  api = started.banner.api;
  const endpoint = /^ {2}ERP +Tryton at (http\S+?)\/(\w+)\/rpc\//m.exec(job.output());
  expect(endpoint, 'the banner names Tryton').not.toBeNull();
  tryton = createTrytonErp({ url: endpoint![1]!, database: endpoint![2]!, user: 'admin', password: 'admin' });
}, 300_000);

afterAll(async () => {
  await job?.stop();
});

const call = async (method: string, path: string): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${DEMO_ADMIN_TOKEN}` } });
  return { status: res.status, body: await res.json() };
};

let lastRunId = 0;
async function syncNow(): Promise<any> {
  expect((await call('POST', '/erp-sync/trigger')).status).toBe(202);
  let run: any;
  await expect
    .poll(
      async () => {
        run = (await call('GET', '/erp-sync/runs?limit=1')).body.items[0];
        return run && run.runId > lastRunId && run.status !== 'running';
      },
      { timeout: 90_000, interval: 500 },
    )
    .toBe(true);
  lastRunId = run.runId;
  return run;
}

async function trytonReceivables(): Promise<ErpReceivable[]> {
  const all: ErpReceivable[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await tryton.listChanges({ cursor, limit: 100 });
    all.push(...page.receivables);
    cursor = page.nextCursor;
    if (!page.hasMore) return all;
  }
}

describe('main job with ERP_KIND=tryton', () => {
  it('enrolls nothing by itself: the first sync brings the open demo invoices in from Tryton, with their open amounts', async () => {
    expect(job.output()).toMatch(/Demo portfolio +\d+ invoices of \d+ customers in Tryton; the ERP sync enrolls them/);
    const receivables = await trytonReceivables();
    const open = receivables.filter((r) => r.status === 'open');
    // The seed's paid and cancelled invoices are in the ledger too.
    expect(receivables.some((r) => r.status === 'paid')).toBe(true);
    expect(receivables.some((r) => r.status === 'cancelled')).toBe(true);

    // Before any sync run, nothing is enrolled: the main job seeded Tryton, not the API.
    if ((await call('GET', '/erp-sync/runs?limit=1')).body.items.length === 0) expect((await call('GET', '/invoices')).body.total).toBe(0);
    // The main job triggered the first sync once Tryton was seeded: the portfolio comes in without anyone asking.
    let run: any;
    await expect
      .poll(async () => (run = (await call('GET', '/erp-sync/runs?limit=1')).body.items[0])?.status, { timeout: 90_000, interval: 500 })
      .toBe('completed');
    lastRunId = run.runId;
    expect(run).toMatchObject({ status: 'completed', counts: { received: receivables.length, errors: 0, unappliedPayments: 1 } });
    const { body } = await call('GET', '/invoices?limit=100');
    const enrolled = new Map<string, { openAmountMinor: number }>(body.items.map((i: { number: string; openAmountMinor: number }) => [i.number, i]));
    // Every enrolled invoice is an open one of Tryton's, at Tryton's open amount; the settled ones are not enrolled.
    expect(enrolled.size).toBeGreaterThan(0);
    for (const [number, item] of enrolled) {
      const r = open.find((o) => o.invoiceNumber === number);
      expect(r, `${number} is open in Tryton`).toBeDefined();
      expect(item.openAmountMinor).toBe(r!.openAmountMinor);
    }
    for (const r of receivables.filter((x) => x.status !== 'open')) expect(enrolled.has(r.invoiceNumber)).toBe(false);
  });

  it('follows Tryton: an invoice paid in full there closes here after the next sync', async () => {
    const { body } = await call('GET', '/invoices?limit=100');
    const target = body.items[0] as { number: string; openAmountMinor: number; currency: string };
    await tryton.applyPayment({
      paymentId: 'E2E-PAY-1',
      currency: target.currency,
      allocations: [{ invoiceNumber: target.number, amountMinor: target.openAmountMinor }],
      receivedAt: new Date().toISOString(),
      idempotencyKey: 'e2e-pay-1',
    });
    expect(await tryton.getInvoiceBalance(target.number)).toMatchObject({ status: 'paid', openAmountMinor: 0 });
    const run = await syncNow();
    expect(run).toMatchObject({ status: 'completed', counts: { received: 1, closed: 1, errors: 0 } });
    await expect.poll(async () => (await call('GET', `/invoices/${encodeURIComponent(target.number)}`)).body.stage, { timeout: 60_000 }).toBe('paid');
  });
});
