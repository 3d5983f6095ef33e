import type { ColumnIndex, ImportField, ImportLayout } from './presets';
import { parseAmount, parseCountry, parseCurrency, parseDate, parseEmail, parseIdentifier, parseText, parseYesNo, type Parsed } from './values';

/**
 * One data row of an export, interpreted through its layout: an invoice with its customer, a row to skip
 * (another transaction type), a layout line (blank, a group or total line), or a rejection naming each column
 * and reason. Pure.
 */

export const LEDGER_STATUSES = ['open', 'paid', 'credited', 'written_off', 'cancelled'] as const;
export type ImportedStatus = (typeof LEDGER_STATUSES)[number];

export interface ImportedInvoice {
  invoiceNumber: string;
  customerId: string;
  currency: string;
  amountMinor: number;
  openAmountMinor: number;
  status: ImportedStatus;
  issueDate: string;
  dueDate: string;
  settledDate: string | null;
  rebillOf: string | null;
  disputed: boolean;
}

export interface ImportedCustomer {
  customerId: string;
  name: string | null;
  email: string | null;
  country: string | null;
}

export interface RowIssue {
  /** The file's column name, or 'row' for a problem of the row as a whole. */
  column: string;
  reason: string;
}

export type RowResult =
  | { kind: 'record'; invoice: ImportedInvoice; customer: ImportedCustomer }
  | { kind: 'skipped'; invoiceNumber: string | null; reason: string }
  | { kind: 'layout' }
  | { kind: 'rejected'; invoiceNumber: string | null; issues: RowIssue[] };

const STATUS_WORDS: Record<string, ImportedStatus> = {
  open: 'open',
  paid: 'paid',
  closed: 'paid',
  settled: 'paid',
  credited: 'credited',
  written_off: 'written_off',
  'written off': 'written_off',
  writtenoff: 'written_off',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  void: 'cancelled',
};

