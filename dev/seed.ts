import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DateTime } from 'luxon';
import { parseArCsv } from '../domain/ar-csv';
import { buildDemoPortfolio, type DemoPortfolio } from './demo-portfolio';
import { createUser, findUser, issueToken, formatToken, type Role } from '../api/auth';
import { DomainError } from '../api/errors';
import { userWithPassword } from '../db/console';
import { setUserPassword } from '../api/console/accounts';
import type { Sql } from '../db/sql';

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
  /** A token of a user who may enroll (team_lead or above): the demo uses the admin's. */
  apiToken: string;
  erpUrl: string;
  erpApiKey: string;
  collectors: readonly string[];
}

export interface DemoUser {
  userId: string;
  name: string;
  role: Role;
  approvalLimitMinor?: number;
  /** Owner team (config/resolution-matrix.json) the user works disputes for. */
  team?: string;
  tokenId: string;
  secret: string;
}

/** The demo users' web console password (public, like their tokens): `<userId>-demo-pass`, 12 characters and more. */
export const demoPassword = (u: Pick<DemoUser, 'userId'>) => `${u.userId}-demo-pass`;

/**
 * The demo's people, with FIXED tokens so that a walkthrough can be copied: public, so only ever
 * created by the demo seed (dev/), never by the product. anna and ben own the demo customers; pia,
 * sam, luis and cara work disputes in the owner teams of config/resolution-matrix.json, whose leads
 * are lena and mark.
 */
export const DEMO_USERS: readonly DemoUser[] = [
  { userId: 'anna', name: 'Anna Berg', role: 'collector', tokenId: 'demoanna', secret: 'anna-demo-token-not-for-production' },
  { userId: 'ben', name: 'Ben Okafor', role: 'collector', tokenId: 'demoben', secret: 'ben-demo-token-not-for-production' },
  { userId: 'lena', name: 'Lena Vogt', role: 'team_lead', team: 'ar', tokenId: 'demolena', secret: 'lena-demo-token-not-for-production' },
  { userId: 'mark', name: 'Mark Jensen', role: 'ar_manager', approvalLimitMinor: 5_000_000, tokenId: 'demomark', secret: 'mark-demo-token-not-for-production' },
  { userId: 'admin', name: 'Demo Admin', role: 'admin', tokenId: 'demoadmin', secret: 'admin-demo-token-not-for-production' },
  { userId: 'pia', name: 'Pia Lindqvist', role: 'team_member', team: 'pricing', tokenId: 'demopia', secret: 'pia-demo-token-not-for-production' },
  { userId: 'sam', name: 'Sam Delgado', role: 'team_member', team: 'sales', tokenId: 'demosam', secret: 'sam-demo-token-not-for-production' },
  { userId: 'luis', name: 'Luis Moreno', role: 'team_member', team: 'logistics', tokenId: 'demoluis', secret: 'luis-demo-token-not-for-production' },
  { userId: 'cara', name: 'Cara Byrne', role: 'team_member', team: 'customer_service', tokenId: 'democara', secret: 'cara-demo-token-not-for-production' },
];
export const demoToken = (u: DemoUser) => formatToken(u.tokenId, u.secret);
export const DEMO_COLLECTORS = DEMO_USERS.filter((u) => u.role === 'collector').map((u) => u.userId);
export const DEMO_ADMIN_TOKEN = demoToken(DEMO_USERS.find((u) => u.userId === 'admin')!);

/**
 * Idempotent, straight to the database (run migrations first): users and tokens that exist are left
 * as they are. Answers what it created, and warnings for demo tokens that will not work as documented.
 */
export async function seedDemoUsers(sql: Sql, tenantId: string): Promise<{ created: string[]; warnings: string[] }> {
  const created: string[] = [];
  const warnings: string[] = [];
  for (const u of DEMO_USERS) {
    if (!(await findUser(sql, tenantId, u.userId))) {
      await createUser(sql, tenantId, { userId: u.userId, name: u.name, role: u.role, approvalLimitMinor: u.approvalLimitMinor ?? null, team: u.team ?? null });
      created.push(u.userId);
    } else if (u.team) {
      // Demo users seeded before owner teams existed get their team; a team set since is left alone.
      await sql`update users set team = ${u.team} where tenant_id = ${tenantId} and user_id = ${u.userId} and team is null`;
    }
    // A console password unless one was set since (an admin's change is kept).
    if (!(await userWithPassword(sql, tenantId, u.userId))?.password_hash) await setUserPassword(sql, tenantId, u.userId, { password: demoPassword(u) }, 'seed');
    try {
      await issueToken(sql, tenantId, u.userId, { tokenId: u.tokenId, secret: u.secret, label: 'demo (public, not for production)' });
    } catch (err) {
      if (!(err instanceof DomainError && err.code === 'token_exists')) throw err;
      const [owner] = await sql<{ tenant_id: string; user_id: string; revoked_at: Date | null }[]>`
        select tenant_id, user_id, revoked_at from api_tokens where token_id = ${u.tokenId}`;
      if (owner && (owner.tenant_id !== tenantId || owner.user_id !== u.userId))
        warnings.push(`demo token id ${u.tokenId} belongs to ${owner.user_id} of tenant ${owner.tenant_id}: ${u.userId}'s demo token will not work here`);
      else if (owner?.revoked_at) warnings.push(`${u.userId}'s demo token was revoked`);
    }
  }
  return { created, warnings };
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
    }, { authorization: `Bearer ${targets.apiToken}` });
    if (res.status === 201) enrolled++;
    else if (res.status === 409) already++;
    else throw new Error(`enrolling ${inv.invoiceNumber} failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return { enrolled, already };
}
