import type { Segment } from '../domain/cadence';
import type { Db } from './sql';

/** Customers (customers) and the people at them (customer_contacts). */

export interface CustomerRow {
  tenant_id: string;
  customer_id: string;
  name: string;
  email: string;
  contact_name: string | null;
  time_zone: string;
  locale: string;
  country: string | null;
  region: string | null;
  segment: Segment;
  collector_id: string | null;
  do_not_contact: boolean;
  cadence_override: string | null;
  paused: boolean;
  paused_until: Date | null;
  pause_reason: string | null;
  created_at: Date;
  updated_at: Date;
}

export type PreferredChannel = 'email' | 'phone' | 'letter';

export interface CustomerContactRow {
  tenant_id: string;
  customer_id: string;
  contact_id: string;
  name: string;
  email: string | null;
  phone: string | null;
  role: string | null;
  preferred_channel: PreferredChannel;
  do_not_contact: boolean;
  is_primary: boolean;
  needs_update: boolean;
  needs_update_reason: string | null;
  updated_at: Date;
}

export async function findCustomer(db: Db, tenantId: string, customerId: string): Promise<CustomerRow | undefined> {
  const [row] = await db<CustomerRow[]>`select * from customers where tenant_id = ${tenantId} and customer_id = ${customerId}`;
  return row;
}

/** What the workflow's steps ask about a customer; undefined for an unknown customer. */
export async function customerFlags(db: Db, tenantId: string, customerId: string): Promise<{ segment: Segment; doNotContact: boolean } | undefined> {
  const [row] = await db<{ segment: Segment; doNotContact: boolean }[]>`
    select segment, do_not_contact as "doNotContact" from customers where tenant_id = ${tenantId} and customer_id = ${customerId}`;
  return row;
}

/** The customer's collector now (portfolios move); undefined for an unknown customer. */
export async function collectorOfCustomer(db: Db, tenantId: string, customerId: string): Promise<{ collectorId: string | null } | undefined> {
  const [row] = await db<{ collectorId: string | null }[]>`
    select collector_id as "collectorId" from customers where tenant_id = ${tenantId} and customer_id = ${customerId}`;
  return row;
}

/** A contact as the reach rules (domain/contact-reach.ts) and the channel choice read it. */
export interface ContactReach {
  name: string;
  email: string | null;
  doNotContact: boolean;
  isPrimary: boolean;
  preferredChannel: PreferredChannel;
}

/** The customer's contacts, the primary first, then by name. */
export async function contactReachOfCustomer(db: Db, tenantId: string, customerId: string): Promise<ContactReach[]> {
  return db<ContactReach[]>`
    select name, email, do_not_contact as "doNotContact", is_primary as "isPrimary", preferred_channel as "preferredChannel"
    from customer_contacts where tenant_id = ${tenantId} and customer_id = ${customerId}
    order by is_primary desc, name, contact_id`;
}

/** The customer's contacts as stored, the primary first, then by id (or by name, then id). */
export async function contactsOfCustomer(db: Db, tenantId: string, customerId: string, order: 'id' | 'name' = 'id'): Promise<CustomerContactRow[]> {
  return db<CustomerContactRow[]>`
    select * from customer_contacts where tenant_id = ${tenantId} and customer_id = ${customerId}
    order by is_primary desc, ${order === 'name' ? db`name, contact_id` : db`contact_id`}`;
}

/**
 * Locks the customer's row until the end of the transaction `tx` (changes to a customer's contacts,
 * portfolio, pauses and history are serialised per customer); undefined for an unknown customer.
 */
export async function lockCustomer(tx: Db, tenantId: string, customerId: string): Promise<CustomerRow | undefined> {
  const [row] = await tx<CustomerRow[]>`select * from customers where tenant_id = ${tenantId} and customer_id = ${customerId} for update`;
  return row;
}

export async function findContact(db: Db, tenantId: string, customerId: string, contactId: string): Promise<CustomerContactRow | undefined> {
  const [row] = await db<CustomerContactRow[]>`
    select * from customer_contacts where tenant_id = ${tenantId} and customer_id = ${customerId} and contact_id = ${contactId}`;
  return row;
}

/** The customer's other contacts stop being primary; the ids of those that were. */
export async function unsetOtherPrimaryContacts(db: Db, tenantId: string, customerId: string, contactId: string): Promise<string[]> {
  const rows = await db<{ contact_id: string }[]>`
    update customer_contacts set is_primary = false, updated_at = now()
    where tenant_id = ${tenantId} and customer_id = ${customerId} and contact_id <> ${contactId} and is_primary
    returning contact_id`;
  return rows.map((r) => r.contact_id);
}

export interface ContactValues {
  tenantId: string;
  customerId: string;
  contactId: string;
  name: string;
  email: string | null;
  phone: string | null;
  role: string | null;
  preferredChannel: PreferredChannel;
  doNotContact: boolean;
  isPrimary: boolean;
}

