import { randomUUID } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import path from 'node:path';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { z } from 'zod';
import { erpInvoiceBalanceSchema } from '../integrations/erp/adapter';
import { erpCustomerSchema } from '../integrations/erp/changes';
import { paymentDeductionSchema, type PaymentAppliedEvent } from '../integrations/erp/payment-applied-event';
import {
  ErpSimulatorStore,
  type ErpSimulatorState,
  type AdjustmentKind,
  type AdjustmentRefusal,
  type CreditAction,
  type InvoiceChangeRefusal,
  type SimulatedInvoice,
  type SimulatedPayment,
} from './erp-simulator-store';
import { createWebhookSender } from './erp-webhook-sender';

/**
 * The reference ERP: a real HTTP server that the adapter, the demo and the tests talk to, so the
 * ERP contract is exercised over the wire instead of through mocks.
 */

const { invoiceNumber, customerId, currency, asOf: isoInstant } = erpInvoiceBalanceSchema.shape;
const amountMinor = z.number().int().positive();

const invoiceBody = z
  .object({ invoiceNumber, customerId, currency, amountMinor, issueDate: z.iso.date(), dueDate: z.iso.date() })
  .refine((b) => b.dueDate >= b.issueDate, { path: ['dueDate'], message: 'must not be before issueDate' });

const paymentBody = z.object({
  paymentId: z.string().min(1),
  /** Without one, the payment is held unapplied (cash application applies it later: POST /payments/:id/apply). */
  invoiceNumber: invoiceNumber.optional(),
  /** For an unapplied payment: the payer when known, and the remittance text as the bank gave it. */
  customerId: customerId.optional(),
  payerName: z.string().trim().min(1).max(200).optional(),
  remittance: z.string().max(2000).optional(),
  amountMinor,
  currency,
  receivedAt: isoInstant.optional(),
  /** A future instant schedules the payment, so a demo can replay real settlement dates. */
  postAt: isoInstant.optional(),
  /** A short payment: what the customer deducted and why; it stays open on the invoice. */
  deduction: paymentDeductionSchema.optional(),
});

const creditBody = z.object({ reason: z.string().trim().min(1).max(500) });
const adjustmentBody = z.object({ amountMinor, currency, reason: z.string().trim().min(1).max(2000) });
const rebillBody = z
  .object({ amountMinor, currency, issueDate: z.iso.date(), dueDate: z.iso.date() })
  .refine((b) => b.dueDate >= b.issueDate, { path: ['dueDate'], message: 'must not be before issueDate' });
/** A customer account: id and name; every other field optional (null: the ERP does not have it). */
const customerBody = erpCustomerSchema.partial().extend({ customerId, name: z.string().trim().min(1).max(200) });
const changesQuery = z.object({ cursor: z.string().min(1).max(500).optional(), limit: z.coerce.number().int().min(1).max(1000).default(200) });
const dueDateBody = z.object({ dueDate: z.iso.date() });
const cancelBody = z.object({ reason: z.string().trim().min(1).max(500).optional() });
const splitBody = z.object({ parts: z.array(z.object({ amountMinor, dueDate: z.iso.date() })).min(2).max(50) });
const applyBody = z.object({
  currency,
  allocations: z.array(z.object({ invoiceNumber, amountMinor })).min(1).max(200),
  receivedAt: isoInstant.optional(),
});
const ledgerQuery = z.object({ invoiceNumber: z.string().min(1).optional(), customerId: z.string().min(1).optional() });
const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

type CustomerRequest = FastifyRequest<{ Params: { customerId: string } }>;
type InvoiceRequest = FastifyRequest<{ Params: { invoiceNumber: string } }>;

/** The Idempotency-Key header, or undefined after answering 400. */
function idempotencyKeyOf(req: FastifyRequest, reply: FastifyReply): string | undefined {
  const key = req.headers[IDEMPOTENCY_KEY_HEADER];
  if (typeof key !== 'string' || key.trim() === '' || key.length > 255) {
    void reply.code(400).send({ error: 'missing_idempotency_key', message: 'an Idempotency-Key header (1-255 characters) is required' });
    return undefined;
  }
  return key;
}

// setTimeout fires at once above 2^31-1 ms (~24.8 days); longer waits hop in steps of this size.
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface ErpSimulatorOptions {
  port?: number;
  host?: string;
  apiKey: string;
  webhookUrl?: string;
  webhookSecret: string;
  now?: () => Date;
  /**
   * Where the ledger persists (JSON). Read on start when it exists, rewritten atomically (a temporary
   * file renamed over it) after every change, before the change is answered: a restart, even after a
   * SIGKILL, finds every invoice, payment, hold, memo and journal it confirmed. Scheduled payments are
   * scheduled again (posted at once when their time passed meanwhile). Without it, memory only.
   */
  stateFile?: string;
}

