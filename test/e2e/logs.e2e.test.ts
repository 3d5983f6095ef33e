import { createServer, type Server } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputTaps } from '../../dev/process';
import { startStack, type Stack } from '../support/stack';
import { customerContactWorkflowId } from '../../workflows/customer-messages';

/**
 * The processes' logs as an operator gets them (issue 15): the API and the worker started as processes with
 * LOG_LEVEL=info and tracing exported over OTLP/HTTP to a sink this test runs; every line of their output read.
 * One enrolment through the API with a caller's traceparent sends a reminder whose body carries a phrase found nowhere
 * else (the customer's name); the run's lines must be JSON (service, level, msg), the worker's activity lines must name
 * the workflow and the invoice, the request's lines and the worker's activity lines must carry the caller's trace id,
 * and neither the bearer token, the mail body nor the customer's address may appear anywhere.
 */
const output = new Map<string, string>(); // "api stdout" → everything it wrote
const tap = (service: string, stream: string, chunk: string) => output.set(`${service} ${stream}`, (output.get(`${service} ${stream}`) ?? '') + chunk);

/** Plain-text lines the processes print on purpose (not pino): the migration's result and the worker's start-up lines. */
const PLAIN_STARTUP_LINES = [/^applied migrations /, /^database schema is up to date$/, /^worker polling task queue /, /^worker metrics on /, /^Temporal SDK metrics on /];

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId: string;
  name: string;
}
const spans: ExportedSpan[] = [];
const hex = (id: string | undefined) => (!id ? '' : /^[0-9a-f]+$/.test(id) ? id : Buffer.from(id, 'base64').toString('hex'));

let sink: Server;
let sinkUrl: string;
let stack: Stack;

beforeAll(async () => {
  // An OTLP/HTTP receiver (JSON): what a collector would get.
  sink = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      if (req.url === '/v1/traces' && String(req.headers['content-type']).includes('json')) {
        const data = JSON.parse(body.toString()) as { resourceSpans?: any[] };
        for (const rs of data.resourceSpans ?? []) {
          const service = rs.resource?.attributes?.find((a: any) => a.key === 'service.name')?.value?.stringValue ?? '';
          for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.push({ service, traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId), name: s.name });
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  sinkUrl = `http://127.0.0.1:${(sink.address() as { port: number }).port}`;
  outputTaps.add(tap);
  stack = await startStack({
    cadenceFile: 'cadence-fast.json',
    env: { LOG_LEVEL: 'info', OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_EXPORTER: '', OTEL_BSP_SCHEDULE_DELAY: '200' },
  });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  outputTaps.delete(tap);
  await new Promise((resolve) => sink?.close(resolve));
});

const lines = (service: 'api' | 'worker') =>
  [...output.entries()].filter(([key]) => key.startsWith(`${service} `)).flatMap(([, text]) => text.split('\n').filter((l) => l.trim() !== ''));
const json = (service: 'api' | 'worker') =>
  lines(service)
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, any>);

