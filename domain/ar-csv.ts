/**
 * Parser for the IBM "Accounts Receivable" sample CSV (see shared/data/README.md) and for ERP
 * exports of the same shape.
 *
 * Pure: takes the file's text, returns records and line-numbered errors. A bad row is reported
 * and skipped, it never throws.
 *
 * The CSV split is hand-written on purpose: the format has a fixed 12-column header, no quoted
 * fields and no embedded commas (verified on the real file: 0 double quotes in 2,467 lines, every
 * line has exactly 12 fields). A field containing a double quote is reported as an error rather
 * than mis-split, so if an export ever starts quoting, it fails loudly and a real CSV library
 * (e.g. csv-parse) can be brought in then.
 *
 * Facts about the real file that this parser accommodates:
 * - line endings are CRLF and the file ends with a newline;
 * - `InvoiceAmount` has 0, 1 or 2 decimals (254 of 2,466 values drop trailing zeros: "100",
 *   "100.7"), so amounts are parsed as a decimal string with up to 2 decimals, never via float;
 * - `invoiceNumber` has leading zeros ("0000611365") and stays a string;
 * - an invoice is "Electronic" exactly when its InvoiceDate is after the customer's
 *   PaperlessDate, except for 4 rows; `paperless` reflects the row's own `PaperlessBill` value.
 */
import { z } from 'zod';
import { formatIsoDate, isValidCalendarDate } from './aging';

export const AR_CSV_HEADER = [
  'countryCode',
  'customerID',
  'PaperlessDate',
  'invoiceNumber',
  'InvoiceDate',
  'DueDate',
  'InvoiceAmount',
  'Disputed',
  'SettledDate',
  'PaperlessBill',
  'DaysToSettle',
  'DaysLate',
] as const;

type ArCsvColumn = (typeof AR_CSV_HEADER)[number];

export interface ArInvoiceRecord {
  /** Numeric country code as given by the data set (e.g. "391"); not ISO 3166. */
  countryCode: string;
  customerId: string;
  /** Identifier, leading zeros kept. */
  invoiceNumber: string;
  /** YYYY-MM-DD */
  invoiceDate: string;
  /** YYYY-MM-DD */
  dueDate: string;
  /** YYYY-MM-DD */
  settledDate: string;
  /** YYYY-MM-DD: when the customer moved to electronic billing (the CSV's PaperlessDate). */
  paperlessDate: string;
  /** Integer minor units (cents). */
  amountMinor: number;
  currency: 'USD';
  disputed: boolean;
  /** This invoice was billed electronically (PaperlessBill = "Electronic"). */
  paperless: boolean;
  daysToSettle: number;
  daysLate: number;
}

export interface ArCsvError {
  /** 1-based physical line number in the input (the header is line 1). */
  line: number;
  message: string;
}

export interface ArCsvParseResult {
  rows: ArInvoiceRecord[];
  errors: ArCsvError[];
}

// --- field schemas ------------------------------------------------------------------------------

const US_DATE = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/;

