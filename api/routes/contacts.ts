import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Sql } from '../../db/sql';
import { assertCustomerAccess } from '../auth';
import { CONTACT_CHANNELS, type ContactsService } from '../contacts-service';
import { customerParams, errorSchema } from '../schemas';
import { multiLineText, singleLineText } from '../../domain/text';

/** The same rule as the customer_contacts.contact_id check constraint. */
const contactIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'letters, digits, . _ -, at most 64, starting with a letter or digit')
  .describe("the contact's id within the customer, chosen by the caller (e.g. ap-desk, cfo)");
const contactParams = customerParams.extend({ contactId: contactIdSchema });
const channelSchema = z.enum(CONTACT_CHANNELS);

const contactBody = z.object({
  name: singleLineText(200).describe("the person's (or the desk's) name; the greeting of a message addressed to them"),
  email: z.email().max(254).nullable().optional().describe('required when preferredChannel is "email"'),
  phone: z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 ()./-]{2,39}$/, 'a phone number: digits, optionally a leading +, spaces and ( ) . / -')
    .nullable()
    .optional()
    .describe('required when preferredChannel is "phone"'),
  role: singleLineText(100).nullable().optional().describe('e.g. "Accounts payable", "CFO"'),
  preferredChannel: channelSchema.default('email').describe("how the contact wants to be reached (the primary contact's preference is the customer's)"),
  doNotContact: z.boolean().default(false).describe('never write to or call this contact'),
  isPrimary: z.boolean().default(false).describe("the customer's main contact: To of every message (the other reachable contacts are Cc); making one primary un-primaries the others"),
});

/** A contact as the API shows it (also on GET /customers/:id). */
export const contactViewSchema = z.object({
  contactId: z.string(),
  name: z.string(),
  email: z.string().nullable(),
  phone: z.string().nullable(),
  role: z.string().nullable(),
  preferredChannel: channelSchema,
  doNotContact: z.boolean(),
  isPrimary: z.boolean(),
  needsUpdate: z.boolean().describe('someone found the contact wrong or outdated; cleared by the next PUT'),
  needsUpdateReason: z.string().nullable(),
  updatedAt: z.string(),
});

const flagBody = z.object({ reason: multiLineText(500).describe('what is wrong, e.g. "left the company; AP is now ap@…"') });
const doNotContactBody = z.object({ doNotContact: z.boolean().describe('true: no customer-facing dunning for this customer at all') });

/**
 * The people at a customer and how they want to be reached. Every role may read and change them for
 * customers it may see (a collector: their portfolio); every change is in the customer's history and the audit trail.
 */
export const contactRoutes: FastifyPluginAsyncZod<{ sql: Sql; contacts: ContactsService }> = async (app, { sql, contacts }) => {
  app.get('/customers/:customerId/contacts', {
    schema: {
      summary: "A customer's contacts (primary first) and its do-not-contact flag",
      params: customerParams,
      response: {
        200: z.object({ customerId: z.string(), doNotContact: z.boolean(), contacts: z.array(contactViewSchema) }),
        400: errorSchema,
        403: errorSchema,
        404: errorSchema,
      },
    },
    handler: async (request) => {
      await assertCustomerAccess(sql, request.user, request.params.customerId);
      return contacts.list(request.params.customerId);
    },
  });

  app.put('/customers/:customerId/contacts/:contactId', {
    schema: {
      summary: 'Create or replace a contact (omitted optional fields are cleared; a needs-update flag is cleared). 201 when created',
      params: contactParams,
      body: contactBody,
      response: { 200: contactViewSchema, 201: contactViewSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema },
    },
    handler: async (request, reply) => {
      const { customerId, contactId } = request.params;
      await assertCustomerAccess(sql, request.user, customerId);
      const { contact, created } = await contacts.upsert(customerId, contactId, request.body, request.user.userId);
      return reply.code(created ? 201 : 200).send(contact);
    },
  });

  app.post('/customers/:customerId/contacts/:contactId/flag', {
    schema: {
      summary: 'Flag a contact as needing an update (wrong person, left the company); it stays usable until someone updates it',
      params: contactParams,
      body: flagBody,
      response: { 200: contactViewSchema, 400: errorSchema, 403: errorSchema, 404: errorSchema },
    },
    handler: async (request) => {
      const { customerId, contactId } = request.params;
      await assertCustomerAccess(sql, request.user, customerId);
      return (await contacts.flagForUpdate(customerId, contactId, request.body.reason, request.user.userId)).contact;
    },
  });

  app.put('/customers/:customerId/do-not-contact', {
    schema: {
      summary: 'Set or lift do-not-contact for the whole customer: customer-facing steps are skipped while it is set',
      params: customerParams,
      body: doNotContactBody,
      response: { 200: z.object({ customerId: z.string(), doNotContact: z.boolean(), changed: z.boolean() }), 400: errorSchema, 403: errorSchema, 404: errorSchema },
    },
    handler: async (request) => {
      await assertCustomerAccess(sql, request.user, request.params.customerId);
      return contacts.setCustomerDoNotContact(request.params.customerId, request.body.doNotContact, request.user.userId);
    },
  });
};
