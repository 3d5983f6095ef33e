import type { Segment } from './cadence';
import { addDays } from './aging';

/**
 * The ERP sync's rules (workflows/erp-sync.ts, activities/erp-sync.ts): how an ERP customer account maps to
 * ours, which receivables the enrollment policy admits, and when an enrolled invoice must hear of a change.
 * Pure: the date of "today" is a parameter.
 */

/** An ERP customer account as the change feed gives it (integrations/erp/changes.ts erpCustomerSchema). */
export interface SyncErpCustomer {
  customerId: string;
  name: string;
  email: string | null;
  contactName: string | null;
  country: string | null;
  region: string | null;
  timeZone: string | null;
  locale: string | null;
  category: string | null;
  accountManager: string | null;
}

/** A receivable as the change feed gives it (the fields the rules read). */
export interface SyncReceivable {
  invoiceNumber: string;
  customerId: string;
  currency: string;
  amountMinor: number;
  openAmountMinor: number;
  status: 'open' | 'paid' | 'credited' | 'written_off' | 'cancelled';
  issueDate: string;
  dueDate: string;
  changedAt: string;
}

export interface CustomerMapping {
  defaultTimeZone: string;
  defaultLocale: string;
  countries: Record<string, { timeZone: string; locale: string }>;
  categorySegments: Record<string, Segment>;
  defaultSegment: Segment;
  accountManagerCollectors: Record<string, string>;
}

export interface EnrollmentPolicy {
  daysBeforeDue: number;
  minimumOpenMinor: Record<string, number>;
  excludedSegments: Segment[];
  excludedCustomers: string[];
}

/** Our customer as an enrollment states it (api/schemas.ts customerSchema's fields). */
export interface MappedCustomer {
  id: string;
  name: string;
  email: string;
  timeZone: string;
  locale: string;
  segment: Segment;
  collectorId?: string;
  country?: string;
  region?: string;
  contactName?: string;
}

export type MappingRefusal = { code: 'customer_without_email' | 'customer_invalid'; reason: string };

const CUSTOMER_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const REGION = /^[A-Z0-9]{1,3}$/;

const validZone = (tz: string) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};
const validLocale = (locale: string) => {
  try {
    return Intl.getCanonicalLocales(locale).length === 1;
  } catch {
    return false;
  }
};
/** Names and contact names are single lines of at most 200 characters, as the API takes them. */
const line = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 200);

/**
 * Maps an ERP customer to ours: the ERP's own time zone and locale when valid, else its country's from the
 * mapping, else the defaults; segment by category; collector by account manager. Refused without an e-mail
 * address (dunning mails go there) or with an id we cannot hold.
 */
export function mapErpCustomer(erp: SyncErpCustomer, mapping: CustomerMapping): { ok: true; customer: MappedCustomer } | ({ ok: false } & MappingRefusal) {
  if (!CUSTOMER_ID.test(erp.customerId)) return { ok: false, code: 'customer_invalid', reason: `customer id ${JSON.stringify(erp.customerId)} is not letters, digits, . _ - (at most 64)` };
  const email = erp.email?.trim() ?? '';
  if (email === '') return { ok: false, code: 'customer_without_email', reason: `customer ${erp.customerId} has no e-mail address in the ERP` };
  if (!EMAIL.test(email) || email.length > 254) return { ok: false, code: 'customer_invalid', reason: `customer ${erp.customerId} has an e-mail address that is not one: ${JSON.stringify(email)}` };
  const country = erp.country && /^[A-Z]{2}$/.test(erp.country) ? erp.country : undefined;
  const byCountry = country ? mapping.countries[country] : undefined;
  const timeZone = erp.timeZone && validZone(erp.timeZone) ? erp.timeZone : (byCountry?.timeZone ?? mapping.defaultTimeZone);
  const locale = erp.locale && validLocale(erp.locale) ? erp.locale : (byCountry?.locale ?? mapping.defaultLocale);
  const segment = (erp.category ? mapping.categorySegments[erp.category] : undefined) ?? mapping.defaultSegment;
  const collectorId = erp.accountManager ? mapping.accountManagerCollectors[erp.accountManager] : undefined;
  const region = country && erp.region && REGION.test(erp.region) ? erp.region : undefined;
  const contactName = erp.contactName ? line(erp.contactName) : '';
  return {
    ok: true,
    customer: {
      id: erp.customerId,
      name: line(erp.name) || erp.customerId,
      email,
      timeZone,
      locale,
      segment,
      ...(collectorId ? { collectorId } : {}),
      ...(country ? { country } : {}),
      ...(region ? { region } : {}),
      ...(contactName ? { contactName } : {}),
    },
  };
}

