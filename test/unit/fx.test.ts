import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../config/env';
import { loadReportingConfig, PROJECT_ROOT } from '../../config/load';
import { parseArCsv } from '../../domain/ar-csv';
import { convertMinor, fxTableSchema, sumInReporting, type FxTable } from '../../domain/fx';

const EUR: FxTable = { reportingCurrency: 'EUR', rates: { USD: '0.9200', GBP: '1.1700', CHF: '1.0500', JPY: '0.0062' } };

describe('convertMinor', () => {
  it('is the identity for the reporting currency (no rate needed)', () => {
    expect(convertMinor(12_345, 'EUR', EUR)).toBe(12_345);
    expect(convertMinor(0, 'EUR', EUR)).toBe(0);
    expect(convertMinor(-500, 'EUR', { reportingCurrency: 'EUR', rates: {} })).toBe(-500);
  });

  it('converts USD cents to EUR cents', () => {
    expect(convertMinor(10_000, 'USD', EUR)).toBe(9_200); // 100.00 USD = 92.00 EUR
    expect(convertMinor(12_345, 'USD', EUR)).toBe(11_357); // 113.574 -> 113.57
    expect(convertMinor(1, 'USD', EUR)).toBe(1); // 0.92 cent
    expect(convertMinor(10_000, 'GBP', EUR)).toBe(11_700);
  });

  it('respects a zero-digit source currency: JPY has no minor units', () => {
    expect(convertMinor(1_000_000, 'JPY', EUR)).toBe(620_000); // ¥1,000,000 = 6,200.00 EUR
    expect(convertMinor(1, 'JPY', EUR)).toBe(1); // 0.62 cent
    expect(convertMinor(100, 'JPY', EUR)).toBe(62);
  });

  it('respects a three-digit reporting currency (KWD: fils)', () => {
    const kwd: FxTable = { reportingCurrency: 'KWD', rates: { EUR: '0.3300', JPY: '0.00205' } };
    expect(convertMinor(100, 'EUR', kwd)).toBe(330); // 1.00 EUR = 0.330 KWD
    expect(convertMinor(12_345, 'EUR', kwd)).toBe(40_738); // 123.45 * 0.33 = 40.7385 KWD: a tie, to the even 40.738
    expect(convertMinor(12_347, 'EUR', kwd)).toBe(40_745); // 40.7451 -> 40.745
    expect(convertMinor(1_000, 'JPY', kwd)).toBe(2_050); // ¥1,000 = 2.050 KWD
    expect(convertMinor(7, 'KWD', kwd)).toBe(7);
  });

  it('converts to a zero-digit reporting currency (JPY)', () => {
    const jpy: FxTable = { reportingCurrency: 'JPY', rates: { EUR: '161.29' } };
    expect(convertMinor(100, 'EUR', jpy)).toBe(161); // 161.29 -> 161
    expect(convertMinor(150, 'EUR', jpy)).toBe(242); // 241.935 -> 242
  });

  describe('rounds half-even exactly once, at the end', () => {
    const half: FxTable = { reportingCurrency: 'EUR', rates: { USD: '0.5', JPY: '0.005' } };
    it.each([
      [1, 0], // 0.5 -> 0 (even)
      [3, 2], // 1.5 -> 2 (even)
      [5, 2], // 2.5 -> 2
      [7, 4], // 3.5 -> 4
      [-1, 0],
      [-3, -2],
      [-5, -2],
      [-7, -4],
    ])('%i USD cents at 0.5 -> %i EUR cents', (amount, expected) => {
      expect(convertMinor(amount, 'USD', half)).toBe(expected);
    });

    it('exact ties across minor digits: JPY 0.5 cent', () => {
      expect(convertMinor(1, 'JPY', half)).toBe(0); // 0.5 cent
      expect(convertMinor(3, 'JPY', half)).toBe(2); // 1.5 cent
      expect(convertMinor(101, 'JPY', half)).toBe(50); // 50.5 cent
    });

    it('is exact where floats are not: 300 cents at 1.005 is a tie, not 301.4999…', () => {
      expect(300 * 1.005).toBeLessThan(301.5); // the float trap
      const t: FxTable = { reportingCurrency: 'EUR', rates: { USD: '1.005' } };
      expect(convertMinor(300, 'USD', t)).toBe(302); // 301.5 -> 302 (even)
      expect(convertMinor(100, 'USD', t)).toBe(100); // 100.5 -> 100 (even)
      expect(convertMinor(301, 'USD', t)).toBe(303); // 302.505 -> 303 (above half)
    });

    it('just below a tie rounds down, just above rounds up: the exact value decides, not an intermediate rounding', () => {
      // 101 JPY at 0.004999 = 50.4899 cent -> 50; rounding to a tenth of a cent first would give 50.5 and then depend on the tie rule.
      const t: FxTable = { reportingCurrency: 'EUR', rates: { JPY: '0.004999' } };
      expect(convertMinor(101, 'JPY', t)).toBe(50);
      expect(convertMinor(301, 'JPY', t)).toBe(150); // 150.4699 -> 150
      expect(convertMinor(303, 'JPY', { reportingCurrency: 'EUR', rates: { JPY: '0.00500001' } })).toBe(152); // 151.5003 -> 152
    });
  });

  it('keeps every digit when intermediates exceed 2^53 (BigInt)', () => {
    // (2^53 - 1) JPY * 0.0062 EUR * 100 = 5 584 463 537 939 414.42 cents: the product is ~5.6e19 before dividing.
    expect(convertMinor(Number.MAX_SAFE_INTEGER, 'JPY', EUR)).toBe(5_584_463_537_939_414);
    // A rate with many digits: 9 007 199 254 740 991 * 0.123456789012345678 / 1 (USD -> EUR, both 2 digits)
    const precise: FxTable = { reportingCurrency: 'EUR', rates: { USD: '0.123456789012345678' } };
    expect(convertMinor(Number.MAX_SAFE_INTEGER, 'USD', precise)).toBe(1_111_999_897_984_716); // 1 111 999 897 984 715.757…
    expect(convertMinor(-Number.MAX_SAFE_INTEGER, 'USD', precise)).toBe(-1_111_999_897_984_716);
  });

  it('refuses a result beyond the safe integer range instead of losing units', () => {
    expect(() => convertMinor(Number.MAX_SAFE_INTEGER, 'GBP', EUR)).toThrow(RangeError);
    expect(() => convertMinor(Number.MAX_SAFE_INTEGER, 'GBP', EUR)).toThrow(/safe integer range/);
  });

  it('throws a RangeError naming an unknown currency', () => {
    expect(() => convertMinor(100, 'NOK', EUR)).toThrow(RangeError);
    expect(() => convertMinor(100, 'NOK', EUR)).toThrow('no FX rate for "NOK" into EUR (rates are configured for: CHF, GBP, JPY, USD)');
    expect(() => convertMinor(100, 'constructor', EUR)).toThrow(/no FX rate for "constructor"/); // not an inherited property
  });

  it.each([['0'], ['0.0000'], ['-0.92'], ['1e-3'], [' 0.92'], ['0,92'], ['.92'], ['']])('throws a RangeError for the rate %j', (rate) => {
    expect(() => convertMinor(100, 'USD', { reportingCurrency: 'EUR', rates: { USD: rate } })).toThrow(RangeError);
    expect(() => convertMinor(100, 'USD', { reportingCurrency: 'EUR', rates: { USD: rate } })).toThrow(/FX rate for USD must be a positive decimal string/);
  });

  it('throws a RangeError for a float rate or a non-integer amount', () => {
    expect(() => convertMinor(100, 'USD', { reportingCurrency: 'EUR', rates: { USD: 0.92 as unknown as string } })).toThrow(RangeError);
    expect(() => convertMinor(1.5, 'USD', EUR)).toThrow(/amountMinor must be a safe integer/);
    expect(() => convertMinor(Number.NaN, 'EUR', EUR)).toThrow(RangeError);
    expect(() => convertMinor(2 ** 53, 'EUR', EUR)).toThrow(RangeError);
  });
});

