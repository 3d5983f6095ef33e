import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { parseArCsv } from '../domain/ar-csv';
import { buildDemoPortfolio, type DemoPortfolio } from '../domain/demo-portfolio';

/**
 * The demo portfolio: real invoices of IBM's public AR sample that were open on a historical day,
 * moved so that day is today. The ERP simulator gets the invoices and their real settlement dates
 * as scheduled payments; the API enrolls each one.
 */
export const DEMO_AS_OF = '2013-01-31'; // a day whose open items span current to 31-60 days past due
/** The sample's rows open on DEMO_AS_OF, shipped so the demo runs anywhere; DEMO_CSV may name the full file. */
export const DEFAULT_DEMO_CSV = path.resolve(__dirname, 'demo-invoices.csv');

export function loadDemoPortfolio(csvPath: string, today: string): DemoPortfolio {
  if (!existsSync(csvPath)) throw new Error(`demo data not found at ${csvPath} (set DEMO_CSV to the IBM AR sample)`);
  const { rows, errors } = parseArCsv(readFileSync(csvPath, 'utf8'));
  if (errors.length) throw new Error(`demo data has ${errors.length} bad rows, first: line ${errors[0]!.line}: ${errors[0]!.message}`);
  return buildDemoPortfolio(rows, { asOf: DEMO_AS_OF, today, maxCustomers: 6, maxInvoices: 12 });
}

export interface SeedTargets {
  apiUrl: string;
  erpUrl: string;
  erpApiKey: string;
  collectors: readonly string[];
}

async function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
}

/** Idempotent: invoices already in the ERP or already enrolled are left as they are. */
export async function seedDemo(portfolio: DemoPortfolio, targets: SeedTargets): Promise<{ enrolled: number; already: number }> {
  const auth = { authorization: `Bearer ${targets.erpApiKey}` };
  // The customer with the most overdue is a strategic account, the next a high-risk one: the demo shows all three default cadences.
  const segmentOf = (rank: number) => (rank === 0 ? 'strategic' : rank === 1 ? 'high_risk' : 'standard');
  const customers = new Map(
    portfolio.customers.map((c, i) => [c.customerId, { ...c, segment: segmentOf(i), collectorId: targets.collectors[i % targets.collectors.length] }]),
  );
  let enrolled = 0;
  let already = 0;
  for (const inv of portfolio.invoices) {
    const customer = customers.get(inv.customerId)!;
    const erp = await post(`${targets.erpUrl}/invoices`, {
      invoiceNumber: inv.invoiceNumber,
      customerId: inv.customerId,
      currency: inv.currency,
      amountMinor: inv.amountMinor,
      issueDate: inv.invoiceDate,
      dueDate: inv.dueDate,
    }, auth);
    if (erp.status === 201) {
      // The customer pays when it really did, shifted: 10:00 in its own time zone.
      const postAt = DateTime.fromISO(inv.expectedPaymentDate, { zone: customer.timeZone }).set({ hour: 10 }).toUTC().toISO()!;
      await post(`${targets.erpUrl}/payments`, {
        paymentId: `DEMO-PAY-${inv.invoiceNumber}`,
        invoiceNumber: inv.invoiceNumber,
        amountMinor: inv.amountMinor,
        currency: inv.currency,
        postAt,
      }, auth);
    }
    const res = await post(`${targets.apiUrl}/invoices`, {
      customer: {
        id: customer.customerId,
        name: customer.name,
        email: customer.email,
        timeZone: customer.timeZone,
        locale: customer.locale,
        collectorId: customer.collectorId,
        segment: customer.segment,
        country: customer.country,
        ...(customer.region ? { region: customer.region } : {}),
      },
      invoice: { number: inv.invoiceNumber, currency: inv.currency, amountMinor: inv.amountMinor, issueDate: inv.invoiceDate, dueDate: inv.dueDate },
    });
    if (res.status === 201) enrolled++;
    else if (res.status === 409) already++;
    else throw new Error(`enrolling ${inv.invoiceNumber} failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { enrolled, already };
}
