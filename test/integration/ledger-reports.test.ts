import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadReportsConfig } from '../../config/load';
import { upsertLedgerInvoices, type LedgerInvoice } from '../../db/ledger';
import { migrate } from '../../db/migrate';
import { insertPaymentOnce } from '../../db/payments';
import { writeReportSettings } from '../../db/report-settings';
import { createSql, type Sql } from '../../db/sql';
import { addDays } from '../../domain/aging';
import type { FxTable } from '../../domain/fx';
import { bucketLabels, bucketOf } from '../../domain/reports/config';
import { NoExchangeRateError } from '../../domain/reports/aging-lines';
import type { ReportContext } from '../../reports/definition';
import { ledgerReports, ReportQueryError } from '../../reports/ledger';
import { userWithToken } from '../support/auth';
import { startTestApp, type TestApp } from '../support/test-app';

/**
 * The ledger reports (aging, DSO, CEI) over a small portfolio written through the real paths: ledger rows through
 * upsertLedgerInvoices (the import's writer; settled ones with their settled date), partial payments as ERP webhook
 * payments (insertPaymentOnce, source erp_webhook), the triggers of migration 017 turning them into ar_items and
 * dated ar_postings, the reports' SQL and formulas on top. Every expected figure is worked out by hand below.
 *
 * Reporting currency EUR; rates (given here, as config/reporting.json has them): 1 USD = 0.92 EUR, 1 GBP = 1.17 EUR.
 *
 * The portfolio (amounts in minor units; D = 2026-03-31):
 *   ACME  (customers, collector col-a, strategic)
 *     A1 EUR 120,000  issued 2026-03-10 due 2026-04-09  open                                    D: current
 *     A2 EUR  50,000  issued 2026-01-05 due 2026-02-04  ERP pays 20,000 on 03-20, 10,000 on 04-10 D: 55 days, open 30,000
 *     A3 EUR  30,000  issued 2025-12-01 due 2025-12-31  paid, settled 2026-03-31 (ON D)         D: not open
 *     A4 USD  40,000  issued 2025-11-15 due 2025-12-15  open                                    D: 106 days (91+)
 *     A5 EUR   5,000  issued 2026-03-31 due 2026-04-30  open (issued ON D)                      D: current
 *   BETA  (customers, collector col-b, standard)
 *     B1 GBP  60,000  issued 2026-03-01 due 2026-03-31  open                                    D: 0 days, current
 *     B2 GBP  25,000  issued 2026-01-20 due 2026-03-01  open                                    D: 30 days (1-30)
 *     B3 USD  80,000  issued 2025-12-20 due 2026-01-19  ERP pays 30,000 on 02-10                D: 71 days (61-90), open 50,000
 *     B4 EUR  45,000  issued 2026-01-10 due 2026-02-09  paid, settled 2026-03-30                D: not open
 *   GAMMA (ledger only: ledger_customers "Gamma Inc", no collector, no segment)
 *     G1 EUR  15,000  issued 2025-10-01 due 2025-10-31  open                                    D: 151 days (91+)
 *     G2 EUR  20,000  issued 2026-04-02 due 2026-05-02  open                                    D: not issued yet
 *     G3 EUR  10,000  issued 2025-11-20 due 2025-12-20  paid, settled 2026-01-15                D: not open
 * No invoice is issued in February 2026: a month without sales.
 * Later, for the refusal of a currency without a rate only: N1 NOK 10,000 of GAMMA issued 2026-06-01 (config/reporting.json
 * has no NOK rate); it is outside every figure above (issued after March 2026).
 */
const tenantId = `ledrep-${randomUUID().slice(0, 8)}`;
const fx: FxTable = { reportingCurrency: 'EUR', rates: { USD: '0.9200', GBP: '1.1700' } };
const config = loadReportsConfig();
let sql: Sql;

const [aging, dso, cei] = ['aging', 'dso', 'cei'].map((name) => ledgerReports.find((r) => r.name === name)!) as [
  (typeof ledgerReports)[number],
  (typeof ledgerReports)[number],
  (typeof ledgerReports)[number],
];

/** A report run as the API runs it: the query parsed by its schema, then run with a context. */
async function run(report: (typeof ledgerReports)[number], query: Record<string, string>, over: Partial<ReportContext> = {}) {
  const ctx: ReportContext = { sql, tenantId, collectorId: undefined, fx, config, today: '2026-04-15', ...over };
  return report.run(ctx, report.query.parse(query));
}

