/**
 * Builds a realistic demo portfolio from the historical AR sample (shared/data/README.md).
 *
 * Take the invoices OPEN on a past `asOf` date (issued on or before it, settled after it), and shift
 * every date by (today − asOf) days, so that the portfolio looks as it did on `asOf` but "now". Each
 * invoice keeps its shifted settled date as `expectedPaymentDate`: the ERP simulator posts the
 * payment on that day, so the demo replays real payment behaviour.
 *
 * Pure and deterministic: no clock, no randomness, no I/O. `today` is a parameter.
 */
import type { ArInvoiceRecord } from '../domain/ar-csv';
import { type AgingBucket, AGING_BUCKETS, addDays, agingBucket, daysBetween, daysPastDue, isoDateToEpochDay } from '../domain/aging';

// ---------------------------------------------------------------------------------------------
// Country codes → time zone / locale
// ---------------------------------------------------------------------------------------------

export interface CountryProfile {
  /** IANA time zone */
  timeZone: string;
  /** BCP 47 locale */
  locale: string;
  /** ISO 3166-1 alpha-2 country and ISO 3166-2 region: public holidays for business-day cadences. */
  country: string;
  region?: string;
}

/**
 * ASSUMPTION. The data set gives only numeric country codes (391, 406, 770, 818, 897) with no key,
 * and they are not ISO 3166-1 numeric codes (only 818, Egypt, happens to be one). This map is an
 * invented but plausible assignment whose purpose is to give the demo customers a spread of time
 * zones and locales (including a non-English locale, a zone east of UTC and US zones), so that
 * send-time and localisation logic gets exercised. It says nothing about the real customers.
 */
export const COUNTRY_PROFILES: Readonly<Record<string, CountryProfile>> = {
  '391': { timeZone: 'America/New_York', locale: 'en-US', country: 'US', region: 'NY' }, // 616 invoices, the largest group
  '406': { timeZone: 'America/Chicago', locale: 'en-US', country: 'US', region: 'IL' }, // 561
  '770': { timeZone: 'Europe/London', locale: 'en-GB', country: 'GB', region: 'ENG' }, // 506
  '818': { timeZone: 'Europe/Berlin', locale: 'de-DE', country: 'DE', region: 'BE' }, // 387
  '897': { timeZone: 'Asia/Tokyo', locale: 'ja-JP', country: 'JP' }, // 396
};

/** Used for a country code outside {@link COUNTRY_PROFILES}. */
export const DEFAULT_COUNTRY_PROFILE: CountryProfile = { timeZone: 'UTC', locale: 'en-US', country: 'US' };

export function countryProfile(countryCode: string): CountryProfile {
  return Object.prototype.hasOwnProperty.call(COUNTRY_PROFILES, countryCode)
    ? COUNTRY_PROFILES[countryCode]!
    : DEFAULT_COUNTRY_PROFILE;
}

// ---------------------------------------------------------------------------------------------
// Demo customer identity
// ---------------------------------------------------------------------------------------------

const NAME_FIRST = [
  'Acorn', 'Alder', 'Amber', 'Atlas', 'Aurora', 'Basalt', 'Beacon', 'Birch',
  'Bluewater', 'Brightline', 'Cedar', 'Cobalt', 'Copper', 'Crescent', 'Delta', 'Evergreen',
  'Falcon', 'Fernhill', 'Granite', 'Harbor', 'Highland', 'Ironwood', 'Juniper', 'Keystone',
  'Lakeside', 'Meridian', 'Northwind', 'Oakridge', 'Orchard', 'Pinnacle', 'Quarry', 'Redwood',
  'Riverbend', 'Saffron', 'Sierra', 'Silverline', 'Summit', 'Tidewater', 'Westbrook', 'Willow',
] as const;

const NAME_SECOND = [
  'Analytics', 'Builders', 'Chemicals', 'Components', 'Consulting', 'Dairy', 'Electric', 'Engineering',
  'Fabrication', 'Foods', 'Freight', 'Furniture', 'Health', 'Instruments', 'Labs', 'Logistics',
  'Machinery', 'Media', 'Metals', 'Mills', 'Optics', 'Outfitters', 'Packaging', 'Paper',
  'Pharma', 'Plastics', 'Printing', 'Robotics', 'Software', 'Solar', 'Supply', 'Textiles',
  'Tools', 'Transport', 'Water', 'Wholesale',
] as const;

