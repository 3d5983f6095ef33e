import { arSampleText, hasArSample } from '../support/ar-sample';
import { describe, expect, it } from 'vitest';
import { type ArInvoiceRecord, parseArCsv } from '../../domain/ar-csv';
import { addDays, agingBucket, daysBetween, daysPastDue } from '../../domain/aging';
import {
  COUNTRY_PROFILES,
  buildDemoPortfolio,
  countryProfile,
  demoCompanyName,
  demoCustomerEmail,
  type DemoPortfolio,
} from '../../dev/demo-portfolio';

const { rows, errors } = hasArSample ? parseArCsv(arSampleText()) : { rows: [], errors: [] };
const byNumber = new Map(rows.map((r) => [r.invoiceNumber, r]));

const asOf = '2013-06-28';
const today = '2025-03-14';

function spread(p: DemoPortfolio): Record<string, number> {
  const s: Record<string, number> = {};
  for (const i of p.invoices) s[i.agingBucket] = (s[i.agingBucket] ?? 0) + 1;
  return s;
}

describe.skipIf(!hasArSample)('buildDemoPortfolio on the real AR sample', () => {
  const portfolio = buildDemoPortfolio(rows, { asOf, today });

  it('the data parsed cleanly', () => {
    expect(errors).toEqual([]);
  });

  it('returns exactly the invoices open on asOf (issued ≤ asOf, settled > asOf)', () => {
    for (const inv of portfolio.invoices) {
      const orig = byNumber.get(inv.invoiceNumber)!;
      expect(orig.invoiceDate <= asOf).toBe(true);
      expect(orig.settledDate > asOf).toBe(true);
      expect(inv.customerId).toBe(orig.customerId);
      expect(inv.amountMinor).toBe(orig.amountMinor);
    }
    const openCount = rows.filter((r) => r.invoiceDate <= asOf && r.settledDate > asOf).length;
    expect(portfolio.invoices).toHaveLength(openCount);
    expect(openCount).toBe(84);
    expect(new Set(portfolio.invoices.map((i) => i.invoiceNumber)).size).toBe(84);
  });

  it('asOf maps to today and every date is shifted by the same number of days', () => {
    expect(portfolio.shiftDays).toBe(daysBetween(asOf, today));
    expect(addDays(asOf, portfolio.shiftDays)).toBe(today);
    for (const inv of portfolio.invoices) {
      const orig = byNumber.get(inv.invoiceNumber)!;
      expect(daysBetween(orig.invoiceDate, inv.invoiceDate)).toBe(portfolio.shiftDays);
      expect(daysBetween(orig.dueDate, inv.dueDate)).toBe(portfolio.shiftDays);
      expect(daysBetween(orig.settledDate, inv.expectedPaymentDate)).toBe(portfolio.shiftDays);
      // offsets between the dates are kept, so days past due today = days past due on asOf
      expect(daysBetween(inv.invoiceDate, inv.dueDate)).toBe(daysBetween(orig.invoiceDate, orig.dueDate));
      expect(inv.daysPastDue).toBe(daysPastDue(orig.dueDate, asOf));
      expect(inv.daysPastDue).toBe(daysPastDue(inv.dueDate, today));
      expect(inv.agingBucket).toBe(agingBucket(inv.daysPastDue));
      // issued on or before today, paid after it
      expect(inv.invoiceDate <= today).toBe(true);
      expect(inv.expectedPaymentDate > today).toBe(true);
    }
  });

  it('is deterministic across calls and independent of input order', () => {
    expect(buildDemoPortfolio(rows, { asOf, today })).toEqual(portfolio);
    expect(buildDemoPortfolio([...rows].reverse(), { asOf, today })).toEqual(portfolio);
    const limited = { asOf, today, maxCustomers: 12, maxInvoices: 15 };
    expect(buildDemoPortfolio([...rows].reverse(), limited)).toEqual(buildDemoPortfolio(rows, limited));
  });

  it('spreads over days past due: on 2013-06-28, 77 current and 7 in 1-30 (the data has nothing older)', () => {
    expect(spread(portfolio)).toEqual({ current: 77, '1-30': 7 });
    const notYetDue = portfolio.invoices.filter((i) => i.daysPastDue < 0).length;
    const dueToday = portfolio.invoices.filter((i) => i.daysPastDue === 0).length;
    expect(notYetDue + dueToday).toBe(77);
    expect(Math.max(...portfolio.invoices.map((i) => i.daysPastDue))).toBe(12);
  });

  it('a month-end with a 31-60 invoice exists: 2013-01-31 (the one invoice paid 45 days late)', () => {
    const jan = buildDemoPortfolio(rows, { asOf: '2013-01-31', today });
    expect(Object.keys(spread(jan)).sort()).toEqual(['1-30', '31-60', 'current']);
    const old = jan.invoices.filter((i) => i.agingBucket === '31-60');
    expect(old.map((i) => [i.customerId, i.daysPastDue])).toEqual([['2621-XCLEH', 44]]);
  });

  it('ranks customers by open overdue amount on asOf, ties by open amount, then id', () => {
    const overdue = (id: string) =>
      portfolio.invoices.filter((i) => i.customerId === id && i.daysPastDue > 0).reduce((s, i) => s + i.amountMinor, 0);
    const openAmt = (id: string) =>
      portfolio.invoices.filter((i) => i.customerId === id).reduce((s, i) => s + i.amountMinor, 0);
    const ids = portfolio.customers.map((c) => c.customerId);
    for (let k = 1; k < ids.length; k++) {
      const [a, b] = [ids[k - 1]!, ids[k]!];
      const cmp = overdue(b) - overdue(a) || openAmt(b) - openAmt(a) || (a < b ? -1 : 1);
      expect(cmp).toBeLessThan(0);
    }
    expect(overdue(ids[0]!)).toBeGreaterThan(0);
  });

  it('maxCustomers keeps the top-ranked customers and all their open invoices', () => {
    const top = buildDemoPortfolio(rows, { asOf, today, maxCustomers: 10 });
    expect(top.customers.map((c) => c.customerId)).toEqual(portfolio.customers.slice(0, 10).map((c) => c.customerId));
    const kept = new Set(top.customers.map((c) => c.customerId));
    expect(top.invoices).toEqual(portfolio.invoices.filter((i) => kept.has(i.customerId)));
    expect(Object.keys(spread(top)).sort()).toEqual(['1-30', 'current']);
  });

  it('maxInvoices takes invoices round-robin over buckets so a small demo still shows each range', () => {
    const small = buildDemoPortfolio(rows, { asOf, today, maxInvoices: 12 });
    expect(small.invoices).toHaveLength(12);
    expect(spread(small)).toEqual({ current: 6, '1-30': 6 });
    const withInvoices = new Set(small.invoices.map((i) => i.customerId));
    expect(small.customers.map((c) => c.customerId).every((id) => withInvoices.has(id))).toBe(true);
    expect(small.customers).toHaveLength(withInvoices.size);
    expect(buildDemoPortfolio(rows, { asOf, today, maxInvoices: 0 })).toMatchObject({ invoices: [], customers: [] });
  });

  it('produces a customer record for every invoice customer, and only those', () => {
    expect(portfolio.customers.map((c) => c.customerId).sort()).toEqual(
      [...new Set(portfolio.invoices.map((i) => i.customerId))].sort(),
    );
    expect(portfolio.customers).toHaveLength(54);
    for (const c of portfolio.customers) {
      const r = rows.find((x) => x.customerId === c.customerId) as ArInvoiceRecord;
      expect(c.email).toBe(`ar+${c.customerId.toLowerCase()}@customer.example`);
      expect(c.countryCode).toBe(r.countryCode);
      expect({ timeZone: c.timeZone, locale: c.locale, country: c.country, ...(c.region ? { region: c.region } : {}) }).toEqual(COUNTRY_PROFILES[r.countryCode]);
      expect(c.paperless).toBe(r.paperlessDate <= asOf);
      expect(c).not.toHaveProperty('segment');
    }
  });
});