/** M/D/YYYY → YYYY-MM-DD, rejecting impossible dates such as 2/30/2013. */
const usDate = z.string().transform((value, ctx) => {
  const m = US_DATE.exec(value);
  const month = Number(m?.[1]);
  const day = Number(m?.[2]);
  const year = Number(m?.[3]);
  if (m === null || !isValidCalendarDate(year, month, day)) {
    ctx.addIssue({ code: 'custom', message: `expected a M/D/YYYY calendar date, got ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return formatIsoDate(year, month, day);
});

const AMOUNT = /^(\d+)(?:\.(\d{1,2}))?$/;

/** "55.94" → 5594, "100.7" → 10070, "100" → 10000: string arithmetic, no floating point. */
const amountMinor = z.string().transform((value, ctx) => {
  const m = AMOUNT.exec(value);
  if (m === null) {
    ctx.addIssue({
      code: 'custom',
      message: `expected a non-negative amount with at most 2 decimals, got ${JSON.stringify(value)}`,
    });
    return z.NEVER;
  }
  const minor = Number(m[1]) * 100 + Number((m[2] ?? '').padEnd(2, '0'));
  if (!Number.isSafeInteger(minor)) {
    ctx.addIssue({ code: 'custom', message: `amount out of range: ${JSON.stringify(value)}` });
    return z.NEVER;
  }
  return minor;
});

const nonNegativeInt = z
  .string()
  .regex(/^\d{1,9}$/, { error: (iss) => `expected a non-negative integer, got ${JSON.stringify(iss.input)}` })
  .transform(Number);

const identifier = (what: string) =>
  z.string().regex(/^[^\s"]+$/, { error: (iss) => `expected a non-empty ${what} without spaces, got ${JSON.stringify(iss.input)}` });

const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { error: (iss) => `expected one of ${values.join('/')}, got ${JSON.stringify(iss.input)}` });

const rowSchema = z
  .object({
    countryCode: z.string().regex(/^\d{1,4}$/, { error: (iss) => `expected a numeric country code, got ${JSON.stringify(iss.input)}` }),
    customerID: identifier('customer id'),
    PaperlessDate: usDate,
    invoiceNumber: identifier('invoice number'),
    InvoiceDate: usDate,
    DueDate: usDate,
    InvoiceAmount: amountMinor,
    Disputed: oneOf(['Yes', 'No']),
    SettledDate: usDate,
    PaperlessBill: oneOf(['Paper', 'Electronic']),
    DaysToSettle: nonNegativeInt,
    DaysLate: nonNegativeInt,
  } satisfies Record<ArCsvColumn, z.ZodType>)
  .transform(
    (r): ArInvoiceRecord => ({
      countryCode: r.countryCode,
      customerId: r.customerID,
      invoiceNumber: r.invoiceNumber,
      invoiceDate: r.InvoiceDate,
      dueDate: r.DueDate,
      settledDate: r.SettledDate,
      paperlessDate: r.PaperlessDate,
      amountMinor: r.InvoiceAmount,
      currency: 'USD',
      disputed: r.Disputed === 'Yes',
      paperless: r.PaperlessBill === 'Electronic',
      daysToSettle: r.DaysToSettle,
      daysLate: r.DaysLate,
    }),
  );

// --- parser -------------------------------------------------------------------------------------

/**
 * Parses the AR CSV. Accepts LF or CRLF line endings, a UTF-8 BOM, blank lines (skipped, e.g. a
 * trailing newline) and surrounding spaces in fields. A header that is not exactly
 * {@link AR_CSV_HEADER} yields a single error on line 1 and no rows. Every other problem is
 * reported per line (naming the column) and the line is skipped. Duplicate invoice numbers are
 * reported on the later line.
 */
export function parseArCsv(text: string): ArCsvParseResult {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const rows: ArInvoiceRecord[] = [];
  const errors: ArCsvError[] = [];

  const headerIndex = lines.findIndex((l) => l.trim() !== '');
  if (headerIndex === -1) {
    return { rows, errors: [{ line: 1, message: `missing header: expected "${AR_CSV_HEADER.join(',')}"` }] };
  }
  const header = lines[headerIndex]!.split(',').map((h) => h.trim());
  if (header.length !== AR_CSV_HEADER.length || header.some((h, i) => h !== AR_CSV_HEADER[i])) {
    return {
      rows,
      errors: [
        {
          line: headerIndex + 1,
          message: `header mismatch: expected "${AR_CSV_HEADER.join(',')}", got "${header.join(',')}"`,
        },
      ],
    };
  }

  const firstLineOf = new Map<string, number>();
  for (let i = headerIndex + 1; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    if (raw.trim() === '') continue;
    if (raw.includes('"')) {
      errors.push({ line, message: 'quoted fields are not supported' });
      continue;
    }
    const fields = raw.split(',').map((f) => f.trim());
    if (fields.length !== AR_CSV_HEADER.length) {
      errors.push({ line, message: `expected ${AR_CSV_HEADER.length} fields, got ${fields.length}` });
      continue;
    }
    const input = Object.fromEntries(AR_CSV_HEADER.map((col, c) => [col, fields[c]]));
    const parsed = rowSchema.safeParse(input);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const column = issue.path.length > 0 ? String(issue.path[0]) : 'row';
        errors.push({ line, message: `${column}: ${issue.message}` });
      }
      continue;
    }
    const first = firstLineOf.get(parsed.data.invoiceNumber);
    if (first !== undefined) {
      errors.push({ line, message: `invoiceNumber: duplicate ${parsed.data.invoiceNumber} (first on line ${first})` });
      continue;
    }
    firstLineOf.set(parsed.data.invoiceNumber, line);
    rows.push(parsed.data);
  }
  return { rows, errors };
}
