import { arSampleText, hasArSample } from '../support/ar-sample';
import { describe, expect, it } from 'vitest';
import { parseArCsv } from '../../domain/ar-csv';
import { buildDemoPortfolio } from '../../dev/demo-portfolio';
import { DEFAULT_DEMO_CSV, DEMO_AS_OF, loadDemoPortfolio } from '../../dev/seed';


describe('the shipped demo extract (dev/demo-invoices.csv)', () => {
  it.skipIf(!hasArSample)('yields exactly the portfolio the full IBM sample yields', () => {
    const today = '2026-11-23';
    const full = parseArCsv(arSampleText());
    const expected = buildDemoPortfolio(full.rows, { asOf: DEMO_AS_OF, today, maxCustomers: 6, maxInvoices: 12 });
    expect(loadDemoPortfolio(DEFAULT_DEMO_CSV, today)).toEqual(expected);
  });

  it('spans several aging buckets and schedules every payment after today', () => {
    const portfolio = loadDemoPortfolio(DEFAULT_DEMO_CSV, '2026-11-23');
    expect(portfolio.customers.length).toBe(6);
    expect(new Set(portfolio.invoices.map((i) => i.agingBucket)).size).toBeGreaterThanOrEqual(3);
    for (const inv of portfolio.invoices) expect(inv.expectedPaymentDate > '2026-11-23').toBe(true);
  });
});
