import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { MockActivityEnvironment } from '@temporalio/testing';
import { Client, Connection } from '@temporalio/client';
import nodemailer from 'nodemailer';
import { buildApp } from '../../api/app';
import { createContactsService, type ContactInput } from '../../api/contacts-service';
import { DomainError } from '../../api/errors';
import { createCustomerActivities } from '../../activities/customer';
import { createMailActivities, messageIdFor, type CustomerMessageRequest, type DunningEmailRequest } from '../../activities/mail';
import { loadCadence, loadEmailTemplates } from '../../config/load';
import { migrate } from '../../db/migrate';
import { createSql, type Sql } from '../../db/sql';
import { startMailCatcher, type MailCatcher } from '../../dev/mail-catcher';
import { userWithToken } from '../support/auth';

/**
 * Customer contacts and contact preferences against the real PostgreSQL: the service's rules, what
 * they do to dunning (getCustomerFacts, the mail activities through a real SMTP peer), and the HTTP
 * routes with tokens and portfolios (app.inject; no worker polls the task queue, nothing is enrolled).
 */

const tenantId = `contacts-${randomUUID().slice(0, 8)}`;
const taskQueue = `contacts-test-${tenantId}`;
const templates = loadEmailTemplates();

let sql: Sql;
let mail: MailCatcher;
let connection: Connection;
let client: Client;
let app: Awaited<ReturnType<typeof buildApp>>;
let service: ReturnType<typeof createContactsService>;

beforeAll(async () => {
  sql = createSql(inject('databaseUrl'), { max: 4 });
  await migrate(sql);
  mail = await startMailCatcher();
  connection = await Connection.connect({ address: inject('temporalAddress') });
  client = new Client({ connection });
  const cadence = loadCadence('config/cadences/standard.json');
  app = await buildApp({ sql, temporal: client, tenantId, taskQueue, templates, defaultCadenceId: cadence.id, webhookSecret: 'test-secret-0123456789' });
  await app.ready();
  service = createContactsService({ sql, tenantId });
});

afterAll(async () => {
  await app?.close();
  await connection?.close();
  await sql?.end();
  await mail?.close();
});

let seq = 0;
const uniqueCustomer = () => `CUST-${Date.now().toString(36)}-${++seq}`;

async function insertCustomer(profile: { collectorId?: string; doNotContact?: boolean; email?: string; contactName?: string | null } = {}): Promise<string> {
  const customerId = uniqueCustomer();
  await sql`
    insert into customers (tenant_id, customer_id, name, email, time_zone, locale, collector_id, do_not_contact, contact_name)
    values (${tenantId}, ${customerId}, 'Kunde GmbH', ${profile.email ?? 'billing@kunde.example'}, 'Europe/Berlin', 'en-US',
            ${profile.collectorId ?? null}, ${profile.doNotContact ?? false}, ${profile.contactName === undefined ? 'Karl Kunde' : profile.contactName})`;
  return customerId;
}

const contact = (c: Partial<ContactInput> = {}): ContactInput => ({
  name: 'Anna Ap',
  email: 'anna@kunde.example',
  preferredChannel: 'email',
  doNotContact: false,
  isPrimary: false,
  ...c,
});

const contactRows = (customerId: string) =>
  sql<{ contact_id: string; is_primary: boolean; needs_update: boolean; needs_update_reason: string | null; email: string | null; name: string }[]>`
    select contact_id, is_primary, needs_update, needs_update_reason, email, name from customer_contacts
    where tenant_id = ${tenantId} and customer_id = ${customerId} order by contact_id`;
const activitiesOf = (customerId: string) =>
  sql<{ actor: string; kind: string; note: string; details: any; event_key: string }[]>`
    select actor, kind, note, details, event_key from customer_activities where tenant_id = ${tenantId} and customer_id = ${customerId} order by id`;
const auditOf = (customerId: string) =>
  sql<{ actor: string; event_type: string; details: any; event_key: string }[]>`
    select actor, event_type, details, event_key from audit_events where tenant_id = ${tenantId} and details->>'customerId' = ${customerId} order by id`;

