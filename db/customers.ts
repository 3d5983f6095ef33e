import type { Segment } from '../domain/cadence';
import type { Db } from './sql';

/** Customers (customers) and the people at them (customer_contacts), as the activities read them. */

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

/** The customer's contacts as stored, the primary first, then by id. */
export async function contactsOfCustomer(db: Db, tenantId: string, customerId: string): Promise<CustomerContactRow[]> {
  return db<CustomerContactRow[]>`
    select * from customer_contacts where tenant_id = ${tenantId} and customer_id = ${customerId} order by is_primary desc, contact_id`;
}
