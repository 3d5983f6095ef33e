import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { emailTemplatesSchema, escapeHtml, renderEmail, TEMPLATE_VARIABLES, type EmailTemplate, type TemplateValues } from '../../domain/templates';

const TEMPLATES_PATH = path.resolve(__dirname, '../../config/email-templates.json');

const values: TemplateValues = {
  customerName: 'Müller Maschinenbau GmbH',
  invoiceNumber: 'INV-2025-0042',
  amountDue: '1.234,50 €',
  originalAmount: '2.000,00 €',
  dueDate: '27.03.2025',
  daysPastDue: '15',
  senderName: 'Acme Receivables',
  contactName: 'Frau Schulz',
  payByDate: '03.04.2025',
  collectorName: 'Anna Becker',
  collectorSignature: 'Anna Becker, Acme Receivables',
  invoiceCount: '1',
  totalDue: '1.234,50 €',
  invoiceList: '- INV-2025-0042',
  note: 'The unit price follows the framework contract of 2024.',
};

const template: EmailTemplate = {
  subject: 'Invoice {{invoiceNumber}} for {{customerName}}',
  text: 'Dear {{ customerName }}, {{amountDue}} of {{originalAmount}} was due on {{dueDate}} ({{daysPastDue}} days ago). {{senderName}}',
  html: '<p>Dear {{customerName}},</p><p><strong>{{amountDue}}</strong> of {{originalAmount}}, {{daysPastDue}} days.</p><p>{{senderName}}</p>',
};

function issues(input: unknown) {
  const result = emailTemplatesSchema.safeParse(input);
  if (result.success) throw new Error('expected the templates to be rejected');
  return result.error.issues.map((i) => ({ path: i.path, message: i.message }));
}

describe('emailTemplatesSchema', () => {
  it('accepts known variables, with or without inner spaces', () => {
    expect(emailTemplatesSchema.safeParse({ 'reminder-x': template }).success).toBe(true);
  });

  it('rejects a template naming an unknown variable, naming it and where it is', () => {
    expect(issues({ 'reminder-x': { ...template, subject: 'Hello {{customerNmae}}' } })).toEqual([
      { path: ['reminder-x', 'subject'], message: 'subject names unknown variable {{customerNmae}}' },
    ]);
  });

  it('reports every unknown variable in every part', () => {
    expect(issues({ 'reminder-x': { subject: '{{invoiceNumber}}', text: '{{ iban }}', html: '{{amount}} {{ dueDate }} {{foo_bar}}' } })).toEqual([
      { path: ['reminder-x', 'text'], message: 'text names unknown variable {{iban}}' },
      { path: ['reminder-x', 'html'], message: 'html names unknown variable {{amount}}' },
      { path: ['reminder-x', 'html'], message: 'html names unknown variable {{foo_bar}}' },
    ]);
  });

  it('variable names are case-sensitive and Object.prototype names are not variables', () => {
    expect(issues({ t: { ...template, text: '{{CustomerName}}' } })).toEqual([
      { path: ['t', 'text'], message: 'text names unknown variable {{CustomerName}}' },
    ]);
    expect(issues({ t: { ...template, html: '{{constructor}}{{toString}}' } }).map((i) => i.message)).toEqual([
      'html names unknown variable {{constructor}}',
      'html names unknown variable {{toString}}',
    ]);
  });

  it('rejects empty parts, missing parts and bad template names', () => {
    expect(issues({ t: { ...template, subject: '' } }).map((i) => i.path)).toEqual([['t', 'subject']]);
    expect(issues({ t: { subject: 's', text: 't' } }).map((i) => i.path)).toEqual([['t', 'html']]);
    expect(issues({ Reminder_1: template }).map((i) => i.path)).toEqual([['Reminder_1']]);
  });
});

