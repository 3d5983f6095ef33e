import { parse } from 'csv-parse/sync';
import { amountToMinor, bankText, BankStatementError, boundedId, checkCurrency, digestIds, PAYER_MAX, REMITTANCE_MAX, type BankEntry, type ParsedStatement, type SkippedLine } from './statement';

/**
 * A bank CSV export: a header line, then one line per transaction. Columns are found by name (case and
 * spaces ignored), in any order, extra columns ignored:
 * - date (also: booking date, value date): YYYY-MM-DD or DD.MM.YYYY, or an ISO instant with offset;
 * - amount: a decimal string; positive = money received, negative = paid out (ignored);
 * - currency: ISO 4217;
 * - payer (also: name, counterparty, debtor): who paid, may be empty;
 * - reference (also: remittance, description, purpose, memo): the remittance text, may be empty;
 * - id (also: transaction id, bank reference), optional: the bank's id of the line, which makes it unique.
 * The delimiter is `,` or `;` (the header's first one wins). With `;` the amount's decimal mark is `,`
 * (`1.234,56`, the European exports), with `,` it is `.` (`1,234.56`, quoted).
 */

const COLUMNS = {
  date: ['date', 'bookingdate', 'valuedate', 'bookeddate'],
  amount: ['amount'],
  currency: ['currency', 'ccy'],
  payer: ['payer', 'name', 'counterparty', 'debtor', 'payername'],
  reference: ['reference', 'remittance', 'description', 'purpose', 'memo', 'remittanceinformation'],
  id: ['id', 'transactionid', 'bankreference', 'referenceid'],
} as const;
type Column = keyof typeof COLUMNS;

const squash = (h: string) => h.trim().toLowerCase().replace(/[\s_-]+/g, '');

export function parseBankCsv(text: string): ParsedStatement {
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const semi = firstLine.indexOf(';');
  const comma = firstLine.indexOf(',');
  const delimiter = semi !== -1 && (comma === -1 || semi < comma) ? ';' : ',';
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, bom: true }) as string[][];
  } catch (err) {
    throw new BankStatementError(`not a readable CSV: ${err instanceof Error ? err.message : String(err)}`);
  }
  const [header, ...lines] = rows;
  if (!header) throw new BankStatementError('the CSV is empty: expected a header line with date, amount, currency, payer, reference');
  const index = new Map<Column, number>();
  header.forEach((h, i) => {
    for (const [col, names] of Object.entries(COLUMNS) as [Column, readonly string[]][]) {
      if (!index.has(col) && names.some((n) => squash(n) === squash(h))) index.set(col, i);
    }
  });
  const missing = (['date', 'amount', 'currency'] as const).filter((c) => !index.has(c));
  if (missing.length > 0)
    throw new BankStatementError(`the CSV header lacks the column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (found: ${header.join(', ')}); expected date, amount, currency, payer, reference`);

  const decimalMark = delimiter === ';' ? ',' : '.';
  const ids = digestIds();
  const entries: BankEntry[] = [];
  const ignored: SkippedLine[] = [];
  const rejected: SkippedLine[] = [];
  lines.forEach((cells, i) => {
    const position = `line ${i + 2}`;
    const cell = (c: Column) => (index.has(c) ? (cells[index.get(c)!] ?? '') : '');
    try {
      const currency = (() => {
        try {
          return checkCurrency(cell('currency'));
        } catch (err) {
          throw new RangeError(`currency: ${(err as Error).message}`);
        }
      })();
      let amountMinor: number;
      try {
        amountMinor = amountToMinor(cell('amount'), currency, decimalMark);
      } catch (err) {
        throw new RangeError(`amount: ${(err as Error).message}`);
      }
      if (amountMinor < 0) return ignored.push({ position, reason: 'a negative amount (money paid out), not a payment received' });
      if (amountMinor === 0) throw new RangeError('amount: zero');
      const { bookingDate, receivedAt } = csvDate(cell('date'));
      const payerName = bankText(cell('payer'), PAYER_MAX) || null;
      const remittance = bankText(cell('reference'), REMITTANCE_MAX);
      const id = bankText(cell('id'), 10_000) || null;
      entries.push({
        entryId: id ? boundedId(`csv:${id}`) : ids([bookingDate, amountMinor, currency, payerName, remittance]),
        position,
        amountMinor,
        currency,
        bookingDate,
        receivedAt,
        payerName,
        remittance,
        endToEndId: null,
        bankRef: id ? id.slice(0, 200) : null,
      });
    } catch (err) {
      rejected.push({ position, reason: err instanceof Error ? err.message : String(err) });
    }
  });
  return { format: 'csv', statementId: null, account: null, entries, ignored, rejected };
}

function csvDate(value: string): { bookingDate: string; receivedAt: string } {
  const v = value.trim();
  let day: string | undefined;
  let instant: string | undefined;
  const dotted = /^(\d{2})\.(\d{2})\.(\d{4})$/.exec(v);
  if (/^\d{4}-\d{2}-\d{2}$/.test(v)) day = v;
  else if (dotted) day = `${dotted[3]}-${dotted[2]}-${dotted[1]}`;
  else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v))) {
    day = v.slice(0, 10);
    instant = v;
  }
  if (day === undefined || Number.isNaN(Date.parse(`${day}T00:00:00Z`)) || new Date(`${day}T00:00:00Z`).toISOString().slice(0, 10) !== day)
    throw new RangeError(`date: "${value}" is not a date (YYYY-MM-DD, DD.MM.YYYY or an ISO instant with offset)`);
  return { bookingDate: day, receivedAt: instant ?? `${day}T00:00:00Z` };
}