/** Creates or replaces the contact as a whole; replacing it clears its needs-update flag. The row written. */
export async function upsertContact(db: Db, c: ContactValues): Promise<CustomerContactRow> {
  const [row] = await db<CustomerContactRow[]>`
    insert into customer_contacts (tenant_id, customer_id, contact_id, name, email, phone, role, preferred_channel, do_not_contact, is_primary)
    values (${c.tenantId}, ${c.customerId}, ${c.contactId}, ${c.name}, ${c.email}, ${c.phone}, ${c.role}, ${c.preferredChannel},
            ${c.doNotContact}, ${c.isPrimary})
    on conflict (tenant_id, customer_id, contact_id) do update set
      name = excluded.name, email = excluded.email, phone = excluded.phone, role = excluded.role,
      preferred_channel = excluded.preferred_channel, do_not_contact = excluded.do_not_contact, is_primary = excluded.is_primary,
      needs_update = false, needs_update_reason = null, updated_at = now()
    returning *`;
  return row!;
}

/** Marks the contact as needing an update, saying why; the row written, undefined for an unknown contact. */
export async function flagContact(db: Db, tenantId: string, customerId: string, contactId: string, reason: string): Promise<CustomerContactRow | undefined> {
  const [row] = await db<CustomerContactRow[]>`
    update customer_contacts set needs_update = true, needs_update_reason = ${reason}, updated_at = now()
    where tenant_id = ${tenantId} and customer_id = ${customerId} and contact_id = ${contactId}
    returning *`;
  return row;
}

/** Nobody at the customer may be contacted (true), or that is lifted (false). */
export async function setCustomerDoNotContact(db: Db, tenantId: string, customerId: string, value: boolean): Promise<void> {
  await db`update customers set do_not_contact = ${value}, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
}

/** The customer paused as a whole (until a time, or until resumed), or resumed with null; invoices enrolled meanwhile are paused too. */
export async function setCustomerPause(db: Db, tenantId: string, customerId: string, pause: { reason: string; until: string | null } | null): Promise<void> {
  await db`update customers set paused = ${pause !== null}, paused_until = ${pause?.until ?? null}, pause_reason = ${pause?.reason ?? null}, updated_at = now()
           where tenant_id = ${tenantId} and customer_id = ${customerId}`;
}

/** Moves the customer to another collector's portfolio. */
export async function setCustomerCollector(db: Db, tenantId: string, customerId: string, collectorId: string): Promise<void> {
  await db`update customers set collector_id = ${collectorId}, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
}

/** Pins the customer to a cadence (its active version at each enrollment), or removes the override with null. */
export async function setCustomerCadenceOverride(db: Db, tenantId: string, customerId: string, cadenceId: string | null): Promise<void> {
  await db`update customers set cadence_override = ${cadenceId}, updated_at = now() where tenant_id = ${tenantId} and customer_id = ${customerId}`;
}

/** A customer as an enrollment states it. */
export interface EnrolledCustomer {
  tenantId: string;
  customerId: string;
  name: string;
  email: string;
  timeZone: string;
  locale: string;
  collectorId: string | null;
  segment: Segment;
  country: string | null;
  region: string | null;
  doNotContact: boolean;
  contactName: string | null;
}

/**
 * Writes the customer as the enrollment states it. The portfolio and the do-not-contact flag are managed
 * elsewhere (reassignment, contact preferences): an enrollment fills them in when unknown, never moves a
 * customer or lifts a do-not-contact.
 */
export async function upsertEnrolledCustomer(db: Db, c: EnrolledCustomer): Promise<void> {
  await db`
    insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, segment, country, region, do_not_contact, contact_name)
    values (${c.tenantId}, ${c.customerId}, ${c.name}, ${c.email}, ${c.timeZone}, ${c.locale}, ${c.collectorId},
            ${c.segment}, ${c.country}, ${c.region}, ${c.doNotContact}, ${c.contactName})
    on conflict (tenant_id, customer_id) do update set name = excluded.name, email = excluded.email, time_zone = excluded.time_zone,
      locale = excluded.locale, segment = excluded.segment, country = excluded.country, region = excluded.region,
      contact_name = excluded.contact_name, updated_at = now(),
      collector_id = coalesce(customers.collector_id, excluded.collector_id),
      do_not_contact = customers.do_not_contact or excluded.do_not_contact`;
}

/** The customer's pause as a whole, while it lasts; undefined when not paused (or the pause has ended). */
export async function activeCustomerPause(db: Db, tenantId: string, customerId: string): Promise<Pick<CustomerRow, 'pause_reason' | 'paused_until'> | undefined> {
  const [row] = await db<Pick<CustomerRow, 'pause_reason' | 'paused_until'>[]>`
    select pause_reason, paused_until from customers where tenant_id = ${tenantId} and customer_id = ${customerId}
      and paused and (paused_until is null or paused_until > now())`;
  return row;
}