const ledgerRow = (invoiceNumber: string, customerId: string, currency: string, amountMinor: number, issueDate: string, dueDate: string, settledDate: string | null = null): LedgerInvoice => ({
  invoiceNumber,
  customerId,
  currency,
  amountMinor,
  openAmountMinor: settledDate ? 0 : amountMinor,
  status: settledDate ? 'paid' : 'open',
  issueDate,
  dueDate,
  settledDate,
  rebillOf: null,
  disputed: false,
});
const erpPayment = (paymentId: string, invoiceNumber: string, currency: string, amountMinor: number, receivedAt: string) =>
  insertPaymentOnce(sql, { tenantId, paymentId, invoiceNumber, amountMinor, currency, receivedAt, source: 'erp_webhook' });

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 2 });
  await migrate(sql);
  await writeReportSettings(sql, tenantId, 'Europe/Berlin');
  await sql`insert into users (tenant_id, user_id, name, role) values (${tenantId}, 'col-a', 'Anna Collector', 'collector'), (${tenantId}, 'col-b', 'Ben Collector', 'collector')`;
  await sql`insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, segment) values
            (${tenantId}, 'ACME', 'Acme GmbH', 'ap@acme.example', 'Europe/Berlin', 'de-DE', 'col-a', 'strategic'),
            (${tenantId}, 'BETA', 'Beta Ltd', 'ap@beta.example', 'Europe/London', 'en-GB', 'col-b', 'standard')`;
  await sql`insert into ledger_customers (tenant_id, customer_id, name, source) values (${tenantId}, 'GAMMA', 'Gamma Inc', 'import')`;
  await upsertLedgerInvoices(
    sql,
    tenantId,
    [
      ledgerRow('A1', 'ACME', 'EUR', 120_000, '2026-03-10', '2026-04-09'),
      ledgerRow('A2', 'ACME', 'EUR', 50_000, '2026-01-05', '2026-02-04'),
      ledgerRow('A3', 'ACME', 'EUR', 30_000, '2025-12-01', '2025-12-31', '2026-03-31'),
      ledgerRow('A4', 'ACME', 'USD', 40_000, '2025-11-15', '2025-12-15'),
      ledgerRow('A5', 'ACME', 'EUR', 5_000, '2026-03-31', '2026-04-30'),
      ledgerRow('B1', 'BETA', 'GBP', 60_000, '2026-03-01', '2026-03-31'),
      ledgerRow('B2', 'BETA', 'GBP', 25_000, '2026-01-20', '2026-03-01'),
      ledgerRow('B3', 'BETA', 'USD', 80_000, '2025-12-20', '2026-01-19'),
      ledgerRow('B4', 'BETA', 'EUR', 45_000, '2026-01-10', '2026-02-09', '2026-03-30'),
      ledgerRow('G1', 'GAMMA', 'EUR', 15_000, '2025-10-01', '2025-10-31'),
      ledgerRow('G2', 'GAMMA', 'EUR', 20_000, '2026-04-02', '2026-05-02'),
      ledgerRow('G3', 'GAMMA', 'EUR', 10_000, '2025-11-20', '2025-12-20', '2026-01-15'),
      ledgerRow('N1', 'GAMMA', 'NOK', 10_000, '2026-06-01', '2026-07-01'),
    ],
    { source: 'import' },
  );
  // Partial payments from the ERP's webhook, dated in Europe/Berlin: one before D and one after it on A2, one on B3.
  await erpPayment('P-A2-1', 'A2', 'EUR', 20_000, '2026-03-20T10:00:00Z');
  await erpPayment('P-A2-2', 'A2', 'EUR', 10_000, '2026-04-10T10:00:00Z');
  await erpPayment('P-B3-1', 'B3', 'USD', 30_000, '2026-02-10T09:00:00Z');
});
afterAll(async () => {
  await sql?.end();
});

const zeroBuckets = { current: 0, '1-30': 0, '31-60': 0, '61-90': 0, '91+': 0 };

