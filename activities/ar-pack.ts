import { createHash } from 'node:crypto';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { Transporter } from 'nodemailer';
import { appendAuditEvent, auditEventByKey } from '../db/audit-events';
import type { Sql } from '../db/sql';
import type { FxTable } from '../domain/fx';
import type { ReportsConfig } from '../domain/reports/config';
import { lastCompleteMonth } from '../domain/reports/dso';
import { allReports } from '../reports';
import type { ReportContext, ReportDefinition } from '../reports/definition';
import { CONTENT_TYPES } from '../reports/formats';
import { buildArPack, packCover, packDate, packToXlsx } from '../reports/pack';
import type { ArPackMailRequest, ArPackMailResult } from '../workflows/ar-pack-messages';

declare module '../db/audit-events' {
  interface AuditDetailsByType {
    /** The weekly AR pack went out (activities/ar-pack.ts): keyed by its workflow id, one per schedule run. */
    ar_pack_mailed: { workflowId: string; asOf: string; month: string; recipients: string[]; messageId: string; sheets: string[]; bytes: number };
    /** An attempt is about to hand the pack to the SMTP server (keyed by workflow id and attempt). */
    ar_pack_sending: { workflowId: string; attempt: number; recipients: string[]; messageId: string };
    /** That attempt's SMTP server never took the message (no reply after DATA is not this: it may have): a retry may send. */
    ar_pack_send_failed: { workflowId: string; attempt: number; error: string };
  }
}

/**
 * The weekly AR pack's I/O (workflows/ar-pack.ts): every report with a pack query, run for the whole tenant as of
 * today in the reporting zone (DSO and CEI of the last complete month), as one workbook (reports/pack.ts) mailed
 * to config/reports.json weeklyPack.recipients through the worker's SMTP transport, then recorded in the audit
 * trail ('ar_pack_mailed', keyed by the workflow id): at most once per schedule run. Each attempt records
 * 'ar_pack_sending' before the SMTP transaction and 'ar_pack_send_failed' when the server surely did not take the
 * message (refused, unreachable, a reply refusing a command); a retry that finds an earlier attempt's 'sending'
 * without either outcome (the worker died mid-send, or the server never answered after DATA) does not send again:
 * it answers 'uncertain' (the trail shows it) rather than risk a second mail.
 */
export interface ArPackActivityDeps {
  sql: Sql;
  mailer: Transporter;
  mailFrom: string;
  fx: FxTable;
  reportsConfig: ReportsConfig;
  /** The reports of the pack; default every report (reports/index.ts). */
  reports?: readonly ReportDefinition[];
  now?: () => Date;
}

/** YYYY-MM-DD of the instant in the zone. */
function dayIn(instant: Date, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(instant);
}

const eventKeyOf = (idempotencyKey: string) => `ar-pack:${idempotencyKey}`;
const attemptKey = (idempotencyKey: string, attempt: number, what: 'sending' | 'failed') => `ar-pack:${idempotencyKey}:attempt:${attempt}:${what}`;

/** This activity's attempt (1 outside an activity, e.g. a test calling the function). */
function currentAttempt(): number {
  try {
    return Context.current().info.attempt;
  } catch {
    return 1;
  }
}

/** The SMTP commands about the message: a 5xx reply to one of them refuses it for good (a recipient, the sender). */
const MESSAGE_COMMANDS = new Set(['MAIL FROM', 'RCPT TO', 'DATA']);