/** Runs fn, expects a DomainError and returns it. */
async function domainError(fn: () => Promise<unknown>): Promise<DomainError> {
  const err = await fn().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

describe('contacts service', () => {
  it('lists the contacts of a customer, primary first; 404 for an unknown customer', async () => {
    const customerId = await insertCustomer();
    expect(await service.list(customerId)).toEqual({ customerId, doNotContact: false, contacts: [] });
    await service.upsert(customerId, 'zeta', contact({ name: 'Zeta' }), 'u1');
    await service.upsert(customerId, 'alpha', contact({ name: 'Alpha', isPrimary: true }), 'u1');
    await service.upsert(customerId, 'beta', contact({ name: 'Beta' }), 'u1');
    expect((await service.list(customerId)).contacts.map((c) => c.contactId)).toEqual(['alpha', 'beta', 'zeta']);
    const err = await domainError(() => service.list('NO-SUCH-CUSTOMER'));
    expect(err.statusCode).toBe(404);
  });

  it('keeps one primary: making a contact primary un-primaries the others, and says so in the history', async () => {
    const customerId = await insertCustomer();
    const first = await service.upsert(customerId, 'ap-desk', contact({ isPrimary: true }), 'lead-1');
    expect(first).toMatchObject({ created: true, changed: true, contact: { contactId: 'ap-desk', isPrimary: true, needsUpdate: false } });
    await service.upsert(customerId, 'cfo', contact({ name: 'Carla CFO', email: 'cfo@kunde.example', role: 'CFO', isPrimary: true }), 'lead-1');
    expect((await contactRows(customerId)).map((r) => [r.contact_id, r.is_primary])).toEqual([
      ['ap-desk', false],
      ['cfo', true],
    ]);

    const history = await activitiesOf(customerId);
    expect(history.map((h) => [h.kind, h.actor])).toEqual([
      ['contact_update', 'lead-1'],
      ['contact_update', 'lead-1'],
    ]);
    expect(history[1]!.note).toBe('added contact cfo (Carla CFO); now primary instead of ap-desk');
    expect(history[1]!.details).toMatchObject({ action: 'contact_created', contactId: 'cfo', unprimaried: ['ap-desk'] });
    const audit = await auditOf(customerId);
    expect(audit.map((a) => a.event_type)).toEqual(['contact_created', 'contact_created']);
    expect(new Set(audit.map((a) => a.event_key)).size).toBe(2);
    expect(audit.map((a) => a.event_key)).toEqual(history.map((h) => h.event_key));
  });

  it('records what changed, writes nothing when nothing changed', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact(), 'u1');
    const again = await service.upsert(customerId, 'ap', contact(), 'u2');
    expect(again).toMatchObject({ created: false, changed: false });
    const changed = await service.upsert(customerId, 'ap', contact({ phone: '+49 30 1234567', preferredChannel: 'phone' }), 'u3');
    expect(changed).toMatchObject({ created: false, changed: true, contact: { phone: '+49 30 1234567', preferredChannel: 'phone' } });
    const history = await activitiesOf(customerId);
    expect(history).toHaveLength(2);
    expect(history[1]!.details.changes).toEqual({ phone: { from: null, to: '+49 30 1234567' }, preferredChannel: { from: 'email', to: 'phone' } });
    expect((await auditOf(customerId)).map((a) => [a.event_type, a.actor])).toEqual([
      ['contact_created', 'u1'],
      ['contact_updated', 'u3'],
    ]);
  });

  it('a contact who prefers email needs an email address, one who prefers the phone a number: 400, nothing written', async () => {
    const customerId = await insertCustomer();
    const noEmail = await domainError(() => service.upsert(customerId, 'ap', contact({ email: null }), 'u1'));
    expect(noEmail).toMatchObject({ statusCode: 400, code: 'validation_failed', message: 'contact ap prefers email but has no email address' });
    expect(noEmail.details).toEqual({ issues: [{ path: 'body.email', code: 'custom', message: 'required when preferredChannel is "email"' }] });
    const noPhone = await domainError(() => service.upsert(customerId, 'ap', contact({ preferredChannel: 'phone', phone: '  ' }), 'u1'));
    expect(noPhone).toMatchObject({ statusCode: 400, message: 'contact ap prefers phone but has no phone number' });
    expect(await contactRows(customerId)).toEqual([]);
    expect(await activitiesOf(customerId)).toEqual([]);
    // A letter needs neither.
    expect((await service.upsert(customerId, 'post', contact({ email: undefined, preferredChannel: 'letter' }), 'u1')).contact.email).toBeNull();
  });

  it('404 for an unknown customer, on every change', async () => {
    expect((await domainError(() => service.upsert('NOPE', 'ap', contact(), 'u1'))).statusCode).toBe(404);
    expect((await domainError(() => service.flagForUpdate('NOPE', undefined, 'wrong', 'u1'))).statusCode).toBe(404);
    expect((await domainError(() => service.setCustomerDoNotContact('NOPE', true, 'u1'))).statusCode).toBe(404);
  });

  it('flags a named contact, or the primary; a later update clears the flag', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact({ isPrimary: true }), 'u1');
    await service.upsert(customerId, 'cfo', contact({ name: 'Carla', email: 'cfo@kunde.example' }), 'u1');

    const named = await service.flagForUpdate(customerId, 'cfo', 'left the company', 'col-1');
    expect(named).toMatchObject({ created: false, contact: { contactId: 'cfo', needsUpdate: true, needsUpdateReason: 'left the company' } });
    const primary = await service.flagForUpdate(customerId, undefined, 'wrong_contact: not responsible for AP', 'workflow');
    expect(primary.contact).toMatchObject({ contactId: 'ap', needsUpdate: true });
    expect((await domainError(() => service.flagForUpdate(customerId, 'nobody', 'x', 'u1'))).statusCode).toBe(404);

    const history = await activitiesOf(customerId);
    expect(history.slice(2).map((h) => [h.actor, h.note])).toEqual([
      ['col-1', 'contact cfo flagged for update: left the company'],
      ['workflow', 'contact ap flagged for update: wrong_contact: not responsible for AP'],
    ]);

    const updated = await service.upsert(customerId, 'cfo', contact({ name: 'Carla', email: 'cfo@kunde.example' }), 'u2');
    expect(updated).toMatchObject({ changed: true, contact: { needsUpdate: false, needsUpdateReason: null } });
    expect((await activitiesOf(customerId)).at(-1)!.note).toBe('updated contact cfo (confirmed after a needs-update flag); needs-update flag cleared');
  });

  it('flagging the primary of a customer without contacts creates one from the customer record, flagged', async () => {
    const customerId = await insertCustomer({ email: 'old-ap@kunde.example', contactName: 'Old Contact' });
    const flagged = await service.flagForUpdate(customerId, undefined, 'mailbox bounces', 'col-1', { eventKey: `call:${customerId}:1:wrong_contact` });
    expect(flagged).toMatchObject({
      created: true,
      contact: { contactId: 'primary', name: 'Old Contact', email: 'old-ap@kunde.example', preferredChannel: 'email', isPrimary: true, needsUpdate: true, needsUpdateReason: 'mailbox bounces' },
    });
    // The same event key again (an activity's retry) records nothing twice.
    await service.flagForUpdate(customerId, undefined, 'mailbox bounces', 'col-1', { eventKey: `call:${customerId}:1:wrong_contact` });
    expect(await activitiesOf(customerId)).toHaveLength(1);
    expect(await auditOf(customerId)).toHaveLength(1);

    // Without contact_name the customer's name is the contact's.
    const unnamed = await insertCustomer({ contactName: null });
    expect((await service.flagForUpdate(unnamed, undefined, 'x', 'u1')).contact.name).toBe('Kunde GmbH');
  });

  it('numbers the changes of a customer\'s contacts in their keys; a retried change or flag (no Idempotency-Key) records nothing twice', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact({ isPrimary: true }), 'u1');
    await service.upsert(customerId, 'ap', contact({ isPrimary: true }), 'u1'); // the same PUT again: no change
    await service.flagForUpdate(customerId, 'ap', 'left the company', 'u1');
    await service.flagForUpdate(customerId, 'ap', 'left the company', 'u1'); // the same flag again
    await service.setCustomerDoNotContact(customerId, true, 'u1');
    await service.setCustomerDoNotContact(customerId, true, 'u1');
    const keys = [1, 2, 3].map((n) => `contact:${tenantId}:${customerId}:n${n}`);
    expect((await activitiesOf(customerId)).map((a) => a.event_key)).toEqual(keys);
    expect((await auditOf(customerId)).map((a) => [a.event_key, a.event_type])).toEqual([
      [keys[0], 'contact_created'],
      [keys[1], 'contact_flagged'],
      [keys[2], 'customer_do_not_contact_set'],
    ]);
    // Flagged again for another reason: a change of its own.
    await service.flagForUpdate(customerId, 'ap', 'retired', 'u1');
    expect((await auditOf(customerId)).map((a) => a.event_key).at(-1)).toBe(`contact:${tenantId}:${customerId}:n4`);
  });

  it('409 when the customer has contacts but none is primary and no contact is named', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact(), 'u1');
    expect(await domainError(() => service.flagForUpdate(customerId, undefined, 'x', 'u1'))).toMatchObject({ statusCode: 409, code: 'no_primary_contact' });
  });

  it('sets the customer-level do-not-contact flag, with history only when it changes', async () => {
    const customerId = await insertCustomer();
    expect(await service.setCustomerDoNotContact(customerId, true, 'mgr')).toEqual({ customerId, doNotContact: true, changed: true });
    expect(await service.setCustomerDoNotContact(customerId, true, 'mgr')).toEqual({ customerId, doNotContact: true, changed: false });
    expect((await service.list(customerId)).doNotContact).toBe(true);
    expect(await service.setCustomerDoNotContact(customerId, false, 'mgr')).toMatchObject({ doNotContact: false, changed: true });
    expect((await activitiesOf(customerId)).map((h) => h.note)).toEqual([
      'customer marked do-not-contact: no customer-facing dunning',
      'customer do-not-contact lifted',
    ]);
    expect((await auditOf(customerId)).map((a) => [a.event_type, a.details.doNotContact])).toEqual([
      ['customer_do_not_contact_set', true],
      ['customer_do_not_contact_set', false],
    ]);
  });
});