describe('sumInReporting', () => {
  it('converts and sums mixed currencies', () => {
    const items = [
      { amountMinor: 10_000, currency: 'USD' }, // 9 200
      { amountMinor: 10_000, currency: 'EUR' }, // 10 000
      { amountMinor: 1_000_000, currency: 'JPY' }, // 620 000
      { amountMinor: 5_000, currency: 'GBP' }, // 5 850
    ];
    expect(sumInReporting(items, EUR)).toBe(645_050);
    expect(sumInReporting([], EUR)).toBe(0);
  });

  it('rounds per item, as the lines of a report show: three lines of 0.5 cent round to 0 each', () => {
    const half: FxTable = { reportingCurrency: 'EUR', rates: { USD: '0.5' } };
    const items = [1, 1, 1].map((amountMinor) => ({ amountMinor, currency: 'USD' }));
    expect(items.map((i) => convertMinor(i.amountMinor, i.currency, half))).toEqual([0, 0, 0]);
    expect(sumInReporting(items, half)).toBe(0); // not round(1.5) = 2
    expect(sumInReporting([{ amountMinor: 3, currency: 'USD' }], half)).toBe(2);
  });

  it('fails on any unknown currency and names the item of a bad amount', () => {
    expect(() => sumInReporting([{ amountMinor: 1, currency: 'USD' }, { amountMinor: 1, currency: 'XAU' }], EUR)).toThrow(/no FX rate for "XAU"/);
    expect(() => sumInReporting([{ amountMinor: 1, currency: 'USD' }, { amountMinor: 0.5, currency: 'USD' }], EUR)).toThrow(/items\[1\]\.amountMinor/);
  });

  it('refuses a total beyond the safe integer range', () => {
    const big = { amountMinor: Number.MAX_SAFE_INTEGER, currency: 'EUR' };
    expect(() => sumInReporting([big, big], EUR)).toThrow(/safe integer range/);
  });
});