describe('renderEmail', () => {
  it('fills every variable in every part', () => {
    expect(renderEmail(template, values)).toEqual({
      subject: 'Invoice INV-2025-0042 for Müller Maschinenbau GmbH',
      text: 'Dear Müller Maschinenbau GmbH, 1.234,50 € of 2.000,00 € was due on 27.03.2025 (15 days ago). Acme Receivables',
      html: '<p>Dear Müller Maschinenbau GmbH,</p><p><strong>1.234,50 €</strong> of 2.000,00 €, 15 days.</p><p>Acme Receivables</p>',
    });
  });

  it('fills repeated placeholders and leaves single braces alone', () => {
    const t: EmailTemplate = { subject: '{{invoiceNumber}}/{{invoiceNumber}}', text: '{customerName} {{customerName}}', html: 'x' };
    const out = renderEmail(t, values);
    expect(out.subject).toBe('INV-2025-0042/INV-2025-0042');
    expect(out.text).toBe('{customerName} Müller Maschinenbau GmbH');
  });

  it('HTML-escapes values in the html part only', () => {
    const evil = { ...values, customerName: `<script>alert("x")</script> & 'Co'` };
    const out = renderEmail(template, evil);
    expect(out.html).toBe(
      '<p>Dear &#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;Co&#39;,</p><p><strong>1.234,50 €</strong> of 2.000,00 €, 15 days.</p><p>Acme Receivables</p>',
    );
    expect(out.html).not.toContain('<script>');
    expect(out.text).toBe(
      `Dear <script>alert("x")</script> & 'Co', 1.234,50 € of 2.000,00 € was due on 27.03.2025 (15 days ago). Acme Receivables`,
    );
    expect(out.subject).toBe(`Invoice INV-2025-0042 for <script>alert("x")</script> & 'Co'`);
  });

  it('does not escape the template markup itself', () => {
    expect(renderEmail({ subject: 's', text: 't', html: '<a href="x">{{senderName}}</a> &amp;' }, values).html).toBe(
      '<a href="x">Acme Receivables</a> &amp;',
    );
  });

  it('strips line breaks from values in the subject (header injection), keeps them in the body', () => {
    const evil = { ...values, customerName: 'ACME\r\nBcc: victim@example.com' };
    const out = renderEmail(template, evil);
    expect(out.subject).toBe('Invoice INV-2025-0042 for ACME Bcc: victim@example.com');
    expect(out.subject).not.toMatch(/[\r\n]/);
    expect(out.text).toContain('ACME\r\nBcc: victim@example.com');
  });

  it.each([
    ['A\nB', 'A B'],
    ['A\rB', 'A B'],
    ['A\n\n\r\nB', 'A B'],
    ['\nA\n', ' A '],
  ])('subject value %j becomes %j', (customerName, expected) => {
    const out = renderEmail({ subject: '[{{customerName}}]', text: 't', html: 'h' }, { ...values, customerName });
    expect(out.subject).toBe(`[${expected}]`);
  });

  it('inserts values literally: no $-replacement patterns', () => {
    const out = renderEmail(template, { ...values, customerName: "$& $1 $$ $` $'" });
    expect(out.subject).toBe("Invoice INV-2025-0042 for $& $1 $$ $` $'");
    expect(out.text.startsWith("Dear $& $1 $$ $` $', ")).toBe(true);
    expect(out.html.startsWith('<p>Dear $&#38; $1 $$ $` $&#39;,</p>')).toBe(true);
  });

  it('does not re-expand placeholders that appear inside values', () => {
    const out = renderEmail(template, { ...values, customerName: '{{senderName}}' });
    expect(out.subject).toBe('Invoice INV-2025-0042 for {{senderName}}');
  });
});

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters and nothing else', () => {
    expect(escapeHtml(`&<>"'`)).toBe('&#38;&#60;&#62;&#34;&#39;');
    expect(escapeHtml('Müller € 100 / 3 = 33 `x`')).toBe('Müller € 100 / 3 = 33 `x`');
    expect(escapeHtml('&amp;')).toBe('&#38;amp;');
  });
});

describe('the shipped config/email-templates.json', () => {
  const parsed = emailTemplatesSchema.safeParse(JSON.parse(readFileSync(TEMPLATES_PATH, 'utf8')));

  it('validates', () => {
    expect(parsed.error?.issues).toBeUndefined();
    expect(Object.keys(parsed.data!)).toEqual(['reminder-friendly', 'reminder-firm', 'reminder-final', 'courtesy-pre-due', 'reminder-digest', 'statement', 'invoice-copy', 'promise-courtesy', 'dispute-rejected']);
  });

  it('every template renders with no placeholder left and the invoice number in the subject', () => {
    const hostileName = 'O\'Brien & <Sons>\r\nLtd';
    const hostile = { ...values, customerName: hostileName, contactName: hostileName };
    for (const [name, t] of Object.entries(parsed.data!)) {
      const out = renderEmail(t, hostile);
      for (const part of [out.subject, out.text, out.html]) {
        expect(part, name).not.toContain('{{');
        expect(part, name).not.toContain('}}');
      }
      // Single-invoice messages name the invoice; consolidated ones and statements name the total.
      expect(out.subject, name).toContain(['reminder-digest', 'statement'].includes(name) ? '1.234,50 €' : 'INV-2025-0042');
      expect(out.subject, name).not.toMatch(/[\r\n]/);
      expect(out.text, name).toContain(`Dear O'Brien & <Sons>\r\nLtd,`);
      expect(out.html, name).toContain('<p>Dear O&#39;Brien &#38; &#60;Sons&#62;\r\nLtd,</p>');
      expect(out.text, name).toContain('Acme Receivables');
    }
  });

  it('uses only known variables and every variable is used somewhere', () => {
    const used = new Set(
      Object.values(parsed.data!).flatMap((t) => [...`${t.subject}${t.text}${t.html}`.matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1])),
    );
    expect([...used].sort()).toEqual([...TEMPLATE_VARIABLES].sort());
  });

  it('the firm reminder renders exactly', () => {
    expect(renderEmail(parsed.data!['reminder-firm']!, values)).toEqual({
      subject: 'Second reminder: invoice INV-2025-0042, 1.234,50 € overdue',
      text:
        'Dear Müller Maschinenbau GmbH,\n\nInvoice INV-2025-0042 is now 15 days past due with 1.234,50 € open (original amount 2.000,00 €). ' +
        'Please arrange payment, or tell us if anything prevents it so that we can help resolve it.\n\nKind regards,\nAcme Receivables',
      html:
        '<p>Dear Müller Maschinenbau GmbH,</p><p>Invoice <strong>INV-2025-0042</strong> is now 15 days past due with <strong>1.234,50 €</strong> open ' +
        '(original amount 2.000,00 €). Please arrange payment, or tell us if anything prevents it so that we can help resolve it.</p>' +
        '<p>Kind regards,<br>Acme Receivables</p>',
    });
  });
});
