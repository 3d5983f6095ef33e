import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listen } from '../support/listen';
import { createCreditHoldActivities, type CreditHoldRequest } from '../../activities/credit-hold';
import { ErpCustomerNotFoundError, ErpRequestRejectedError, ErpUnavailableError } from '../../integrations/erp/adapter';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';

const apiKey = 'test-erp-key';
let sim: ErpSimulator;

beforeAll(async () => {
  sim = await startErpSimulator({ apiKey, webhookSecret: 'test-webhook-secret-0123' });
});
afterAll(async () => {
  await sim?.close();
});


let seq = 0;
const unique = (prefix: string) => `${prefix}-${Date.now()}-${++seq}`;

/** A customer the ERP knows, through an invoice of its own. */
async function newCustomer(): Promise<string> {
  const customerId = unique('CUST');
  const response = await fetch(`${sim.url}/invoices`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ invoiceNumber: unique('INV'), customerId, currency: 'EUR', amountMinor: 50_000, issueDate: '2025-01-15', dueDate: '2025-02-14' }),
  });
  expect(response.status).toBe(201);
  return customerId;
}

const holdKey = (customerId: string, step = 'credit-hold') => `invoice-dunning:t1:INV-${customerId}:step:${step}`;

describe('HTTP ERP adapter: credit hold against the simulator', () => {
  it('places a hold, answers a repeat of the same key with the first result, and reports the status', async () => {
    const erp = createHttpErp({ baseUrl: sim.url, apiKey });
    const customerId = await newCustomer();
    expect(await erp.getCreditStatus(customerId)).toEqual({ customerId, onHold: false });

    const req = { customerId, reason: '45 days overdue', idempotencyKey: holdKey(customerId) };
    const hold = await erp.placeCreditHold(req);
    expect(hold).toEqual({ customerId, onHold: true, heldSince: expect.any(String) });
    expect(Date.parse(hold.heldSince)).toBeLessThanOrEqual(Date.now());

    expect(await erp.placeCreditHold(req)).toEqual(hold);
    expect(sim.store.creditEventsOf(customerId)).toEqual([
      expect.objectContaining({ action: 'hold', outcome: 'placed', idempotencyKey: req.idempotencyKey, reason: '45 days overdue' }),
    ]);
    expect(await erp.getCreditStatus(customerId)).toEqual({ customerId, onHold: true, heldSince: hold.heldSince, reason: '45 days overdue' });
  });

  it('answers a hold from another invoice (another key) with the hold already in place', async () => {
    const erp = createHttpErp({ baseUrl: sim.url, apiKey });
    const customerId = await newCustomer();
    const first = await erp.placeCreditHold({ customerId, reason: 'invoice A', idempotencyKey: holdKey(customerId, 'a') });
    await new Promise((resolve) => setTimeout(resolve, 5)); // a new hold would get a later heldSince
    const second = await erp.placeCreditHold({ customerId, reason: 'invoice B', idempotencyKey: holdKey(customerId, 'b') });
    expect(second).toEqual(first);
    expect(sim.store.creditEventsOf(customerId).map((e) => e.outcome)).toEqual(['placed', 'already_on_hold']);
    expect(await erp.getCreditStatus(customerId)).toMatchObject({ onHold: true, reason: 'invoice A' });
  });

  it('releases a hold idempotently', async () => {
    const erp = createHttpErp({ baseUrl: sim.url, apiKey });
    const customerId = await newCustomer();
    await erp.placeCreditHold({ customerId, reason: 'overdue', idempotencyKey: holdKey(customerId) });
    const release = { customerId, reason: 'approved by manager', idempotencyKey: `approval:${customerId}:release` };
    expect(await erp.releaseCreditHold(release)).toEqual({ customerId, onHold: false });
    expect(await erp.releaseCreditHold(release)).toEqual({ customerId, onHold: false });
    expect(await erp.getCreditStatus(customerId)).toEqual({ customerId, onHold: false });
    expect(sim.store.creditEventsOf(customerId).map((e) => `${e.action}:${e.outcome}`)).toEqual(['hold:placed', 'release:released']);

    // Held again later: a new key places a new hold.
    const again = await erp.placeCreditHold({ customerId, reason: 'overdue again', idempotencyKey: holdKey(customerId, 'later') });
    expect(again.onHold).toBe(true);
    expect(await erp.getCreditStatus(customerId)).toMatchObject({ onHold: true, reason: 'overdue again' });
  });

  it('maps an unknown customer to ErpCustomerNotFoundError and a refused request to ErpRequestRejectedError with the ERP message', async () => {
    const erp = createHttpErp({ baseUrl: sim.url, apiKey });
    await expect(erp.placeCreditHold({ customerId: 'CUST-NOBODY', reason: 'x', idempotencyKey: 'k-nobody' })).rejects.toBeInstanceOf(
      ErpCustomerNotFoundError,
    );
    await expect(erp.getCreditStatus('CUST-NOBODY')).rejects.toBeInstanceOf(ErpCustomerNotFoundError);

    const customerId = await newCustomer();
    const key = holdKey(customerId);
    await erp.placeCreditHold({ customerId, reason: 'overdue', idempotencyKey: key });
    const reused = await erp.releaseCreditHold({ customerId, reason: 'paid', idempotencyKey: key }).catch((e: unknown) => e);
    expect(reused).toBeInstanceOf(ErpRequestRejectedError);
    expect(reused).toMatchObject({ status: 409, message: expect.stringMatching(/HTTP 409.*was used for another customer or action/) });

    const blank = await erp.placeCreditHold({ customerId, reason: '   ', idempotencyKey: unique('k') }).catch((e: unknown) => e);
    expect(blank).toBeInstanceOf(ErpRequestRejectedError);
    expect((blank as Error).message).toMatch(/HTTP 400.*invalid_body: reason:/);
  });

  it('maps a closed port, a 5xx and a timeout to ErpUnavailableError, and a malformed answer to a plain error', async () => {
    const req = { customerId: 'C1', reason: 'overdue', idempotencyKey: 'k1' };
    const gone = await listen((_req, res) => res.end());
    await gone.close();
    await expect(createHttpErp({ baseUrl: gone.url, apiKey }).placeCreditHold(req)).rejects.toBeInstanceOf(ErpUnavailableError);

    const seen: { url?: string; method?: string; key?: string | string[]; body: string }[] = [];
    const failing = await listen((r, res) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => {
        seen.push({ url: r.url, method: r.method, key: r.headers['idempotency-key'], body });
        res.statusCode = 503;
        res.end();
      });
    });
    const stalled = await listen(() => undefined);
    const broken = await listen((_r, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ customerId: 'C1', onHold: 'yes' }));
    });
    try {
      await expect(createHttpErp({ baseUrl: failing.url, apiKey }).placeCreditHold({ ...req, customerId: 'C/1' })).rejects.toBeInstanceOf(
        ErpUnavailableError,
      );
      expect(seen).toEqual([{ url: '/customers/C%2F1/credit-hold', method: 'POST', key: 'k1', body: '{"reason":"overdue"}' }]);
      await expect(createHttpErp({ baseUrl: stalled.url, apiKey, timeoutMs: 200 }).getCreditStatus('C1')).rejects.toBeInstanceOf(
        ErpUnavailableError,
      );
      const err = await createHttpErp({ baseUrl: broken.url, apiKey }).placeCreditHold(req).catch((e: unknown) => e);
      expect(err).not.toBeInstanceOf(ErpUnavailableError);
      expect(err).not.toBeInstanceOf(ErpRequestRejectedError);
      expect((err as Error).message).toMatch(/malformed credit hold for a credit hold on customer C1[\s\S]*onHold/);
    } finally {
      await failing.close();
      await stalled.close();
      await broken.close();
    }
  });
});

