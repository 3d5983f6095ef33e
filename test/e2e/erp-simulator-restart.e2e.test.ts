import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { startErpSimulator, type ErpSimulator } from '../../dev/erp-simulator';
import { listen } from '../support/listen';

/**
 * The ERP simulator keeps its ledger in a state file beside the project's own state (.data/ in the
 * main job): a restart, gentle or a SIGKILL, finds what it confirmed before, as the database does.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const apiKey = 'restart-erp-key';
const webhookSecret = 'restart-webhook-secret-0123';
const dir = mkdtempSync(path.join(os.tmpdir(), 'erp-restart-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running: ErpSimulator[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((sim) => sim.close()));
});

async function start(stateFile: string, webhookUrl?: string): Promise<ErpSimulator> {
  const sim = await startErpSimulator({ apiKey, webhookSecret, webhookUrl, stateFile });
  running.push(sim);
  return sim;
}

async function call(url: string, method: string, route: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as any };
}

const invoice = (invoiceNumber: string, customerId = 'RS-CUST') => ({
  invoiceNumber,
  customerId,
  currency: 'EUR',
  amountMinor: 10_000,
  issueDate: '2026-01-01',
  dueDate: '2026-02-01',
});

describe('the ERP simulator persists its ledger', () => {
  it('a restart keeps write-offs, payments, credit memos, holds, idempotent answers and scheduled payments', async () => {
    const stateFile = path.join(dir, 'in-process', 'erp-simulator.json');
    const first = await start(stateFile);
    for (const n of ['RS-1', 'RS-2', 'RS-3', 'RS-4']) expect((await call(first.url, 'POST', '/invoices', invoice(n))).status).toBe(201);
    const writeOff = await call(first.url, 'POST', '/invoices/RS-1/write-offs', { amountMinor: 10_000, currency: 'EUR', reason: 'insolvent' }, { 'idempotency-key': 'wo-RS-1' });
    expect(writeOff.status).toBe(201);
    expect((await call(first.url, 'POST', '/payments', { paymentId: 'PAY-RS-2', invoiceNumber: 'RS-2', amountMinor: 10_000, currency: 'EUR' })).status).toBe(201);
    expect(
      (await call(first.url, 'POST', '/invoices/RS-3/credit-memos', { amountMinor: 2_500, currency: 'EUR', reason: 'price' }, { 'idempotency-key': 'cm-RS-3' })).status,
    ).toBe(201);
    expect((await call(first.url, 'POST', '/customers/RS-CUST/credit-hold', { reason: 'late' }, { 'idempotency-key': 'hold-1' })).status).toBe(201);
    // Posts 3 s from now: after the restart, which must schedule it again.
    const postAt = new Date(Date.now() + 3_000).toISOString();
    expect((await call(first.url, 'POST', '/payments', { paymentId: 'PAY-RS-4', invoiceNumber: 'RS-4', amountMinor: 10_000, currency: 'EUR', postAt })).status).toBe(202);
    await first.close();
    running.splice(running.indexOf(first), 1);

    const events: { payment: { paymentId: string }; invoice: { status: string } }[] = [];
    const receiver = await listen((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        events.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
        res.statusCode = 204;
        res.end();
      });
    });
    try {
      const second = await start(stateFile, receiver.url);
      const statusOf = async (n: string) => (await call(second.url, 'GET', `/invoices/${n}`)).body;
      expect(await statusOf('RS-1')).toMatchObject({ status: 'written_off', openAmountMinor: 0 });
      expect(await statusOf('RS-2')).toMatchObject({ status: 'paid', openAmountMinor: 0, payments: [{ paymentId: 'PAY-RS-2', state: 'applied' }] });
      expect(await statusOf('RS-3')).toMatchObject({ status: 'open', openAmountMinor: 7_500 });
      expect(await statusOf('RS-4')).toMatchObject({ status: 'open', payments: [{ paymentId: 'PAY-RS-4', state: 'scheduled' }] });
      expect((await call(second.url, 'GET', '/customers/RS-CUST/credit-status')).body).toMatchObject({ onHold: true, reason: 'late' });
      expect((await call(second.url, 'GET', '/journals?invoiceNumber=RS-1')).body).toEqual([expect.objectContaining({ journalId: writeOff.body.journalId, amountMinor: 10_000 })]);
      expect((await call(second.url, 'GET', '/credit-memos?invoiceNumber=RS-3')).body).toEqual([expect.objectContaining({ amountMinor: 2_500 })]);
      // The first answer of an idempotency key survives too: a retry after the restart posts nothing new.
      const retry = await call(second.url, 'POST', '/invoices/RS-1/write-offs', { amountMinor: 10_000, currency: 'EUR', reason: 'insolvent' }, { 'idempotency-key': 'wo-RS-1' });
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body.journalId).toBe(writeOff.body.journalId);
      expect((await call(second.url, 'POST', '/customers/RS-CUST/credit-hold', { reason: 'late' }, { 'idempotency-key': 'hold-1' })).headers.get('idempotent-replayed')).toBe('true');
      // A new record continues the numbering rather than reusing JE-000001.
      const next = await call(second.url, 'POST', '/invoices/RS-3/write-offs', { amountMinor: 7_500, currency: 'EUR', reason: 'rest' }, { 'idempotency-key': 'wo-RS-3' });
      expect(next.body.journalId).not.toBe(writeOff.body.journalId);

      // The scheduled payment posts at its time after the restart, and its webhook goes out.
      await expect.poll(async () => (await statusOf('RS-4')).status, { timeout: 10_000, interval: 200 }).toBe('paid');
      await expect.poll(() => events.map((e) => `${e.payment.paymentId}:${e.invoice.status}`), { timeout: 5_000 }).toContain('PAY-RS-4:paid');
    } finally {
      await receiver.close();
    }
    // Only the state file: the temporary file of each atomic write was renamed over it.
    expect(readdirSync(path.dirname(stateFile))).toEqual(['erp-simulator.json']);
  });

  it('survives a SIGKILL of its process: a change is on disk before it is answered', async () => {
    const stateFile = path.join(dir, 'process', 'erp-simulator.json');
    const children: ChildProcess[] = [];
    const startProcess = async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'dev', 'erp-simulator.ts')], {
        cwd: ROOT,
        env: { ...process.env, PORT: '0', ERP_API_KEY: apiKey, STATE_FILE: stateFile },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.push(child);
      let output = '';
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the simulator did not start: ${output}`)), 30_000);
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          const match = /listening on (http:\/\/\S+)/.exec(output);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        };
        child.stdout!.on('data', onData);
        child.stderr!.on('data', onData);
        child.once('exit', (code) => reject(new Error(`the simulator exited with ${code}: ${output}`)));
      });
      return { child, url };
    };
    try {
      const first = await startProcess();
      expect((await call(first.url, 'POST', '/invoices', invoice('RK-1', 'RK-CUST'))).status).toBe(201);
      expect((await call(first.url, 'POST', '/invoices', invoice('RK-2', 'RK-CUST'))).status).toBe(201);
      expect((await call(first.url, 'POST', '/invoices/RK-1/write-offs', { amountMinor: 10_000, currency: 'EUR', reason: 'gone' }, { 'idempotency-key': 'wo-RK-1' })).status).toBe(201);
      expect((await call(first.url, 'POST', '/payments', { paymentId: 'PAY-RK-2', invoiceNumber: 'RK-2', amountMinor: 4_000, currency: 'EUR' })).status).toBe(201);
      const exited = new Promise((resolve) => first.child.once('exit', resolve));
      first.child.kill('SIGKILL');
      await exited;

      const second = await startProcess();
      expect((await call(second.url, 'GET', '/invoices/RK-1')).body).toMatchObject({ status: 'written_off', openAmountMinor: 0 });
      expect((await call(second.url, 'GET', '/invoices/RK-2')).body).toMatchObject({ status: 'open', openAmountMinor: 6_000 });
    } finally {
      for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
