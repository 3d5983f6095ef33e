import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { verifyWebhookSignature } from '../../integrations/erp/webhook-signature';
import { createOutboundWebhookActivities, type OutboundWebhookRequest } from '../../activities/outbound-webhook';
import { webhookEndpointsEnvSchema, webhookEndpointsSchema, type WebhookEndpoints } from '../../config/webhook-endpoints';

const secret = 'crm-webhook-secret-0123456789';

/** A real receiver on an ephemeral loopback port; the path picks its answer. */
const received: { path: string; headers: IncomingHttpHeaders; rawBody: string }[] = [];
let receiver: { url: string; close(): Promise<void> };

beforeAll(async () => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '/';
      received.push({ path, headers: req.headers, rawBody: Buffer.concat(chunks).toString('utf8') });
      switch (path) {
        case '/ok':
          res.statusCode = 202;
          return res.end('{"accepted":true}');
        case '/fail':
          res.statusCode = 500;
          return res.end('database down');
        case '/busy':
          res.statusCode = 429;
          res.setHeader('retry-after', '7');
          return res.end();
        case '/bad':
          res.statusCode = 400;
          return res.end('{"error":"unknown event type"}');
        case '/moved':
          res.statusCode = 302;
          res.setHeader('location', '/ok');
          return res.end();
        case '/slow':
          return; // never answers
        default:
          res.statusCode = 404;
          return res.end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  receiver = {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
});
afterAll(async () => {
  await receiver?.close();
});
beforeEach(() => {
  received.length = 0;
});

const endpointsAt = (paths: Record<string, string>): WebhookEndpoints =>
  Object.fromEntries(Object.entries(paths).map(([name, path]) => [name, { url: `${receiver.url}${path}`, secret }]));

const fixedNow = new Date('2026-03-02T08:15:00.000Z');
const activities = () =>
  createOutboundWebhookActivities({
    endpoints: endpointsAt({ crm: '/ok', flaky: '/fail', busy: '/busy', picky: '/bad', moved: '/moved', slow: '/slow' }),
    timeoutMs: 300,
    now: () => fixedNow,
  });

function request(overrides: Partial<OutboundWebhookRequest> = {}): OutboundWebhookRequest {
  return {
    idempotencyKey: 'invoice-dunning:t1:INV-9:step:notify-crm',
    tenantId: 't1',
    invoiceNumber: 'INV-9',
    customerId: 'CUST-9',
    endpoint: 'crm',
    event: 'dunning.final_notice',
    data: { openAmountMinor: 125_000, currency: 'EUR', daysPastDue: 30, stepId: 'notify-crm' },
    ...overrides,
  };
}

const run = (acts: ReturnType<typeof activities>, req: OutboundWebhookRequest) =>
  new MockActivityEnvironment().run(acts.postWebhook, req) as ReturnType<typeof acts.postWebhook>;
const failureOf = (acts: ReturnType<typeof activities>, req: OutboundWebhookRequest) => run(acts, req).then(
  () => expect.fail('expected the activity to throw'),
  (err: unknown) => err,
);

describe('postWebhook activity, against a real receiver', () => {
  it('delivers a signed event whose Idempotency-Key is the id in the body', async () => {
    expect(await run(activities(), request())).toEqual({ status: 202 });
    expect(received).toHaveLength(1);
    const [delivery] = received;
    expect(delivery!.headers['content-type']).toBe('application/json');
    expect(JSON.parse(delivery!.rawBody)).toEqual({
      id: 'invoice-dunning:t1:INV-9:step:notify-crm',
      event: 'dunning.final_notice',
      occurredAt: '2026-03-02T08:15:00.000Z',
      tenantId: 't1',
      invoiceNumber: 'INV-9',
      customerId: 'CUST-9',
      data: { openAmountMinor: 125_000, currency: 'EUR', daysPastDue: 30, stepId: 'notify-crm' },
    });
    expect(delivery!.headers['idempotency-key']).toBe(JSON.parse(delivery!.rawBody).id);

    const signature = delivery!.headers['x-dunning-signature'];
    expect(signature).toMatch(/^sha256=[0-9a-f]{64}$/);
    expect(verifyWebhookSignature(secret, delivery!.rawBody, signature)).toBe(true);
    expect(verifyWebhookSignature('another-secret-0123456789', delivery!.rawBody, signature)).toBe(false);
    expect(verifyWebhookSignature(secret, delivery!.rawBody.replace('125000', '1250'), signature)).toBe(false);
  });

  it('resends the same id on a retry (at least once, deduped by the receiver)', async () => {
    const acts = activities();
    await run(acts, request());
    await run(acts, request());
    expect(received.map((r) => r.headers['idempotency-key'])).toEqual([request().idempotencyKey, request().idempotencyKey]);
    expect(new Set(received.map((r) => JSON.parse(r.rawBody).id)).size).toBe(1);
  });

  it('throws a retryable failure on a 5xx, with the receiver reason', async () => {
    const err = await failureOf(activities(), request({ endpoint: 'flaky' }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ nonRetryable: false, type: 'WebhookDeliveryFailed' });
    expect((err as Error).message).toMatch(/"flaky" \(http:\/\/127\.0\.0\.1:\d+\) answered HTTP 500: database down/);
    expect((err as Error).message).not.toContain('/fail'); // the origin only: a URL path may carry a token
  });

  it('throws a retryable failure on a 429 that honours Retry-After', async () => {
    const err = await failureOf(activities(), request({ endpoint: 'busy' }));
    expect(err).toMatchObject({ nonRetryable: false, type: 'WebhookDeliveryFailed', nextRetryDelay: 7_000 });
  });

  it('fails without retry on a 400, and on a redirect without following it', async () => {
    const bad = await failureOf(activities(), request({ endpoint: 'picky' }));
    expect(bad).toBeInstanceOf(ApplicationFailure);
    expect(bad).toMatchObject({ nonRetryable: true, type: 'WebhookRejected', details: [{ status: 400 }] });
    expect((bad as Error).message).toContain('HTTP 400: {"error":"unknown event type"}');

    const moved = await failureOf(activities(), request({ endpoint: 'moved' }));
    expect(moved).toMatchObject({ nonRetryable: true, type: 'WebhookRejected', details: [{ status: 302 }] });
    expect(received.map((r) => r.path)).toEqual(['/bad', '/moved']);
  });

  it('fails without retry, sending nothing, for an endpoint that is not configured', async () => {
    const err = await failureOf(activities(), request({ endpoint: 'erp' }));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ nonRetryable: true, type: 'UnknownWebhookEndpoint' });
    expect((err as Error).message).toMatch(/"erp" is not configured.*known: crm, flaky/);
    const none = await failureOf(createOutboundWebhookActivities({ endpoints: {} }), request({ endpoint: 'toString' }));
    expect(none).toMatchObject({ nonRetryable: true, type: 'UnknownWebhookEndpoint', message: expect.stringContaining('none configured') });
    expect(received).toHaveLength(0);
  });

  it('throws a retryable failure on a timeout and on a closed port', async () => {
    const slow = await failureOf(activities(), request({ endpoint: 'slow' }));
    expect(slow).toMatchObject({ nonRetryable: false, type: 'WebhookDeliveryFailed', message: expect.stringContaining('no answer within 300 ms') });

    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const gone = createOutboundWebhookActivities({ endpoints: { crm: { url: `http://127.0.0.1:${port}/hook`, secret } } });
    const refused = await failureOf(gone, request());
    expect(refused).toMatchObject({ nonRetryable: false, type: 'WebhookDeliveryFailed', message: expect.stringContaining('ECONNREFUSED') });
  });
});