describe('aging as of 2026-03-31', () => {
  /*
   * Open at D (A3 settled ON D, B4 on 03-30, G3 in January, G2 not issued yet: none of them):
   *   EUR  A1 120,000 current, A5 5,000 current, A2 50,000 - 20,000 (03-20; the 04-10 payment is after D) = 30,000
   *        in 31-60 (55 days: 24 left of February + 31), G1 15,000 in 91+ (151 days: 30 + 31 + 31 + 28 + 31)
   *        -> count 4, open 170,000, current 125,000, past due 45,000, 45,000 / 170,000 = 26.4705...% -> 26.47
   *   GBP  B1 60,000 current (0 days: due on D), B2 25,000 in 1-30 (30 days: 28 - 1 + 3... = Mar 31 - Mar 1 = 30)
   *        -> count 2, open 85,000, past due 25,000, 25,000 / 85,000 = 29.4117...% -> 29.41
   *   USD  B3 80,000 - 30,000 = 50,000 in 61-90 (71 days: 12 + 28 + 31), A4 40,000 in 91+ (106 days: 16 + 31 + 28 + 31)
   *        -> count 2, open 90,000, past due 90,000, 100 %
   * In EUR, each currency's figure converted once: GBP 85,000 * 1.17 = 99,450 (current 70,200, 1-30 29,250, past due
   * 29,250); USD 90,000 * 0.92 = 82,800 (61-90 46,000, 91+ 36,800, past due 82,800).
   *   total: count 8, open 170,000 + 99,450 + 82,800 = 352,250; current 125,000 + 70,200 = 195,200; 1-30 29,250;
   *   31-60 30,000; 61-90 46,000; 91+ 15,000 + 36,800 = 51,800; past due 45,000 + 29,250 + 82,800 = 157,050;
   *   157,050 / 352,250 = 44.5848...% -> 44.58
   */
  const eur = { currency: 'EUR', count: 4, openMinor: 170_000, pastDueMinor: 45_000, pastDuePercent: 26.47, buckets: { ...zeroBuckets, current: 125_000, '31-60': 30_000, '91+': 15_000 } };
  const gbp = { currency: 'GBP', count: 2, openMinor: 85_000, pastDueMinor: 25_000, pastDuePercent: 29.41, buckets: { ...zeroBuckets, current: 60_000, '1-30': 25_000 } };
  const usd = { currency: 'USD', count: 2, openMinor: 90_000, pastDueMinor: 90_000, pastDuePercent: 100, buckets: { ...zeroBuckets, '61-90': 50_000, '91+': 40_000 } };
  const total = { count: 8, openMinor: 352_250, pastDueMinor: 157_050, pastDuePercent: 44.58, buckets: { current: 195_200, '1-30': 29_250, '31-60': 30_000, '61-90': 46_000, '91+': 51_800 } };
  /*
   * Per customer, in EUR:
   *   ACME  EUR 125,000 current + 30,000 (31-60); USD 40,000 -> 36,800 (91+): count 4, open 155,000 + 36,800 = 191,800,
   *         past due 30,000 + 36,800 = 66,800, 66,800 / 191,800 = 34.8279...% -> 34.83
   *   BETA  GBP 85,000 -> 99,450 (current 70,200, 1-30 29,250); USD 50,000 -> 46,000 (61-90): count 3,
   *         open 145,450, past due 29,250 + 46,000 = 75,250, 75,250 / 145,450 = 51.7360...% -> 51.74
   *   GAMMA EUR 15,000 in 91+: 100 %
   * Largest open amount first.
   */
  const acme = {
    key: 'ACME',
    name: 'Acme GmbH',
    count: 4,
    openMinor: 191_800,
    pastDueMinor: 66_800,
    pastDuePercent: 34.83,
    buckets: { ...zeroBuckets, current: 125_000, '31-60': 30_000, '91+': 36_800 },
    byCurrency: [
      { currency: 'EUR', count: 3, openMinor: 155_000, pastDueMinor: 30_000, pastDuePercent: 19.35, buckets: { ...zeroBuckets, current: 125_000, '31-60': 30_000 } }, // 30,000 / 155,000 = 19.354...%
      { currency: 'USD', count: 1, openMinor: 40_000, pastDueMinor: 40_000, pastDuePercent: 100, buckets: { ...zeroBuckets, '91+': 40_000 } },
    ],
  };
  const beta = {
    key: 'BETA',
    name: 'Beta Ltd',
    count: 3,
    openMinor: 145_450,
    pastDueMinor: 75_250,
    pastDuePercent: 51.74,
    buckets: { ...zeroBuckets, current: 70_200, '1-30': 29_250, '61-90': 46_000 },
    byCurrency: [gbp, { currency: 'USD', count: 1, openMinor: 50_000, pastDueMinor: 50_000, pastDuePercent: 100, buckets: { ...zeroBuckets, '61-90': 50_000 } }],
  };
  const gamma = {
    key: 'GAMMA',
    name: 'Gamma Inc',
    count: 1,
    openMinor: 15_000,
    pastDueMinor: 15_000,
    pastDuePercent: 100,
    buckets: { ...zeroBuckets, '91+': 15_000 },
    byCurrency: [{ currency: 'EUR', count: 1, openMinor: 15_000, pastDueMinor: 15_000, pastDuePercent: 100, buckets: { ...zeroBuckets, '91+': 15_000 } }],
  };

  it('by customer (the default): every bucket, past-due %, by currency and converted', async () => {
    expect(await run(aging, { asOf: '2026-03-31' })).toEqual({
      report: 'aging',
      asOf: '2026-03-31',
      reportingCurrency: 'EUR',
      buckets: ['current', '1-30', '31-60', '61-90', '91+'],
      total,
      byCurrency: [eur, gbp, usd],
      groups: [acme, beta, gamma],
    });
  });

  it('by collector (unassigned for a ledger-only customer), by segment, by currency, none, one currency', async () => {
    const byCollector = await run(aging, { asOf: '2026-03-31', groupBy: 'collector' });
    expect(byCollector.groups.map((g: { key: string; name: string | null; openMinor: number }) => [g.key, g.name, g.openMinor])).toEqual([
      ['col-a', 'Anna Collector', 191_800],
      ['col-b', 'Ben Collector', 145_450],
      ['unassigned', null, 15_000],
    ]);
    expect(byCollector.total).toEqual(total);
    const bySegment = await run(aging, { asOf: '2026-03-31', groupBy: 'segment' });
    expect(bySegment.groups.map((g: { key: string; openMinor: number }) => [g.key, g.openMinor])).toEqual([
      ['strategic', 191_800],
      ['standard', 145_450],
      ['unassigned', 15_000],
    ]);
    // By currency: each group is one currency, in EUR: EUR 170,000, GBP 99,450, USD 82,800.
    const byCurrency = await run(aging, { asOf: '2026-03-31', groupBy: 'currency' });
    expect(byCurrency.groups.map((g: { key: string; openMinor: number; pastDueMinor: number }) => [g.key, g.openMinor, g.pastDueMinor])).toEqual([
      ['EUR', 170_000, 45_000],
      ['GBP', 99_450, 29_250],
      ['USD', 82_800, 82_800],
    ]);
    const none = await run(aging, { asOf: '2026-03-31', groupBy: 'none' });
    expect(none.groups).toEqual([]);
    expect(none.total).toEqual(total);
    // Only USD: A4 and B3, 90,000 USD = 82,800 EUR, all past due.
    const onlyUsd = await run(aging, { asOf: '2026-03-31', groupBy: 'none', currency: 'USD' });
    expect(onlyUsd.byCurrency).toEqual([usd]);
    expect(onlyUsd.total).toEqual({ count: 2, openMinor: 82_800, pastDueMinor: 82_800, pastDuePercent: 100, buckets: { ...zeroBuckets, '61-90': 46_000, '91+': 36_800 } });
  });

  it('the day before: an invoice settled on D is still open on D - 1, one settled on D - 1 is not', async () => {
    /*
     * At 2026-03-30: A3 (settled 03-31) open, 30,000 EUR, 89 days past due (Dec 31 -> Mar 30: 31 + 28 + 30) -> 61-90.
     * B4 settled 03-30: not open. A5 (issued 03-31): not issued yet. Everything else as at D, one day younger:
     * A1 current; A2 30,000 (54 days, 31-60); G1 150 days (91+); B1 due tomorrow: current; B2 29 days (1-30);
     * B3 70 days (61-90); A4 105 days (91+).
     * EUR: current 120,000, 31-60 30,000, 61-90 30,000, 91+ 15,000 -> open 195,000, past due 75,000.
     */
    const r = await run(aging, { asOf: '2026-03-30', groupBy: 'none' });
    expect(r.byCurrency[0]).toEqual({ currency: 'EUR', count: 4, openMinor: 195_000, pastDueMinor: 75_000, pastDuePercent: 38.46, buckets: { ...zeroBuckets, current: 120_000, '31-60': 30_000, '61-90': 30_000, '91+': 15_000 } }); // 75/195 = 38.4615%
  });

  it('a partial payment before D reduces the amount open at D, one after D does not', async () => {
    // A2 at 2026-03-19: nothing paid yet, 50,000 open; at 03-20: 30,000 (the 04-10 payment is not counted); at 04-10: 20,000.
    const a2At = async (asOf: string) => (await run(aging, { asOf, groupBy: 'customer', currency: 'EUR' })).groups.find((g: { key: string }) => g.key === 'ACME').buckets['31-60'];
    expect(await a2At('2026-03-19')).toBe(50_000); // 43 days past due (24 + 19)
    expect(await a2At('2026-03-20')).toBe(30_000);
  });

  it("a collector's aging covers their portfolio only; a manager's covers all", async () => {
    const a = await run(aging, { asOf: '2026-03-31' }, { collectorId: 'col-a' });
    expect(a.groups).toEqual([acme]);
    expect(a.total).toEqual({ count: 4, openMinor: 191_800, pastDueMinor: 66_800, pastDuePercent: 34.83, buckets: acme.buckets });
    const b = await run(aging, { asOf: '2026-03-31' }, { collectorId: 'col-b' });
    expect(b.groups.map((g: { key: string }) => g.key)).toEqual(['BETA']);
    // A collector with no customers: nothing open, no past-due %.
    const nobody = await run(aging, { asOf: '2026-03-31' }, { collectorId: 'col-z' });
    expect(nobody.total).toEqual({ count: 0, openMinor: 0, pastDueMinor: 0, pastDuePercent: null, buckets: zeroBuckets });
    expect((await run(aging, { asOf: '2026-03-31' })).total).toEqual(total);
  });

  it('a currency without a rate is refused (422 no_exchange_rate), naming it and config/reporting.json', async () => {
    const without = { reportingCurrency: 'EUR', rates: { USD: '0.9200' } };
    await expect(run(aging, { asOf: '2026-03-31' }, { fx: without })).rejects.toThrow(NoExchangeRateError);
    await expect(run(aging, { asOf: '2026-03-31' }, { fx: without })).rejects.toMatchObject({ statusCode: 422, code: 'no_exchange_rate', currency: 'GBP' });
    // Only EUR asked for: no rate needed.
    expect((await run(aging, { asOf: '2026-03-31', currency: 'EUR', groupBy: 'none' }, { fx: without })).total.openMinor).toBe(170_000);
  });
});

