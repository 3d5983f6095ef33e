import { describe, expect, it } from 'vitest';
import { documentTextIssues, multiLineText, neutraliseText, singleLineText, textProblem } from '../../domain/text';
import { emailTemplateSchema, renderEmail, TEMPLATE_VARIABLES, type TemplateValues } from '../../domain/templates';

/** What text is acceptable (issue 10 #10): domain/text.ts and its use in email templates. */

describe('textProblem', () => {
  it.each([
    ['\u202E', 'U+202E'],
    ['\u202A', 'U+202A'],
    ['\u2066', 'U+2066'],
    ['\u2069', 'U+2069'],
    ['\u0000', 'U+0000'],
    ['\u001B', 'U+001B'],
    ['\u007F', 'U+007F'],
    ['\u0085', 'U+0085'],
    ['\u009F', 'U+009F'],
    ['\r', 'U+000D'],
    ['\uD800', 'U+D800'],
  ])('refuses %j in any text, naming %s and where', (c, name) => {
    expect(textProblem(`ab${c}cd`, { multiLine: true })).toContain(`${name}`);
    expect(textProblem(`ab${c}cd`, { multiLine: true })).toContain('at character 3');
    expect(textProblem(`ab${c}cd`, { multiLine: false })).toContain(name);
  });

  it('takes line feeds and tabs in multi-line text only', () => {
    expect(textProblem('a\nb\tc', { multiLine: true })).toBeUndefined();
    expect(textProblem('a\nb', { multiLine: false })).toMatch(/U\+000A/);
    expect(textProblem('a\tb', { multiLine: false })).toMatch(/U\+0009/);
  });

  it('takes every script, the left-to-right and right-to-left marks and emoji', () => {
    for (const text of ['Müller & Söhne', 'شركة الأمل\u200F', 'חברה בע"מ', '株式会社テスト', 'Zoë 👋', 'a\u200Eb']) expect(textProblem(text, { multiLine: false })).toBeUndefined();
  });
});

describe('singleLineText and multiLineText', () => {
  it('trim and NFC-normalise what they take', () => {
    expect(singleLineText(50).parse('  Cafe\u0301  ')).toBe('Caf\u00e9');
    expect(multiLineText(50).parse(' a\r\nb\t ')).toBe('a\nb');
  });

  it('count the length after normalising and refuse blank text unless min is 0', () => {
    expect(singleLineText(4).safeParse('Cafe\u0301').success).toBe(true); // 5 code units typed, 4 stored
    expect(singleLineText(10).safeParse('   ').success).toBe(false);
    expect(multiLineText(10, { min: 0 }).parse('   ')).toBe('');
  });
});

describe('documentTextIssues', () => {
  it('names every string and key of a document that breaks the rules, by path', () => {
    expect(documentTextIssues({ name: 'ok', steps: [{ note: 'x\u202Ey' }], ['k\u0007']: 1 }, ['body'])).toEqual([
      { path: ['body', 'steps', 0, 'note'], message: expect.stringContaining('U+202E') },
      { path: ['body', 'k\u0007'], message: expect.stringContaining('key must not contain U+0007') },
    ]);
  });
});

describe('email templates', () => {
  const template = { subject: 'Invoice {{invoiceNumber}}', text: 'Dear {{customerName}},\n\tplease pay.', html: '<p>Dear {{customerName}}</p>' };

  it('refuse a subject with a line break or a bidirectional override, and a body with a control character', () => {
    expect(emailTemplateSchema.safeParse(template).success).toBe(true);
    expect(emailTemplateSchema.safeParse({ ...template, subject: 'Invoice\n{{invoiceNumber}}' }).error?.issues[0]?.message).toMatch(/subject must not contain U\+000A/);
    expect(emailTemplateSchema.safeParse({ ...template, subject: 'Invoice \u202E{{invoiceNumber}}' }).error?.issues[0]?.message).toMatch(/U\+202E/);
    expect(emailTemplateSchema.safeParse({ ...template, text: 'Dear\u0007' }).error?.issues[0]?.message).toMatch(/text must not contain U\+0007/);
  });

  it('render a name stored before the rules without its controls or overrides', () => {
    const values = Object.fromEntries(TEMPLATE_VARIABLES.map((v) => [v, ''])) as TemplateValues;
    const out = renderEmail(template, { ...values, invoiceNumber: 'INV-1', customerName: 'Acme \u202Efdp.exe\u0007 GmbH' });
    for (const part of [out.subject, out.text, out.html]) expect(part).not.toMatch(/[\u202E\u0007]/);
    expect(out.text).toContain('Dear Acme fdp.exe GmbH,');
    expect(neutraliseText('a\r\nb\u0085')).toBe('a\r\nb');
  });
});
