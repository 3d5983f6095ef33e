import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import nodemailer from 'nodemailer';
import { buildApp } from '../../api/app';
import { createActivities } from '../../activities';
import { instrumentMailer } from '../../activities/mail';
import { loadAuthorityMatrix, loadCadence, loadEmailTemplates, loadReportingConfig, loadReportsConfig, loadResolutionMatrix } from '../../config/load';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';
import { startMailCatcher, type MailCatcher } from '../../dev/mail-catcher';
import { invoiceWorkflowId } from '../../domain/ids';
import { createHttpErp } from '../../integrations/erp/http-erp';
import { instrumentErp } from '../../integrations/erp/instrumented';
import { createWorkerMetrics } from '../../telemetry/metrics';
import { startTracing, type Tracing } from '../../telemetry/tracing';
import { clientTracingInterceptors, workerTracingOptions, workflowTracingModules } from '../../telemetry/temporal-tracing';
import { workflowBundleOptions } from '../../worker/workflows-path';
import { customerContactWorkflowId } from '../../workflows/customer-messages';
import { userWithToken } from '../support/auth';

/**
 * One trace from an HTTP request to the SMTP server, through real parts: the API in-process with tracing on (its
 * request span from @fastify/otel), the Temporal client's interceptor, the dev server, an in-process Worker with the
 * tracing workflow bundle, activity interceptors and workflow span sink, a real SMTP peer and the ERP simulator. The
 * spans land in an InMemorySpanExporter. The global tracer provider is registered once per process: one startTracing
 * for this file, shut down (and unregistered) at the end.
 */
const exporter = new InMemorySpanExporter();
let tracing: Tracing;
let sql: Sql;
let mail: MailCatcher;
let erp: ErpSimulator;
let connection: Connection;
let nativeConnection: NativeConnection;
let client: Client;
let app: Awaited<ReturnType<typeof buildApp>>;
let worker: Worker;
let running: Promise<void>;
let token: string;
const tenantId = `tr${randomUUID().slice(0, 8)}`;
const taskQueue = `trace-${tenantId}`;
const erpKey = 'trace-erp-key';

beforeAll(async () => {
  // env {}: whatever OTEL_* the runner has, only our in-memory exporter gets spans.
  tracing = startTracing('dunning-trace-test', { env: {}, spanProcessors: [new SimpleSpanProcessor(exporter)] })!;
  sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  mail = await startMailCatcher();
  erp = await startErpSimulator({ apiKey: erpKey, webhookSecret: 'trace-webhook-secret-0123456789' });
  const adapter = instrumentErp(createHttpErp({ baseUrl: erp.url, apiKey: erpKey }), createWorkerMetrics());
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection, interceptors: clientTracingInterceptors(tracing)! });
  const templates = loadEmailTemplates();
  const cadence = loadCadence('test/fixtures/cadence-fast.json');
  app = await buildApp({
    sql, temporal: client, tenantId, taskQueue, templates, defaultCadenceId: cadence.id, webhookSecret: 'trace-webhook-secret-0123456789', erp: adapter, tracing: true,
  });
  await app.ready();
  await app.cadences.seedDefaults([cadence]);
  ({ token } = await userWithToken(sql, tenantId, { userId: 'trace-admin', role: 'admin' }));
  await userWithToken(sql, tenantId, { userId: 'col-anna', role: 'collector' });

  const metrics = createWorkerMetrics();
  const workflowBundle = await bundleWorkflowCode({ ...workflowBundleOptions, workflowInterceptorModules: workflowTracingModules(tracing), logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never });
  nativeConnection = await NativeConnection.connect({ address: inject('temporalAddress') });
  const mailer = instrumentMailer(nodemailer.createTransport({ url: `smtp://127.0.0.1:${mail.smtpPort}` }), metrics);
  worker = await Worker.create({
    connection: nativeConnection,
    taskQueue,
    workflowBundle,
    activities: createActivities({
      sql, metrics, mailer, mailFrom: 'Acme Receivables <ar@acme.example>', senderName: 'Acme Receivables', templates, erp: adapter, temporal: client, taskQueue,
      consolidationGatherMs: 500, webhookEndpoints: {}, fx: loadReportingConfig(), resolutionMatrix: loadResolutionMatrix(), authorityMatrix: loadAuthorityMatrix(), reports: loadReportsConfig(),
    }),
    ...workerTracingOptions(tracing),
  });
  running = worker.run();
}, 180_000);

afterAll(async () => {
  worker?.shutdown();
  await running?.catch(() => undefined);
  await app?.close();
  await nativeConnection?.close();
  await connection?.close();
  await sql?.end();
  await erp?.close();
  await mail?.close();
  await tracing?.shutdown();
});

/** A span named `name`, or `name:<type>` (Temporal's spans), or `name.<operation>` (erp.getInvoiceBalance). */
/** The workflows the traced run went through, for the replay test. */
const traced: string[] = [];

const named = (name: string) => (s: ReadableSpan) => s.name === name || s.name.startsWith(`${name}:`) || s.name.startsWith(`${name}.`);