describe('bucket boundaries', () => {
  it('every day past due from -2 to 99 tried lands in the bucket bucketOf (config/reports.json) names', async () => {
    // A tenant of its own: invoice k of 2^k minor units is k - 2 days past due at D, so each bucket's sum names exactly
    // which days fell in it; the expectation is built with bucketOf, the contract's own definition, not the SQL.
    const own = `${tenantId}-b`;
    const d = '2026-03-31';
    const rows = Array.from({ length: 50 }, (_, k) => {
      const due = addDays(d, -(k * 2 - 2)); // -2, 0, 2, ..., 96 days past due
      return ledgerRow(`K${k}`, 'K', 'EUR', 2 ** k, addDays(due, -30), due);
    });
    await upsertLedgerInvoices(sql, own, rows, { source: 'import' });
    const expected = Object.fromEntries(bucketLabels(config.agingBuckets).map((l) => [l, 0]));
    rows.forEach((_, k) => {
      const label = bucketOf(k * 2 - 2, config.agingBuckets);
      expected[label] = expected[label]! + 2 ** k;
    });
    const r = await run(aging, { asOf: d, groupBy: 'none' }, { tenantId: own });
    expect(r.byCurrency[0].buckets).toEqual(expected);
    // The odd days either side of each bound, in GBP (sums of 2^0 to 2^49 stay below 2^53; these start again at 2^0).
    const odd = [1, 29, 31, 59, 61, 89, 91, 99];
    await upsertLedgerInvoices(
      sql,
      own,
      odd.map((days, k) => ledgerRow(`O${k}`, 'K', 'GBP', 2 ** k, addDays(d, -(days + 30)), addDays(d, -days))),
      { source: 'import' },
    );
    const oddExpected = Object.fromEntries(bucketLabels(config.agingBuckets).map((l) => [l, 0]));
    odd.forEach((days, k) => {
      const label = bucketOf(days, config.agingBuckets);
      oddExpected[label] = oddExpected[label]! + 2 ** k;
    });
    const again = await run(aging, { asOf: d, groupBy: 'none', currency: 'GBP' }, { tenantId: own });
    expect(again.byCurrency[0].buckets).toEqual(oddExpected);
  });
});