describe('getCustomerFacts: do-not-contact and preferred channel from the contacts', () => {
  const facts = (customerId: string) =>
    createCustomerActivities({ sql, temporal: client, taskQueue, consolidationGatherMs: 0 }).getCustomerFacts({ tenantId, customerId });

  it('without contact rows: the customer flag, preferred channel email', async () => {
    const customerId = await insertCustomer();
    expect(await facts(customerId)).toEqual({ segment: 'standard', doNotContact: false, preferredChannel: 'email' });
    await service.setCustomerDoNotContact(customerId, true, 'u1');
    expect(await facts(customerId)).toEqual({ segment: 'standard', doNotContact: true, preferredChannel: 'email' });
  });

  it('do-not-contact when no contact may be written to: all do-not-contact, or none with an email', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact({ isPrimary: true, doNotContact: true }), 'u1');
    expect((await facts(customerId)).doNotContact).toBe(true);
    await service.upsert(customerId, 'phone-only', contact({ name: 'Paul', email: null, phone: '+49 30 555', preferredChannel: 'phone' }), 'u1');
    expect((await facts(customerId)).doNotContact).toBe(true); // reachable by phone, but not by email
    await service.upsert(customerId, 'cfo', contact({ name: 'Carla', email: 'cfo@kunde.example' }), 'u1');
    expect((await facts(customerId)).doNotContact).toBe(false);
    await service.setCustomerDoNotContact(customerId, true, 'u1');
    expect((await facts(customerId)).doNotContact).toBe(true); // the customer flag wins
  });

  it('agrees with the mail activity: a mailbox shared with a do-not-contact person reaches nobody', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact({ isPrimary: true, doNotContact: true, email: 'ap@kunde.example' }), 'u1');
    await service.upsert(customerId, 'ap2', contact({ name: 'Second AP clerk', email: 'AP@kunde.example' }), 'u1');
    expect((await facts(customerId)).doNotContact).toBe(true);
  });

  it("preferredChannel is the primary contact's; 'email' without a primary", async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact({ phone: '+44 20 7946 0000', preferredChannel: 'phone' }), 'u1');
    expect((await facts(customerId)).preferredChannel).toBe('email');
    await service.upsert(customerId, 'ap', contact({ phone: '+44 20 7946 0000', preferredChannel: 'phone', isPrimary: true }), 'u1');
    expect(await facts(customerId)).toEqual({ segment: 'standard', doNotContact: false, preferredChannel: 'phone' });
    await service.upsert(customerId, 'post', contact({ name: 'Mailroom', email: null, preferredChannel: 'letter', isPrimary: true }), 'u1');
    expect((await facts(customerId)).preferredChannel).toBe('letter');
  });
});