describe('fxTableSchema', () => {
  const issues = (value: unknown) => {
    const result = fxTableSchema.safeParse(value);
    expect(result.success).toBe(false);
    return result.error!.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  };

  it('accepts a valid table', () => {
    expect(fxTableSchema.parse(EUR)).toEqual(EUR);
    expect(fxTableSchema.parse({ reportingCurrency: 'USD', rates: {} })).toEqual({ reportingCurrency: 'USD', rates: {} });
  });

  it('rejects non-ISO currency codes, as reporting currency and as rate keys', () => {
    expect(issues({ reportingCurrency: 'eur', rates: { USD: '0.92' } })).toEqual([{ path: 'reportingCurrency', message: 'must be an ISO 4217 currency code, e.g. EUR' }]);
    expect(issues({ reportingCurrency: 'EUR', rates: { usd: '0.92', XYZ: '1', DOLLAR: '1' } })).toEqual([
      { path: 'rates.usd', message: '"usd" is not an ISO 4217 currency code (three upper-case letters Intl knows, e.g. USD)' },
      { path: 'rates.XYZ', message: '"XYZ" is not an ISO 4217 currency code (three upper-case letters Intl knows, e.g. USD)' },
      { path: 'rates.DOLLAR', message: '"DOLLAR" is not an ISO 4217 currency code (three upper-case letters Intl knows, e.g. USD)' },
    ]);
  });

  it('rejects the reporting currency listed as a rate key', () => {
    expect(issues({ reportingCurrency: 'EUR', rates: { EUR: '1', USD: '0.92' } })).toEqual([
      { path: 'rates.EUR', message: 'the reporting currency EUR must not be listed as a rate (it converts 1:1)' },
    ]);
  });

  it('rejects non-positive and malformed rates, and floats', () => {
    const found = issues({ reportingCurrency: 'EUR', rates: { USD: '0', GBP: '-1.17', CHF: '1e0', JPY: 0.0062, SEK: '0.0000', DKK: '0,134' } });
    expect(found.map((i) => i.path)).toEqual(['rates.USD', 'rates.GBP', 'rates.CHF', 'rates.JPY', 'rates.SEK', 'rates.DKK']);
    expect(found.find((i) => i.path === 'rates.USD')!.message).toBe('must be greater than zero');
    expect(found.find((i) => i.path === 'rates.GBP')!.message).toMatch(/must be a positive decimal string such as "0.9200"/);
    expect(found.find((i) => i.path === 'rates.JPY')!.message).toMatch(/expected string/);
  });

  it('names every problem in one parse, bad rates and bad keys together', () => {
    const found = issues({ reportingCurrency: 'EUR', rates: { EUR: '1', USD: 'abc', gbp: '1.17' } });
    expect(found.map((i) => i.path).sort()).toEqual(['rates.EUR', 'rates.USD', 'rates.gbp']);
  });

  it('rejects a missing field, a wrong shape and an unknown top-level key', () => {
    expect(issues({ rates: {} }).map((i) => i.path)).toEqual(['reportingCurrency']);
    expect(issues({ reportingCurrency: 'EUR', rates: [] }).map((i) => i.path)).toEqual(['rates']);
    expect(issues({ reportingCurrency: 'EUR', rates: {}, rate: {} }).map((i) => i.path)).toEqual(['']);
  });
});