export type Admission =
  | { admit: true }
  /** later: the receivable may be admitted by a later run without the ERP changing it (it comes within the window). */
  | { admit: false; later: boolean; code: 'not_open' | 'not_due_yet' | 'below_minimum' | 'excluded_segment' | 'excluded_customer' | 'nothing_owed'; reason: string };

/**
 * Whether the policy enrolls an open receivable today (YYYY-MM-DD): from `daysBeforeDue` days before its due
 * date, at or above its currency's minimum, not of an excluded segment or customer.
 */
export function admitReceivable(r: Pick<SyncReceivable, 'invoiceNumber' | 'customerId' | 'currency' | 'openAmountMinor' | 'status' | 'dueDate'>, segment: Segment, policy: EnrollmentPolicy, today: string): Admission {
  if (r.status !== 'open') return { admit: false, later: false, code: 'not_open', reason: `invoice ${r.invoiceNumber} is ${r.status}` };
  if (r.openAmountMinor <= 0) return { admit: false, later: false, code: 'nothing_owed', reason: `invoice ${r.invoiceNumber} has nothing open` };
  if (policy.excludedCustomers.includes(r.customerId)) return { admit: false, later: false, code: 'excluded_customer', reason: `customer ${r.customerId} is excluded by the enrollment policy` };
  if (policy.excludedSegments.includes(segment)) return { admit: false, later: false, code: 'excluded_segment', reason: `segment ${segment} is excluded by the enrollment policy` };
  const minimum = policy.minimumOpenMinor[r.currency] ?? 0;
  if (r.openAmountMinor < minimum) return { admit: false, later: false, code: 'below_minimum', reason: `open ${r.openAmountMinor} ${r.currency} is below the policy's minimum ${minimum}` };
  const from = admissionDate(r.dueDate, policy);
  if (today < from) return { admit: false, later: true, code: 'not_due_yet', reason: `enrolled from ${from} (${policy.daysBeforeDue} days before its due date)` };
  return { admit: true };
}

/** The first day the policy enrolls an invoice due on `dueDate`. */
export const admissionDate = (dueDate: string, policy: Pick<EnrollmentPolicy, 'daysBeforeDue'>): string => addDays(dueDate, -policy.daysBeforeDue);

/** The latest due date the policy enrolls today: due on or before it. */
export const admissionHorizon = (today: string, policy: Pick<EnrollmentPolicy, 'daysBeforeDue'>): string => addDays(today, policy.daysBeforeDue);

/** What an enrolled invoice is told (workflows/messages.ts LedgerChange), and what we last told it. */
export interface LedgerFacts {
  dueDate: string;
  openAmountMinor: number;
  status: SyncReceivable['status'];
}

/**
 * Whether an enrolled invoice must hear of the receivable: its due date, open amount or status differ from what
 * it was last told (or, never told, from what it was enrolled with: `known`).
 */
export function ledgerChanged(next: LedgerFacts, known: LedgerFacts): boolean {
  return next.dueDate !== known.dueDate || next.openAmountMinor !== known.openAmountMinor || next.status !== known.status;
}

/** Statuses that close an invoice's workflow. */
export const isClosingStatus = (status: SyncReceivable['status']): boolean => status !== 'open';