describe('one trace from the HTTP request to the SMTP server', () => {
  it('POST /invoices → StartWorkflow → RunWorkflow → StartActivity → RunActivity → SignalWithStart → RunWorkflow → StartActivity → RunActivity → smtp.send, each the parent of the next', async () => {
    const number = `TR-${randomUUID().slice(0, 6)}`;
    const customerId = `CUST-${randomUUID().slice(0, 6)}`;
    const res = await fetch(`${erp.url}/invoices`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${erpKey}` },
      body: JSON.stringify({ invoiceNumber: number, customerId, currency: 'EUR', amountMinor: 42_000, issueDate: '2026-01-01', dueDate: '2026-10-01' }),
    });
    expect(res.ok).toBe(true);
    // A caller's trace, continued by the API (W3C traceparent).
    const callerTrace = randomUUID().replace(/-/g, '');
    const callerSpan = randomUUID().replace(/-/g, '').slice(0, 16);
    const enrolled = await app.inject({
      method: 'POST',
      url: '/invoices',
      headers: { authorization: `Bearer ${token}`, traceparent: `00-${callerTrace}-${callerSpan}-01` },
      payload: {
        customer: { id: customerId, name: 'Traced GmbH', email: 'ap@traced.example', timeZone: 'Europe/Berlin', locale: 'de-DE', collectorId: 'col-anna' },
        invoice: { number, currency: 'EUR', amountMinor: 42_000, issueDate: '2026-01-01', dueDate: '2026-10-01' },
      },
    });
    expect(enrolled.statusCode, enrolled.body).toBeLessThan(300);
    await mail.waitFor((m) => m.headers['x-invoice-number'] === number, 45_000);

    // A workflow's RunWorkflow span ends (and is exported) when its run ends: cancel both runs to close them.
    const invoiceHandle = client.workflow.getHandle(invoiceWorkflowId(tenantId, number));
    const contactHandle = client.workflow.getHandle(customerContactWorkflowId(tenantId, customerId));
    traced.push(invoiceHandle.workflowId, contactHandle.workflowId);
    await Promise.all([invoiceHandle.cancel(), contactHandle.cancel()]);
    await Promise.all([invoiceHandle.result().catch(() => undefined), contactHandle.result().catch(() => undefined)]);

    const find = async (pred: (s: ReadableSpan) => boolean, what: string): Promise<ReadableSpan> => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const hit = exporter.getFinishedSpans().find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no span ${what}; spans: ${exporter.getFinishedSpans().map((s) => `${s.name}(${s.spanContext().spanId}<-${s.parentSpanId})`).join(', ')}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const childOf = (parent: ReadableSpan, name: string) =>
      find((s) => named(name)(s) && s.parentSpanId === parent.spanContext().spanId, `${name} under ${parent.name}`);

    const request = await find((s) => s.name === 'POST /invoices', 'POST /invoices');
    expect(request.kind).toBe(SpanKind.SERVER);
    expect(request.attributes['http.route']).toBe('/invoices');
    expect(request.attributes['http.request.method']).toBe('POST');
    expect(request.attributes['http.response.status_code']).toBe(enrolled.statusCode);
    // The caller's traceparent is honoured: same trace, its span the parent.
    expect(request.spanContext().traceId).toBe(callerTrace);
    expect(request.parentSpanId).toBe(callerSpan);
    // The ERP is asked at enrolment, inside the request.
    const erpCall = await childOf(request, 'erp');
    expect(erpCall.name).toBe('erp.getInvoiceBalance');

    const start = await childOf(request, 'StartWorkflow:invoiceDunning');
    const run = await childOf(start, 'RunWorkflow:invoiceDunning');
    const queue = await childOf(run, 'StartActivity:queueCustomerMessage');
    const queued = await childOf(queue, 'RunActivity:queueCustomerMessage');
    const signalWithStart = await childOf(queued, 'SignalWithStartWorkflow:customerContact');
    const contactRun = await childOf(signalWithStart, 'RunWorkflow:customerContact');
    const send = await childOf(contactRun, 'StartActivity:sendCustomerMessage');
    const sending = await childOf(send, 'RunActivity:sendCustomerMessage');
    const smtp = await childOf(sending, 'smtp.send');
    const chain = [request, start, run, queue, queued, signalWithStart, contactRun, send, sending, smtp];
    for (const span of chain) expect(span.spanContext().traceId, span.name).toBe(callerTrace);
    expect(smtp.attributes['smtp.recipients']).toBe(1);
    // Workflow spans carry the run's identity (the sink adds the workflow info) and our resource.
    expect(run.attributes.workflowId).toBe(invoiceWorkflowId(tenantId, number));
    expect(contactRun.attributes.workflowId).toBe(customerContactWorkflowId(tenantId, customerId));
    expect(run.resource.attributes['service.name']).toBe('dunning-trace-test');
    expect(sending.attributes['temporalWorkflowId']).toBe(customerContactWorkflowId(tenantId, customerId));
  });

  it('the histories recorded with tracing on replay on a worker with tracing off, and on one with it on', async () => {
    expect(traced).toHaveLength(2);
    const silent = { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never;
    const plain = await bundleWorkflowCode({ ...workflowBundleOptions, logger: silent });
    const withTracing = await bundleWorkflowCode({ ...workflowBundleOptions, workflowInterceptorModules: workflowTracingModules(tracing), logger: silent });
    for (const workflowId of traced) {
      const history = await client.workflow.getHandle(workflowId).fetchHistory();
      await expect(Worker.runReplayHistory({ workflowBundle: plain }, history, workflowId)).resolves.toBeUndefined();
      await expect(Worker.runReplayHistory({ workflowBundle: withTracing, ...workerTracingOptions(tracing) }, history, workflowId)).resolves.toBeUndefined();
    }
  }, 120_000);
});
