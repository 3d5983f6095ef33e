import { createHash } from 'node:crypto';
import { ApplicationFailure } from '@temporalio/activity';
import { DateTime } from 'luxon';
import type { Transporter } from 'nodemailer';
import type { Sql } from '../db/sql';
import { formatMoney } from '../domain/money';
import { renderEmail, type EmailTemplate } from '../domain/templates';
import type { CustomerContact, InvoiceRef } from '../workflows/messages';

export interface MailDeps {
  sql: Sql;
  mailer: Transporter;
  mailFrom: string;
  senderName: string;
  templates: Record<string, EmailTemplate>;
}

export interface DunningEmailRequest {
  idempotencyKey: string;
  tenantId: string;
  invoice: InvoiceRef;
  customer: CustomerContact;
  template: string;
  openAmountMinor: number;
  daysPastDue: number;
}

export type SendStatus = 'sent' | 'already_sent' | 'uncertain';

interface SmtpError extends Error {
  code?: string;
  command?: string;
  responseCode?: number;
}

/** A deterministic Message-ID lets mail systems (and our tests) recognise the same reminder. */
export function messageIdFor(idempotencyKey: string): string {
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@dunning-orchestrator>`;
}

/**
 * Sends one reminder at most once per idempotency key. The outbox row is committed as 'sending'
 * before the SMTP transaction: if a retry finds it still 'sending', the previous attempt died
 * mid-send and nobody can know whether the mail left, so it is marked 'uncertain' and not sent again.
 */
export function createMailActivities(deps: MailDeps) {
  return {
    async sendDunningEmail(req: DunningEmailRequest): Promise<{ status: SendStatus; messageId: string }> {
      const template = deps.templates[req.template];
      if (!template) throw ApplicationFailure.nonRetryable(`unknown email template "${req.template}"`, 'UnknownTemplate');
      const { invoice, customer } = req;
      const rendered = renderEmail(template, {
        customerName: customer.name,
        invoiceNumber: invoice.number,
        amountDue: formatMoney({ amountMinor: req.openAmountMinor, currency: invoice.currency }, customer.locale),
        originalAmount: formatMoney({ amountMinor: invoice.amountMinor, currency: invoice.currency }, customer.locale),
        dueDate: DateTime.fromISO(invoice.dueDate).setLocale(customer.locale).toLocaleString(DateTime.DATE_MED),
        daysPastDue: String(req.daysPastDue),
        senderName: deps.senderName,
      });
      const messageId = messageIdFor(req.idempotencyKey);

      const claimed = await deps.sql`
        insert into outbound_messages (idempotency_key, tenant_id, invoice_number, channel, recipient, subject, status, message_id)
        values (${req.idempotencyKey}, ${req.tenantId}, ${invoice.number}, 'email', ${customer.email}, ${rendered.subject}, 'sending', ${messageId})
        on conflict (idempotency_key) do nothing
        returning idempotency_key`;
      if (claimed.length === 0) {
        const [row] = await deps.sql<{ status: string }[]>`
          update outbound_messages set status = case when status = 'sending' then 'uncertain' else status end
          where idempotency_key = ${req.idempotencyKey} returning status`;
        return { status: row?.status === 'sent' ? 'already_sent' : 'uncertain', messageId };
      }

      try {
        await deps.mailer.sendMail({
          from: deps.mailFrom,
          to: customer.email,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId,
          headers: { 'X-Dunning-Idempotency-Key': req.idempotencyKey, 'X-Invoice-Number': invoice.number },
        });
      } catch (err) {
        const e = err as SmtpError;
        // Without a reply after DATA the server may have accepted the mail: keep the claim (at most once).
        if (e.command === 'DATA' && !e.responseCode) throw err;
        // Otherwise the server never took the message: release the claim so that a retry may send it.
        await deps.sql`delete from outbound_messages where idempotency_key = ${req.idempotencyKey} and status = 'sending'`;
        if (e.responseCode && e.responseCode >= 500) throw ApplicationFailure.nonRetryable(`SMTP rejected the reminder: ${e.message}`, 'SmtpRejected');
        throw err;
      }
      await deps.sql`update outbound_messages set status = 'sent', sent_at = now() where idempotency_key = ${req.idempotencyKey}`;
      return { status: 'sent', messageId };
    },
  };
}