describe('DSO at the end of March 2026', () => {
  /*
   * Open AR at 2026-03-31 in EUR: 352,250; current 195,200; past due 157,050 (the aging above).
   * Credit sales (amount of the invoices issued), each currency converted once:
   *   2026-03  A1 120,000 + A5 5,000 EUR, B1 60,000 GBP -> 125,000 + 70,200 = 195,200
   *   2026-02  none -> 0
   *   2026-01  A2 50,000 + B4 45,000 EUR, B2 25,000 GBP -> 95,000 + 29,250 = 124,250
   *   2025-12  A3 30,000 EUR, B3 80,000 USD -> 30,000 + 73,600 = 103,600
   * Count-back: March 195,200 <= 352,250: 31 days, 157,050 left; February no sales: 28 days; January 124,250 <= 157,050:
   * 31 days, 32,800 left; December 103,600 > 32,800: 31 * 32,800 / 103,600 = 9.8146... days.
   * Total 90 + 9.8146 = 99.8146 -> 99.81.
   * Standard over January-March (31 + 28 + 31 = 90 days), sales EUR 220,000 + GBP 85,000 (99,450) = 319,450:
   *   standard 352,250 * 90 / 319,450 = 99.2408... -> 99.24; best possible 195,200 * 90 / 319,450 = 54.9945... -> 54.99;
   *   ADD 157,050 * 90 / 319,450 = 44.2463... -> 44.25 (= 99.2408 - 54.9945).
   */
  it('count-back to 0.01 day (a month without sales counts whole), standard, best possible, ADD', async () => {
    expect(await run(dso, { month: '2026-03' })).toEqual({
      report: 'dso',
      month: '2026-03',
      asOf: '2026-03-31',
      reportingCurrency: 'EUR',
      openArMinor: 352_250,
      currentArMinor: 195_200,
      pastDueArMinor: 157_050,
      countBack: {
        days: 99.81,
        exhausted: false,
        months: [
          { month: '2026-03', daysInMonth: 31, salesMinor: 195_200, usedMinor: 195_200, daysCounted: 31 },
          { month: '2026-02', daysInMonth: 28, salesMinor: 0, usedMinor: 0, daysCounted: 28 },
          { month: '2026-01', daysInMonth: 31, salesMinor: 124_250, usedMinor: 124_250, daysCounted: 31 },
          { month: '2025-12', daysInMonth: 31, salesMinor: 103_600, usedMinor: 32_800, daysCounted: 9.81 },
        ],
      },
      standard: { from: '2026-01-01', to: '2026-03-31', periodDays: 90, salesMinor: 319_450, days: 99.24 },
      bestPossible: { days: 54.99 },
      averageDaysDelinquent: 44.25,
    });
  });

  it('month defaults to the last complete month in the reporting zone; a lookback of 2 months is exhausted', async () => {
    // today 2026-04-15 -> March 2026. Lookback 2: March (31) and February (28), 157,050 still left -> 59 days, exhausted.
    const r = await run(dso, {}, { config: { ...config, dsoLookbackMonths: 2 } });
    expect(r.month).toBe('2026-03');
    expect(r.countBack).toMatchObject({ days: 59, exhausted: true });
    expect(r.countBack.months).toHaveLength(2);
  });

  it('one month period: standard over March alone', async () => {
    // 352,250 * 31 / 195,200 = 55.9398... -> 55.94; BP 195,200 * 31 / 195,200 = 31; ADD 157,050 * 31 / 195,200 = 24.9398... -> 24.94
    const r = await run(dso, { month: '2026-03', periodMonths: '1' });
    expect(r.standard).toEqual({ from: '2026-03-01', to: '2026-03-31', periodDays: 31, salesMinor: 195_200, days: 55.94 });
    expect(r.bestPossible).toEqual({ days: 31 });
    expect(r.averageDaysDelinquent).toBe(24.94);
  });

  it('zero AR: 0 days of count-back, and no standard DSO without sales', async () => {
    // September 2025: nothing issued yet (the first invoice, G1, is from October 2025).
    const r = await run(dso, { month: '2025-09' });
    expect(r).toMatchObject({ openArMinor: 0, currentArMinor: 0, pastDueArMinor: 0, countBack: { days: 0, exhausted: false, months: [] } });
    expect(r.standard).toEqual({ from: '2025-07-01', to: '2025-09-30', periodDays: 92, salesMinor: 0, days: null });
    expect(r.bestPossible.days).toBeNull();
    expect(r.averageDaysDelinquent).toBeNull();
  });

  it("a collector's DSO counts their customers' AR and sales only", async () => {
    /*
     * col-b (BETA) at 2026-03-31: open GBP 85,000 (99,450) + USD 50,000 (46,000) = 145,450; current 70,200.
     * Sales: March B1 70,200; February 0; January B2 29,250 + B4 45,000 = 74,250; December B3 80,000 USD = 73,600.
     * Count-back: March 31 (75,250 left), February 28, January 74,250 <= 75,250: 31 (1,000 left), December
     * 31 * 1,000 / 73,600 = 0.4211 -> 90.42.
     */
    const r = await run(dso, { month: '2026-03' }, { collectorId: 'col-b' });
    expect(r.openArMinor).toBe(145_450);
    expect(r.currentArMinor).toBe(70_200);
    expect(r.countBack.days).toBe(90.42);
  });
});

