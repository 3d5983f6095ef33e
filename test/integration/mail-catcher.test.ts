import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMailCatcher, type CaughtMessage, type MailCatcher } from '../../dev/mail-catcher';

let catcher: MailCatcher;

beforeAll(async () => {
  catcher = await startMailCatcher({ smtpPort: 0, httpPort: 0 });
});

afterAll(async () => {
  await catcher?.close();
});

beforeEach(() => catcher.clear());

// The same URL form the worker reads from SMTP_URL.
const mailer = () => createTransport(`smtp://127.0.0.1:${catcher.smtpPort}`);

const reminder = (subject: string) => ({
  from: 'Accounts Receivable <ar@example.com>',
  to: 'Ana Payables <ap@customer.example>',
  bcc: 'collector@example.com',
  subject,
  text: 'Invoice INV-1001 for EUR 1,250.00 was due on 14 February 2025.',
  html: '<p>Invoice <b>INV-1001</b> for EUR 1,250.00 was due on 14 February 2025.</p>',
  headers: { 'X-Dunning-Step': 'wf-inv-1001/reminder-1' },
});

describe('mail catcher', () => {
  it('catches a real nodemailer message with text, html, envelope and headers', async () => {
    const waiting = catcher.waitFor((m) => m.subject === 'Payment reminder: INV-1001');
    const info = await mailer().sendMail(reminder('Payment reminder: INV-1001'));
    const message = await waiting;

    expect(message).toMatchObject({
      envelopeFrom: 'ar@example.com',
      envelopeTo: ['ap@customer.example', 'collector@example.com'],
      from: '"Accounts Receivable" <ar@example.com>',
      to: '"Ana Payables" <ap@customer.example>',
      text: 'Invoice INV-1001 for EUR 1,250.00 was due on 14 February 2025.',
      html: '<p>Invoice <b>INV-1001</b> for EUR 1,250.00 was due on 14 February 2025.</p>',
      messageId: info.messageId,
    });
    expect(message.headers['x-dunning-step']).toBe('wf-inv-1001/reminder-1');
    expect(message.headers.bcc).toBeUndefined(); // Bcc travels only in the envelope
    expect(catcher.messages()).toEqual([message]);
  });

  it('serves messages over HTTP, newest first, and clears them', async () => {
    const transport = mailer();
    await transport.sendMail(reminder('First'));
    await transport.sendMail(reminder('Second'));
    await catcher.waitFor((m) => m.subject === 'Second');

    const list = (await (await fetch(`${catcher.httpUrl}/messages`)).json()) as CaughtMessage[];
    expect(list.map((m) => m.subject)).toEqual(['Second', 'First']);

    const one = await fetch(`${catcher.httpUrl}/messages/${list[1]!.id}`);
    expect(await one.json()).toEqual(list[1]);
    expect((await fetch(`${catcher.httpUrl}/messages/no-such-id`)).status).toBe(404);

    expect((await fetch(`${catcher.httpUrl}/messages`, { method: 'DELETE' })).status).toBe(204);
    expect(await (await fetch(`${catcher.httpUrl}/messages`)).json()).toEqual([]);
    expect(catcher.messages()).toEqual([]);
  });

  it('fails waitFor with a clear message when nothing matches in time', async () => {
    await expect(catcher.waitFor((m) => m.subject === 'never sent', 100)).rejects.toThrow(
      'No matching message within 100 ms (0 caught)',
    );
  });
});
