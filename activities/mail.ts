import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { DateTime } from 'luxon';
import type { Transporter } from 'nodemailer';
import { contactReachOfCustomer } from '../db/customers';
import { statementLinesOfCustomer } from '../db/invoices';
import { claimOutboundMessage, markOutboundSent, releaseOutboundClaim, settleOutboundClaim } from '../db/outbound-messages';
import type { Sql } from '../db/sql';
import { agingBucket, daysPastDue as calendarDaysPastDue } from '../domain/aging';
import { formatMoney } from '../domain/money';
import { reachableByEmail } from '../domain/contact-reach';
import { escapeHtml, renderEmail, type EmailTemplate, type RenderedEmail, type TemplateValues } from '../domain/templates';
import type { CustomerContact, InvoiceRef } from '../domain/invoice-state';
import type { MessageOutcome, WorkerMetrics } from '../telemetry/metrics';
import { withSpan } from '../telemetry/tracing';

export interface MailDeps {
  sql: Sql;
  mailer: Transporter;
  mailFrom: string;
  senderName: string;
  templates: Record<string, EmailTemplate>;
  /** dunning_messages_total counts each message's outcome here; default not counted. */
  metrics?: Pick<WorkerMetrics, 'messages'>;
}

export interface DunningEmailRequest {
  idempotencyKey: string;
  tenantId: string;
  invoice: InvoiceRef;
  customer: CustomerContact;
  template: string;
  openAmountMinor: number;
  daysPastDue: number;
  /** A person's explanation, for templates that show {{note}}. */
  note?: string;
  /** The cadence step this reminder is, recorded in the outbox; absent for a message of no step (an invoice copy, a dispute's rejection). */
  stepId?: string;
}

export interface CustomerMessageItem {
  requestId: string;
  invoice: InvoiceRef;
  stepId: string;
  kind: 'email' | 'statement';
  template: string;
  openAmountMinor: number;
  daysPastDue: number;
}

export interface CustomerMessageRequest {
  idempotencyKey: string;
  tenantId: string;
  customer: CustomerContact;
  items: CustomerMessageItem[];
}

/** do_not_contact: nothing was sent, every contact on record refuses contact or has no email address. */
export type SendStatus = 'sent' | 'already_sent' | 'uncertain' | 'do_not_contact';
/** What became of a send; `sentAt` when this attempt's message was taken by the SMTP server. */
export interface SendResult {
  status: SendStatus;
  messageId: string;
  sentAt?: string;
}

/** To: the primary reachable contact (or the customer's email); Cc: the other reachable contacts. */
interface Recipients {
  to: string;
  cc: string[];
  /** The To contact's name when contacts are on record: the greeting's {{contactName}}. */
  toName?: string;
}

/** The message greets the person it is addressed to. */
const withContactName = (customer: CustomerContact, recipients: Recipients): CustomerContact =>
  recipients.toName ? { ...customer, contactName: recipients.toName } : customer;

/** The SMTP commands that are about the message (nodemailer's `command` of an error): a 5xx reply to one of them rejects the message. */
const MESSAGE_COMMANDS = new Set(['MAIL FROM', 'RCPT TO', 'DATA']);

interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
}

