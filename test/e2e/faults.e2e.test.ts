import { afterAll, beforeAll, expect, it } from 'vitest';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import { hang, httpAnswer, pass, refuse, reset, smtpReply, startFaultProxy, type FaultMode, type FaultProxy } from '../support/fault-proxy';
import { untilNothingCanSend } from '../support/quiescence';

/**
 * The fault attack of issue 10: the worker reaches the ERP and the SMTP peer through fault-injecting proxies
 * (test/support/fault-proxy.ts) that answer 5xx, hang, reset, answer HTML (or garbage instead of an SMTP
 * greeting) and refuse connections, one mode after the other, while several invoices run a cadence of five
 * reminders. Once the faults stop: no invoice is taken for paid (the ERP shows every one open), and every
 * reminder step is sent exactly once.
 */
let stack: Stack;
let erpProxy: FaultProxy;
let smtpProxy: FaultProxy;

const INVOICES = ['FAULT-1', 'FAULT-2', 'FAULT-3', 'FAULT-4', 'FAULT-5', 'FAULT-6'];
const STEPS = 5; // cadence-crash.json: five reminders three seconds apart
const FAULTS: { name: string; erp: FaultMode; smtp: FaultMode }[] = [
  { name: '5xx', erp: httpAnswer(503, '{"error":"maintenance"}'), smtp: smtpReply('554 5.3.2 Service currently unavailable') },
  { name: 'hang', erp: hang, smtp: hang },
  { name: 'reset', erp: reset, smtp: reset },
  { name: 'html', erp: httpAnswer(200, '<html><body>Maintenance</body></html>', 'text/html'), smtp: { kind: 'respond', data: 'HTTP/1.1 200 OK\r\ncontent-type: text/html\r\n\r\n<html>proxy</html>\r\n', serverFirst: true } },
  { name: 'refused', erp: refuse, smtp: refuse },
];
const FAULT_MS = 5_000;
/** How long a fault waits, at most, for the worker's next attempt (its retries back off: 2, 4, 8 s for the ERP, 5, 10, 20 s for SMTP). */
const FAULT_WAIT_MS = 25_000;
const BETWEEN_MS = 2_000;

