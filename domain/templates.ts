import { z } from 'zod';
import { neutraliseText, textProblem } from './text';

/**
 * Email templates with {{variable}} placeholders. Values are HTML-escaped in the HTML part; a
 * template that names an unknown variable is rejected when loaded, never discovered when sending.
 */
export const TEMPLATE_VARIABLES = [
  'customerName',
  'contactName',
  'invoiceNumber',
  'amountDue',
  'originalAmount',
  'dueDate',
  'daysPastDue',
  'payByDate',
  'senderName',
  'collectorName',
  'collectorSignature',
  /** Messages about several invoices (consolidated reminders, statements). */
  'invoiceCount',
  'totalDue',
  'invoiceList',
  /** A person's words for the customer: why a dispute was found invalid. Empty elsewhere. */
  'note',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
export type TemplateValues = Record<TemplateVariable, string>;

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_]+)\s*\}\}/g;

function unknownVariables(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!).filter((v) => !(TEMPLATE_VARIABLES as readonly string[]).includes(v));
}

/** A template's text: known variables only, and the text rules of every other text (domain/text.ts; the subject is one line). */
const templateText = (label: string, multiLine: boolean) =>
  z.string().min(1).superRefine((text, ctx) => {
    for (const name of unknownVariables(text)) ctx.addIssue({ code: 'custom', message: `${label} names unknown variable {{${name}}}` });
    const problem = textProblem(text, { multiLine });
    if (problem) ctx.addIssue({ code: 'custom', message: `${label} ${problem}` });
  });

export const emailTemplateSchema = z.object({
  subject: templateText('subject', false),
  text: templateText('text', true),
  html: templateText('html', true),
});
export const emailTemplatesSchema = z.record(z.string().regex(/^[a-z0-9-]+$/), emailTemplateSchema);

export type EmailTemplate = z.infer<typeof emailTemplateSchema>;
export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function fill(text: string, values: TemplateValues, escape: (v: string) => string): string {
  return text.replace(PLACEHOLDER, (_, name: string) => escape(values[name as TemplateVariable]));
}

/**
 * `htmlValues` are trusted HTML fragments for the HTML part (a table of invoices built with
 * escapeHtml); every other value is escaped there.
 */
export function renderEmail(template: EmailTemplate, storedValues: TemplateValues, storedHtmlValues: Partial<TemplateValues> = {}): RenderedEmail {
  // Text stored before the text rules (domain/text.ts) may hold control characters or bidirectional overrides: none reaches a customer.
  const values = mapValues(storedValues, (v) => neutraliseText(v));
  const htmlValues: Partial<TemplateValues> = Object.fromEntries(Object.entries(storedHtmlValues).map(([k, v]) => [k, neutraliseText(v ?? '')]));
  // Header injection: a subject never carries line breaks, whatever the customer's name contains.
  const oneLine = (v: string) => v.replace(/[\r\n]+/g, ' ');
  return {
    subject: fill(template.subject, values, oneLine),
    text: fill(template.text, values, (v) => v),
    html: fill(template.html, { ...values, ...mapValues(values, escapeHtml), ...htmlValues }, (v) => v),
  };
}

function mapValues(values: TemplateValues, f: (v: string) => string): TemplateValues {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, f(v)])) as TemplateValues;
}

/** One problem with a cadence definition, by its dotted path (the API's validation issue shape). */
export interface ValidationIssue {
  path: string;
  code: string;
  message: string;
}

/**
 * Every email and statement step, and the promise courtesy reminder, must name a template that exists.
 * Works on unchecked input too, so that POST /cadences/validate reports these problems together with the schema's.
 */
export function unknownTemplateIssues(definition: unknown, templates: Record<string, EmailTemplate>, at: readonly string[]): ValidationIssue[] {
  const issue = (template: unknown, path: readonly (string | number)[]): ValidationIssue[] =>
    typeof template !== 'string' || template === '' || Object.hasOwn(templates, template)
      ? []
      : [{ path: [...at, ...path].join('.'), code: 'unknown_template', message: `unknown template "${template}"` }];
  const steps = (definition as { steps?: unknown } | null)?.steps;
  const stepIssues = !Array.isArray(steps)
    ? []
    : steps.flatMap((step: unknown, i) => {
        const action = (step as { action?: { type?: unknown; template?: unknown } } | null)?.action;
        if (action?.type !== 'email' && action?.type !== 'statement') return [];
        const template = action.template ?? (action.type === 'statement' ? 'statement' : undefined); // the schema's default
        return issue(template, ['steps', i, 'action', 'template']);
      });
  const courtesy = (definition as { collection?: { promise?: { courtesyReminder?: { template?: unknown } | null } | null } | null } | null)?.collection?.promise?.courtesyReminder;
  return [...stepIssues, ...issue(courtesy?.template, ['collection', 'promise', 'courtesyReminder', 'template'])];
}