export interface ErpSimulator {
  url: string;
  store: ErpSimulatorStore;
  close(): Promise<void>;
}

export async function startErpSimulator({
  port = 0,
  host = '127.0.0.1',
  apiKey,
  webhookUrl,
  webhookSecret,
  now = () => new Date(),
  stateFile,
}: ErpSimulatorOptions): Promise<ErpSimulator> {
  const store = stateFile ? loadState(stateFile) : new ErpSimulatorStore();
  // The file as read: an older version (or one without the feed's epoch) is written again at once, as this version.
  let saved = stateFile && existsSync(stateFile) ? readFileSync(stateFile, 'utf8') : undefined;
  /** Writes the ledger when it changed since the last write. */
  const persist = () => {
    if (!stateFile) return;
    const text = JSON.stringify(store.snapshot());
    if (text === saved) return;
    writeAtomically(stateFile, text);
    saved = text;
  };
  const webhooks = webhookUrl ? createWebhookSender({ url: webhookUrl, secret: webhookSecret, now }) : undefined;
  const postingTimers = new Set<NodeJS.Timeout>();

  const view = (invoice: SimulatedInvoice) => ({
    ...invoice,
    asOf: now().toISOString(),
    payments: store.paymentsOf(invoice.invoiceNumber),
  });

  function post(payment: SimulatedPayment): void {
    const wait = payment.postAt ? Date.parse(payment.postAt) - now().getTime() : 0;
    if (wait > 0) {
      const timer = setTimeout(() => {
        postingTimers.delete(timer);
        post(payment);
      }, Math.min(wait, MAX_TIMER_MS));
      postingTimers.add(timer);
      return;
    }
    const occurredAt = now().toISOString();
    const invoice = store.applyPayment(payment, occurredAt);
    persist(); // before the webhook tells anyone
    announce(payment, invoice, occurredAt);
  }

  /** The payment.applied webhook for a payment just applied (and persisted). */
  function announce(payment: SimulatedPayment, invoice: SimulatedInvoice, occurredAt: string): void {
    const event: PaymentAppliedEvent = {
      eventId: randomUUID(),
      type: 'payment.applied',
      occurredAt,
      // The invoice's change counter: the payments applied to it so far, this one included.
      sequence: store.paymentsOf(invoice.invoiceNumber).filter((p) => p.state === 'applied').length,
      payment: {
        paymentId: payment.paymentId,
        invoiceNumber: payment.invoiceNumber,
        amountMinor: payment.amountMinor,
        currency: payment.currency,
        receivedAt: payment.receivedAt,
      },
      invoice: {
        invoiceNumber: invoice.invoiceNumber,
        customerId: invoice.customerId,
        currency: invoice.currency,
        openAmountMinor: invoice.openAmountMinor,
        status: invoice.status,
      },
      ...(payment.deduction ? { deduction: payment.deduction } : {}),
    };
    webhooks?.send(event);
  }

  const app = Fastify();

  // Write-through: a change is on disk before it is answered (a failed write answers 500).
  app.addHook('onSend', async (req, _reply, payload) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') persist();
    return payload;
  });

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof z.ZodError) return reply.code(400).send({ error: 'invalid_body', issues: err.issues });
    throw err; // fastify's default handler keeps its own status codes (bad JSON, too large, ...)
  });

  app.get('/health', async () => ({ ok: true }));

  await app.register(async (erp) => {
    erp.addHook('onRequest', async (req, reply) => {
      if (req.headers.authorization !== `Bearer ${apiKey}`) return reply.code(401).send({ error: 'unauthorized' });
    });

    erp.post('/invoices', async (req, reply) => {
      const { outcome, invoice } = store.addInvoice(invoiceBody.parse(req.body), now().toISOString());
      if (outcome === 'conflict') {
        return reply.code(409).send({ error: 'conflict', message: `invoice ${invoice.invoiceNumber} exists with other data` });
      }
      return reply.code(outcome === 'created' ? 201 : 200).send(view(invoice));
    });

    erp.get<{ Params: { invoiceNumber: string } }>('/invoices/:invoiceNumber', async (req, reply) => {
      const invoice = store.invoices.get(req.params.invoiceNumber);
      return invoice ? view(invoice) : reply.code(404).send({ error: 'not_found' });
    });

    erp.post('/payments', async (req, reply) => {
      const { customerId: payer, payerName, remittance, ...body } = paymentBody.parse(req.body);
      // Without a receipt time, the money arrives when the ERP posts it.
      const receivedAt = body.receivedAt ?? body.postAt ?? now().toISOString();
      if (body.invoiceNumber === undefined) {
        const { paymentId, amountMinor, currency } = body;
        const held = store.addReceipt(
          { paymentId, customerId: payer ?? null, payerName: payerName ?? null, amountMinor, currency, receivedAt, remittance: remittance ?? '' },
          now().toISOString(),
        );
        if (held.outcome === 'conflict') return reply.code(409).send({ error: 'conflict', message: `payment ${paymentId} exists with other data` });
        return reply.code(held.outcome === 'created' ? 201 : 200).send({ ...held.receipt, state: 'unapplied' });
      }
      const result = store.addPayment({ ...body, invoiceNumber: body.invoiceNumber, receivedAt, postAt: body.postAt ?? null, deduction: body.deduction ?? null });
      switch (result.outcome) {
        case 'invoice_not_found':
          return reply.code(404).send({ error: 'not_found', message: `invoice ${body.invoiceNumber} does not exist` });
        case 'currency_mismatch':
          return reply.code(422).send({ error: 'currency_mismatch', message: `invoice ${body.invoiceNumber} is not in ${body.currency}` });
        case 'deduction_exceeds_open_amount':
          return reply
            .code(422)
            .send({ error: 'deduction_exceeds_open_amount', message: `payment and deduction together exceed the open amount of invoice ${body.invoiceNumber}` });
        case 'conflict':
          return reply.code(409).send({ error: 'conflict', message: `payment ${body.paymentId} exists with other data` });
        case 'unchanged':
          return result.payment;
        case 'created':
          post(result.payment);
          return reply.code(result.payment.state === 'applied' ? 201 : 202).send(result.payment);
      }
    });

    erp.get('/webhook-deliveries', async () => webhooks?.deliveries ?? []);

    // Credit hold on the customer account. Holds and releases are idempotent by the Idempotency-Key
    // header: a repeat gets the first answer (status and body, header `idempotent-replayed: true`).
    const changeCreditHold = (action: CreditAction) => async (req: CustomerRequest, reply: FastifyReply) => {
      const key = idempotencyKeyOf(req, reply);
      if (key === undefined) return reply;
      const { reason } = creditBody.parse(req.body);
      const { customerId } = req.params;
      const result = store.changeCreditHold(action, { customerId, reason, idempotencyKey: key }, now().toISOString());
      switch (result.outcome) {
        case 'customer_not_found':
          return reply.code(404).send({ error: 'not_found', message: `customer ${customerId} does not exist` });
        case 'key_conflict':
          return reply
            .code(409)
            .send({ error: 'idempotency_key_reused', message: `Idempotency-Key ${key} was used for another customer or action` });
        default:
          if (result.replayed) reply.header('idempotent-replayed', 'true');
          return reply.code(result.outcome === 'placed' ? 201 : 200).send({ ...result.view, outcome: result.outcome });
      }
    };
    erp.post('/customers/:customerId/credit-hold', changeCreditHold('hold'));
    erp.post('/customers/:customerId/credit-hold/release', changeCreditHold('release'));

    erp.get('/customers/:customerId/credit-status', async (req: CustomerRequest, reply) => {
      const { customerId } = req.params;
      if (!store.knowsCustomer(customerId)) return reply.code(404).send({ error: 'not_found', message: `customer ${customerId} does not exist` });
      return store.creditStatus(customerId);
    });

    erp.get('/customers/:customerId/credit-events', async (req: CustomerRequest) => store.creditEventsOf(req.params.customerId));

    // Credit memos and write-off journals reduce an invoice's open amount; rebills issue a corrected
    // invoice. Idempotent by Idempotency-Key as holds are: a repeat gets the first answer.
    const refuse = (reply: FastifyReply, outcome: AdjustmentRefusal, invoiceNumber: string, key: string, open?: { openAmountMinor: number; currency: string }) => {
      switch (outcome) {
        case 'invoice_not_found':
          return reply.code(404).send({ error: 'not_found', message: `invoice ${invoiceNumber} does not exist` });
        case 'key_conflict':
          return reply.code(409).send({ error: 'idempotency_key_reused', message: `Idempotency-Key ${key} was used for another request` });
        case 'currency_mismatch':
          return reply.code(422).send({ error: 'currency_mismatch', message: `invoice ${invoiceNumber} is not in that currency${open ? ` (it is in ${open.currency})` : ''}` });
        case 'amount_exceeds_open_amount':
          return reply
            .code(422)
            .send({ error: 'amount_exceeds_open_amount', message: `the amount exceeds the open amount of invoice ${invoiceNumber}${open ? ` (${open.openAmountMinor} ${open.currency})` : ''}` });
      }
    };

    const adjust = (kind: AdjustmentKind) => async (req: InvoiceRequest, reply: FastifyReply) => {
      const key = idempotencyKeyOf(req, reply);
      if (key === undefined) return reply;
      const body = adjustmentBody.parse(req.body);
      const { invoiceNumber } = req.params;
      const result = store.adjustInvoice(kind, { invoiceNumber, ...body, idempotencyKey: key }, now().toISOString());
      if (result.outcome !== 'created') return refuse(reply, result.outcome, invoiceNumber, key, result.invoice);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      const { id, invoice } = result.answer;
      return reply.code(201).send(kind === 'credit_memo' ? { creditMemoId: id, invoice } : { journalId: id, invoice });
    };
    erp.post('/invoices/:invoiceNumber/credit-memos', adjust('credit_memo'));
    erp.post('/invoices/:invoiceNumber/write-offs', adjust('write_off'));

    erp.post('/invoices/:invoiceNumber/rebills', async (req: InvoiceRequest, reply) => {
      const key = idempotencyKeyOf(req, reply);
      if (key === undefined) return reply;
      const body = rebillBody.parse(req.body);
      const { invoiceNumber } = req.params;
      const result = store.createRebill({ originalInvoiceNumber: invoiceNumber, ...body, idempotencyKey: key }, now().toISOString());
      if (result.outcome !== 'created') return refuse(reply, result.outcome, invoiceNumber, key);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send(view(result.invoice));
    });

    // Customer accounts: created or updated (the same data again: 200, nothing changes).
    erp.post('/customers', async (req, reply) => {
      const { outcome, customer } = store.upsertCustomer(customerBody.parse(req.body), now().toISOString());
      return reply.code(outcome === 'created' ? 201 : 200).send({ ...store.customerOf(customer.customerId), outcome });
    });
    erp.get('/customers/:customerId', async (req: CustomerRequest, reply) => {
      const { customerId } = req.params;
      if (!store.customers.has(customerId)) return reply.code(404).send({ error: 'not_found', message: `customer ${customerId} does not exist` });
      return store.customerOf(customerId);
    });

    // The change feed: receivables by their last change, the customers they name, unapplied receipts.
    erp.get('/changes', async (req, reply) => {
      const { cursor, limit } = changesQuery.parse(req.query);
      const page = store.changesSince(cursor ?? null, limit);
      if (page === 'invalid_cursor') return reply.code(400).send({ error: 'invalid_cursor', message: 'the cursor was not given by GET /changes' });
      return page;
    });

    const refuseChange = (reply: FastifyReply, outcome: InvoiceChangeRefusal, invoiceNumber: string, key?: string) => {
      switch (outcome) {
        case 'invoice_not_found':
          return reply.code(404).send({ error: 'not_found', message: `invoice ${invoiceNumber} does not exist` });
        case 'key_conflict':
          return reply.code(409).send({ error: 'idempotency_key_reused', message: `Idempotency-Key ${key ?? ''} was used for another request` });
        case 'invoice_not_open':
          return reply.code(422).send({ error: 'invoice_not_open', message: `invoice ${invoiceNumber} is not open (or has payments applied)` });
        case 'amounts_do_not_sum':
          return reply.code(422).send({ error: 'amounts_do_not_sum', message: `the parts must sum to the open amount of invoice ${invoiceNumber}` });
        case 'due_before_issue':
          return reply.code(422).send({ error: 'due_before_issue', message: 'a due date must not be before the issue date' });
      }
    };

    // A due-date extension (or any move of the due date) of an open invoice.
    erp.post('/invoices/:invoiceNumber/due-date', async (req: InvoiceRequest, reply) => {
      const { dueDate } = dueDateBody.parse(req.body);
      const result = store.changeDueDate(req.params.invoiceNumber, dueDate, now().toISOString());
      if (result.outcome !== 'changed' && result.outcome !== 'unchanged') return refuseChange(reply, result.outcome, req.params.invoiceNumber);
      return view(result.invoice);
    });

    // Voids an open invoice with nothing applied to it.
    erp.post('/invoices/:invoiceNumber/cancel', async (req: InvoiceRequest, reply) => {
      cancelBody.parse(req.body ?? {});
      const result = store.cancelInvoice(req.params.invoiceNumber, now().toISOString());
      if (result.outcome !== 'changed' && result.outcome !== 'unchanged') return refuseChange(reply, result.outcome, req.params.invoiceNumber);
      return view(result.invoice);
    });

    // Splits an open invoice into parts (`-S1`, `-S2`, ...; rebillOf: the original); idempotent by key.
    erp.post('/invoices/:invoiceNumber/split', async (req: InvoiceRequest, reply) => {
      const key = idempotencyKeyOf(req, reply);
      if (key === undefined) return reply;
      const { parts } = splitBody.parse(req.body);
      const result = store.splitInvoice(req.params.invoiceNumber, parts, key, now().toISOString());
      if (result.outcome !== 'created') return refuseChange(reply, result.outcome, req.params.invoiceNumber, key);
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(201).send({ original: view(store.invoices.get(req.params.invoiceNumber)!), parts: result.parts.map(view) });
    });

    // Cash application: an unapplied payment (or a new receipt, with receivedAt) applied to invoices.
    erp.post<{ Params: { paymentId: string } }>('/payments/:paymentId/apply', async (req, reply) => {
      const key = idempotencyKeyOf(req, reply);
      if (key === undefined) return reply;
      const body = applyBody.parse(req.body);
      const at = now().toISOString();
      const result = store.applyReceipt({ paymentId: req.params.paymentId, ...body, idempotencyKey: key }, at);
      if (result.outcome !== 'applied') {
        const status = { payment_not_found: 404, invoice_not_found: 404, key_conflict: 409, not_an_unapplied_payment: 409 }[result.outcome as string] ?? 422;
        return reply.code(status).send({ error: result.outcome, message: result.message });
      }
      if (result.replayed) reply.header('idempotent-replayed', 'true');
      persist(); // before the webhooks tell anyone
      for (const payment of result.applied) announce(payment, store.invoices.get(payment.invoiceNumber)!, at);
      return reply.code(result.replayed ? 200 : 201).send(result.answer);
    });

    erp.get('/credit-memos', async (req) => store.creditMemosOf(ledgerQuery.parse(req.query)));
    erp.get('/journals', async (req) => store.journalsOf(ledgerQuery.parse(req.query)));
  });

  // Payments still scheduled when the simulator last stopped post at their time, or now if it passed.
  for (const payment of store.payments.values()) if (payment.state === 'scheduled') post(payment);
  persist();

  const url = await app.listen({ port, host });
  return {
    url,
    store,
    async close() {
      for (const timer of postingTimers) clearTimeout(timer);
      postingTimers.clear();
      webhooks?.close();
      await app.close();
    },
  };
}

