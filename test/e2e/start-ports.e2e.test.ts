import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { startErpSimulator } from '../../dev/erp-simulator';
import { startMailCatcher } from '../../dev/mail-catcher';
import { BusyPortsError, choosePorts } from '../../dev/ports';
import { freePort } from '../../dev/process';
import { startMainJob, type MainJob } from '../support/main-job';

/**
 * `./scripts/start` and busy ports: every README and docs command uses the default ports, so a busy
 * default stops the start, naming the port and who holds it, unless other ports were asked for; then
 * the banner says so loudly, and it comes last, after the start-up and seeding output.
 */

/** Listens on the port for the test's length; undefined when someone else holds it already. */
async function hold(port: number): Promise<Server | undefined> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
const holding = async (port: number) => {
  const server = await hold(port);
  if (server) cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return server;
};

describe('choosing ports', () => {
  it('by default refuses a busy port, naming it and the process holding it; --any-ports takes another; a port given explicitly is never moved', async () => {
    const port = await freePort();
    expect(await holding(port)).toBeDefined();
    const wanted = [{ name: 'ERP simulator', port }];

    const refusal = await choosePorts(wanted, 'default').catch((err: unknown) => err);
    expect(refusal).toBeInstanceOf(BusyPortsError);
    expect((refusal as Error).message).toContain(`Port ${port} (ERP simulator) is already in use by node, pid ${process.pid}`);
    expect((refusal as Error).message).toContain('--any-ports');

    const [moved] = await choosePorts(wanted, 'any');
    expect(moved).toMatchObject({ name: 'ERP simulator', port });
    expect(moved!.chosen).not.toBe(port);

    await expect(choosePorts([{ name: 'API', port, explicit: true }], 'any')).rejects.toThrow(`Port ${port} (API, as given) is already in use`);
  });
});

describe('./scripts/start (dev/main.ts) with a default port busy', () => {
  it('refuses to start, naming the port and the process, and starts nothing', async () => {
    // Held by this test, or already by someone else (another demo): either way the start must refuse.
    const ours = await holding(4010);
    const job = startMainJob();
    cleanups.push(() => job.stop());
    const { code } = await job.exited;
    expect(code).toBe(1);
    const output = job.output();
    expect(output).toMatch(/Port 4010 \(ERP simulator\) is already in use/);
    if (ours) expect(output).toContain(`Port 4010 (ERP simulator) is already in use by node, pid ${process.pid}`);
    expect(output).toContain('./scripts/start --any-ports');
    expect(output).not.toContain('Dunning orchestrator is running');
    // Nothing started: no database cluster, no Temporal database in the data folder.
    expect(existsSync(job.dataDir) ? readdirSync(job.dataDir) : []).toEqual([]);
  }, 60_000);

  it('--any-ports takes a free port instead and the banner, printed last, says so loudly', async () => {
    // Only the API's port is the main job's to choose here (the other services are given), so the
    // test never takes a default port another demo on this machine may want.
    const ours = await holding(3000);
    const mail = await startMailCatcher();
    cleanups.push(() => mail.close());
    const erp = await startErpSimulator({ apiKey: 'ports-erp-key', webhookSecret: 'ports-webhook-secret-0123' });
    cleanups.push(() => erp.close());
    const tenant = `p${randomUUID().slice(0, 8)}`;
    const job: MainJob = startMainJob({
      args: ['--any-ports'],
      env: {
        DATABASE_URL: inject('databaseUrl'),
        TEMPORAL_ADDRESS: inject('temporalAddress'),
        SMTP_URL: `smtp://127.0.0.1:${mail.smtpPort}`,
        ERP_BASE_URL: erp.url,
        ERP_API_KEY: 'ports-erp-key',
        ERP_WEBHOOK_SECRET: 'ports-webhook-secret-0123',
        TENANT_ID: tenant,
        TEMPORAL_TASK_QUEUE: `ports-${tenant}`,
        API_PORT: undefined,
        DEV_PORTS: undefined,
      },
    });
    cleanups.push(() => job.stop());
    const banner = await job.banner(180_000);
    const output = job.output(); // before this test's own requests add log lines
    expect(banner.api).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(banner.api).not.toBe('http://127.0.0.1:3000');
    const apiPort = banner.api.split(':')[2];
    expect((await fetch(`${banner.api}/health`)).status).toBe(200);
    if (ours) expect(ours.listening).toBe(true);

    const start = output.indexOf('Dunning orchestrator is running.');
    const bannerText = output.slice(start);
    expect(bannerText).toContain('!!! NOT ON THE DEFAULT PORTS (--any-ports):');
    expect(bannerText).toMatch(new RegExp(`!!! +API +on ${apiPort} +instead of 3000`));
    expect(bannerText).toContain('Every command in the README and in docs/ uses the default ports');
    // Last: after the worker's and the API's start-up lines, and the warning closes the banner.
    expect(output.lastIndexOf('[worker] worker polling task queue')).toBeGreaterThan(-1);
    expect(output.lastIndexOf('[worker] worker polling task queue')).toBeLessThan(start);
    expect(output.lastIndexOf('Server listening at')).toBeLessThan(start);
    expect(bannerText.trimEnd().split('\n').at(-1)).toMatch(/^ {2}!{100}$/);

    const { code } = await job.stop();
    expect(code).toBe(0);
  }, 240_000);
});
