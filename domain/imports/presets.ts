import { z } from 'zod';
import { currencyCodeSchema } from '../money';
import { DATE_FORMATS, DECIMAL_FORMATS, type DateFormat, type DecimalFormat } from './values';

/**
 * The layouts of the AR exports teams have, as presets, and a custom column mapping. A layout names, for each
 * of our fields, the column(s) of the file that hold it (any of the aliases, compared without case and with
 * spaces collapsed), which fields a file must have, and how its dates and decimals are written. Pure.
 */

export const IMPORT_FIELDS = [
  'invoiceNumber',
  'customerId',
  'customerName',
  'email',
  'country',
  'currency',
  'amount',
  'openAmount',
  'issueDate',
  'dueDate',
  'settledDate',
  'status',
  'disputed',
  'rebillOf',
  /** SAP: the clearing document; a cleared item is settled. */
  'clearingDocument',
  /** QuickBooks: Invoice, Payment, Credit Memo... only invoices are imported. */
  'transactionType',
] as const;
export type ImportField = (typeof IMPORT_FIELDS)[number];

export const PRESET_NAMES = ['own', 'sap-fbl5n', 'quickbooks-aging', 'ibm-ar'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface ImportLayout {
  name: PresetName | 'custom';
  /** Our field -> the file's column names that may hold it (the first found wins). */
  columns: Partial<Record<ImportField, readonly string[]>>;
  /** Fields whose column the header must have. */
  required: readonly ImportField[];
  dateFormat: DateFormat;
  decimal: DecimalFormat;
  /** The currency of rows without a currency column (QuickBooks' report has none; IBM's sample is USD). */
  defaultCurrency: string | null;
  /** Rows whose transaction type is not one of these are skipped (reported, not rejected). */
  invoiceTypes?: readonly string[];
  /** What a settled row looks like in this layout (derivation of status, open amount, settled date). */
  settlement: 'columns' | 'clearing' | 'settled-date' | 'open-items';
  /** The country column holds something else than ISO 3166 alpha-2 (IBM: numeric codes): ignored. */
  ignoreCountry?: boolean;
}

/**
 * The project's own template (docs/imports.md): one row per invoice, ISO dates, dot decimals.
 * invoice_number, customer_id, customer_name, email, country, currency, amount, open_amount, issue_date,
 * due_date, settled_date, status, disputed, rebill_of.
 */
const own: ImportLayout = {
  name: 'own',
  columns: {
    invoiceNumber: ['invoice_number'],
    customerId: ['customer_id'],
    customerName: ['customer_name'],
    email: ['email'],
    country: ['country'],
    currency: ['currency'],
    amount: ['amount'],
    openAmount: ['open_amount'],
    issueDate: ['issue_date'],
    dueDate: ['due_date'],
    settledDate: ['settled_date'],
    status: ['status'],
    disputed: ['disputed'],
    rebillOf: ['rebill_of'],
  },
  required: ['invoiceNumber', 'customerId', 'currency', 'amount', 'issueDate', 'dueDate'],
  dateFormat: 'YYYY-MM-DD',
  decimal: 'dot',
  defaultCurrency: null,
  settlement: 'columns',
};

/**
 * SAP ECC/S/4 "Customer Line Items" (transaction FBL5N) exported with the standard layout, in a German locale by
 * default (31.12.2025, 1.234,56, trailing minus). Open items have no clearing document; cleared ones are settled
 * on the clearing date. The invoice number is the FI document number.
 */
const sapFbl5n: ImportLayout = {
  name: 'sap-fbl5n',
  columns: {
    customerId: ['Account', 'Customer', 'Kunde', 'Konto'],
    customerName: ['Name 1', 'Name', 'Customer Name'],
    invoiceNumber: ['Document Number', 'DocumentNo', 'Document No.', 'Belegnummer'],
    issueDate: ['Document Date', 'Doc. Date', 'Belegdatum'],
    dueDate: ['Net due date', 'Net Due Dt', 'Nettofälligkeit', 'Nettofälligkeitsdatum'],
    amount: ['Amount in local currency', 'Amount in LC', 'Amt in loc.cur.', 'Betrag in HW'],
    currency: ['Local Currency', 'LCurr', 'Hauswährung'],
    clearingDocument: ['Clearing Document', 'Clrng doc.', 'Ausgleichsbeleg'],
    settledDate: ['Clearing date', 'Clearing', 'Ausgleich', 'Ausgleichsdatum'],
  },
  required: ['customerId', 'invoiceNumber', 'issueDate', 'dueDate', 'amount', 'currency'],
  dateFormat: 'DD.MM.YYYY',
  decimal: 'comma',
  defaultCurrency: null,
  settlement: 'clearing',
};

/**
 * QuickBooks Online report "A/R Aging Detail" exported to CSV or Excel: a few title lines, the column header
 * (Date, Transaction Type, Num, Customer, Due Date, Amount, Open Balance; Past Due and others may be there), then
 * the items grouped by aging bucket ("Current", "1 - 30 days past due"...), each group closed by a "Total for ..."
 * line, and a TOTAL line and a footer: those layout lines are passed over. US dates and amounts; the report names
 * no currency (the company's home currency: USD unless --currency says otherwise). Open items only.
 */
const quickbooksAging: ImportLayout = {
  name: 'quickbooks-aging',
  columns: {
    issueDate: ['Date'],
    transactionType: ['Transaction Type'],
    invoiceNumber: ['Num', 'No.'],
    customerId: ['Customer', 'Customer full name', 'Name'],
    customerName: ['Customer', 'Customer full name', 'Name'],
    dueDate: ['Due Date'],
    amount: ['Amount'],
    openAmount: ['Open Balance'],
    currency: ['Currency'],
  },
  required: ['issueDate', 'transactionType', 'invoiceNumber', 'customerId', 'dueDate', 'amount', 'openAmount'],
  dateFormat: 'MM/DD/YYYY',
  decimal: 'dot',
  defaultCurrency: 'USD',
  invoiceTypes: ['Invoice'],
  settlement: 'open-items',
};

/**
 * IBM's "Accounts Receivable" sample (../shared/data/ibm-accounts-receivable.csv, domain/ar-csv.ts): history, every
 * invoice with its settlement date (settled = paid in full on that date; an empty SettledDate leaves it open).
 * M/D/YYYY dates, USD, numeric country codes (not ISO: not kept).
 */
const ibmAr: ImportLayout = {
  name: 'ibm-ar',
  columns: {
    country: ['countryCode'],
    customerId: ['customerID'],
    invoiceNumber: ['invoiceNumber'],
    issueDate: ['InvoiceDate'],
    dueDate: ['DueDate'],
    amount: ['InvoiceAmount'],
    disputed: ['Disputed'],
    settledDate: ['SettledDate'],
  },
  required: ['customerId', 'invoiceNumber', 'issueDate', 'dueDate', 'amount', 'settledDate'],
  dateFormat: 'MM/DD/YYYY',
  decimal: 'dot',
  defaultCurrency: 'USD',
  settlement: 'settled-date',
  ignoreCountry: true,
};

export const PRESETS: Record<PresetName, ImportLayout> = { own, 'sap-fbl5n': sapFbl5n, 'quickbooks-aging': quickbooksAging, 'ibm-ar': ibmAr };

/**
 * A custom mapping (a JSON file, or the API's `mapping` field): our field -> the file's column name, and how the
 * file writes dates and decimals. A file with a status column may say open/paid/credited/written_off/cancelled;
 * without one, a settled date or a zero open amount means paid.
 */
export const customMappingSchema = z.strictObject({
  columns: z
    .strictObject(Object.fromEntries(IMPORT_FIELDS.map((f) => [f, z.string().trim().min(1).max(200).optional()])) as Record<ImportField, z.ZodOptional<z.ZodString>>)
    .refine((c) => c.invoiceNumber && c.customerId && c.amount && c.issueDate && c.dueDate, {
      message: 'columns must name at least invoiceNumber, customerId, amount, issueDate and dueDate',
    }),
  dateFormat: z.enum(DATE_FORMATS).default('YYYY-MM-DD'),
  decimal: z.enum(DECIMAL_FORMATS).default('dot'),
  /** The currency of every row when the file has no currency column. */
  currency: currencyCodeSchema.optional(),
});
export type CustomMapping = z.input<typeof customMappingSchema>;

export function customLayout(mapping: z.output<typeof customMappingSchema>): ImportLayout {
  const columns: Partial<Record<ImportField, readonly string[]>> = {};
  for (const f of IMPORT_FIELDS) {
    const name = mapping.columns[f];
    if (name) columns[f] = [name];
  }
  const required = IMPORT_FIELDS.filter((f) => columns[f] !== undefined && f !== 'transactionType');
  return {
    name: 'custom',
    columns,
    required,
    dateFormat: mapping.dateFormat,
    decimal: mapping.decimal,
    defaultCurrency: mapping.currency ?? null,
    settlement: 'columns',
  };
}

/** A preset with its currency replaced (QuickBooks' home currency, a sample in another currency). */
export function withCurrency(layout: ImportLayout, currency: string | undefined): ImportLayout {
  return currency ? { ...layout, defaultCurrency: currency } : layout;
}

const norm = (s: string) => s.trim().replace(/\s+/g, ' ').toLowerCase();

/** Where each field's column sits in a header row. */
export type ColumnIndex = Partial<Record<ImportField, { index: number; name: string }>>;

/** The header's columns for a layout, or the required fields it lacks. */
export function resolveHeader(header: readonly string[], layout: ImportLayout): { columns: ColumnIndex; missing: ImportField[] } {
  const positions = new Map<string, number>();
  header.forEach((h, i) => {
    const key = norm(h);
    if (key !== '' && !positions.has(key)) positions.set(key, i);
  });
  const columns: ColumnIndex = {};
  for (const field of IMPORT_FIELDS) {
    for (const alias of layout.columns[field] ?? []) {
      const index = positions.get(norm(alias));
      if (index !== undefined) {
        columns[field] = { index, name: header[index]!.trim() };
        break;
      }
    }
  }
  const missing = layout.required.filter((f) => columns[f] === undefined);
  if (columns.currency === undefined && layout.defaultCurrency === null && !missing.includes('currency')) missing.push('currency');
  return { columns, missing };
}

/** How many leading rows may come before the header (QuickBooks' title lines). */
export const HEADER_SEARCH_ROWS = 20;

export type HeaderMatch =
  | { ok: true; layout: ImportLayout; headerRow: number; columns: ColumnIndex }
  | { ok: false; message: string };

/**
 * Finds the header among the first rows: with a layout given, the first row that has its required columns; without,
 * the first row that fits one of the presets (in PRESETS order). Refuses with what each candidate lacks.
 * `rows` are the file's first rows (at most HEADER_SEARCH_ROWS), row numbers 1-based.
 */
export function findHeader(rows: readonly (readonly string[])[], given?: ImportLayout): HeaderMatch {
  const candidates = given ? [given] : Object.values(PRESETS);
  const limit = Math.min(rows.length, HEADER_SEARCH_ROWS);
  for (let r = 0; r < limit; r++) {
    for (const layout of candidates) {
      const { columns, missing } = resolveHeader(rows[r]!, layout);
      if (missing.length === 0) return { ok: true, layout, headerRow: r + 1, columns };
    }
  }
  if (given) {
    // Report against the row that came closest.
    let best = { row: 1, missing: given.required as readonly ImportField[] };
    for (let r = 0; r < limit; r++) {
      const { missing } = resolveHeader(rows[r]!, given);
      if (missing.length < best.missing.length) best = { row: r + 1, missing };
    }
    const wanted = best.missing.map((f) => `${f} (${(given.columns[f] ?? ['a column']).join(' | ')})`);
    return { ok: false, message: `the file's header (row ${best.row}) lacks the columns of ${given.name === 'custom' ? 'the mapping' : `preset ${given.name}`}: ${wanted.join(', ')}` };
  }
  const expected = Object.values(PRESETS).map((p) => `${p.name} (${p.required.map((f) => p.columns[f]![0]).join(', ')})`);
  return {
    ok: false,
    message: `no preset recognises the file's header in its first ${HEADER_SEARCH_ROWS} rows; expected the columns of one of: ${expected.join('; ')}. Name the preset (--preset) or map the columns (--mapping)`,
  };
}
