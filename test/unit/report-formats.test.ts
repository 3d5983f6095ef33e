import ExcelJS from 'exceljs';
import { describe, expect, it } from 'vitest';
import { formatFromAccept } from '../../api/routes/reports';
import type { ReportTable } from '../../domain/reports/table';
import { csvField, fileStem, minorToDecimal, moneyFormat, sheetName, tablesToXlsx, tableToCsv } from '../../reports/formats';
import { isoInZone, packDate } from '../../reports/pack';

describe('money as exact decimal strings', () => {
  it('places the point by the currency’s minor digits, without floats', () => {
    expect(minorToDecimal(123_456, 'EUR')).toBe('1234.56');
    expect(minorToDecimal(5, 'EUR')).toBe('0.05');
    expect(minorToDecimal(-5, 'EUR')).toBe('-0.05');
    expect(minorToDecimal(0, 'EUR')).toBe('0.00');
    expect(minorToDecimal(-123_400, 'USD')).toBe('-1234.00');
    expect(minorToDecimal(1000, 'JPY')).toBe('1000'); // no minor digits
    expect(minorToDecimal(7, 'KWD')).toBe('0.007'); // three
    expect(minorToDecimal(1_234_567, 'KWD')).toBe('1234.567');
    // The largest safe integer of cents (dividing it by 100 as a double would not give these digits back).
    expect(minorToDecimal(9_007_199_254_740_991, 'EUR')).toBe('90071992547409.91');
    expect(() => minorToDecimal(1.5, 'EUR')).toThrow(RangeError);
  });

  it('names the currency and its digits in the Excel number format', () => {
    expect(moneyFormat('EUR')).toBe('#,##0.00 "EUR"');
    expect(moneyFormat('JPY')).toBe('#,##0 "JPY"');
    expect(moneyFormat('KWD')).toBe('#,##0.000 "KWD"');
  });
});

describe('sheet names', () => {
  it('keeps Excel’s rules: at most 31 characters, none of []:*?/\\, no edge apostrophes, not History, unique', () => {
    const taken = new Set<string>();
    expect(sheetName('Aging', taken)).toBe('Aging');
    expect(sheetName('aging', taken)).toBe('aging (2)'); // Excel compares names case-insensitively
    expect(sheetName('A/R [2026]: what? *all*\\', taken)).toBe('A-R -2026-- what- -all--');
    const long = sheetName('Collector effectiveness by currency and month', taken);
    expect(long).toBe('Collector effectiveness by curr');
    expect(long).toHaveLength(31);
    const clash = sheetName('Collector effectiveness by currency and week', taken);
    expect(clash).toBe('Collector effectiveness by (2)');
    expect(clash.length).toBeLessThanOrEqual(31);
    expect(sheetName("'quoted'", taken)).toBe('quoted');
    expect(sheetName('History', taken)).toBe('History report');
    expect(sheetName('', taken)).toBe('Sheet');
    for (const name of taken) {
      expect(name.length).toBeLessThanOrEqual(31);
      expect(name).not.toMatch(/[[\]:*?/\\]/);
    }
  });

  it('makes file stems', () => {
    expect(fileStem('Aging by group and currency')).toBe('aging-by-group-and-currency');
    expect(fileStem('DSO count-back')).toBe('dso-count-back');
    expect(fileStem('***')).toBe('report');
  });
});

const table: ReportTable = {
  name: 'Test',
  title: 'A test table',
  columns: [
    { key: 'name', header: 'Name', type: 'text' },
    { key: 'day', header: 'Due', type: 'date' },
    { key: 'n', header: 'Count', type: 'integer' },
    { key: 'open', header: 'Open', type: 'money', currency: 'EUR' },
    { key: 'days', header: 'Days', type: 'days' },
    { key: 'pct', header: 'Share %', type: 'percent' },
  ],
  rows: [
    { name: 'Müller, "Söhne"', day: '2026-03-31', n: 2, open: 123_456, days: 12.5, pct: 33.33 },
    { name: 'line\nbreak', day: null, n: 0, open: -5, days: null, pct: 0 },
  ],
  totals: { name: 'Total', day: null, n: 2, open: 123_451, days: 12.5, pct: 100 },
  notes: ['a note'],
};