describe('CEI', () => {
  /*
   * Open at 2026-01-31 (February's opening): A2 50,000 EUR (current: due 02-04), A3 30,000 EUR, B4 45,000 EUR (current:
   * due 02-09), G1 15,000 EUR; B2 25,000 GBP (current); A4 40,000 + B3 80,000 USD (the 02-10 payment not yet).
   *   EUR 140,000 + GBP 29,250 + USD 120,000 * 0.92 = 110,400 -> 279,650.
   * Open at 2026-02-28 (February's closing, March's opening): A2 50,000, A3 30,000, B4 45,000, G1 15,000 EUR = 140,000;
   *   B2 25,000 GBP = 29,250 (current: due 03-01, the only current one); A4 40,000 + B3 50,000 USD = 90,000 -> 82,800.
   *   -> 252,050, current 29,250.
   * February: sales 0; collected 279,650 - 252,050 = 27,600 (B3's 30,000 USD); CEI 27,600 / (279,650 - 29,250)
   *   = 27,600 / 250,400 = 11.0223...% -> 11.02
   * March: opening 252,050, sales 195,200, closing 352,250, closing current 195,200; collected 95,000 (A2 20,000, A3
   *   30,000, B4 45,000, all EUR); CEI 95,000 / (252,050 + 195,200 - 195,200) = 37.6909...% -> 37.69
   * Both: opening 279,650, sales 195,200, closing 352,250, current 195,200, collected 122,600,
   *   CEI 122,600 / 279,650 = 43.8405...% -> 43.84
   */
  const feb = { month: '2026-02', openingArMinor: 279_650, salesMinor: 0, closingArMinor: 252_050, closingCurrentArMinor: 29_250, collectedMinor: 27_600, cei: 11.02 };
  const mar = { month: '2026-03', openingArMinor: 252_050, salesMinor: 195_200, closingArMinor: 352_250, closingCurrentArMinor: 195_200, collectedMinor: 95_000, cei: 37.69 };

  it('per month and over the span', async () => {
    expect(await run(cei, { from: '2026-02', to: '2026-03' })).toEqual({
      report: 'cei',
      reportingCurrency: 'EUR',
      months: [feb, mar],
      total: { openingArMinor: 279_650, salesMinor: 195_200, closingArMinor: 352_250, closingCurrentArMinor: 195_200, collectedMinor: 122_600, cei: 43.84 },
    });
  });

  it('defaults to the last complete month; from after to is refused', async () => {
    const r = await run(cei, {});
    expect(r.months).toEqual([mar]);
    await expect(run(cei, { from: '2026-03', to: '2026-02' })).rejects.toThrow(ReportQueryError);
  });
});