const NAME_SUFFIX = ['Inc.', 'LLC', 'Ltd', 'Co.', 'Group', 'Partners', 'Holdings'] as const;

/** 32-bit FNV-1a over UTF-16 code units: a fixed, platform-independent hash. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/**
 * A readable, deterministic demo company name for a customer id, e.g. "Cobalt Freight LLC".
 * Derived only from the id (fixed word lists + a fixed hash), so the same id always gets the same
 * name. Names can coincide for different ids; {@link buildDemoPortfolio} disambiguates them.
 */
export function demoCompanyName(customerId: string): string {
  const h = fnv1a(customerId);
  const first = NAME_FIRST[h % NAME_FIRST.length]!;
  const second = NAME_SECOND[Math.floor(h / NAME_FIRST.length) % NAME_SECOND.length]!;
  const suffix = NAME_SUFFIX[Math.floor(h / (NAME_FIRST.length * NAME_SECOND.length)) % NAME_SUFFIX.length]!;
  return `${first} ${second} ${suffix}`;
}

/** `ar+<id-lowercase>@customer.example` (RFC 2606 reserved domain: never delivered). */
export function demoCustomerEmail(customerId: string): string {
  return `ar+${customerId.toLowerCase()}@customer.example`;
}

// ---------------------------------------------------------------------------------------------
// Portfolio
// ---------------------------------------------------------------------------------------------

export interface DemoPortfolioOptions {
  /** YYYY-MM-DD inside the data (e.g. 2013-06-28): the historical day the demo replays. */
  asOf: string;
  /** YYYY-MM-DD: the day `asOf` is moved to. */
  today: string;
  /** Keep at most this many customers (the ones with the most open overdue amount on asOf). */
  maxCustomers?: number;
  /** Keep at most this many invoices, taken round-robin across aging buckets. */
  maxInvoices?: number;
}

export interface DemoCustomer {
  customerId: string;
  name: string;
  email: string;
  timeZone: string;
  locale: string;
  /** The data set's numeric code, kept for traceability. */
  countryCode: string;
  /** ISO country and region derived from it (see COUNTRY_PROFILES). */
  country: string;
  region?: string;
  /** The customer had moved to electronic billing on asOf (PaperlessDate ≤ asOf). */
  paperless: boolean;
}

export interface DemoInvoice {
  invoiceNumber: string;
  customerId: string;
  amountMinor: number;
  currency: 'USD';
  /** Shifted dates, YYYY-MM-DD. */
  invoiceDate: string;
  dueDate: string;
  /** Shifted settled date: when the ERP simulator posts the (full) payment. Always after today. */
  expectedPaymentDate: string;
  /** The historical invoice was disputed at some point. */
  disputed: boolean;
  /** Billed electronically. */
  paperless: boolean;
  /** On `today` (equal to what it was on asOf). */
  daysPastDue: number;
  agingBucket: AgingBucket;
}

export interface DemoPortfolio {
  asOf: string;
  today: string;
  /** today − asOf, in days; added to every historical date. */
  shiftDays: number;
  /** Ordered by rank: most open overdue amount on asOf first, then most open amount, then id. */
  customers: DemoCustomer[];
  /** Grouped by customer in customer order, then by due date and invoice number. */
  invoices: DemoInvoice[];
}

function checkLimit(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isSafeInteger(value) || value < 0)) {
    throw new RangeError(`${name} must be a non-negative integer, got ${value}`);
  }
}

/**
 * The invoices open on `asOf` (invoiceDate ≤ asOf < settledDate), shifted so that asOf becomes
 * `today`, and their customers.
 *
 * Customers are ranked by open overdue amount on asOf (dueDate < asOf), then by open amount,
 * then by id, and the first `maxCustomers` kept. If their open invoices exceed `maxInvoices`,
 * invoices are taken round-robin over the aging buckets (current, 1-30, 31-60, 61-90, 91+; within
 * a bucket by customer rank, due date, invoice number), so a small demo still shows every
 * days-past-due range the data has. Customers left without invoices are dropped.
 */