describe('mail: To the primary reachable contact, Cc the other reachable ones', () => {
  const activities = () =>
    createMailActivities({ sql, mailer: nodemailer.createTransport(`smtp://127.0.0.1:${mail.smtpPort}`), mailFrom: 'Acme AR <ar@acme.example>', senderName: 'Acme AR', templates });
  const customerOf = (customerId: string) => ({ id: customerId, name: 'Kunde GmbH', email: 'billing@kunde.example', timeZone: 'Europe/Berlin', locale: 'en-US', contactName: 'Karl Kunde' });
  const invoice = (customerId: string, n: number) => ({
    number: `INV-${customerId}-${n}`,
    customerId,
    currency: 'EUR',
    amountMinor: 125_000,
    issueDate: '2026-09-01',
    dueDate: '2026-10-01',
  });
  function digest(customerId: string): CustomerMessageRequest {
    return {
      idempotencyKey: `customer-contact:${tenantId}:${customerId}:batch:1`,
      tenantId,
      customer: customerOf(customerId),
      items: [1, 2].map((n) => ({ requestId: `r${n}`, invoice: invoice(customerId, n), stepId: 'reminder-1', kind: 'email' as const, template: 'reminder-friendly', openAmountMinor: 100_000, daysPastDue: 10 })),
    };
  }
  const single = (customerId: string): DunningEmailRequest => ({
    idempotencyKey: `invoice-dunning:${tenantId}:${customerId}:step:reminder-1`,
    tenantId,
    invoice: invoice(customerId, 9),
    customer: customerOf(customerId),
    template: 'reminder-friendly',
    openAmountMinor: 100_000,
    daysPastDue: 10,
  });
  type SendResult = Awaited<ReturnType<ReturnType<typeof activities>['sendCustomerMessage']>>;
  const sendMessage = (req: CustomerMessageRequest) => new MockActivityEnvironment().run(activities().sendCustomerMessage, req) as Promise<SendResult>;
  const sendEmail = (req: DunningEmailRequest) => new MockActivityEnvironment().run(activities().sendDunningEmail, req) as Promise<SendResult>;
  const caught = (key: string) => mail.waitFor((m) => m.headers['x-dunning-idempotency-key'] === key);
  const outbox = (key: string) => sql<{ recipient: string; status: string }[]>`select recipient, status from outbound_messages where idempotency_key = ${key}`;
  const addresses = (header: string | undefined) => (header ?? '').split(',').map((a) => /<([^>]+)>/.exec(a)?.[1] ?? a.trim()).filter(Boolean);

  it('writes To the primary, Cc the others; skips do-not-contact and email-less contacts; greets the primary', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'cfo', contact({ name: 'Carla Cfo', email: 'cfo@kunde.example' }), 'u1');
    await service.upsert(customerId, 'ap', contact({ name: 'Anna Ap', email: 'anna@kunde.example', isPrimary: true }), 'u1');
    await service.upsert(customerId, 'old', contact({ name: 'Olaf Old', email: 'olaf@kunde.example', doNotContact: true }), 'u1');
    await service.upsert(customerId, 'phone', contact({ name: 'Paul Phone', email: null, phone: '+49 30 555', preferredChannel: 'phone' }), 'u1');
    await service.upsert(customerId, 'dup', contact({ name: 'Another Anna', email: 'ANNA@kunde.example' }), 'u1');

    const req = digest(customerId);
    const from = Date.now();
    const sent = await sendMessage(req);
    // sentAt: when the SMTP server took it (the contact cap counts from there).
    expect(sent).toEqual({ status: 'sent', messageId: messageIdFor(req.idempotencyKey), sentAt: expect.any(String) });
    expect(Date.parse(sent.sentAt!)).toBeGreaterThanOrEqual(from);
    expect(Date.parse(sent.sentAt!)).toBeLessThanOrEqual(Date.now());
    const received = await caught(req.idempotencyKey);
    expect(addresses(received.headers.to)).toEqual(['anna@kunde.example']);
    expect(addresses(received.headers.cc)).toEqual(['cfo@kunde.example']);
    expect(received.envelopeTo.sort()).toEqual(['anna@kunde.example', 'cfo@kunde.example']);
    expect(received.text).toContain('Dear Anna Ap,');
    expect(await outbox(req.idempotencyKey)).toEqual([{ recipient: 'anna@kunde.example', status: 'sent' }]);
    // Which step of which invoice the message carried, aligned.
    expect(await sql`select invoice_numbers, step_ids from outbound_messages where idempotency_key = ${req.idempotencyKey}`).toEqual([
      { invoice_numbers: req.items.map((i) => i.invoice.number), step_ids: ['reminder-1', 'reminder-1'] },
    ]);
  });

  it('a do-not-contact primary is passed over: the next reachable contact is To', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact({ name: 'Anna Ap', isPrimary: true, doNotContact: true }), 'u1');
    await service.upsert(customerId, 'cfo', contact({ name: 'Carla Cfo', email: 'cfo@kunde.example' }), 'u1');
    const req = single(customerId);
    expect((await sendEmail(req)).status).toBe('sent');
    const received = await caught(req.idempotencyKey);
    expect(received.envelopeTo).toEqual(['cfo@kunde.example']);
    expect(received.headers.cc).toBeUndefined();
  });

  it("without contact rows: the customer's email from the request, no Cc", async () => {
    const customerId = await insertCustomer();
    const req = single(customerId);
    expect((await sendEmail(req)).status).toBe('sent');
    const received = await caught(req.idempotencyKey);
    expect(received.envelopeTo).toEqual(['billing@kunde.example']);
    expect(received.headers.cc).toBeUndefined();
    expect(await outbox(req.idempotencyKey)).toEqual([{ recipient: 'billing@kunde.example', status: 'sent' }]);
  });

  it('every contact do-not-contact: nothing is claimed or sent, the answer says do_not_contact (the workflows record it, they do not fail)', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact({ isPrimary: true, doNotContact: true }), 'u1');
    await service.upsert(customerId, 'post', contact({ name: 'Mailroom', email: null, preferredChannel: 'letter' }), 'u1');
    expect((await sendMessage(digest(customerId))).status).toBe('do_not_contact');
    expect((await sendEmail(single(customerId))).status).toBe('do_not_contact');
    expect(await outbox(digest(customerId).idempotencyKey)).toEqual([]);
    expect(await outbox(single(customerId).idempotencyKey)).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(mail.messages().filter((m) => m.headers['x-dunning-idempotency-key']?.includes(customerId))).toEqual([]);
  });

  it('a retry after the mail went out still answers already_sent when everyone became do-not-contact meanwhile', async () => {
    const customerId = await insertCustomer();
    await service.upsert(customerId, 'ap', contact({ isPrimary: true }), 'u1');
    const req = digest(customerId);
    expect((await sendMessage(req)).status).toBe('sent');
    await service.upsert(customerId, 'ap', contact({ isPrimary: true, doNotContact: true }), 'u1');
    expect(await sendMessage(req)).toEqual({ status: 'already_sent', messageId: messageIdFor(req.idempotencyKey) });
    await new Promise((r) => setTimeout(r, 300));
    expect(mail.messages().filter((m) => m.headers['x-dunning-idempotency-key'] === req.idempotencyKey)).toHaveLength(1);
  });
});