describe('bad input', () => {
  it('month=2026-13, asOf=garbage, groupBy=x, periodMonths=0 fail the query schemas with their issues', () => {
    const issues = (r: (typeof ledgerReports)[number], q: Record<string, string>) => {
      const parsed = r.query.safeParse(q);
      expect(parsed.success).toBe(false);
      return parsed.error!.issues.map((i: { path: PropertyKey[] }) => i.path.join('.'));
    };
    expect(issues(dso, { month: '2026-13' })).toEqual(['month']);
    expect(issues(aging, { asOf: 'garbage' })).toEqual(['asOf']);
    expect(issues(aging, { groupBy: 'x' })).toEqual(['groupBy']);
    expect(issues(aging, { currency: 'EURO' })).toEqual(['currency']);
    expect(issues(dso, { periodMonths: '0' })).toEqual(['periodMonths']);
    expect(issues(cei, { from: '2026-1' })).toEqual(['from']);
  });
});

describe('tables for CSV and XLSX', () => {
  it("aging's first table has a row per group and the total line as totals", async () => {
    const r = await run(aging, { asOf: '2026-03-31' });
    const ctx: ReportContext = { sql, tenantId, collectorId: undefined, fx, config, today: '2026-04-15' };
    const [groups, byCurrency] = aging.tables(r, ctx);
    expect(groups!.rows.map((row) => [row.key, row.open, row['b:91+']])).toEqual([
      ['ACME', 191_800, 36_800],
      ['BETA', 145_450, 0],
      ['GAMMA', 15_000, 15_000],
    ]);
    expect(groups!.totals).toMatchObject({ key: 'Total', count: 8, open: 352_250, pastDue: 157_050, pastDuePercent: 44.58 });
    expect(byCurrency!.rows.map((row) => [row.currency, row.open])).toEqual([
      ['EUR', 170_000],
      ['GBP', 85_000],
      ['USD', 90_000],
    ]);
  });
});

