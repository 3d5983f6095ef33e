import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import ExcelJS from 'exceljs';
import { simpleParser, type ParsedMail } from 'mailparser';
import { createTransport, type Transporter } from 'nodemailer';
import { MockActivityEnvironment } from '@temporalio/testing';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createArPackActivities } from '../../activities/ar-pack';
import { createArPackSchedule, PAUSED_NOTE } from '../../api/ar-pack-schedule';
import { loadReportingConfig, loadReportsConfig } from '../../config/load';
import { upsertLedgerInvoices, type LedgerInvoice } from '../../db/ledger';
import { migrate } from '../../db/migrate';
import { writeReportSettings } from '../../db/report-settings';
import { createSql, type Sql } from '../../db/sql';
import type { ReportsConfig } from '../../domain/reports/config';
import { arPackScheduleId } from '../../workflows/ar-pack-messages';

/**
 * The weekly AR pack end to end on the real pieces: the Temporal dev server runs the schedule ar-pack:<tenant> as
 * api/ar-pack-schedule.ts creates it, a worker runs workflows/ar-pack.ts and the real activity, which builds the pack
 * from PostgreSQL and mails it through nodemailer to a real SMTP server (smtp-server, parsed with mailparser); the
 * attachment is read back with exceljs.
 *
 * The portfolio, as of Monday 2026-04-06 (the activity's clock: 07:00 in Europe/Berlin):
 *   A1 EUR 100,000 minor issued 2026-03-10 due 2026-04-09: current
 *   B1 USD  40,000       issued 2025-11-15 due 2025-12-15: 112 days past due (16 + 31 + 31 + 28 + 6) -> 91+;
 *                        in EUR 40,000 * 0.92 = 36,800
 *   total open 136,800 -> 1,368.00 EUR; past due 36,800 / 136,800 = 26.9005 % -> 26.90
 */
Runtime.install({ logger: new DefaultLogger('WARN') });

const tenantId = `pack-${randomUUID().slice(0, 8)}`;
const taskQueue = `ar-pack-test-${tenantId}`;
const recipients = ['ar-managers@example.com', 'cfo@example.com'];
const config: ReportsConfig = { ...loadReportsConfig(), weeklyPack: { enabled: true, dayOfWeek: 1, hour: 7, recipients } };
const clock = new Date('2026-04-06T05:00:00Z');

let sql: Sql;
let smtp: SMTPServer;
let smtpPort: number;
const mails: ParsedMail[] = [];
let connection: Connection;
let client: Client;

