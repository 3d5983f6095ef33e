import { describe, expect, it } from 'vitest';
import { minorToDecimal } from '../../dev/tryton';
import { date, datetime, decimalToMinor, minorToDecimalString, TrytonDecimal } from '../../integrations/erp/tryton-rpc';

describe("Tryton's Decimal and minor units", () => {
  it('turns decimal strings into minor units exactly, by the currency digits', () => {
    expect(decimalToMinor(new TrytonDecimal('12.34'), 2)).toBe(1234);
    expect(decimalToMinor('0.1', 2)).toBe(10);
    expect(decimalToMinor('100', 2)).toBe(10000);
    expect(decimalToMinor('-50.00', 2)).toBe(-5000);
    expect(decimalToMinor('0', 2)).toBe(0);
    expect(decimalToMinor('-0.00', 2)).toBe(0);
    expect(decimalToMinor('1234', 0)).toBe(1234);
    expect(decimalToMinor('1.234', 3)).toBe(1234);
    // Trailing zeros beyond the digits are exact; a float would make 0.29 * 100 = 28.999999999999996.
    expect(decimalToMinor('0.2900', 2)).toBe(29);
    expect(decimalToMinor('90071992547409.91', 2)).toBe(9007199254740991);
  });

  it('refuses what is not a decimal, more precision than the currency has, or a number too large to hold', () => {
    expect(() => decimalToMinor('12.345', 2)).toThrow(/more than 2 decimals/);
    expect(() => decimalToMinor('1e3', 2)).toThrow(/not a decimal/);
    expect(() => decimalToMinor('', 2)).toThrow(/not a decimal/);
    expect(() => decimalToMinor('90071992547409.92', 2)).toThrow(/too large/);
  });

  it('writes minor units as the decimal string Tryton takes', () => {
    expect(minorToDecimalString(1234, 2)).toBe('12.34');
    expect(minorToDecimalString(5, 2)).toBe('0.05');
    expect(minorToDecimalString(-5, 2)).toBe('-0.05');
    expect(minorToDecimalString(1234, 0)).toBe('1234');
    expect(minorToDecimal(100000)).toBe('1000.00');
    expect(() => minorToDecimalString(1.5, 2)).toThrow(/not an integer/);
    for (const minor of [0, 1, 99, 100, 12345, 987654321]) expect(decimalToMinor(minorToDecimalString(minor, 2), 2)).toBe(minor);
  });

  it("encodes dates and instants as Tryton's typed objects", () => {
    expect(date('2026-02-03')).toEqual({ __class__: 'date', year: 2026, month: 2, day: 3 });
    expect(datetime('2026-11-30T16:40:14.534308Z')).toEqual({ __class__: 'datetime', year: 2026, month: 11, day: 30, hour: 16, minute: 40, second: 14, microsecond: 534308 });
    expect(datetime('2026-11-30T16:40:14Z')).toMatchObject({ second: 14, microsecond: 0 });
    expect(() => datetime('yesterday')).toThrow(/not an ISO instant/);
  });
});
