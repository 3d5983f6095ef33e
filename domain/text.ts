import { z } from 'zod';

/**
 * What text people may give us: names (customers, contacts, users, who made a promise, labels), notes,
 * reasons and email templates, which end up in emails, the worklist and the audit trail.
 *
 * Refused, with the character and its position named:
 * - control characters: C0 (U+0000-U+001F) and DEL (U+007F), C1 (U+0080-U+009F); multi-line text (notes,
 *   reasons, template bodies) may hold line feeds and tabs, and a CR LF is taken as a line feed;
 * - bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): "Acme \u202Egnp.exe"
 *   shows as another text than it is, in a mail client as in the worklist;
 * - lone surrogates (text that is not Unicode at all).
 * Accepted text is trimmed and NFC-normalised (an "é" typed as e + U+0301 is stored as U+00E9), so that the
 * same name is the same string. Everything else of Unicode is welcome: letters of every script, the
 * left-to-right and right-to-left marks (U+200E, U+200F), emoji.
 *
 * Text stored before these rules is neutralised when it goes into an email (neutraliseText).
 */

const C0_SINGLE = '\\u0000-\\u001F';
const C0_MULTI = '\\u0000-\\u0008\\u000B-\\u001F'; // keeps \t (U+0009) and \n (U+000A)
const OTHER_CONTROLS = '\\u007F-\\u009F';
const BIDI_CONTROLS = '\\u202A-\\u202E\\u2066-\\u2069';
const LONE_SURROGATE = '[\\uD800-\\uDBFF](?![\\uDC00-\\uDFFF])|(?<![\\uD800-\\uDBFF])[\\uDC00-\\uDFFF]';

// Without the u flag, so that a lone surrogate is a code unit the pattern can see.
const forbidden = (multiLine: boolean) => new RegExp(`[${multiLine ? C0_MULTI : C0_SINGLE}${OTHER_CONTROLS}${BIDI_CONTROLS}]|${LONE_SURROGATE}`);
const FORBIDDEN_SINGLE = forbidden(false);
const FORBIDDEN_MULTI = forbidden(true);
const FORBIDDEN_SINGLE_ALL = new RegExp(FORBIDDEN_SINGLE.source, 'g');
/** What neutralising removes from multi-line text: as refused, but a CR stays (line breaks are harmless in a mail body). */
const NEUTRALISED_MULTI_ALL = new RegExp(`[\\u0000-\\u0008\\u000B\\u000C\\u000E-\\u001F${OTHER_CONTROLS}${BIDI_CONTROLS}]|${LONE_SURROGATE}`, 'g');

const codePoint = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;
function kindOf(c: string): string {
  const code = c.charCodeAt(0);
  if (code >= 0xd800 && code <= 0xdfff) return 'a lone surrogate';
  if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) return 'a bidirectional control character';
  if (code === 0x0a || code === 0x09 || code === 0x0d) return 'a line break or tab, which this single-line text may not hold';
  return 'a control character';
}

export interface TextRules {
  /** Line feeds and tabs allowed (notes, reasons, template bodies). */
  multiLine: boolean;
}

/** Why `text` is not acceptable, or undefined: the first forbidden character, what it is and where (1-based). */
export function textProblem(text: string, rules: TextRules): string | undefined {
  const match = (rules.multiLine ? FORBIDDEN_MULTI : FORBIDDEN_SINGLE).exec(text);
  if (!match) return undefined;
  return `must not contain ${codePoint(match[0])} (${kindOf(match[0])}) at character ${match.index + 1}`;
}

/** The text with CR LF as LF (multi-line), trimmed and NFC-normalised: what is stored. */
export function normaliseText(text: string, rules: TextRules): string {
  return (rules.multiLine ? text.replace(/\r\n/g, '\n') : text).trim().normalize('NFC');
}

/**
 * For text stored before these rules, on its way into an email: forbidden characters removed (line breaks
 * and tabs kept where multi-line), NFC-normalised. Never throws.
 */
export function neutraliseText(text: string, rules: TextRules = { multiLine: true }): string {
  return text.replace(rules.multiLine ? NEUTRALISED_MULTI_ALL : FORBIDDEN_SINGLE_ALL, '').normalize('NFC');
}

/**
 * A zod schema for text people give: normalised (normaliseText), then length-checked and refused when it
 * holds a forbidden character. `.overwrite` keeps it usable in response schemas (it encodes as well).
 */
export function textSchema(opts: { max: number; min?: number; multiLine?: boolean }) {
  const rules: TextRules = { multiLine: opts.multiLine ?? false };
  return z
    .string()
    .overwrite((text) => normaliseText(text, rules))
    .min(opts.min ?? 1)
    .max(opts.max)
    .superRefine((text, ctx) => {
      const problem = textProblem(text, rules);
      if (problem) ctx.addIssue({ code: 'custom', message: problem, input: text });
    });
}

/** A name or a label: one line. Empty after trimming is refused unless `min: 0`. */
export const singleLineText = (max: number, opts: { min?: number } = {}) => textSchema({ max, min: opts.min ?? 1, multiLine: false });
/** A note, a reason, a template body: line feeds and tabs allowed. */
export const multiLineText = (max: number, opts: { min?: number } = {}) => textSchema({ max, min: opts.min ?? 1, multiLine: true });

/**
 * Every string in a free-form document (a cadence definition, a matrix) that holds a forbidden character,
 * as { path, message }: such documents are validated by their own schemas, and this is the text rule over
 * all their strings at once (line feeds and tabs allowed; ids have stricter rules of their own).
 */
export function documentTextIssues(value: unknown, at: readonly (string | number)[] = []): { path: (string | number)[]; message: string }[] {
  const issues: { path: (string | number)[]; message: string }[] = [];
  const stack: { value: unknown; path: (string | number)[] }[] = [{ value, path: [...at] }];
  while (stack.length > 0 && issues.length < 50) {
    const { value: v, path } = stack.pop()!;
    if (typeof v === 'string') {
      const problem = textProblem(v, { multiLine: true });
      if (problem) issues.push({ path, message: problem });
    } else if (Array.isArray(v)) {
      v.forEach((item, i) => stack.push({ value: item, path: [...path, i] }));
    } else if (typeof v === 'object' && v !== null) {
      for (const [key, item] of Object.entries(v)) {
        const problem = textProblem(key, { multiLine: false });
        if (problem) issues.push({ path: [...path, key], message: `key ${problem}` });
        else stack.push({ value: item, path: [...path, key] });
      }
    }
  }
  return issues.reverse();
}