function loadState(file: string): ErpSimulatorStore {
  if (!existsSync(file)) return new ErpSimulatorStore();
  try {
    return ErpSimulatorStore.fromSnapshot(JSON.parse(readFileSync(file, 'utf8')) as ErpSimulatorState);
  } catch (err) {
    throw new Error(`the ERP simulator's state in ${file} cannot be read (${(err as Error).message}): delete the file to start the simulator afresh`);
  }
}

/** A crash leaves the previous file or the new one, never part of one. */
function writeAtomically(file: string, text: string): void {
  mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  const fd = openSync(temporary, 'w');
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

if (require.main === module) {
  const env = z
    .object({
      HOST: z.string().min(1).default('127.0.0.1'),
      PORT: z.coerce.number().int().min(0).max(65535).default(4010),
      /** Optional: the ledger persists in this JSON file (see ErpSimulatorOptions.stateFile). */
      STATE_FILE: z.string().min(1).optional(),
      ERP_API_KEY: z.string().min(1).default('dev-erp-key'),
      ERP_WEBHOOK_URL: z.url().optional(),
      ERP_WEBHOOK_SECRET: z.string().min(1).default('dev-erp-webhook-secret'),
    })
    .parse(process.env);
  startErpSimulator({
    host: env.HOST,
    port: env.PORT,
    apiKey: env.ERP_API_KEY,
    webhookUrl: env.ERP_WEBHOOK_URL,
    webhookSecret: env.ERP_WEBHOOK_SECRET,
    stateFile: env.STATE_FILE,
  }).then(
    (sim) => {
      process.stdout.write(`ERP simulator listening on ${sim.url}\n`);
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void sim.close());
    },
    (err: unknown) => {
      process.stderr.write(`ERP simulator failed to start: ${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