/** Interprets a row (its cells as text, or numbers from XLSX numeric cells) through the layout and the header's columns. */
export function interpretRow(row: readonly (string | number)[], layout: ImportLayout, columns: ColumnIndex): RowResult {
  const cells = row.map((c) => (typeof c === 'number' ? String(c) : c));
  if (cells.every((c) => c.trim() === '')) return { kind: 'layout' };
  const cell = (f: ImportField): string | undefined => {
    const at = columns[f];
    if (at === undefined) return undefined;
    const v = cells[at.index];
    return v === undefined || v.trim() === '' ? undefined : v;
  };
  /** An XLSX numeric cell: its decimal text in the file, dot-separated whatever the layout's format. */
  const numeric = (f: ImportField) => typeof row[columns[f]?.index ?? -1] === 'number';
  const colName = (f: ImportField) => columns[f]?.name ?? f;

  if (layout.invoiceTypes) {
    // QuickBooks: a group heading ("Current", "1 - 30 days past due") or a total line fills one cell or starts "Total".
    const filled = cells.filter((c) => c.trim() !== '');
    const first = filled[0]?.trim() ?? '';
    if (filled.length === 1 || /^total\b/i.test(first)) return { kind: 'layout' };
    const type = cell('transactionType')?.trim();
    if (type === undefined) return { kind: 'layout' };
    if (!layout.invoiceTypes.includes(type)) return { kind: 'skipped', invoiceNumber: cell('invoiceNumber')?.trim() ?? null, reason: `a ${type}, not an invoice` };
  }

  const issues: RowIssue[] = [];
  const need = <T>(f: ImportField, parse: (s: string) => Parsed<T>, what: string): T | undefined => {
    const raw = cell(f);
    if (raw === undefined) {
      issues.push({ column: colName(f), reason: `${what} is missing` });
      return undefined;
    }
    const r = parse(raw);
    if (!r.ok) {
      issues.push({ column: colName(f), reason: r.reason });
      return undefined;
    }
    return r.value;
  };
  const may = <T>(f: ImportField, parse: (s: string) => Parsed<T>): T | null | undefined => {
    const raw = cell(f);
    if (raw === undefined) return null;
    const r = parse(raw);
    if (!r.ok) {
      issues.push({ column: colName(f), reason: r.reason });
      return undefined;
    }
    return r.value;
  };

  const invoiceNumber = need('invoiceNumber', (s) => parseIdentifier(s, 'invoice number'), 'the invoice number');
  const customerId = need('customerId', (s) => parseIdentifier(s, 'customer id'), 'the customer id');
  let currency: string | undefined;
  if (columns.currency !== undefined) currency = need('currency', parseCurrency, 'the currency');
  else if (layout.defaultCurrency !== null) currency = layout.defaultCurrency;
  else issues.push({ column: 'currency', reason: 'the file has no currency column and no currency was given' });

  const amountOf = (f: ImportField, what: string, required: boolean): number | null | undefined => {
    if (currency === undefined) return undefined; // the currency's own issue says why
    const parse = (s: string) => parseAmount(s, numeric(f) ? 'dot' : layout.decimal, currency!);
    const minor = required ? need(f, parse, what) : may(f, parse);
    if (minor !== undefined && minor !== null && minor < 0) {
      issues.push({ column: colName(f), reason: `negative ${what} (${cell(f)!.trim()}): a credit or a payment, not an invoice` });
      return undefined;
    }
    return minor;
  };
  const amount = amountOf('amount', 'amount', true);
  let open = amountOf('openAmount', 'open amount', false);
  const date = (s: string) => parseDate(s, layout.dateFormat);
  const issueDate = need('issueDate', date, 'the issue date');
  const dueDate = need('dueDate', date, 'the due date');
  let settledDate = may('settledDate', date);
  const statusText = may('status', (s): Parsed<ImportedStatus> => {
    const st = STATUS_WORDS[s.trim().toLowerCase()];
    return st ? { ok: true, value: st } : { ok: false, reason: `unknown status ${JSON.stringify(s)} (expected ${LEDGER_STATUSES.join(', ')})` };
  });
  const disputed = may('disputed', parseYesNo);
  const rebillOf = may('rebillOf', (s) => parseIdentifier(s, 'rebill_of'));
  const name = may('customerName', (s) => parseText(s, 'customer name'));
  const email = may('email', parseEmail);
  const country = layout.ignoreCountry ? null : may('country', parseCountry);
  const clearing = cell('clearingDocument')?.trim();

  if (issueDate && dueDate && dueDate < issueDate) issues.push({ column: colName('dueDate'), reason: `due date ${dueDate} before the issue date ${issueDate}` });
  if (issues.length > 0 || amount == null || invoiceNumber === undefined || customerId === undefined || currency === undefined || !issueDate || !dueDate)
    return { kind: 'rejected', invoiceNumber: invoiceNumber ?? cell('invoiceNumber')?.trim() ?? null, issues };

  let status: ImportedStatus;
  if (layout.settlement === 'clearing') {
    // SAP: an item with a clearing document is cleared (paid) on its clearing date.
    if (clearing !== undefined && !settledDate) return reject(invoiceNumber, colName('settledDate'), `cleared by ${clearing} but the clearing date is missing`);
    if (clearing === undefined) settledDate = null;
    status = settledDate ? 'paid' : 'open';
    open = status === 'open' ? amount : 0;
  } else if (layout.settlement === 'settled-date') {
    status = settledDate ? 'paid' : 'open';
    open = status === 'open' ? amount : 0;
  } else {
    status = statusText ?? (settledDate || open === 0 ? 'paid' : 'open');
    open ??= status === 'open' ? amount : 0;
  }
  if (open > amount) return reject(invoiceNumber, colName('openAmount'), `open amount above the invoice amount`);
  if (status === 'open') {
    if (open === 0 && amount > 0) return reject(invoiceNumber, colName('status'), 'status open with nothing open');
    if (settledDate) return reject(invoiceNumber, colName('settledDate'), 'a settled date on an open item');
  } else if (open !== 0) {
    return reject(invoiceNumber, colName('openAmount'), `status ${status} with an open amount`);
  }
  if (settledDate && settledDate < issueDate) return reject(invoiceNumber, colName('settledDate'), `settled date ${settledDate} before the issue date ${issueDate}`);

  return {
    kind: 'record',
    invoice: {
      invoiceNumber,
      customerId,
      currency,
      amountMinor: amount,
      openAmountMinor: open,
      status,
      issueDate,
      dueDate,
      settledDate: settledDate ?? null,
      rebillOf: rebillOf ?? null,
      disputed: disputed ?? false,
    },
    customer: { customerId, name: name ?? null, email: email ?? null, country: country ?? null },
  };
}

const reject = (invoiceNumber: string, column: string, reason: string): RowResult => ({ kind: 'rejected', invoiceNumber, issues: [{ column, reason }] });

/** What makes two rows of the same invoice the same: equal fingerprints are one invoice counted once. */
export function fingerprint(invoice: ImportedInvoice, customer: ImportedCustomer): string {
  const i = invoice;
  return JSON.stringify([i.customerId, i.currency, i.amountMinor, i.openAmountMinor, i.status, i.issueDate, i.dueDate, i.settledDate, i.rebillOf, i.disputed, customer.name, customer.email, customer.country]);
}