async function until<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('structured logs of the API and the worker', () => {
  it('JSON lines with service, level and msg; activity lines name workflow and invoice; trace ids across processes; no token, body or address', async () => {
    const phrase = `Quetzal${randomBytes(6).toString('hex')}`;
    const number = `LOG-${randomUUID().slice(0, 6)}`;
    const email = `ap-${randomBytes(4).toString('hex')}@logs.example`;
    const erp = await stack.erpCall('/invoices', { invoiceNumber: number, customerId: 'CUST-LOG', currency: 'EUR', amountMinor: 77_700, issueDate: '2026-01-01', dueDate: '2026-10-01' });
    expect(erp.ok).toBe(true);
    const traceId = randomBytes(16).toString('hex');
    const res = await fetch(`http://127.0.0.1:${stack.env.API_PORT}/invoices`, {
      method: 'POST',
      headers: { authorization: `Bearer ${stack.admin.token}`, 'content-type': 'application/json', traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` },
      body: JSON.stringify({
        customer: { id: 'CUST-LOG', name: `${phrase} Holdings`, email, timeZone: 'Europe/Berlin', locale: 'de-DE', collectorId: 'col-anna' },
        invoice: { number, currency: 'EUR', amountMinor: 77_700, issueDate: '2026-01-01', dueDate: '2026-10-01' },
      }),
    });
    expect(res.status).toBe(201);
    const workflowId = `invoice-dunning:${stack.tenantId}:${number}`;
    const reminder = await stack.mail.waitFor((m) => m.headers['x-invoice-number'] === number, 45_000);
    // The phrase really is in the mail's body (else its absence from the logs would prove nothing).
    expect(reminder.text).toContain(phrase);
    expect(reminder.envelopeTo).toEqual([email]);

    // The worker's activity lines for this invoice: one per activity, with the workflow id and the invoice number.
    const activityLines = await until('the invoice workflow activity lines', () => {
      const found = json('worker').filter((l) => l.workflowId === workflowId && l.msg === 'activity completed');
      return found.some((l) => l.activityType === 'queueCustomerMessage') ? found : undefined;
    });
    for (const line of activityLines) {
      expect(line).toMatchObject({ service: 'worker', level: 'info', invoiceNumber: number, workflowId });
      expect(typeof line.durationMs).toBe('number');
      expect(line.taskToken).toBe('[redacted]');
    }
    // Inside the request's trace: the activity that hands the reminder on carries the caller's trace id.
    const queued = activityLines.find((l) => l.activityType === 'queueCustomerMessage')!;
    expect(queued.trace_id).toBe(traceId);
    expect(queued.span_id).toMatch(/^[0-9a-f]{16}$/);
    // The send itself ran in the customer's contact workflow (one mail may carry several invoices): its line is there too.
    const sent = await until('the send activity line', () => json('worker').find((l) => l.msg === 'activity completed' && l.activityType === 'sendCustomerMessage' && l.trace_id === traceId));
    expect(sent.workflowId).toBe(customerContactWorkflowId(stack.tenantId, 'CUST-LOG'));

    // The API's lines of that request carry the trace id (fastify's "request completed" at least).
    const reqIds = new Set(json('api').filter((l) => l.trace_id === traceId).map((l) => l.reqId));
    expect(reqIds.size).toBe(1);
    const requestLines = json('api').filter((l) => reqIds.has(l.reqId));
    expect(requestLines.map((l) => l.msg)).toContain('request completed');
    for (const line of requestLines.filter((l) => l.msg !== 'incoming request')) expect(line.trace_id, line.msg).toBe(traceId);

    // The spans went to the OTLP sink from both processes, in the caller's trace, down to the SMTP call.
    const traced = await until('spans of the trace from both processes', () => {
      const mine = spans.filter((s) => s.traceId === traceId);
      return mine.some((s) => s.name === 'smtp.send') && mine.some((s) => s.name === 'POST /invoices') ? mine : undefined;
    });
    expect(new Set(traced.map((s) => s.service))).toEqual(new Set(['dunning-api', 'dunning-worker']));
    const request = traced.find((s) => s.name === 'POST /invoices')!;
    expect(traced.find((s) => s.name === 'StartWorkflow:invoiceDunning')!.parentSpanId).toBe(request.spanId);
    expect(traced.find((s) => s.name === 'POST /invoices')!.service).toBe('dunning-api');
    expect(traced.find((s) => s.name === 'smtp.send')!.service).toBe('dunning-worker');

    // Every line of both processes, start-up included: JSON with service, level and msg (a few plain start-up lines aside).
    for (const service of ['api', 'worker'] as const) {
      const all = lines(service);
      expect(all.length).toBeGreaterThan(5);
      for (const line of all) {
        if (PLAIN_STARTUP_LINES.some((p) => p.test(line))) continue;
        let parsed: Record<string, unknown>;
        try {
          parsed = JSON.parse(line) as Record<string, unknown>;
        } catch {
          throw new Error(`${service} wrote a line that is not JSON: ${line.slice(0, 300)}`);
        }
        expect(parsed.service, line).toBe(service);
        expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], line).toContain(parsed.level);
        expect(typeof parsed.msg, line).toBe('string');
      }
    }

    // Nothing secret or private, anywhere in the output.
    const everything = [...output.values()].join('');
    const secret = stack.admin.token.split('_').pop()!;
    expect(secret.length).toBeGreaterThan(10);
    for (const forbidden of [stack.admin.token, secret, phrase, email, 'Our records show that invoice', stack.env.ERP_API_KEY!, stack.env.ERP_WEBHOOK_SECRET!]) {
      expect(everything.includes(forbidden), `the logs contain ${forbidden === secret || forbidden === stack.admin.token ? 'the token' : JSON.stringify(forbidden)}`).toBe(false);
    }
  }, 120_000);
});
