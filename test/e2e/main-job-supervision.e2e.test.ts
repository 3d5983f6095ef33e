import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DateTime } from 'luxon';
import { afterAll, describe, expect, it } from 'vitest';
import { startService } from '../../dev/process';
import { DEMO_ADMIN_TOKEN } from '../../dev/seed';
import { supervise } from '../../dev/supervisor';
import { type Banner, type MainJob, startMainJobOnFreePorts } from '../support/main-job';

/**
 * The main job keeps its API and worker running: a process that dies is restarted with backoff and a
 * log line, and after repeated fast failures the main job gives up loudly, stops everything and exits
 * non-zero.
 */

const dir = mkdtempSync(path.join(os.tmpdir(), 'supervision-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the supervisor around a small real process', () => {
  it('gives up after 5 failures in the window, with the delays doubling, and reports how the process failed', async () => {
    const spawnedAt: number[] = [];
    const lines: string[] = [];
    let gaveUp: (message: string) => void;
    const givenUp = new Promise<string>((resolve) => (gaveUp = resolve));
    const crasher = supervise(
      'crasher',
      () => {
        spawnedAt.push(Date.now());
        return startService('crasher', process.execPath, ['-e', 'setTimeout(() => process.exit(3), 50)'], { quiet: true });
      },
      { initialBackoffMs: 100, maxFailures: 5, windowMs: 60_000, log: (line) => lines.push(line), onGiveUp: (message) => gaveUp(message) },
    );
    await crasher.firstReady;
    const message = await givenUp;
    expect(message).toMatch(/^\[supervisor\] the crasher failed 5 times within 60 s \(last: exited with code 3 after [\d.]+ s\): giving up$/);
    expect(spawnedAt).toHaveLength(5); // the first start and 4 restarts; none after giving up
    await new Promise((r) => setTimeout(r, 300));
    expect(spawnedAt).toHaveLength(5);
    // Each restart waits twice as long as the one before: 0.1, 0.2, 0.4, 0.8 s (plus the 50 ms the process lives).
    const gaps = spawnedAt.slice(1).map((t, i) => t - spawnedAt[i]!);
    [100, 200, 400, 800].forEach((delay, i) => expect(gaps[i]).toBeGreaterThanOrEqual(delay));
    expect(lines.filter((l) => l.includes('restarting it in'))).toHaveLength(4);
    expect(lines[1]).toMatch(/^\[supervisor\] the crasher exited with code 3 after [\d.]+ s; restarting it in 0\.1 s \(failure 1 of 5 allowed within 60 s\)$/);
    expect(crasher.current()).toBeUndefined();
  });

  it('restarts a process that failed a few times and leaves it running; stop() ends the supervision', async () => {
    const counter = path.join(dir, 'attempts');
    writeFileSync(counter, '0');
    // Fails on its first two starts, then stays up.
    const script = `const fs = require('fs'); const n = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;
      fs.writeFileSync(${JSON.stringify(counter)}, String(n)); if (n <= 2) process.exit(1); setInterval(() => {}, 1000);`;
    let gaveUp = false;
    const flaky = supervise('flaky', () => startService('flaky', process.execPath, ['-e', script], { quiet: true }), {
      initialBackoffMs: 50,
      log: () => undefined,
      onGiveUp: () => (gaveUp = true),
    });
    await flaky.firstReady;
    await expect.poll(() => flaky.restarts(), { timeout: 5_000 }).toBe(2);
    const running = flaky.current()!;
    await new Promise((r) => setTimeout(r, 300));
    expect(running.child.exitCode).toBeNull();
    expect(flaky.current()).toBe(running);
    await flaky.stop('SIGTERM', 2_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(running.child.signalCode).toBe('SIGTERM');
    expect(Number(readFileSync(counter, 'utf8'))).toBe(3); // no restart after stop()
    expect(gaveUp).toBe(false);
  });
});

describe('the main job (dev/main.ts, as ./scripts/start runs it)', () => {
  let job: MainJob;
  let banner: Banner;
  afterAll(async () => {
    await job?.stop();
  });

  const pidOf = (name: 'worker' | 'API'): number => {
    const all = [...job.output().matchAll(new RegExp(`\\[supervisor\\] the ${name} (?:starts|is restarting) \\(pid (\\d+)\\)`, 'g'))];
    return Number(all.at(-1)![1]);
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const listening = (url: string) =>
    new Promise<boolean>((resolve) => {
      const { hostname, port } = new URL(url);
      const socket = net.connect(Number(port), hostname);
      socket.once('connect', () => socket.end(() => resolve(true)));
      socket.once('error', () => resolve(false));
    });
  const admin = { authorization: `Bearer ${DEMO_ADMIN_TOKEN}` };

  it('restarts a SIGKILLed worker, which then runs new work, and a SIGKILLed API, which answers again', async () => {
    ({ job, banner } = await startMainJobOnFreePorts({ env: { API_PORT: undefined, DEV_PORTS: undefined } }));
    expect((await fetch(`${banner.api}/health`)).status).toBe(200);

    const worker = pidOf('worker');
    const mark = job.output().length;
    process.kill(worker, 'SIGKILL');
    await job.waitForOutput(/\[supervisor\] the worker was killed by SIGKILL after [\d.]+ s; restarting it in 1\.0 s \(failure 1 of 5 allowed within 60 s\)/, 10_000, mark);
    await job.waitForOutput(/\[supervisor\] the worker is back \(pid \d+, restart 1\)/, 120_000, mark);
    expect(pidOf('worker')).not.toBe(worker);
    expect(alive(worker)).toBe(false);

    // The new worker does the work: a newly enrolled overdue invoice gets its due steps recorded.
    const issue = DateTime.now().minus({ days: 40 }).toISODate()!;
    const due = DateTime.now().minus({ days: 10 }).toISODate()!;
    const erp = await fetch(`${banner.erp}/invoices`, {
      method: 'POST',
      headers: { authorization: 'Bearer dev-erp-key', 'content-type': 'application/json' },
      body: JSON.stringify({ invoiceNumber: 'SUP-1', customerId: 'SUP-C', currency: 'EUR', amountMinor: 5_000, issueDate: issue, dueDate: due }),
    });
    expect(erp.status).toBe(201);
    const enrolled = await fetch(`${banner.api}/invoices`, {
      method: 'POST',
      headers: { ...admin, 'content-type': 'application/json' },
      body: JSON.stringify({
        customer: { id: 'SUP-C', name: 'Supervised GmbH', email: 'ap@sup.example', timeZone: 'Europe/Berlin', locale: 'de-DE', collectorId: 'ben', segment: 'standard', country: 'DE' },
        invoice: { number: 'SUP-1', currency: 'EUR', amountMinor: 5_000, issueDate: issue, dueDate: due },
      }),
    });
    expect(enrolled.status).toBe(201);
    await expect
      .poll(async () => ((await (await fetch(`${banner.api}/invoices/SUP-1`, { headers: admin })).json()) as { steps: unknown[] }).steps.length, { timeout: 60_000, interval: 500 })
      .toBeGreaterThan(0);

    const api = pidOf('API');
    const apiMark = job.output().length;
    process.kill(api, 'SIGKILL');
    await job.waitForOutput(/\[supervisor\] the API was killed by SIGKILL after [\d.]+ s; restarting it in 1\.0 s/, 10_000, apiMark);
    await job.waitForOutput(/\[supervisor\] the API is back \(pid \d+, restart 1\)/, 90_000, apiMark);
    expect((await fetch(`${banner.api}/health`)).status).toBe(200);
    expect((await fetch(`${banner.api}/invoices/SUP-1`, { headers: admin })).status).toBe(200);
  }, 400_000);

  it('gives up after repeated fast failures of the worker: stops everything and exits non-zero with a message', async () => {
    expect(job, 'the main job of the previous test').toBeDefined();
    let kills = 0;
    // Kill each new worker as soon as it starts, until the main job gives up (the kill above may count too).
    while (job.child.exitCode === null && kills < 7) {
      const pid = pidOf('worker');
      const mark = job.output().length;
      if (alive(pid)) {
        process.kill(pid, 'SIGKILL');
        kills++;
      }
      await Promise.race([job.waitForOutput(/\[supervisor\] the worker is restarting \(pid \d+\)/, 60_000, mark), job.exited]).catch(() => undefined);
    }
    const { code } = await job.exited;
    expect(code).toBe(1);
    expect(kills).toBeLessThanOrEqual(6); // 5, or 6 when the first kill above leaves the window meanwhile
    const output = job.output();
    expect(output).toMatch(/\[supervisor\] the worker failed 5 times within 60 s \(last: was killed by SIGKILL after [\d.]+ s\): giving up: stopping everything/);
    expect(output).toMatch(/restarting it in 2\.0 s \(failure 2 of 5/);
    expect(output).toMatch(/restarting it in 8\.0 s \(failure 4 of 5/);
    // Everything stopped: no API, ERP simulator, mail catcher, Temporal or PostgreSQL left listening.
    expect(alive(pidOf('API'))).toBe(false);
    for (const url of [banner.api, banner.erp!, banner.mail!, `http://${banner.temporalAddress}`, banner.databaseUrl!.replace('postgres://postgres@', 'http://')]) {
      expect(await listening(url), url).toBe(false);
    }
  }, 120_000);
});
