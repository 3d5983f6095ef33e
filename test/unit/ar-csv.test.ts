import { arSampleText, hasArSample } from '../support/ar-sample';
import { describe, expect, it } from 'vitest';
import { AR_CSV_HEADER, parseArCsv } from '../../domain/ar-csv';
import { addDays, daysBetween } from '../../domain/aging';

const csvText = arSampleText();
const HEADER = AR_CSV_HEADER.join(',');
const GOOD = '391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0';

describe.skipIf(!hasArSample)('parseArCsv on the real IBM AR sample', () => {
  const { rows, errors } = parseArCsv(csvText);

  it('parses every row without errors', () => {
    expect(errors).toEqual([]);
    expect(rows).toHaveLength(2466);
  });

  it('the file really has CRLF, a trailing newline and no quoted fields', () => {
    expect(csvText.endsWith('\r\n')).toBe(true);
    expect(csvText.includes('"')).toBe(false);
    expect(csvText.split('\r\n').filter((l) => l !== '').every((l) => l.split(',').length === 12)).toBe(true);
  });

  it('has 100 customers in 5 country codes, one country per customer', () => {
    expect(new Set(rows.map((r) => r.customerId)).size).toBe(100);
    expect([...new Set(rows.map((r) => r.countryCode))].sort()).toEqual(['391', '406', '770', '818', '897']);
    const countryOf = new Map<string, Set<string>>();
    for (const r of rows) countryOf.set(r.customerId, (countryOf.get(r.customerId) ?? new Set()).add(r.countryCode));
    expect([...countryOf.values()].every((s) => s.size === 1)).toBe(true);
  });

  it('maps the first data line field by field (leading zeros kept, 55.94 → 5594)', () => {
    expect(rows[0]).toEqual({
      countryCode: '391',
      customerId: '0379-NEVHP',
      invoiceNumber: '0000611365',
      invoiceDate: '2013-01-02',
      dueDate: '2013-02-01',
      settledDate: '2013-01-15',
      paperlessDate: '2013-04-06',
      amountMinor: 5594,
      currency: 'USD',
      disputed: false,
      paperless: false,
      daysToSettle: 13,
      daysLate: 0,
    });
    expect(rows.every((r) => /^\d{10}$/.test(r.invoiceNumber))).toBe(true);
    expect(new Set(rows.map((r) => r.invoiceNumber)).size).toBe(2466);
  });

  it('amounts are integer cents, equal to an independent per-line computation', () => {
    const lines = csvText.trim().split('\r\n').slice(1);
    const independent = lines.map((l) => Math.round(Number(l.split(',')[6]) * 100));
    expect(rows.map((r) => r.amountMinor)).toEqual(independent);
    expect(rows.every((r) => Number.isSafeInteger(r.amountMinor) && r.amountMinor > 0)).toBe(true);
    // values with fewer than 2 decimals in the file ("100", "100.7") are still right
    const short = lines.filter((l) => !/\.\d\d$/.test(l.split(',')[6]!));
    expect(short.length).toBe(254);
  });

  it('matches the counts documented in shared/data/README.md', () => {
    expect(rows.filter((r) => r.disputed)).toHaveLength(561);
    expect(rows.filter((r) => r.daysLate > 0)).toHaveLength(877);
    expect(rows.filter((r) => r.paperless)).toHaveLength(1203);
    const sorted = (xs: string[]) => [...xs].sort();
    const inv = sorted(rows.map((r) => r.invoiceDate));
    const set = sorted(rows.map((r) => r.settledDate));
    expect([inv[0], inv.at(-1)]).toEqual(['2012-01-03', '2013-12-02']);
    expect([set[0], set.at(-1)]).toEqual(['2012-01-13', '2014-01-09']);
  });

  it('dates are consistent: net-30, DaysToSettle and DaysLate agree with the dates', () => {
    for (const r of rows) {
      expect(r.dueDate).toBe(addDays(r.invoiceDate, 30));
      expect(r.daysToSettle).toBe(daysBetween(r.invoiceDate, r.settledDate));
      expect(r.daysLate).toBe(Math.max(0, daysBetween(r.dueDate, r.settledDate)));
    }
  });

  it('gives the same rows for LF line endings, no trailing newline, and a BOM', () => {
    const lf = csvText.replace(/\r\n/g, '\n');
    expect(parseArCsv(lf)).toEqual({ rows, errors: [] });
    expect(parseArCsv(lf.trimEnd())).toEqual({ rows, errors: [] });
    expect(parseArCsv('\uFEFF' + csvText)).toEqual({ rows, errors: [] });
  });
});

