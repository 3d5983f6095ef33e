import { appendAuditEvent } from '../db/audit-events';
import { appendCustomerActivity, countCustomerActivities } from '../db/customer-activities';
import {
  contactsOfCustomer,
  findContact,
  findCustomer,
  flagContact,
  lockCustomer as lockCustomerRow,
  setCustomerDoNotContact as setDoNotContactFlag,
  unsetOtherPrimaryContacts,
  upsertContact,
  type CustomerContactRow,
} from '../db/customers';
import type { Db, Sql, TransactionSql } from '../db/sql';
import { validationIssue, type ValidationIssue } from '../config/validation-issues';
import { DomainError, notFound } from './errors';

/**
 * The people at a customer (customer_contacts): who to write to or call, how they want to be
 * reached, whether they may be contacted at all, and which of them needs updating (a call reached
 * the wrong person). Every change appends to the customer's activity history (kind
 * 'contact_update') and to the audit trail, in the same transaction as the change.
 *
 * Effects on dunning live in the activities: getCustomerFacts derives do-not-contact and the
 * preferred channel from these rows, the mail activities write To the primary reachable contact
 * and Cc the other reachable ones.
 */

export const CONTACT_CHANNELS = ['email', 'phone', 'letter'] as const;
export type ContactChannel = (typeof CONTACT_CHANNELS)[number];

/** A contact as a PUT sets it: the whole contact (omitted optional fields are cleared). */
export interface ContactInput {
  name: string;
  email?: string | null;
  phone?: string | null;
  role?: string | null;
  preferredChannel: ContactChannel;
  doNotContact: boolean;
  isPrimary: boolean;
}

export interface ContactView {
  contactId: string;
  name: string;
  email: string | null;
  phone: string | null;
  role: string | null;
  preferredChannel: ContactChannel;
  doNotContact: boolean;
  isPrimary: boolean;
  /** Someone found the contact wrong or outdated (e.g. the call outcome wrong_contact); cleared by the next PUT. */
  needsUpdate: boolean;
  needsUpdateReason: string | null;
  updatedAt: string;
}

export interface CustomerContacts {
  customerId: string;
  /** The customer-level flag (customers.do_not_contact): nobody at the customer may be contacted. */
  doNotContact: boolean;
  /** Primary first, then by name. */
  contacts: ContactView[];
}

/** A contact as the API shows it (the contacts routes, and the customer page of api/portfolio-service.ts). */
export const toView = (r: CustomerContactRow): ContactView => ({
  contactId: r.contact_id,
  name: r.name,
  email: r.email,
  phone: r.phone,
  role: r.role,
  preferredChannel: r.preferred_channel,
  doNotContact: r.do_not_contact,
  isPrimary: r.is_primary,
  needsUpdate: r.needs_update,
  needsUpdateReason: r.needs_update_reason,
  updatedAt: r.updated_at.toISOString(),
});

/** An empty or blank optional text is no value. */
const blankToNull = (value: string | null | undefined): string | null => (value === undefined || value === null || value.trim() === '' ? null : value.trim());

/**
 * The rules a body schema cannot see alone: a contact who prefers email needs an email address,
 * one who prefers the phone a number. Answered like a schema violation (400 validation_failed with issues).
 */
function checkReachable(contactId: string, c: { email: string | null; phone: string | null; preferredChannel: ContactChannel }): void {
  const issues: ValidationIssue[] = [];
  if (c.preferredChannel === 'email' && !c.email) issues.push(validationIssue(['body', 'email'], 'custom', 'required when preferredChannel is "email"'));
  if (c.preferredChannel === 'phone' && !c.phone) issues.push(validationIssue(['body', 'phone'], 'custom', 'required when preferredChannel is "phone"'));
  if (issues.length > 0) {
    const message = `contact ${contactId} prefers ${c.preferredChannel} but has no ${c.preferredChannel === 'email' ? 'email address' : 'phone number'}`;
    throw new DomainError('validation_failed', message, { issues });
  }
}

/** The audit events of a change to contacts; each is also an entry of kind 'contact_update' in the customer's history. */
type ContactEventType = 'contact_created' | 'contact_updated' | 'contact_flagged' | 'customer_do_not_contact_set';