describe('config/reporting.json', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('loads: EUR reporting, the documented currencies', () => {
    const table = loadReportingConfig();
    expect(table.reportingCurrency).toBe('EUR');
    expect(Object.keys(table.rates).sort()).toEqual(['AUD', 'CAD', 'CHF', 'CNY', 'CZK', 'DKK', 'GBP', 'INR', 'JPY', 'PLN', 'SEK', 'USD']);
    expect(convertMinor(10_000, 'USD', table)).toBe(9_200);
  });

  it('covers every currency of the demo data (dev/demo-invoices.csv)', () => {
    const table = loadReportingConfig();
    const { rows, errors } = parseArCsv(readFileSync(path.join(PROJECT_ROOT, 'dev/demo-invoices.csv'), 'utf8'));
    expect(errors).toEqual([]);
    const currencies = new Set(rows.map((r) => r.currency));
    expect(currencies.size).toBeGreaterThan(0);
    for (const c of currencies) expect(c === table.reportingCurrency || Object.hasOwn(table.rates, c), c).toBe(true);
    expect(sumInReporting(rows, table)).toBeGreaterThan(0);
  });

  it('an invalid file fails with a ConfigError naming every issue', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fx-'));
    dirs.push(dir);
    const file = path.join(dir, 'reporting.json');
    writeFileSync(file, JSON.stringify({ reportingCurrency: 'EUR', rates: { EUR: '1', USD: '-0.92', us: '1' } }));
    let error: unknown;
    try {
      loadReportingConfig(file);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems.some((p) => p.includes('at rates.USD:'))).toBe(true);
    expect(problems.some((p) => p.includes('at rates.EUR: the reporting currency EUR must not be listed'))).toBe(true);
    expect(problems.some((p) => p.includes('at rates.us: "us" is not an ISO 4217 currency code'))).toBe(true);
  });

  it('a file that is not JSON fails with a ConfigError', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fx-'));
    dirs.push(dir);
    const file = path.join(dir, 'reporting.json');
    writeFileSync(file, '{ "reportingCurrency": ');
    expect(() => loadReportingConfig(file)).toThrow(ConfigError);
  });
});
