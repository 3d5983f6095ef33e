import { describe, expect, it } from 'vitest';
import { admitReceivable, admissionHorizon, ledgerChanged, mapErpCustomer, type CustomerMapping, type EnrollmentPolicy } from '../../domain/erp-sync';
import { erpSyncConfigSchema, loadErpSyncConfig } from '../../config/erp-sync';

const mapping: CustomerMapping = {
  defaultTimeZone: 'UTC',
  defaultLocale: 'en-US',
  countries: { DE: { timeZone: 'Europe/Berlin', locale: 'de-DE' } },
  categorySegments: { enterprise: 'strategic' },
  defaultSegment: 'standard',
  accountManagerCollectors: { 'AM-7': 'anna' },
};
const erp = { customerId: 'C-1', name: '  Acme\n GmbH ', email: 'ap@acme.example', contactName: null, country: 'DE', region: 'BE', timeZone: null, locale: null, category: 'enterprise', accountManager: 'AM-7' };

describe('mapErpCustomer', () => {
  it('fills time zone and locale from the country, segment from the category, collector from the account manager', () => {
    expect(mapErpCustomer(erp, mapping)).toEqual({
      ok: true,
      customer: { id: 'C-1', name: 'Acme GmbH', email: 'ap@acme.example', timeZone: 'Europe/Berlin', locale: 'de-DE', segment: 'strategic', collectorId: 'anna', country: 'DE', region: 'BE' },
    });
  });
  it("keeps the ERP's own valid zone and locale, falls back to the defaults, and drops what it cannot use", () => {
    const own = mapErpCustomer({ ...erp, timeZone: 'America/Chicago', locale: 'en-US', country: 'XX', region: 'not a region', category: 'other', accountManager: 'AM-9' }, mapping);
    expect(own).toMatchObject({ ok: true, customer: { timeZone: 'America/Chicago', locale: 'en-US', segment: 'standard', country: 'XX' } });
    expect(own.ok && own.customer.collectorId).toBeFalsy();
    expect(mapErpCustomer({ ...erp, timeZone: 'Mars/Olympus', country: null }, mapping)).toMatchObject({ customer: { timeZone: 'UTC', locale: 'en-US' } });
  });
  it('refuses a customer without an e-mail address or with an id we cannot hold', () => {
    expect(mapErpCustomer({ ...erp, email: null }, mapping)).toMatchObject({ ok: false, code: 'customer_without_email' });
    expect(mapErpCustomer({ ...erp, email: 'not-an-address' }, mapping)).toMatchObject({ ok: false, code: 'customer_invalid' });
    expect(mapErpCustomer({ ...erp, customerId: 'C 1' }, mapping)).toMatchObject({ ok: false, code: 'customer_invalid' });
  });
});

describe('admitReceivable', () => {
  const policy: EnrollmentPolicy = { daysBeforeDue: 7, minimumOpenMinor: { EUR: 1_000 }, excludedSegments: ['high_risk'], excludedCustomers: ['C-X'] };
  const r = { invoiceNumber: 'I-1', customerId: 'C-1', currency: 'EUR', openAmountMinor: 5_000, status: 'open' as const, dueDate: '2026-03-10' };
  it('admits from N days before due, and says when a later run will', () => {
    expect(admitReceivable(r, 'standard', policy, '2026-03-03')).toEqual({ admit: true });
    expect(admitReceivable(r, 'standard', policy, '2026-04-30')).toEqual({ admit: true });
    expect(admitReceivable(r, 'standard', policy, '2026-03-02')).toMatchObject({ admit: false, later: true, code: 'not_due_yet' });
    expect(admissionHorizon('2026-03-03', policy)).toBe('2026-03-10');
  });
  it('refuses closed, below the minimum, excluded segments and customers', () => {
    expect(admitReceivable({ ...r, status: 'paid', openAmountMinor: 0 }, 'standard', policy, '2026-03-10')).toMatchObject({ admit: false, later: false, code: 'not_open' });
    expect(admitReceivable({ ...r, openAmountMinor: 999 }, 'standard', policy, '2026-03-10')).toMatchObject({ code: 'below_minimum' });
    expect(admitReceivable({ ...r, currency: 'USD', openAmountMinor: 1 }, 'standard', policy, '2026-03-10')).toEqual({ admit: true });
    expect(admitReceivable(r, 'high_risk', policy, '2026-03-10')).toMatchObject({ code: 'excluded_segment' });
    expect(admitReceivable({ ...r, customerId: 'C-X' }, 'standard', policy, '2026-03-10')).toMatchObject({ code: 'excluded_customer' });
  });
});

describe('ledgerChanged', () => {
  const known = { dueDate: '2026-03-10', openAmountMinor: 5_000, status: 'open' as const };
  it('is true when the due date, open amount or status differ, false otherwise', () => {
    expect(ledgerChanged(known, known)).toBe(false);
    expect(ledgerChanged({ ...known, dueDate: '2026-04-10' }, known)).toBe(true);
    expect(ledgerChanged({ ...known, openAmountMinor: 4_000 }, known)).toBe(true);
    expect(ledgerChanged({ ...known, status: 'cancelled' }, known)).toBe(true);
  });
});

describe('config/erp-sync.json', () => {
  it('loads, and a bad file is refused naming the field', () => {
    expect(loadErpSyncConfig().policy.daysBeforeDue).toBeGreaterThanOrEqual(0);
    const bad = erpSyncConfigSchema.safeParse({ mapping: { countries: { DE: { timeZone: 'Nowhere/Land', locale: 'de-DE' } }, categorySegments: { x: 'vip' } }, policy: { daysBeforeDue: -1 } });
    expect(bad.success).toBe(false);
    expect(bad.error!.issues.map((i) => i.path.join('.')).sort()).toEqual(['mapping.categorySegments.x', 'mapping.countries.DE.timeZone', 'policy.daysBeforeDue']);
    expect(erpSyncConfigSchema.safeParse({ unknown: 1 }).success).toBe(false);
  });
});