describe('contacts over HTTP: tokens, portfolios, validation', () => {
  type Caller = Awaited<ReturnType<typeof userWithToken>>;
  let anna: Caller, ben: Caller, lead: Caller;
  let annasCustomer: string, bensCustomer: string;

  beforeAll(async () => {
    anna = await userWithToken(sql, tenantId, { userId: 'anna', role: 'collector' });
    ben = await userWithToken(sql, tenantId, { userId: 'ben', role: 'collector' });
    lead = await userWithToken(sql, tenantId, { userId: 'lead', role: 'team_lead' });
    annasCustomer = await insertCustomer({ collectorId: 'anna' });
    bensCustomer = await insertCustomer({ collectorId: 'ben' });
  });

  async function api(caller: Caller | undefined, method: 'GET' | 'PUT' | 'POST', url: string, payload?: unknown) {
    const res = await app.inject({ method, url, headers: caller?.headers ?? {}, ...(payload === undefined ? {} : { payload: payload as object }) });
    return { status: res.statusCode, body: res.body ? (res.json() as any) : undefined };
  }

  it('a collector manages the contacts of their own portfolio; the history names them', async () => {
    const created = await api(anna, 'PUT', `/customers/${annasCustomer}/contacts/ap-desk`, { name: 'AP desk', email: 'ap@kunde.example', isPrimary: true });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ contactId: 'ap-desk', name: 'AP desk', email: 'ap@kunde.example', phone: null, preferredChannel: 'email', doNotContact: false, isPrimary: true, needsUpdate: false });

    const replaced = await api(anna, 'PUT', `/customers/${annasCustomer}/contacts/ap-desk`, { name: 'AP desk', email: 'ap@kunde.example', phone: '+49 89 123', isPrimary: true });
    expect(replaced.status).toBe(200);
    expect(replaced.body.phone).toBe('+49 89 123');

    const flagged = await api(anna, 'POST', `/customers/${annasCustomer}/contacts/ap-desk/flag`, { reason: 'wrong person, asks us to write to finance@' });
    expect(flagged.status).toBe(200);
    expect(flagged.body).toMatchObject({ contactId: 'ap-desk', needsUpdate: true, needsUpdateReason: 'wrong person, asks us to write to finance@' });

    const listed = await api(anna, 'GET', `/customers/${annasCustomer}/contacts`);
    expect(listed.status).toBe(200);
    expect(listed.body).toMatchObject({ customerId: annasCustomer, doNotContact: false, contacts: [{ contactId: 'ap-desk', needsUpdate: true }] });

    const dnc = await api(anna, 'PUT', `/customers/${annasCustomer}/do-not-contact`, { doNotContact: true });
    expect(dnc).toEqual({ status: 200, body: { customerId: annasCustomer, doNotContact: true, changed: true } });

    expect(new Set((await activitiesOf(annasCustomer)).map((h) => h.actor))).toEqual(new Set(['anna']));
    expect((await auditOf(annasCustomer)).map((a) => a.event_type)).toEqual(['contact_created', 'contact_updated', 'contact_flagged', 'customer_do_not_contact_set']);
  });

  it("403 for a collector on another portfolio's customer, on every route; nothing changes", async () => {
    await service.upsert(bensCustomer, 'ap', contact({ isPrimary: true }), 'ben');
    const attempts = [
      await api(anna, 'GET', `/customers/${bensCustomer}/contacts`),
      await api(anna, 'PUT', `/customers/${bensCustomer}/contacts/ap`, { name: 'Hijack', email: 'x@evil.example' }),
      await api(anna, 'POST', `/customers/${bensCustomer}/contacts/ap/flag`, { reason: 'x' }),
      await api(anna, 'PUT', `/customers/${bensCustomer}/do-not-contact`, { doNotContact: true }),
    ];
    for (const res of attempts) expect(res).toMatchObject({ status: 403, body: { error: 'not_in_portfolio' } });
    expect((await service.list(bensCustomer)).contacts.map((c) => c.name)).toEqual(['Anna Ap']);
    expect((await service.list(bensCustomer)).doNotContact).toBe(false);
    // A team lead sees every portfolio.
    expect((await api(lead, 'GET', `/customers/${bensCustomer}/contacts`)).status).toBe(200);
    expect((await api(ben, 'GET', `/customers/${bensCustomer}/contacts`)).status).toBe(200);
  });

  it('400 with every zod issue on a bad body', async () => {
    const res = await api(lead, 'PUT', `/customers/${annasCustomer}/contacts/bad`, { name: '', email: 'not-an-email', preferredChannel: 'fax', doNotContact: 'yes' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('validation_failed');
    expect((res.body.issues as { path: string }[]).map((i) => i.path).sort()).toEqual(['body.doNotContact', 'body.email', 'body.name', 'body.preferredChannel']);
    const badFlag = await api(lead, 'POST', `/customers/${annasCustomer}/contacts/ap-desk/flag`, {});
    expect(badFlag.status).toBe(400);
    expect(badFlag.body.issues.map((i: { path: string }) => i.path)).toEqual(['body.reason']);
    const badDnc = await api(lead, 'PUT', `/customers/${annasCustomer}/do-not-contact`, { doNotContact: 'true' });
    expect(badDnc.status).toBe(400);
    const badId = await api(lead, 'PUT', `/customers/${annasCustomer}/contacts/-bad-id`, { name: 'X', email: 'x@kunde.example' });
    expect(badId.status).toBe(400);
    expect(badId.body.issues.map((i: { path: string }) => i.path)).toEqual(['params.contactId']);
  });

  it('400 in the same shape when the preferred channel has no address', async () => {
    const res = await api(lead, 'PUT', `/customers/${annasCustomer}/contacts/caller`, { name: 'Caller', preferredChannel: 'phone', email: 'c@kunde.example' });
    expect(res).toEqual({
      status: 400,
      body: { error: 'validation_failed', message: 'contact caller prefers phone but has no phone number', issues: [{ path: 'body.phone', code: 'custom', message: 'required when preferredChannel is "phone"' }] },
    });
  });

  it('404 for an unknown customer or contact, 401 without a token', async () => {
    expect((await api(lead, 'GET', '/customers/NO-SUCH/contacts')).status).toBe(404);
    expect((await api(lead, 'PUT', '/customers/NO-SUCH/do-not-contact', { doNotContact: true })).status).toBe(404);
    expect((await api(lead, 'POST', `/customers/${annasCustomer}/contacts/nobody/flag`, { reason: 'x' })).status).toBe(404);
    expect((await api(undefined, 'GET', `/customers/${annasCustomer}/contacts`)).status).toBe(401);
  });

  it('the routes are in the OpenAPI document', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json() as { paths: Record<string, Record<string, { summary?: string }>> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/customers/{customerId}/contacts', '/customers/{customerId}/contacts/{contactId}', '/customers/{customerId}/contacts/{contactId}/flag', '/customers/{customerId}/do-not-contact']),
    );
    expect(doc.paths['/customers/{customerId}/contacts/{contactId}']!.put!.summary).toMatch(/Create or replace a contact/);
  });
});