/** A deterministic Message-ID lets mail systems (and our tests) recognise the same reminder. */
export function messageIdFor(idempotencyKey: string): string {
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@dunning-orchestrator>`;
}

const PAY_WITHIN_DAYS = 7;

export type SmtpErrorKind = 'connection' | 'timeout' | 'rejected' | 'other';

/** How an SMTP send failed, for dunning_smtp_errors_total{kind} (nodemailer's error codes and the server's reply). */
export function smtpErrorKind(err: unknown): SmtpErrorKind {
  const e = err as SmtpError;
  if (e.code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) return 'timeout';
  if (e.responseCode && e.responseCode >= 400) return 'rejected';
  if (e.code === 'EENVELOPE' || e.code === 'EMESSAGE') return 'rejected';
  if (e.code === 'ECONNECTION' || e.code === 'ESOCKET' || e.code === 'EDNS' || e.code === 'ECONNREFUSED' || e.code === 'ECONNRESET' || e.code === 'ETLS') return 'connection';
  return 'other';
}

/**
 * The transport with its sendMail measured (dunning_smtp_send_duration_seconds{outcome: ok | error},
 * dunning_smtp_errors_total{kind}) and traced: a span `smtp.send` with the message id and the number of
 * recipients; never an address, a subject or a body.
 * The same object is returned (close(), verify() and the pool stay the transport's own).
 */
export function instrumentMailer<T extends Transporter>(mailer: T, metrics: Pick<WorkerMetrics, 'smtpSendDuration' | 'smtpErrors'>): T {
  const send = mailer.sendMail.bind(mailer) as (mail: Parameters<Transporter['sendMail']>[0]) => Promise<unknown>;
  const instrumented = (mail: Parameters<Transporter['sendMail']>[0]): Promise<unknown> => {
    const count = (list: unknown) => (Array.isArray(list) ? list.length : list ? 1 : 0);
    const attributes = {
      'smtp.message_id': typeof mail.messageId === 'string' ? mail.messageId : '',
      'smtp.recipients': count(mail.to) + count(mail.cc) + count(mail.bcc),
    };
    return withSpan('smtp.send', attributes, async () => {
      const began = process.hrtime.bigint();
      const seconds = () => Number(process.hrtime.bigint() - began) / 1e9;
      try {
        const info = await send(mail);
        metrics.smtpSendDuration.observe({ outcome: 'ok' }, seconds());
        return info;
      } catch (err) {
        metrics.smtpSendDuration.observe({ outcome: 'error' }, seconds());
        metrics.smtpErrors.inc({ kind: smtpErrorKind(err) });
        throw err;
      }
    });
  };
  // Callers here use the promise form; the callback form is passed through unmeasured.
  mailer.sendMail = ((mail: Parameters<Transporter['sendMail']>[0], callback?: unknown) =>
    callback ? (send as (m: unknown, c: unknown) => unknown)(mail, callback) : instrumented(mail)) as T['sendMail'];
  return mailer;
}

/**
 * Customer-facing mail, at most once per idempotency key. The outbox row is committed as 'sending'
 * before the SMTP transaction: if a retry finds it still 'sending', the previous attempt died
 * mid-send and nobody can know whether the mail left, so it is marked 'uncertain' and not sent again.
 */
export function createMailActivities(deps: MailDeps) {
  const template = (id: string) => {
    const found = deps.templates[id];
    if (!found) throw ApplicationFailure.nonRetryable(`unknown email template "${id}"`, 'UnknownTemplate');
    return found;
  };
  /** Each message's outcome, counted once, where this activity decides it. */
  const counted = <S extends SendStatus>(status: S): S => {
    const outcome: MessageOutcome = status === 'do_not_contact' ? 'suppressed' : status;
    deps.metrics?.messages.inc({ channel: 'email', outcome });
    return status;
  };
  const money = (amountMinor: number, currency: string, locale: string) => formatMoney({ amountMinor, currency }, locale);
  const date = (iso: string, locale: string) => DateTime.fromISO(iso).setLocale(locale).toLocaleString(DateTime.DATE_MED);

  function baseValues(customer: CustomerContact): Omit<TemplateValues, 'invoiceNumber' | 'amountDue' | 'originalAmount' | 'dueDate' | 'daysPastDue' | 'invoiceCount' | 'totalDue' | 'invoiceList'> {
    const today = DateTime.now().setZone(customer.timeZone);
    return {
      customerName: customer.name,
      contactName: customer.contactName ?? customer.name,
      payByDate: today.plus({ days: PAY_WITHIN_DAYS }).setLocale(customer.locale).toLocaleString(DateTime.DATE_MED),
      senderName: deps.senderName,
      collectorName: customer.collectorId ?? deps.senderName,
      collectorSignature: customer.collectorId ? `${customer.collectorId}, ${deps.senderName}` : deps.senderName,
      note: '',
    };
  }

  /** One invoice per line (text) and one table (HTML), with totals per currency. */
  function invoiceValues(customer: CustomerContact, rows: { number: string; dueDate: string; openAmountMinor: number; currency: string; daysPastDue: number }[]) {
    const { locale } = customer;
    const totals = new Map<string, number>();
    for (const r of rows) totals.set(r.currency, (totals.get(r.currency) ?? 0) + r.openAmountMinor);
    const totalDue = [...totals].map(([currency, sum]) => money(sum, currency, locale)).join(' + ');
    const lines = rows.map((r) => ({
      number: r.number,
      due: date(r.dueDate, locale),
      open: money(r.openAmountMinor, r.currency, locale),
      late: r.daysPastDue > 0 ? `${r.daysPastDue} days past due (${agingBucket(r.daysPastDue)})` : 'not yet due',
    }));
    const text = lines.map((l) => `- ${l.number}, due ${l.due}: ${l.open}, ${l.late}`).join('\n');
    const html =
      '<table><thead><tr><th>Invoice</th><th>Due</th><th>Open</th><th>Status</th></tr></thead><tbody>' +
      lines.map((l) => `<tr><td>${escapeHtml(l.number)}</td><td>${escapeHtml(l.due)}</td><td>${escapeHtml(l.open)}</td><td>${escapeHtml(l.late)}</td></tr>`).join('') +
      '</tbody></table>';
    return { values: { invoiceCount: String(rows.length), totalDue, invoiceList: text }, html: { invoiceList: html } };
  }

  function singleInvoiceValues(customer: CustomerContact, invoice: InvoiceRef, openAmountMinor: number, pastDue: number) {
    return {
      invoiceNumber: invoice.number,
      amountDue: money(openAmountMinor, invoice.currency, customer.locale),
      originalAmount: money(invoice.amountMinor, invoice.currency, customer.locale),
      dueDate: date(invoice.dueDate, customer.locale),
      daysPastDue: String(pastDue),
    };
  }

  /**
   * What became of a key an earlier attempt claimed: 'already_sent', or 'uncertain' (a claim still
   * 'sending' is marked so: that attempt died mid-send). undefined when the key was never claimed.
   */
  async function settleClaimed(key: string): Promise<'already_sent' | 'uncertain' | undefined> {
    const status = await settleOutboundClaim(deps.sql, key);
    return status === undefined ? undefined : status === 'sent' ? 'already_sent' : 'uncertain';
  }

  /**
   * Who a customer-facing message goes to, read before the outbox claim (the key never depends on it):
   * the customer's reachable contacts (not do-not-contact, with an email), the primary first as To and
   * the others as Cc; the customer's own email when no contacts are on record. undefined when contacts
   * are on record and none of them may be written to.
   */
  async function recipientsOf(tenantId: string, customer: CustomerContact): Promise<Recipients | undefined> {
    const rows = await contactReachOfCustomer(deps.sql, tenantId, customer.id);
    if (rows.length === 0) return { to: customer.email, cc: [] };
    const [first, ...others] = reachableByEmail(rows);
    return first ? { to: first.address, cc: others.map((r) => r.address), toName: first.name } : undefined;
  }

  /**
   * No contact may be written to (they became do-not-contact while the message waited for its batch
   * or the cap). A retry of an attempt that already claimed the key answers what became of it;
   * otherwise nothing is sent and the answer says so: the workflows record the step as not sent,
   * they do not fail. The workflow skips such customers through getCustomerFacts first: this is the
   * last safety net.
   */
  async function refuseDoNotContact(key: string): Promise<{ status: SendStatus; messageId: string }> {
    const earlier = await settleClaimed(key);
    return { status: counted(earlier ?? 'do_not_contact'), messageId: messageIdFor(key) };
  }

  /** `stepIds`, aligned with `invoiceNumbers`: which cadence step of each invoice the message carries (the outbox records it). */
  async function sendOnce(args: { idempotencyKey: string; tenantId: string; invoiceNumbers: string[]; stepIds?: string[]; to: string; cc?: string[]; rendered: RenderedEmail }): Promise<SendResult> {
    const { idempotencyKey: key, rendered } = args;
    const messageId = messageIdFor(key);
    const claimed = await claimOutboundMessage(deps.sql, {
      idempotencyKey: key,
      tenantId: args.tenantId,
      invoiceNumbers: args.invoiceNumbers,
      ...(args.stepIds ? { stepIds: args.stepIds } : {}),
      recipient: args.to,
      subject: rendered.subject,
      messageId,
    });
    if (!claimed) return { status: counted((await settleClaimed(key)) ?? 'uncertain'), messageId };
    try {
      await deps.mailer.sendMail({
        from: deps.mailFrom,
        to: args.to,
        ...(args.cc?.length ? { cc: args.cc } : {}),
        subject: rendered.subject,
        text: rendered.text,
        html: rendered.html,
        messageId,
        headers: {
          'X-Dunning-Idempotency-Key': key,
          'X-Invoice-Numbers': args.invoiceNumbers.join(','),
          ...(args.invoiceNumbers.length === 1 ? { 'X-Invoice-Number': args.invoiceNumbers[0]! } : {}),
        },
      });
    } catch (err) {
      const e = err as SmtpError;
      // Without a reply after DATA the server may have accepted the mail: keep the claim (at most once).
      if (e.command === 'DATA' && !e.responseCode) throw err;
      // Otherwise the server never took the message: release the claim so that a retry may send it.
      await releaseOutboundClaim(deps.sql, key);
      // A 5xx answering the message itself (its sender, a recipient, its content) is a rejection: it would be refused
      // again. A 5xx before that (the greeting or EHLO of a server that does not serve now) says nothing of the message: retried.
      if (e.responseCode && e.responseCode >= 500 && MESSAGE_COMMANDS.has(e.command ?? ''))
        throw ApplicationFailure.nonRetryable(`SMTP rejected the message: ${e.message}`, 'SmtpRejected');
      throw err;
    }
    await markOutboundSent(deps.sql, key);
    // When the server took it: the contact cap counts from here (a local activity's workflow time is its task's start).
    return { status: counted('sent'), messageId, sentAt: new Date().toISOString() };
  }

  /** The customer's open invoices as our mirror knows them, for statements: what is asked for, disputed amounts left out. */
  async function openInvoicesOf(tenantId: string, customerId: string, timeZone: string) {
    const today = DateTime.now().setZone(timeZone).toISODate()!;
    const lines = await statementLinesOfCustomer(deps.sql, tenantId, customerId);
    return lines.map((l) => ({ number: l.invoiceNumber, dueDate: l.dueDate, openAmountMinor: l.openAmountMinor, currency: l.currency, daysPastDue: calendarDaysPastDue(l.dueDate, today) }));
  }

  return {
    /** Version 1: one reminder about one invoice (workflows started before consolidation still call it). */
    async sendDunningEmail(req: DunningEmailRequest): Promise<SendResult> {
      const recipients = await recipientsOf(req.tenantId, req.customer);
      if (!recipients) return refuseDoNotContact(req.idempotencyKey);
      const rendered = renderEmail(template(req.template), {
        ...baseValues(withContactName(req.customer, recipients)),
        ...singleInvoiceValues(req.customer, req.invoice, req.openAmountMinor, req.daysPastDue),
        ...invoiceValues(req.customer, []).values,
        ...(req.note ? { note: req.note } : {}),
      });
      return sendOnce({
        idempotencyKey: req.idempotencyKey,
        tenantId: req.tenantId,
        invoiceNumbers: [req.invoice.number],
        ...(req.stepId ? { stepIds: [req.stepId] } : {}),
        to: recipients.to,
        cc: recipients.cc,
        rendered,
      });
    },

    /**
     * One message to the customer for a batch of invoice steps: a statement when any step asks for
     * one, the step's own template for a single reminder, a consolidated reminder listing them all otherwise.
     */
    async sendCustomerMessage(req: CustomerMessageRequest): Promise<SendResult> {
      const { customer, items } = req;
      if (items.length === 0) throw ApplicationFailure.nonRetryable('a customer message needs at least one invoice', 'EmptyMessage');
      const recipients = await recipientsOf(req.tenantId, customer);
      if (!recipients) return refuseDoNotContact(req.idempotencyKey);
      const base = baseValues(withContactName(customer, recipients));
      const statement = items.find((i) => i.kind === 'statement');
      let rendered: RenderedEmail;
      if (statement) {
        const list = invoiceValues(customer, await openInvoicesOf(req.tenantId, customer.id, customer.timeZone));
        rendered = renderEmail(template(statement.template), { ...base, ...singleInvoiceValues(customer, statement.invoice, statement.openAmountMinor, statement.daysPastDue), ...list.values }, list.html);
      } else if (items.length === 1) {
        const [only] = items as [CustomerMessageItem];
        const list = invoiceValues(customer, [{ number: only.invoice.number, dueDate: only.invoice.dueDate, openAmountMinor: only.openAmountMinor, currency: only.invoice.currency, daysPastDue: only.daysPastDue }]);
        rendered = renderEmail(template(only.template), { ...base, ...singleInvoiceValues(customer, only.invoice, only.openAmountMinor, only.daysPastDue), ...list.values }, list.html);
      } else {
        const list = invoiceValues(customer, items.map((i) => ({ number: i.invoice.number, dueDate: i.invoice.dueDate, openAmountMinor: i.openAmountMinor, currency: i.invoice.currency, daysPastDue: i.daysPastDue })));
        const first = items[0]!;
        rendered = renderEmail(template('reminder-digest'), { ...base, ...singleInvoiceValues(customer, first.invoice, first.openAmountMinor, first.daysPastDue), ...list.values }, list.html);
      }
      return sendOnce({
        idempotencyKey: req.idempotencyKey,
        tenantId: req.tenantId,
        invoiceNumbers: items.map((i) => i.invoice.number),
        stepIds: items.map((i) => i.stepId),
        to: recipients.to,
        cc: recipients.cc,
        rendered,
      });
    },
  };
}