export function buildDemoPortfolio(rows: readonly ArInvoiceRecord[], options: DemoPortfolioOptions): DemoPortfolio {
  const { asOf, today, maxCustomers, maxInvoices } = options;
  const asOfDay = isoDateToEpochDay(asOf);
  const shiftDays = daysBetween(asOf, today);
  checkLimit('maxCustomers', maxCustomers);
  checkLimit('maxInvoices', maxInvoices);

  const open = rows.filter(
    (r) => isoDateToEpochDay(r.invoiceDate) <= asOfDay && isoDateToEpochDay(r.settledDate) > asOfDay,
  );

  // Rank customers.
  const stats = new Map<string, { overdue: number; open: number; record: ArInvoiceRecord }>();
  for (const r of open) {
    const s = stats.get(r.customerId) ?? { overdue: 0, open: 0, record: r };
    s.open += r.amountMinor;
    if (daysPastDue(r.dueDate, asOf) > 0) s.overdue += r.amountMinor;
    stats.set(r.customerId, s);
  }
  const ranked = [...stats.keys()].sort((a, b) => {
    const sa = stats.get(a)!;
    const sb = stats.get(b)!;
    return sb.overdue - sa.overdue || sb.open - sa.open || (a < b ? -1 : a > b ? 1 : 0);
  });
  const chosenCustomers = maxCustomers === undefined ? ranked : ranked.slice(0, maxCustomers);
  const rank = new Map(chosenCustomers.map((id, i) => [id, i]));

  const byRankDueNumber = (a: ArInvoiceRecord, b: ArInvoiceRecord): number =>
    rank.get(a.customerId)! - rank.get(b.customerId)! ||
    (a.dueDate < b.dueDate ? -1 : a.dueDate > b.dueDate ? 1 : 0) ||
    (a.invoiceNumber < b.invoiceNumber ? -1 : a.invoiceNumber > b.invoiceNumber ? 1 : 0);

  let selected = open.filter((r) => rank.has(r.customerId)).sort(byRankDueNumber);

  if (maxInvoices !== undefined && selected.length > maxInvoices) {
    const queues = AGING_BUCKETS.map((b) => selected.filter((r) => agingBucket(daysPastDue(r.dueDate, asOf)) === b));
    const taken: ArInvoiceRecord[] = [];
    for (let round = 0; taken.length < maxInvoices; round++) {
      for (const q of queues) {
        const next = q[round];
        if (next !== undefined && taken.length < maxInvoices) taken.push(next);
      }
    }
    selected = taken.sort(byRankDueNumber);
  }

  const invoices: DemoInvoice[] = selected.map((r) => {
    const dpd = daysPastDue(r.dueDate, asOf);
    return {
      invoiceNumber: r.invoiceNumber,
      customerId: r.customerId,
      amountMinor: r.amountMinor,
      currency: r.currency,
      invoiceDate: addDays(r.invoiceDate, shiftDays),
      dueDate: addDays(r.dueDate, shiftDays),
      expectedPaymentDate: addDays(r.settledDate, shiftDays),
      disputed: r.disputed,
      paperless: r.paperless,
      daysPastDue: dpd,
      agingBucket: agingBucket(dpd),
    };
  });

  const withInvoices = new Set(invoices.map((i) => i.customerId));
  const usedNames = new Set<string>();
  const customers: DemoCustomer[] = chosenCustomers
    .filter((id) => withInvoices.has(id))
    .map((id) => {
      const record = stats.get(id)!.record;
      const profile = countryProfile(record.countryCode);
      let name = demoCompanyName(id);
      if (usedNames.has(name)) name = `${name} (${id})`; // deterministic: depends on rank order only
      usedNames.add(name);
      return {
        customerId: id,
        name,
        email: demoCustomerEmail(id),
        timeZone: profile.timeZone,
        locale: profile.locale,
        countryCode: record.countryCode,
        country: profile.country,
        ...(profile.region ? { region: profile.region } : {}),
        paperless: isoDateToEpochDay(record.paperlessDate) <= asOfDay,
      };
    });

  return { asOf, today, shiftDays, customers, invoices };
}