describe('CSV', () => {
  it('quotes per RFC 4180', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\r\nlines')).toBe('"two\r\nlines"');
  });

  it('writes a header, the rows and the totals with CRLF, money as decimals and a currency column', () => {
    expect(tableToCsv(table)).toBe(
      'Name,Due,Count,Open,Days,Share %,Currency\r\n' +
        '"Müller, ""Söhne""",2026-03-31,2,1234.56,12.50,33.33,EUR\r\n' +
        '"line\nbreak",,0,-0.05,,0.00,EUR\r\n' +
        'Total,,2,1234.51,12.50,100.00,EUR\r\n',
    );
  });

  it('takes each row’s currency from its currency cell (no extra column)', () => {
    const perCurrency: ReportTable = {
      name: 'By currency',
      title: 't',
      columns: [
        { key: 'currency', header: 'Currency', type: 'text' },
        { key: 'open', header: 'Open', type: 'money', currencyKey: 'currency' },
      ],
      rows: [
        { currency: 'JPY', open: 123_456 },
        { currency: 'KWD', open: 1_000 },
      ],
      totals: null,
    };
    expect(tableToCsv(perCurrency)).toBe('Currency,Open\r\nJPY,123456\r\nKWD,1.000\r\n');
  });
});

describe('XLSX', () => {
  it('writes a sheet per table with title, frozen header, autofilter, formats, totals and notes', async () => {
    const { buffer, sheets } = await tablesToXlsx([table, { ...table, name: 'Test' }], { cover: { name: 'Cover', title: 'Cover title', lines: [['Tenant', 't1']] } });
    expect(sheets).toEqual(['Cover', 'Test', 'Test (2)']);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.load(buffer as never);
    expect(wb.worksheets.map((w) => w.name)).toEqual(sheets);
    expect(wb.getWorksheet('Cover')!.getCell('A3').value).toBe('Tenant');
    expect(wb.getWorksheet('Cover')!.getCell('B3').value).toBe('t1');
    const ws = wb.getWorksheet('Test')!;
    expect(ws.getCell('A1').value).toBe('A test table');
    expect((ws.getRow(3).values as unknown[]).slice(1)).toEqual(['Name', 'Due', 'Count', 'Open', 'Days', 'Share %']);
    expect(ws.views[0]).toMatchObject({ state: 'frozen', ySplit: 3 });
    expect(ws.autoFilter).toBe('A3:F5');
    expect(ws.getCell('B4').value).toEqual(new Date(Date.UTC(2026, 2, 31)));
    expect(ws.getCell('B4').numFmt).toBe('yyyy-mm-dd');
    expect(ws.getCell('D4').value).toBe(1234.56);
    expect(ws.getCell('D4').numFmt).toBe('#,##0.00 "EUR"');
    expect(ws.getCell('D5').value).toBe(-0.05);
    expect(ws.getCell('E4').numFmt).toBe('0.00');
    expect(ws.getCell('F4').numFmt).toBe('0.00"%"');
    expect(ws.getCell('E5').value).toBeNull();
    expect(ws.getCell('A6').value).toBe('Total');
    expect(ws.getCell('D6').value).toBe(1234.51);
    expect(ws.getCell('D6').font?.bold).toBe(true);
    expect(ws.getCell('A8').value).toBe('a note');
  });
});

describe('content negotiation and pack dates', () => {
  it('reads Accept by quality, then order', () => {
    expect(formatFromAccept(undefined)).toBeUndefined();
    expect(formatFromAccept('text/csv')).toBe('csv');
    expect(formatFromAccept('text/csv; charset=utf-8')).toBe('csv');
    expect(formatFromAccept('application/vnd.openxmlformats-officedocument.spreadsheetml.sheet')).toBe('xlsx');
    expect(formatFromAccept('application/json, text/csv')).toBe('json');
    expect(formatFromAccept('application/json;q=0.5, text/csv')).toBe('csv');
    expect(formatFromAccept('text/csv;q=0, */*')).toBe('json');
    expect(formatFromAccept('text/html')).toBeUndefined();
  });

  it('dates a pack: month end by default, or a given as-of day', () => {
    expect(packDate('2026-02')).toEqual({ month: '2026-02', monthEnd: '2026-02-28', asOf: '2026-02-28' });
    expect(packDate('2024-02', '2024-03-04')).toEqual({ month: '2024-02', monthEnd: '2024-02-29', asOf: '2024-03-04' });
  });

  it('writes instants with the zone’s offset at that instant', () => {
    expect(isoInZone(new Date('2026-01-15T12:00:00.123Z'), 'Europe/Berlin')).toBe('2026-01-15T13:00:00.123+01:00');
    expect(isoInZone(new Date('2026-07-15T22:30:00Z'), 'Europe/Berlin')).toBe('2026-07-16T00:30:00.000+02:00');
    expect(isoInZone(new Date('2026-07-15T22:30:00Z'), 'UTC')).toBe('2026-07-15T22:30:00.000+00:00');
    expect(isoInZone(new Date('2026-07-15T22:30:00Z'), 'Asia/Kolkata')).toBe('2026-07-16T04:00:00.000+05:30');
  });
});