describe.skipIf(!hasArSample)('demo customer identity', () => {
  const ids = [...new Set(rows.map((r) => r.customerId))];

  it('names are readable, fixed per id and distinct for the 100 customers', () => {
    const names = ids.map(demoCompanyName);
    expect(new Set(names).size).toBe(100);
    expect(names.every((n) => /^[A-Z][a-z]+ [A-Z][a-z]+ (Inc\.|LLC|Ltd|Co\.|Group|Partners|Holdings)$/.test(n))).toBe(true);
    expect(demoCompanyName('0379-NEVHP')).toBe(demoCompanyName('0379-NEVHP'));
    expect(demoCompanyName('0379-NEVHP')).toBe('Aurora Furniture Holdings'); // pinned: names must not drift
  });

  it('builds the email from the lower-cased id on a reserved domain', () => {
    expect(demoCustomerEmail('0379-NEVHP')).toBe('ar+0379-nevhp@customer.example');
  });

  it('maps each of the 5 country codes to a valid IANA zone and locale; unknown codes fall back to UTC', () => {
    expect(Object.keys(COUNTRY_PROFILES).sort()).toEqual([...new Set(rows.map((r) => r.countryCode))].sort());
    for (const { timeZone, locale } of Object.values(COUNTRY_PROFILES)) {
      expect(() => new Intl.DateTimeFormat('en-US', { timeZone })).not.toThrow();
      expect(Intl.getCanonicalLocales(locale)).toEqual([locale]);
    }
    expect(countryProfile('999')).toEqual({ timeZone: 'UTC', locale: 'en-US', country: 'US' });
    expect(countryProfile('toString')).toEqual({ timeZone: 'UTC', locale: 'en-US', country: 'US' });
  });
});