export function createArPackActivities(deps: ArPackActivityDeps) {
  const now = deps.now ?? (() => new Date());
  const reports = deps.reports ?? allReports;
  return {
    async mailArPack(req: ArPackMailRequest): Promise<ArPackMailResult> {
      const config = deps.reportsConfig;
      const recipients = config.weeklyPack.recipients;
      const generatedAt = now();
      const today = dayIn(generatedAt, config.timeZone);
      const at = packDate(lastCompleteMonth(today), today);
      const eventKey = eventKeyOf(req.idempotencyKey);
      const done = await auditEventByKey(deps.sql, eventKey);
      if (done) {
        const d = done.details as { asOf: string; month: string; recipients: string[]; messageId: string; sheets: string[] };
        return { status: 'already_sent', asOf: d.asOf, month: d.month, recipients: d.recipients, messageId: d.messageId, sheets: d.sheets };
      }
      if (recipients.length === 0) return { status: 'no_recipients', asOf: at.asOf, month: at.month, recipients: [], messageId: null, sheets: [] };
      // An earlier attempt that began the SMTP transaction without an outcome may have mailed the pack: never twice.
      const attempt = currentAttempt();
      for (let earlier = 1; earlier < attempt; earlier++) {
        const began = await auditEventByKey(deps.sql, attemptKey(req.idempotencyKey, earlier, 'sending'));
        if (began && !(await auditEventByKey(deps.sql, attemptKey(req.idempotencyKey, earlier, 'failed')))) {
          const d = began.details as { recipients: string[]; messageId: string };
          return { status: 'uncertain', asOf: at.asOf, month: at.month, recipients: d.recipients, messageId: d.messageId, sheets: [] };
        }
      }

      const ctx: ReportContext = { sql: deps.sql, tenantId: req.tenantId, collectorId: undefined, fx: deps.fx, config, today };
      const pack = await buildArPack(ctx, at, reports, generatedAt);
      const xlsx = await packToXlsx(pack);
      const sheets = ['Cover', ...pack.sheets.map((s) => s.sheet)];
      const domain = /@([^>\s]+)>?\s*$/.exec(deps.mailFrom)?.[1] ?? 'dunning.invalid';
      const messageId = `<ar-pack.${createHash('sha256').update(eventKey).digest('hex').slice(0, 32)}@${domain}>`;
      const cover = packCover(pack)
        .lines.map(([label, value]) => `${label}: ${value ?? ''}`)
        .join('\n');
      const common = { tenantId: req.tenantId, actor: 'ar-pack', workflowId: req.idempotencyKey };
      await appendAuditEvent(deps.sql, {
        ...common,
        eventKey: attemptKey(req.idempotencyKey, attempt, 'sending'),
        type: 'ar_pack_sending',
        details: { workflowId: req.idempotencyKey, attempt, recipients: [...recipients], messageId },
      });
      try {
        await deps.mailer.sendMail({
          from: deps.mailFrom,
          to: recipients,
          subject: `AR pack as of ${pack.asOf} (DSO and CEI of ${pack.month})`,
          messageId,
          text: `The weekly AR pack of ${req.tenantId} is attached (${sheets.length} sheets).\n\n${cover}\n`,
          attachments: [{ filename: `ar-pack-${pack.asOf}.xlsx`, content: xlsx, contentType: CONTENT_TYPES.xlsx }],
          headers: { 'X-Dunning-Ar-Pack': req.idempotencyKey },
        });
      } catch (err) {
        const e = err as Error & { responseCode?: number; command?: string };
        // Without a reply after DATA the server may have taken it: no 'failed', so a retry answers 'uncertain'.
        if (e.command === 'DATA' && !e.responseCode) throw err;
        await appendAuditEvent(deps.sql, {
          ...common,
          eventKey: attemptKey(req.idempotencyKey, attempt, 'failed'),
          type: 'ar_pack_send_failed',
          details: { workflowId: req.idempotencyKey, attempt, error: `${e.command ?? ''} ${e.message}`.trim() },
        });
        if (e.responseCode !== undefined && e.responseCode >= 500 && MESSAGE_COMMANDS.has(e.command ?? '')) {
          throw ApplicationFailure.nonRetryable(`the SMTP server refused the AR pack (${e.command}: ${e.message})`, 'ArPackRefused');
        }
        throw err;
      }
      await appendAuditEvent(deps.sql, {
        ...common,
        eventKey,
        type: 'ar_pack_mailed',
        details: { workflowId: req.idempotencyKey, asOf: pack.asOf, month: pack.month, recipients: [...recipients], messageId, sheets, bytes: xlsx.length },
      });
      return { status: 'sent', asOf: pack.asOf, month: pack.month, recipients: [...recipients], messageId, sheets };
    },
  };
}

export type ArPackActivities = ReturnType<typeof createArPackActivities>;