describe('WEBHOOK_ENDPOINTS', () => {
  // As config/env.ts declares it: optional, defaulting to no endpoints.
  const env = z.object({ WEBHOOK_ENDPOINTS: webhookEndpointsEnvSchema.default({}) });
  const messages = (value: string) => {
    const result = env.safeParse({ WEBHOOK_ENDPOINTS: value });
    expect(result.success).toBe(false);
    return result.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('parses JSON endpoints; unset or blank means none', () => {
    const value = JSON.stringify({ crm: { url: 'https://crm.example.com/hooks/dunning?token=abc', secret }, 'data_lake-1': { url: 'http://10.0.0.5:8080/in', secret } });
    expect(env.parse({ WEBHOOK_ENDPOINTS: value }).WEBHOOK_ENDPOINTS).toEqual({
      crm: { url: 'https://crm.example.com/hooks/dunning?token=abc', secret },
      'data_lake-1': { url: 'http://10.0.0.5:8080/in', secret },
    });
    expect(env.parse({}).WEBHOOK_ENDPOINTS).toEqual({});
    expect(env.parse({ WEBHOOK_ENDPOINTS: '  ' }).WEBHOOK_ENDPOINTS).toEqual({});
  });

  it('names each problem on the variable, without echoing a secret', () => {
    expect(messages('{crm:')).toEqual([expect.stringMatching(/^WEBHOOK_ENDPOINTS: must be JSON like \{"crm":/)]);
    expect(messages('[]')).toEqual(['WEBHOOK_ENDPOINTS: must be a JSON object of endpoints by name']);
    const problems = messages(
      JSON.stringify({
        crm: { url: 'ftp://crm.example.com', secret: 'short-secret' },
        CRM: { url: 'https://crm.example.com', secret },
        chat: { url: 'https://chat.example.com', secert: secret },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        'WEBHOOK_ENDPOINTS: crm.url: must be an http:// or https:// URL',
        'WEBHOOK_ENDPOINTS: crm.secret: must be at least 16 characters',
        expect.stringMatching(/^WEBHOOK_ENDPOINTS: chat: Unrecognized key: "secert"/),
        'WEBHOOK_ENDPOINTS: chat.secret: is required',
      ]),
    );
    expect(problems.join('\n')).not.toContain('short-secret');
    // The endpoint names a cadence can use: lower case, digits, _ and -.
    expect(webhookEndpointsSchema.safeParse({ CRM: { url: 'https://crm.example.com', secret } }).error?.issues[0]).toMatchObject({
      path: ['CRM'],
      message: expect.stringContaining('lower-case'),
    });
  });
});