describe('placeCreditHold activity', () => {
  const activitiesFor = (baseUrl: string) => createCreditHoldActivities({ erp: createHttpErp({ baseUrl, apiKey, timeoutMs: 2_000 }) });
  const run = (activities: ReturnType<typeof activitiesFor>, req: CreditHoldRequest) =>
    new MockActivityEnvironment().run(activities.placeCreditHold, req) as ReturnType<typeof activities.placeCreditHold>;

  it('returns the ERP answer; a retry of the step places nothing twice', async () => {
    const activities = activitiesFor(sim.url);
    const customerId = await newCustomer();
    const req = { idempotencyKey: holdKey(customerId), customerId, reason: 'Final notice unanswered' };
    const first = await run(activities, req);
    expect(first).toEqual({ customerId, onHold: true, heldSince: expect.any(String) });
    expect(await run(activities, req)).toEqual(first);
    expect(sim.store.creditEventsOf(customerId)).toHaveLength(1);
  });

  it('fails without retry for an unknown customer or a refused request', async () => {
    const activities = activitiesFor(sim.url);
    const unknown = await run(activities, { idempotencyKey: unique('k'), customerId: 'CUST-NOBODY', reason: 'x' }).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(ApplicationFailure);
    expect(unknown).toMatchObject({ nonRetryable: true, type: 'ErpCustomerNotFound' });

    const customerId = await newCustomer();
    const key = holdKey(customerId);
    await run(activities, { idempotencyKey: key, customerId, reason: 'overdue' });
    const other = await newCustomer();
    const refused = await run(activities, { idempotencyKey: key, customerId: other, reason: 'overdue' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApplicationFailure);
    expect(refused).toMatchObject({ nonRetryable: true, type: 'ErpRequestRejected', details: [{ status: 409 }] });
  });

  it('lets Temporal retry while the ERP is unavailable', async () => {
    const down = await listen((_req, res) => {
      res.statusCode = 502;
      res.end();
    });
    try {
      const err = await run(activitiesFor(down.url), { idempotencyKey: 'k', customerId: 'C1', reason: 'x' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ErpUnavailableError);
      expect(err).not.toBeInstanceOf(ApplicationFailure);
    } finally {
      await down.close();
    }
  });
});