beforeAll(async () => {
  stack = await startStack({ cadenceFile: 'cadence-crash.json' });
  const erp = new URL(stack.erp.url);
  erpProxy = await startFaultProxy({ host: erp.hostname, port: Number(erp.port) });
  smtpProxy = await startFaultProxy({ host: '127.0.0.1', port: stack.mail.smtpPort });
  // The worker talks to both through the proxies; the API (enrollment's ERP check) reaches the ERP directly.
  await stack.killWorker();
  stack.env.ERP_BASE_URL = `http://${erpProxy.host}:${erpProxy.port}`;
  stack.env.SMTP_URL = `smtp://${smtpProxy.host}:${smtpProxy.port}`;
  stack.restartWorker();
});
afterAll(async () => {
  await stack?.stop();
  await erpProxy?.close();
  await smtpProxy?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('sends every reminder exactly once and takes no invoice for paid through 5xx, hangs, resets, HTML and refused connections of the ERP and SMTP', async () => {
  for (const [i, number] of INVOICES.entries()) {
    const res = await createAndEnroll(stack, { number, customerId: `FAULT-C${i}`, amountMinor: 20_000 + i, dueDate: '2026-09-01' }, `ap${i}@fault.example`);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
  }
  // Each fault in turn, first on SMTP (the first reminders fall due at once), then on the ERP. A fault lasts until
  // the worker has met it (FAULT_MS at least, a refused connection leaves no trace), then the proxy passes again.
  const log: string[] = [];
  const faulted = (proxy: FaultProxy) => Object.values(proxy.connections).reduce((a, b) => a + b, 0) - proxy.connections.pass;
  for (const [target, proxy] of [['SMTP', smtpProxy], ['ERP', erpProxy]] as const) {
    for (const fault of FAULTS) {
      const before = faulted(proxy);
      // Open connections passing bytes finish: a cut inside an SMTP DATA is the ambiguous send, kept 'uncertain' by design.
      await proxy.setMode(target === 'SMTP' ? fault.smtp : fault.erp, { cut: target === 'ERP' ? 'all' : 'none' });
      const began = Date.now();
      await sleep(FAULT_MS);
      if (fault.name !== 'refused')
        await expect.poll(() => faulted(proxy) - before, { timeout: FAULT_WAIT_MS, interval: 250 }).toBeGreaterThan(0).catch(() => undefined);
      // The ERP's hung connections are cut when the fault ends; SMTP's stay hung until the worker gives up on them.
      await proxy.setMode(pass, { cut: target === 'ERP' ? 'all' : 'none' });
      log.push(`${target} ${fault.name}: ${faulted(proxy) - before} connections met the fault in ${Math.round((Date.now() - began) / 1000)} s; ${stack.mail.messages().length} mails so far`);
      if (process.env.E2E_VERBOSE) process.stderr.write(`${log.at(-1)}\n`);
      await sleep(BETWEEN_MS);
    }
  }

  // Recovery: every step of every invoice arrives.
  const expectedKeys = INVOICES.flatMap((_, i) => Array.from({ length: STEPS }, (_s, n) => `customer-contact:${stack.tenantId}:FAULT-C${i}:batch:${n + 1}`)).sort();
  await expect
    .poll(() => stack.mail.messages().length, { timeout: 240_000, interval: 1_000 })
    .toBeGreaterThanOrEqual(expectedKeys.length)
    .catch(async (err: Error) => {
      const outbox = await stack.sql`select idempotency_key, status from outbound_messages where tenant_id = ${stack.tenantId} order by idempotency_key`;
      const invoices = await stack.sql`select invoice_number, stage, next_step_id, next_step_at from invoices where tenant_id = ${stack.tenantId} order by invoice_number`;
      throw new Error(`${err.message}\n${log.join('\n')}\noutbox: ${JSON.stringify(outbox)}\ninvoices: ${JSON.stringify(invoices)}`);
    });
  // Nothing can still be sent (no activity pending, nothing queued or in flight): anything sent twice would be here by now.
  await untilNothingCanSend({ tenantId: stack.tenantId, invoiceNumbers: INVOICES, customerIds: INVOICES.map((_, i) => `FAULT-C${i}`) });
  const keys = stack.mail.messages().map((m) => m.headers['x-dunning-idempotency-key']!).sort();
  const duplicates = keys.length - new Set(keys).size;
  expect(keys).toEqual(expectedKeys);
  for (const number of INVOICES) expect(stack.mail.messages().filter((m) => m.headers['x-invoice-number'] === number), number).toHaveLength(STEPS);
  const outbox = await stack.sql<{ status: string }[]>`select status from outbound_messages where tenant_id = ${stack.tenantId}`;
  expect(outbox.filter((r) => r.status !== 'sent')).toEqual([]);

  // No invoice taken for paid: the ERP shows each one open, and so does the API.
  const stages = await Promise.all(INVOICES.map(async (n) => (await stack.api('GET', `/invoices/${n}`)).body as { stage: string; invoice: { openAmountMinor: number; amountMinor: number } }));
  const falsePaid = stages.filter((v) => v.stage === 'paid' || v.invoice.openAmountMinor !== v.invoice.amountMinor).length;
  expect(stages.map((v) => v.stage)).toEqual(INVOICES.map(() => 'active'));
  expect(falsePaid).toBe(0);
  expect(await stack.sql`select payment_id from payments where tenant_id = ${stack.tenantId}`).toEqual([]);

  // The figures of the run (issue 10's closing note).
  console.log(
    `fault run: ${INVOICES.length} invoices, ${expectedKeys.length} reminders, fault modes ${FAULTS.map((f) => f.name).join(', ')} on the ERP and SMTP ` +
      `(${FAULT_MS / 1000} s each, SMTP first, then the ERP); connections: ERP ${JSON.stringify(erpProxy.connections)}, SMTP ${JSON.stringify(smtpProxy.connections)}; ` +
      `duplicates ${duplicates}, false paid ${falsePaid}, not sent 0\n${log.join('\n')}`,
  );
}, 600_000);
