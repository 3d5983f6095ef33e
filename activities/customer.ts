import type { Client } from '@temporalio/client';
import { contactReachOfCustomer, customerFlags } from '../db/customers';
import { insertInternalNotificationOnce } from '../db/internal-notifications';
import type { Sql } from '../db/sql';
import type { BusinessCalendar } from '../domain/business-calendar';
import type { Segment } from '../domain/cadence';
import { reachableByEmail } from '../domain/contact-reach';
import { businessCalendarFor } from '../integrations/holidays';
import {
  customerContactWorkflowId,
  queueCustomerMessageSignal,
  type CustomerContactInput,
} from '../workflows/customer-messages';
import type { CustomerMessageRequest } from '../domain/customer-messages';

export interface CustomerActivityDeps {
  sql: Sql;
  temporal: Client;
  taskQueue: string;
  /** How long the customer workflow gathers other invoices' steps before sending one message. */
  consolidationGatherMs: number;
}

export function createCustomerActivities(deps: CustomerActivityDeps) {
  return {
    /**
     * What a step's conditions need to know about the customer now (flags change while a cadence runs).
     * doNotContact: the customer's flag, or contacts on record none of whom may be written to (each is
     * do-not-contact, has no email, or shares a do-not-contact person's mailbox). preferredChannel: the primary contact's; 'email' without one.
     */
    async getCustomerFacts(req: { tenantId: string; customerId: string }): Promise<{ segment: Segment; doNotContact: boolean; preferredChannel: 'email' | 'phone' | 'letter' }> {
      const customer = await customerFlags(deps.sql, req.tenantId, req.customerId);
      if (!customer) throw new Error(`customer ${req.customerId} not found`); // retried: the enrollment transaction may still be committing
      const contacts = await contactReachOfCustomer(deps.sql, req.tenantId, req.customerId);
      return {
        segment: customer.segment,
        // The mail activity writes to the same contacts (domain/contact-reach.ts): nobody reachable there is do-not-contact here.
        doNotContact: customer.doNotContact || (contacts.length > 0 && reachableByEmail(contacts).length === 0),
        preferredChannel: contacts.find((c) => c.isPrimary)?.preferredChannel ?? 'email',
      };
    },

    /** Public holidays, fetched through an activity so that the answer is recorded in history: a library upgrade cannot change a running cadence. */
    async getBusinessCalendar(req: { country: string; region?: string; fromYear: number; toYear: number }): Promise<BusinessCalendar> {
      return businessCalendarFor(req.country, req.region, req.fromYear, req.toYear);
    },

    /** Hands a customer-facing step to the customer's contact workflow, starting it if needed. */
    async queueCustomerMessage(request: CustomerMessageRequest): Promise<void> {
      const input: CustomerContactInput = { tenantId: request.tenantId, customerId: request.customer.id, gatherMs: deps.consolidationGatherMs };
      await deps.temporal.workflow.signalWithStart('customerContact', {
        workflowId: customerContactWorkflowId(input.tenantId, input.customerId),
        taskQueue: deps.taskQueue,
        args: [input],
        signal: queueCustomerMessageSignal,
        signalArgs: [request],
      });
    },

    /** Work for someone inside: the team lead or the account's sales owner. */
    async notifyInternal(req: {
      idempotencyKey: string;
      tenantId: string;
      invoiceNumber: string;
      customerId: string;
      role: 'team_lead' | 'sales_owner' | 'ar_manager';
      note: string;
      openAmountMinor: number;
      currency: string;
      daysPastDue: number;
    }): Promise<{ notificationId: number }> {
      const details = { openAmountMinor: req.openAmountMinor, currency: req.currency, daysPastDue: req.daysPastDue };
      const { idempotencyKey, tenantId, role, invoiceNumber, customerId, note } = req;
      const id = await insertInternalNotificationOnce(deps.sql, { idempotencyKey, tenantId, kind: 'escalation', role, invoiceNumber, customerId, note, details });
      return { notificationId: id };
    },
  };
}