describe('parseArCsv on malformed input', () => {
  it('a header mismatch is one clear error on line 1 and no rows', () => {
    const bad = HEADER.replace('InvoiceAmount', 'Amount');
    const result = parseArCsv(`${bad}\r\n${GOOD}\r\n`);
    expect(result.rows).toEqual([]);
    expect(result.errors).toHaveLength(1);
    expect(result.errors[0]!.line).toBe(1);
    expect(result.errors[0]!.message).toMatch(/^header mismatch: expected ".*InvoiceAmount.*", got ".*Amount.*"$/);
  });

  it('a missing column in the header is a header mismatch', () => {
    const result = parseArCsv(`${AR_CSV_HEADER.slice(0, 11).join(',')}\n`);
    expect(result.errors).toEqual([{ line: 1, message: expect.stringMatching(/^header mismatch/) }]);
  });

  it('empty input reports a missing header', () => {
    expect(parseArCsv('')).toEqual({ rows: [], errors: [{ line: 1, message: expect.stringMatching(/^missing header/) }] });
    expect(parseArCsv('\r\n\r\n').errors).toHaveLength(1);
  });

  it('a header with no data gives no rows and no errors', () => {
    expect(parseArCsv(`${HEADER}\r\n`)).toEqual({ rows: [], errors: [] });
  });

  it('bad rows give line-numbered errors naming the field; good rows around them still parse', () => {
    const text = [
      HEADER, // 1
      GOOD, // 2
      '391,0379-NEVHP,4/6/2013,0000000002,2/30/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0', // 3: impossible date
      '', // 4: blank, skipped but counted
      '391,0379-NEVHP,4/6/2013,0000000003,1/2/2013,2/1/2013,55.945,No,1/15/2013,Paper,13,0', // 5: 3 decimals
      '391,0379-NEVHP,4/6/2013,0000000004,1/2/2013,2/1/2013,55.94,Maybe,1/15/2013,Paper,13,0', // 6
      '391,0379-NEVHP,4/6/2013,0000000005,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper', // 7: 10 fields
      '391,0379-NEVHP,4/6/2013,0000000006,2013-01-02,2/1/2013,-5,No,1/15/2013,Fax,x,0', // 8: several
      '391,"0379-NEVHP",4/6/2013,0000000007,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0', // 9: quoted
      '391,0379-NEVHP,4/6/2013,0000611365,1/2/2013,2/1/2013,55.94,No,1/15/2013,Paper,13,0', // 10: duplicate
      '391,0379-NEVHP,4/6/2013,0000000010,1/2/2013,2/1/2013,1,Yes,1/15/2013,Electronic,13,0', // 11: good
    ].join('\r\n');
    const { rows, errors } = parseArCsv(text);
    expect(rows.map((r) => r.invoiceNumber)).toEqual(['0000611365', '0000000010']);
    expect(rows[1]!.amountMinor).toBe(100);
    expect(errors).toEqual([
      { line: 3, message: 'InvoiceDate: expected a M/D/YYYY calendar date, got "2/30/2013"' },
      { line: 5, message: 'InvoiceAmount: expected a non-negative amount with at most 2 decimals, got "55.945"' },
      { line: 6, message: 'Disputed: expected one of Yes/No, got "Maybe"' },
      { line: 7, message: 'expected 12 fields, got 10' },
      { line: 8, message: 'InvoiceDate: expected a M/D/YYYY calendar date, got "2013-01-02"' },
      { line: 8, message: 'InvoiceAmount: expected a non-negative amount with at most 2 decimals, got "-5"' },
      { line: 8, message: 'PaperlessBill: expected one of Paper/Electronic, got "Fax"' },
      { line: 8, message: 'DaysToSettle: expected a non-negative integer, got "x"' },
      { line: 9, message: 'quoted fields are not supported' },
      { line: 10, message: 'invoiceNumber: duplicate 0000611365 (first on line 2)' },
    ]);
  });

  it('empty identifiers and non-numeric country codes are field errors', () => {
    const { rows, errors } = parseArCsv(
      `${HEADER}\n${GOOD.replace('0379-NEVHP', '')}\n${GOOD.replace(/^391/, 'US')}\n`,
    );
    expect(rows).toEqual([]);
    expect(errors).toEqual([
      { line: 2, message: expect.stringMatching(/^customerID: /) },
      { line: 3, message: expect.stringMatching(/^countryCode: /) },
    ]);
  });

  it('leap days are accepted only in leap years', () => {
    const leap = GOOD.replace('1/2/2013', '2/29/2012');
    const notLeap = GOOD.replace('1/2/2013', '2/29/2013');
    expect(parseArCsv(`${HEADER}\n${leap}`).rows[0]!.invoiceDate).toBe('2012-02-29');
    expect(parseArCsv(`${HEADER}\n${notLeap}`).errors).toEqual([
      { line: 2, message: 'InvoiceDate: expected a M/D/YYYY calendar date, got "2/29/2013"' },
    ]);
  });
});