describe.skipIf(!hasArSample)('buildDemoPortfolio edge cases', () => {
  it('an asOf before the data yields an empty portfolio; today before asOf shifts backwards', () => {
    expect(buildDemoPortfolio(rows, { asOf: '2011-12-31', today })).toMatchObject({ invoices: [], customers: [] });
    const back = buildDemoPortfolio(rows, { asOf, today: '2013-06-01' });
    expect(back.shiftDays).toBe(-27);
    expect(back.invoices).toHaveLength(84);
  });

  it('rejects bad dates and limits', () => {
    expect(() => buildDemoPortfolio(rows, { asOf: '2013-06-31', today })).toThrow(RangeError);
    expect(() => buildDemoPortfolio(rows, { asOf, today: 'tomorrow' })).toThrow(RangeError);
    expect(() => buildDemoPortfolio(rows, { asOf, today, maxCustomers: -1 })).toThrow(RangeError);
    expect(() => buildDemoPortfolio(rows, { asOf, today, maxInvoices: 2.5 })).toThrow(RangeError);
  });

  it('disambiguates colliding names within a portfolio', () => {
    // find two ids whose generated names collide (deterministic search over a fixed id pattern)
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let n = 0; n < 100_000 && !pair; n++) {
      const id = `${String(n).padStart(4, '0')}-TEST`;
      const name = demoCompanyName(id);
      const other = seen.get(name);
      if (other) pair = [other, id];
      else seen.set(name, id);
    }
    const [a, b] = pair!;
    const mk = (customerId: string, invoiceNumber: string): ArInvoiceRecord => ({
      ...rows[0]!,
      customerId,
      invoiceNumber,
      invoiceDate: '2013-06-01',
      dueDate: '2013-07-01',
      settledDate: '2013-07-05',
    });
    const p = buildDemoPortfolio([mk(a, '1'), mk(b, '2')], { asOf, today });
    expect(p.customers.map((c) => c.name)).toEqual([demoCompanyName(a), `${demoCompanyName(b)} (${b})`]);
  });
});

describe.skipIf(!hasArSample)('country profiles and holiday calendars', () => {
  it('name a country (and region) that the holiday calendar knows', async () => {
    const { businessCalendarFor } = await import('../../integrations/holidays');
    for (const profile of Object.values(COUNTRY_PROFILES)) {
      expect(businessCalendarFor(profile.country, profile.region, 2026, 2026).holidays.length).toBeGreaterThan(3);
    }
  });
});