export function createContactsService(deps: { sql: Sql; tenantId: string }) {
  const { sql, tenantId } = deps;

  /** Locks the customer row (serialises contact changes per customer: one primary, no lost update); 404 if unknown. */
  async function lockCustomer(tx: TransactionSql, customerId: string) {
    const row = await lockCustomerRow(tx, tenantId, customerId);
    if (!row) throw notFound(`customer ${customerId}`);
    return row;
  }

  const contactRows = (db: Db, customerId: string) => contactsOfCustomer(db, tenantId, customerId, 'name');

  /**
   * One history row for the customer and one audit event, keyed alike; a given key is written once.
   * Without a key (a change through the API), the key numbers the customer's contact changes: the
   * customer's row is locked (lockCustomer), so the count is the change's own, the same on a retry
   * that got as far; a request that changes nothing records nothing.
   */
  async function record(
    tx: TransactionSql,
    e: { customerId: string; actor: string; eventType: ContactEventType; note: string; details: { action: ContactEventType } & Record<string, unknown>; eventKey?: string },
  ): Promise<void> {
    const key = e.eventKey ?? `contact:${tenantId}:${e.customerId}:n${(await countCustomerActivities(tx, tenantId, e.customerId, 'contact_update')) + 1}`;
    const details = { customerId: e.customerId, ...e.details };
    await appendCustomerActivity(tx, { eventKey: key, tenantId, customerId: e.customerId, actor: e.actor, kind: 'contact_update', note: e.note, details });
    await appendAuditEvent(tx, { eventKey: key, tenantId, actor: e.actor, type: e.eventType, details: { ...details, note: e.note } });
  }

  return {
    /** The customer's contacts, primary first; 404 for an unknown customer. */
    async list(customerId: string): Promise<CustomerContacts> {
      const customer = await findCustomer(sql, tenantId, customerId);
      if (!customer) throw notFound(`customer ${customerId}`);
      return { customerId, doNotContact: customer.do_not_contact, contacts: (await contactRows(sql, customerId)).map(toView) };
    },

    /**
     * Creates or replaces a contact. Making it primary un-primaries the customer's other contacts in
     * the same transaction. Replacing a contact clears its needs-update flag (someone has just
     * updated it). 400 when the preferred channel has no address; nothing is written when nothing changed.
     */
    async upsert(customerId: string, contactId: string, body: ContactInput, actor: string): Promise<{ contact: ContactView; created: boolean; changed: boolean }> {
      const next = {
        name: body.name.trim(),
        email: blankToNull(body.email),
        phone: blankToNull(body.phone),
        role: blankToNull(body.role),
        preferredChannel: body.preferredChannel,
        doNotContact: body.doNotContact,
        isPrimary: body.isPrimary,
      };
      if (!next.name) throw new DomainError('validation_failed', 'a contact needs a name', { issues: [validationIssue(['body', 'name'], 'custom', 'must not be blank')] });
      checkReachable(contactId, next);

      return sql.begin(async (tx) => {
        await lockCustomer(tx, customerId);
        const before = await findContact(tx, tenantId, customerId, contactId);
        const changes: Record<string, { from: unknown; to: unknown }> = {};
        if (before) {
          const old = { name: before.name, email: before.email, phone: before.phone, role: before.role, preferredChannel: before.preferred_channel, doNotContact: before.do_not_contact, isPrimary: before.is_primary };
          for (const field of Object.keys(next) as (keyof typeof next)[]) if (old[field] !== next[field]) changes[field] = { from: old[field], to: next[field] };
          if (Object.keys(changes).length === 0 && !before.needs_update) return { contact: toView(before), created: false, changed: false };
        }

        const unprimaried = next.isPrimary ? await unsetOtherPrimaryContacts(tx, tenantId, customerId, contactId) : [];
        const contact = toView(await upsertContact(tx, { tenantId, customerId, contactId, ...next }));

        const created = !before;
        const what = created ? `added contact ${contactId} (${next.name})` : `updated contact ${contactId} (${Object.keys(changes).join(', ') || 'confirmed after a needs-update flag'})`;
        const extras = [
          unprimaried.length ? `now primary instead of ${unprimaried.join(', ')}` : '',
          before?.needs_update ? 'needs-update flag cleared' : '',
        ].filter(Boolean);
        await record(tx, {
          customerId,
          actor,
          eventType: created ? 'contact_created' : 'contact_updated',
          note: [what, ...extras].join('; '),
          details: {
            action: created ? 'contact_created' : 'contact_updated',
            contactId,
            contact: { ...next },
            ...(created ? {} : { changes }),
            ...(unprimaried.length ? { unprimaried } : {}),
            ...(before?.needs_update ? { clearedNeedsUpdate: before.needs_update_reason } : {}),
          },
        });
        return { contact, created, changed: true };
      });
    },

    /**
     * Marks a contact as needing an update (the call outcome wrong_contact). Without a contact id the
     * primary contact is flagged; a customer without contact rows gets a primary contact made from
     * the customer record (customers.email and contact_name), flagged. 404 for an unknown customer or
     * contact; 409 when the customer has contacts but none is primary and no contact id was given.
     * `opts.eventKey` makes a retried call (an activity) record its history only once.
     */
    async flagForUpdate(
      customerId: string,
      contactId: string | undefined,
      reason: string,
      actor: string,
      opts: { eventKey?: string } = {},
    ): Promise<{ contact: ContactView; created: boolean }> {
      const why = reason.trim();
      if (!why) throw new DomainError('validation_failed', 'a reason is required to flag a contact', { issues: [validationIssue(['body', 'reason'], 'custom', 'must not be blank')] });
      return sql.begin(async (tx) => {
        const customer = await lockCustomer(tx, customerId);
        let found: CustomerContactRow | undefined;
        let created = false;
        if (contactId !== undefined) {
          found = await findContact(tx, tenantId, customerId, contactId);
          if (!found) throw notFound(`contact ${contactId} of customer ${customerId}`);
        } else {
          const rows = await contactRows(tx, customerId);
          found = rows.find((r) => r.is_primary);
          if (!found && rows.length > 0)
            throw new DomainError('no_primary_contact', `customer ${customerId} has contacts but none is primary: name the contact to flag`);
          if (!found) {
            created = true;
            found = await upsertContact(tx, {
              tenantId, customerId, contactId: 'primary', name: customer.contact_name ?? customer.name, email: customer.email,
              phone: null, role: null, preferredChannel: 'email', doNotContact: false, isPrimary: true,
            });
          }
        }
        // Flagged already for this very reason (a retried request): nothing changes, nothing is recorded again.
        if (!created && found.needs_update && found.needs_update_reason === why) return { contact: toView(found), created };
        const target = found.contact_id;
        const row = await flagContact(tx, tenantId, customerId, target, why);
        await record(tx, {
          customerId,
          actor,
          eventType: 'contact_flagged',
          note: `contact ${target} flagged for update: ${why}${created ? ' (contact created from the customer record)' : ''}`,
          details: { action: 'contact_flagged', contactId: target, reason: why, createdFromCustomer: created },
          eventKey: opts.eventKey,
        });
        return { contact: toView(row!), created };
      });
    },

    /** Sets the customer-level do-not-contact flag; history and audit only when it changes. 404 for an unknown customer. */
    async setCustomerDoNotContact(customerId: string, value: boolean, actor: string): Promise<{ customerId: string; doNotContact: boolean; changed: boolean }> {
      return sql.begin(async (tx) => {
        const customer = await lockCustomer(tx, customerId);
        if (customer.do_not_contact === value) return { customerId, doNotContact: value, changed: false };
        await setDoNotContactFlag(tx, tenantId, customerId, value);
        await record(tx, {
          customerId,
          actor,
          eventType: 'customer_do_not_contact_set',
          note: value ? 'customer marked do-not-contact: no customer-facing dunning' : 'customer do-not-contact lifted',
          details: { action: 'customer_do_not_contact_set', doNotContact: value, previous: customer.do_not_contact },
        });
        return { customerId, doNotContact: value, changed: true };
      });
    },
  };
}

export type ContactsService = ReturnType<typeof createContactsService>;