const ledgerRow = (invoiceNumber: string, currency: string, amountMinor: number, issueDate: string, dueDate: string): LedgerInvoice => ({
  invoiceNumber, customerId: 'ACME', currency, amountMinor, openAmountMinor: amountMinor, status: 'open', issueDate, dueDate, settledDate: null, rebillOf: null, disputed: false,
});

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  await migrate(sql);
  await writeReportSettings(sql, tenantId, 'Europe/Berlin');
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale) values (${tenantId}, 'ACME', 'Acme GmbH', 'ap@acme.example', 'Europe/Berlin', 'de-DE')`;
  await upsertLedgerInvoices(sql, tenantId, [ledgerRow('A1', 'EUR', 100_000, '2026-03-10', '2026-04-09'), ledgerRow('B1', 'USD', 40_000, '2025-11-15', '2025-12-15')], { source: 'import' });
  smtp = new SMTPServer({
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    closeTimeout: 1_000,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          mails.push(mail);
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
  smtpPort = (smtp.server.address() as AddressInfo).port;
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
});
afterAll(async () => {
  await client?.schedule.getHandle(arPackScheduleId(tenantId)).delete().catch(() => undefined);
  await connection?.close();
  await new Promise<void>((resolve) => (smtp ? smtp.close(resolve) : resolve()));
  await sql?.end();
});

/** A port nobody listens on (bound, then closed). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** The AR pack's audit events of one run, in order. */
async function eventTypes(workflowId: string): Promise<string[]> {
  const rows = await sql<{ event_type: string }[]>`select event_type from audit_events where tenant_id = ${tenantId} and workflow_id = ${workflowId} order by id`;
  return rows.map((r) => r.event_type);
}

async function until<T>(what: string, probe: () => T | undefined, ms = 30_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`no ${what} within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the weekly AR pack', () => {
  it('is mailed by its schedule as an XLSX attachment, once per run', async () => {
    const mailer = createTransport(`smtp://127.0.0.1:${smtpPort}`);
    const activities = createArPackActivities({ sql, mailer, mailFrom: 'Accounts Receivable <ar@dunning.example>', fx: loadReportingConfig(), reportsConfig: config, now: () => clock });
    const native = await NativeConnection.connect({ address: inject('temporalAddress') });
    const worker = await Worker.create({ connection: native, taskQueue, workflowsPath: path.resolve(__dirname, '../../workflows/ar-pack.ts'), activities });
    const schedule = createArPackSchedule({ temporal: client, tenantId, taskQueue, config });
    try {
      expect(await schedule.ensure()).toEqual({ state: 'created' });
      const handle = client.schedule.getHandle(arPackScheduleId(tenantId));
      const described = await handle.describe();
      // Mondays at 07:00 in the reporting zone.
      expect(described.spec.timezone).toBe('Europe/Berlin');
      expect(described.spec.calendars?.[0]).toMatchObject({ dayOfWeek: [{ start: 'MONDAY', end: 'MONDAY', step: 1 }], hour: [{ start: 7, end: 7, step: 1 }], minute: [{ start: 0, end: 0, step: 1 }] });
      expect(described.state.paused).toBe(false);
      expect(described.action).toMatchObject({ workflowType: 'arPack', taskQueue });

      const { mail, result } = await worker.runUntil(async () => {
        await handle.trigger();
        const caught = await until('AR pack mail', () => mails.find((m) => m.subject?.startsWith('AR pack')));
        // The run the trigger started, to its end (the audit record follows the SMTP server's acceptance).
        let workflowId: string | undefined;
        for (let i = 0; i < 100 && !workflowId; i++) {
          workflowId = (await handle.describe()).info.recentActions[0]?.action.workflow.workflowId;
          if (!workflowId) await new Promise((r) => setTimeout(r, 100));
        }
        return { mail: caught, result: (await client.workflow.getHandle(workflowId!).result()) as { status: string; sheets: string[] } };
      });
      expect(result.status).toBe('sent');
      expect(result.sheets[0]).toBe('Cover');
      expect(mail.subject).toBe('AR pack as of 2026-04-06 (DSO and CEI of 2026-03)');
      expect(([] as { value: { address?: string }[] }[]).concat(mail.to as never).flatMap((a) => a.value.map((v) => v.address))).toEqual(recipients);
      expect(mail.attachments).toHaveLength(1);
      const [attachment] = mail.attachments;
      expect(attachment!.filename).toBe('ar-pack-2026-04-06.xlsx');
      expect(attachment!.contentType).toBe('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');

      const wb = new ExcelJS.Workbook();
      await wb.xlsx.load(attachment!.content as never);
      expect(wb.worksheets[0]!.name).toBe('Cover');
      expect(wb.worksheets.map((w) => w.name)).toEqual(expect.arrayContaining(['Aging', 'DSO', 'CEI']));
      const cover = wb.getWorksheet('Cover')!;
      const lines = Object.fromEntries(Array.from({ length: cover.rowCount }, (_, i) => cover.getRow(i + 1)).map((r) => [String(r.getCell(1).value ?? ''), r.getCell(2).value]));
      expect(lines).toMatchObject({ Tenant: tenantId, 'As of': '2026-04-06', Month: '2026-03', 'Reporting currency': 'EUR', 'Generated at': '2026-04-06T07:00:00.000+02:00' });
      const aging = wb.getWorksheet('Aging')!;
      expect(aging.getCell('A1').value).toBe('Aging as of 2026-04-06, in EUR');
      expect(aging.getCell('A5').value).toBe('Total');
      expect(aging.getCell('D5').value).toBe(1368);
      expect(aging.getCell('D5').numFmt).toBe('#,##0.00 "EUR"');
      expect(aging.getCell('I5').value).toBe(368); // 91+
      expect(aging.getCell('K5').value).toBe(26.9);

      // Recorded once, keyed by the run's workflow id; the same run asking again sends nothing.
      const events = await sql<{ workflow_id: string; details: { recipients: string[]; asOf: string } }[]>`
        select workflow_id, details from audit_events where tenant_id = ${tenantId} and event_type = 'ar_pack_mailed'`;
      expect(events).toHaveLength(1);
      expect(events[0]!.workflow_id).toMatch(new RegExp(`^ar-pack:${tenantId}-`));
      expect(events[0]!.details).toMatchObject({ recipients, asOf: '2026-04-06' });
      const again = await activities.mailArPack({ tenantId, idempotencyKey: events[0]!.workflow_id });
      expect(again.status).toBe('already_sent');
      await new Promise((r) => setTimeout(r, 300));
      expect(mails.filter((m) => m.subject?.startsWith('AR pack'))).toHaveLength(1);
    } finally {
      mailer.close();
      await native.close();
    }
  });

  it('mails at most once per run: an attempt the server surely refused is retried, one of unknown outcome is not', async () => {
    const before = mails.length;
    const realMailer = createTransport(`smtp://127.0.0.1:${smtpPort}`);
    const deps = { sql, mailFrom: 'Accounts Receivable <ar@dunning.example>', fx: loadReportingConfig(), reportsConfig: config, now: () => clock };
    const attempt = (n: number, mailer: Transporter, key: string) => new MockActivityEnvironment({ attempt: n }).run(createArPackActivities({ ...deps, mailer }).mailArPack, { tenantId, idempotencyKey: key });
    try {
      // Nobody listens on the port: the connection is refused, the message surely not taken; the retry sends it.
      const closed = createTransport({ host: '127.0.0.1', port: await closedPort(), connectionTimeout: 2_000 });
      await expect(attempt(1, closed, 'run-refused')).rejects.toThrow(/ECONNREFUSED/);
      expect(await attempt(2, realMailer, 'run-refused')).toMatchObject({ status: 'sent' });
      expect(await eventTypes('run-refused')).toEqual(['ar_pack_sending', 'ar_pack_send_failed', 'ar_pack_sending', 'ar_pack_mailed']);
      // The connection died after DATA without a reply (the server may have the mail): the retry does not send again.
      const diedAfterData = { sendMail: () => Promise.reject(Object.assign(new Error('Connection closed unexpectedly'), { command: 'DATA' })) } as unknown as Transporter;
      await expect(attempt(1, diedAfterData, 'run-unknown')).rejects.toThrow(/Connection closed/);
      expect(await attempt(2, realMailer, 'run-unknown')).toMatchObject({ status: 'uncertain', recipients });
      expect(await eventTypes('run-unknown')).toEqual(['ar_pack_sending']);
      await new Promise((r) => setTimeout(r, 300));
      expect(mails.length - before).toBe(1); // the refused run's retry only
    } finally {
      realMailer.close();
    }
  });

  it('is paused when the configuration disables it and resumed when it enables it again', async () => {
    const off = createArPackSchedule({ temporal: client, tenantId, taskQueue, config: { ...config, weeklyPack: { ...config.weeklyPack, enabled: false } } });
    expect(await off.ensure()).toEqual({ state: 'paused' });
    const handle = client.schedule.getHandle(arPackScheduleId(tenantId));
    expect((await handle.describe()).state).toMatchObject({ paused: true, note: PAUSED_NOTE });
    const on = createArPackSchedule({ temporal: client, tenantId, taskQueue, config: { ...config, weeklyPack: { ...config.weeklyPack, dayOfWeek: 5, hour: 16 } } });
    expect(await on.ensure()).toEqual({ state: 'updated' });
    const described = await handle.describe();
    expect(described.state.paused).toBe(false);
    expect(described.spec.calendars?.[0]).toMatchObject({ dayOfWeek: [{ start: 'FRIDAY', end: 'FRIDAY', step: 1 }], hour: [{ start: 16, end: 16, step: 1 }] });
    // A tenant that never enabled it has no schedule, and disabling creates none.
    const other = createArPackSchedule({ temporal: client, tenantId: `${tenantId}-x`, taskQueue, config: { ...config, weeklyPack: { ...config.weeklyPack, enabled: false } } });
    expect(await other.ensure()).toEqual({ state: 'absent' });
  });
});