describe('over HTTP (the API as it runs: routes, tokens, error handler)', () => {
  let t: TestApp;
  let manager: Record<string, string>;
  let anna: Record<string, string>;
  let member: Record<string, string>;
  beforeAll(async () => {
    // The test app reads config/reporting.json (USD 0.92, GBP 1.17: the rates above) and config/reports.json.
    t = await startTestApp(tenantId);
    manager = (await userWithToken(t.sql, tenantId, { userId: 'mara', role: 'ar_manager' })).headers;
    anna = (await userWithToken(t.sql, tenantId, { userId: 'col-a', role: 'collector' })).headers;
    member = (await userWithToken(t.sql, tenantId, { userId: 'tim', role: 'team_member' })).headers;
  });
  afterAll(async () => {
    await t?.close();
  });
  const get = (url: string, headers: Record<string, string>) => t.app.inject({ method: 'GET', url, headers });

  it("a manager's aging, DSO and CEI are the figures above; a collector's cover their portfolio; a team member's nothing", async () => {
    const all = await get('/reports/aging?asOf=2026-03-31', manager);
    expect(all.statusCode).toBe(200);
    const body = all.json();
    expect(body.total).toEqual({ count: 8, openMinor: 352_250, pastDueMinor: 157_050, pastDuePercent: 44.58, buckets: { current: 195_200, '1-30': 29_250, '31-60': 30_000, '61-90': 46_000, '91+': 51_800 } });
    expect(body.groups.map((g: { key: string }) => g.key)).toEqual(['ACME', 'BETA', 'GAMMA']);
    const hers = (await get('/reports/aging?asOf=2026-03-31&groupBy=collector', anna)).json();
    expect(hers.groups.map((g: { key: string; openMinor: number }) => [g.key, g.openMinor])).toEqual([['col-a', 191_800]]);
    expect(hers.total.openMinor).toBe(191_800);
    expect((await get('/reports/aging?asOf=2026-03-31', member)).json().total).toMatchObject({ count: 0, openMinor: 0, pastDuePercent: null });
    const dsoBody = (await get('/reports/dso?month=2026-03', manager)).json();
    expect([dsoBody.countBack.days, dsoBody.standard.days, dsoBody.bestPossible.days, dsoBody.averageDaysDelinquent]).toEqual([99.81, 99.24, 54.99, 44.25]);
    const ceiBody = (await get('/reports/cei?from=2026-02&to=2026-03', manager)).json();
    expect(ceiBody.months.map((m: { cei: number }) => m.cei)).toEqual([11.02, 37.69]);
    expect(ceiBody.total.cei).toBe(43.84);
  });

  it('the aging as CSV: a row per customer, money in major units', async () => {
    const res = await get('/reports/aging?asOf=2026-03-31&format=csv', manager);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/csv/);
    // ACME's open amount 191,800 cents = 1918.00 EUR; GAMMA's 91+ 15,000 = 150.00.
    const lines = res.body.trim().split(/\r?\n/);
    expect(lines.find((l) => l.startsWith('ACME,'))).toContain('1918.00');
    expect(lines.find((l) => l.startsWith('GAMMA,'))).toContain('150.00');
  });

  it('a currency without a rate is a 422 no_exchange_rate naming it and config/reporting.json', async () => {
    // At 2026-06-30, N1 (NOK) is open; config/reporting.json has no NOK rate.
    const res = await get('/reports/aging?asOf=2026-06-30', manager);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ error: 'no_exchange_rate', message: expect.stringMatching(/NOK.*config\/reporting\.json/) });
  });

  it('bad input is a 400 with the issues (from after to: a 400 naming both), never a crash', async () => {
    for (const [url, field] of [
      ['/reports/dso?month=2026-13', 'month'],
      ['/reports/aging?asOf=garbage', 'asOf'],
      ['/reports/aging?groupBy=x', 'groupBy'],
      ['/reports/aging?currency=eur', 'currency'],
      ['/reports/dso?periodMonths=13', 'periodMonths'],
      ['/reports/cei?from=2026-1', 'from'],
    ] as const) {
      const res = await get(url, manager);
      expect(res.statusCode, url).toBe(400);
      const json = res.json();
      expect(json.error, url).toBe('validation_failed');
      expect(JSON.stringify(json.issues), url).toContain(field);
    }
    const reversed = await get('/reports/cei?from=2026-03&to=2026-02', manager);
    expect(reversed.statusCode).toBe(400);
    expect(reversed.json()).toMatchObject({ error: 'validation_failed', message: expect.stringContaining('must not be after') });
  });
});
