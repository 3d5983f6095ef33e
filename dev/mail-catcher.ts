import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { z } from 'zod';

/**
 * A real SMTP peer for development and tests: the mail activities send through nodemailer exactly
 * as in production, and what arrived can be read back, in process or over HTTP.
 */
export interface CaughtMessage {
  id: string;
  receivedAt: string;
  /** SMTP envelope: where the message was really sent, which Bcc and bounces make differ from the headers. */
  envelopeFrom: string;
  envelopeTo: string[];
  from: string;
  to: string;
  subject: string;
  text: string | null;
  html: string | null;
  messageId: string | null;
  /** Lower-case names; a repeated header (Received) has its values joined with ", ". */
  headers: Record<string, string>;
}

export interface MailCatcherOptions {
  /** 0 or absent: an ephemeral port. */
  smtpPort?: number;
  /** When set (0 allowed), messages are also served over HTTP. */
  httpPort?: number;
  host?: string;
}

export interface MailCatcher {
  smtpPort: number;
  httpUrl?: string;
  messages(): CaughtMessage[];
  /** Resolves with the first caught message (past or future) that matches. */
  waitFor(predicate: (message: CaughtMessage) => boolean, timeoutMs?: number): Promise<CaughtMessage>;
  clear(): void;
  close(): Promise<void>;
}

interface Waiter {
  predicate: (message: CaughtMessage) => boolean;
  resolve: (message: CaughtMessage) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export async function startMailCatcher({ smtpPort = 0, httpPort, host = '127.0.0.1' }: MailCatcherOptions = {}): Promise<MailCatcher> {
  const caught: CaughtMessage[] = [];
  const waiters = new Set<Waiter>();

  function settle(waiter: Waiter): void {
    clearTimeout(waiter.timer);
    waiters.delete(waiter);
  }

  function keep(message: CaughtMessage): void {
    caught.push(message);
    for (const waiter of waiters) {
      if (waiter.predicate(message)) {
        settle(waiter);
        waiter.resolve(message);
      }
    }
  }

  const smtp = new SMTPServer({
    // Plain SMTP on loopback: with STARTTLS not offered, nodemailer sends in clear without extra options.
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    // A pooled client may keep its connection open; do not let it hold close() for the default 30 s.
    closeTimeout: 1_000,
    onData(stream, session, callback) {
      simpleParser(stream).then(
        (mail) => {
          keep(toCaughtMessage(mail, session));
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.once('error', reject);
    smtp.listen(smtpPort, host, resolve);
  });
  // From now on 'error' only reports a client dropping its connection, which must not crash the catcher.
  smtp.on('error', () => undefined);

  let http: FastifyInstance | undefined;
  const catcher: MailCatcher = {
    smtpPort: (smtp.server.address() as AddressInfo).port,
    messages: () => [...caught],
    waitFor(predicate, timeoutMs = 5_000) {
      const found = caught.find(predicate);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const waiter: Waiter = {
          predicate,
          resolve,
          reject,
          timer: setTimeout(() => {
            settle(waiter);
            reject(new Error(`No matching message within ${timeoutMs} ms (${caught.length} caught)`));
          }, timeoutMs),
        };
        waiters.add(waiter);
      });
    },
    clear() {
      caught.length = 0;
    },
    async close() {
      for (const waiter of waiters) {
        settle(waiter);
        waiter.reject(new Error('Mail catcher closed'));
      }
      await Promise.all([new Promise<void>((resolve) => smtp.close(resolve)), http?.close()]);
    },
  };

  if (httpPort !== undefined) {
    http = Fastify();
    http.get('/messages', async () => catcher.messages().reverse());
    http.get<{ Params: { id: string } }>('/messages/:id', async (req, reply) => {
      return caught.find((m) => m.id === req.params.id) ?? reply.code(404).send({ error: 'not_found' });
    });
    http.delete('/messages', async (_req, reply) => {
      catcher.clear();
      return reply.code(204).send();
    });
    catcher.httpUrl = await http.listen({ port: httpPort, host });
  }
  return catcher;
}

function toCaughtMessage(mail: ParsedMail, session: SMTPServerSession): CaughtMessage {
  const { mailFrom, rcptTo } = session.envelope;
  return {
    id: randomUUID(),
    receivedAt: new Date().toISOString(),
    envelopeFrom: mailFrom ? mailFrom.address : '',
    envelopeTo: rcptTo.map((r) => r.address),
    from: mail.from?.text ?? '',
    to: addressText(mail.to),
    subject: mail.subject ?? '',
    text: mail.text ?? null,
    html: mail.html || null,
    messageId: mail.messageId ?? null,
    headers: headerRecord(mail),
  };
}

function addressText(addresses: AddressObject | AddressObject[] | undefined): string {
  return [addresses ?? []].flat().map((a) => a.text).join(', ');
}

function headerRecord(mail: ParsedMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of mail.headerLines) {
    const value = line.slice(line.indexOf(':') + 1).replace(/\r?\n[ \t]+/g, ' ').trim();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  return headers;
}

if (require.main === module) {
  const env = z
    .object({
      HOST: z.string().min(1).default('127.0.0.1'),
      SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(1025),
      HTTP_PORT: z.coerce.number().int().min(0).max(65535).default(8025),
    })
    .parse(process.env);
  startMailCatcher({ host: env.HOST, smtpPort: env.SMTP_PORT, httpPort: env.HTTP_PORT }).then(
    (catcher) => {
      process.stdout.write(`Mail catcher: SMTP on ${env.HOST}:${catcher.smtpPort}, messages at ${catcher.httpUrl}/messages\n`);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void catcher.close());
    },
    (err: unknown) => {
      process.stderr.write(`Mail catcher failed to start: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
