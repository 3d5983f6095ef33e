import { z } from 'zod';
import {
  ErpAdapter,
  ErpCustomerNotFoundError,
  ErpInvoiceNotFoundError,
  ErpRequestRejectedError,
  ErpUnavailableError,
  erpCreditHoldSchema,
  erpCreditMemoSchema,
  erpCreditReleaseSchema,
  erpCreditStatusSchema,
  erpInvoiceBalanceSchema,
  erpRebillSchema,
  erpWriteOffSchema,
} from './adapter';
import { erpAppliedPaymentSchema, erpChangePageSchema } from './changes';

export interface HttpErpOptions {
  baseUrl: string;
  apiKey: string;
  /** Covers the whole exchange, body included, so a stalled ERP cannot hold an activity slot. */
  timeoutMs?: number;
}

interface Answer {
  url: string;
  status: number;
  text: string;
}

/**
 * The ERP over its REST API. Failures are sorted once, here: transient ones (network, timeout,
 * 429, 5xx) become ErpUnavailableError for Temporal to retry; the rest are permanent (a 4xx other
 * than 401/403 becomes ErpRequestRejectedError carrying the ERP's own message).
 */
export function createHttpErp({ baseUrl, apiKey, timeoutMs = 10_000 }: HttpErpOptions): ErpAdapter {
  const root = baseUrl.replace(/\/+$/, '');

  /** One request; throws for what is the same whatever the call: no answer, bad key, ERP overloaded or down. */
  async function exchange(method: 'GET' | 'POST', path: string, send?: { body: unknown; idempotencyKey: string }): Promise<Answer> {
    const url = `${root}${path}`;
    let status: number;
    let text: string;
    try {
      const response = await fetch(url, {
        method,
        headers: {
          authorization: `Bearer ${apiKey}`,
          accept: 'application/json',
          ...(send ? { 'content-type': 'application/json', 'idempotency-key': send.idempotencyKey } : {}),
        },
        body: send ? JSON.stringify(send.body) : undefined,
        signal: AbortSignal.timeout(timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      // fetch hides the socket error ("fetch failed") in its cause; name the real one.
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new ErpUnavailableError(`ERP unreachable at ${url}: ${reason}`, { cause: err });
    }
    if (status === 401 || status === 403) {
      throw new Error(`ERP rejected our credentials (HTTP ${status}): check ERP_API_KEY`);
    }
    if (status === 429 || status >= 500) throw new ErpUnavailableError(`ERP answered HTTP ${status} for ${url}`);
    return { url, status, text };
  }

  /** A 2xx body checked against the contract; anything else from the ERP is a permanent error. */
  function parse<T>(answer: Answer, schema: z.ZodType<T>, subject: string, noun: string): T {
    const { url, status, text } = answer;
    if (status >= 400) throw new ErpRequestRejectedError(`ERP refused the request for ${subject} (HTTP ${status}): ${erpMessage(text)}`, status, erpCode(text));
    if (status < 200 || status > 299) throw new Error(`ERP answered HTTP ${status} for ${url}: ${text.slice(0, 200)}`);
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new Error(`ERP returned a body that is not JSON for ${subject}: ${text.slice(0, 200)}`);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new Error(`ERP returned a malformed ${noun} for ${subject}:\n${z.prettifyError(parsed.error)}`);
    return parsed.data;
  }

  const customerPath = (customerId: string) => `/customers/${encodeURIComponent(customerId)}`;
  const customerNotFound = (answer: Answer, customerId: string) => {
    if (answer.status === 404) throw new ErpCustomerNotFoundError(`Customer ${customerId} does not exist in the ERP`);
  };
  const invoicePath = (invoiceNumber: string) => `/invoices/${encodeURIComponent(invoiceNumber)}`;
  const invoiceNotFound = (answer: Answer, invoiceNumber: string) => {
    if (answer.status === 404) throw new ErpInvoiceNotFoundError(`Invoice ${invoiceNumber} does not exist in the ERP`);
  };

  return {
    kind: 'simulator',
    capabilities: { creditHold: true, creditMemo: true, writeOff: true, rebill: true, applyPayment: true, changeFeed: true },

    async listChanges({ cursor, limit }) {
      const query = new URLSearchParams({ limit: String(limit), ...(cursor !== null ? { cursor } : {}) });
      const answer = await exchange('GET', `/changes?${query.toString()}`);
      return parse(answer, erpChangePageSchema, `the receivables changed since ${cursor ?? 'the beginning'}`, 'change page');
    },

    async applyPayment({ paymentId, currency, allocations, receivedAt, idempotencyKey }) {
      const answer = await exchange('POST', `/payments/${encodeURIComponent(paymentId)}/apply`, {
        body: { currency, allocations, ...(receivedAt ? { receivedAt } : {}) },
        idempotencyKey,
      });
      if (answer.status === 404) throw new ErpInvoiceNotFoundError(`ERP refused payment ${paymentId}: ${erpMessage(answer.text)}`);
      return parse(answer, erpAppliedPaymentSchema, `the application of payment ${paymentId}`, 'payment application');
    },

    async getInvoiceBalance(invoiceNumber) {
      const answer = await exchange('GET', invoicePath(invoiceNumber));
      invoiceNotFound(answer, invoiceNumber);
      return parse(answer, erpInvoiceBalanceSchema, `invoice ${invoiceNumber}`, 'balance');
    },

    async placeCreditHold({ customerId, reason, idempotencyKey }) {
      const answer = await exchange('POST', `${customerPath(customerId)}/credit-hold`, { body: { reason }, idempotencyKey });
      customerNotFound(answer, customerId);
      return parse(answer, erpCreditHoldSchema, `a credit hold on customer ${customerId}`, 'credit hold');
    },

    async releaseCreditHold({ customerId, reason, idempotencyKey }) {
      const answer = await exchange('POST', `${customerPath(customerId)}/credit-hold/release`, { body: { reason }, idempotencyKey });
      customerNotFound(answer, customerId);
      return parse(answer, erpCreditReleaseSchema, `the release of the credit hold on customer ${customerId}`, 'release');
    },

    async getCreditStatus(customerId) {
      const answer = await exchange('GET', `${customerPath(customerId)}/credit-status`);
      customerNotFound(answer, customerId);
      return parse(answer, erpCreditStatusSchema, `customer ${customerId}`, 'credit status');
    },

    async requestCreditMemo({ invoiceNumber, amountMinor, currency, reason, idempotencyKey }) {
      const answer = await exchange('POST', `${invoicePath(invoiceNumber)}/credit-memos`, { body: { amountMinor, currency, reason }, idempotencyKey });
      invoiceNotFound(answer, invoiceNumber);
      return parse(answer, erpCreditMemoSchema, `a credit memo on invoice ${invoiceNumber}`, 'credit memo');
    },

    async postWriteOff({ invoiceNumber, amountMinor, currency, reason, idempotencyKey }) {
      const answer = await exchange('POST', `${invoicePath(invoiceNumber)}/write-offs`, { body: { amountMinor, currency, reason }, idempotencyKey });
      invoiceNotFound(answer, invoiceNumber);
      return parse(answer, erpWriteOffSchema, `a write-off of invoice ${invoiceNumber}`, 'write-off');
    },

    async createRebill({ originalInvoiceNumber, amountMinor, currency, issueDate, dueDate, idempotencyKey }) {
      const answer = await exchange('POST', `${invoicePath(originalInvoiceNumber)}/rebills`, {
        body: { amountMinor, currency, issueDate, dueDate },
        idempotencyKey,
      });
      invoiceNotFound(answer, originalInvoiceNumber);
      return parse(answer, erpRebillSchema, `a rebill of invoice ${originalInvoiceNumber}`, 'rebill');
    },
  };
}

/** The ERP's error code (`{ error: 'currency_mismatch' }`), when the body has one. */
function erpCode(text: string): string | undefined {
  try {
    const { error } = JSON.parse(text) as { error?: unknown };
    return typeof error === 'string' ? error : undefined;
  } catch {
    return undefined;
  }
}

/** The ERP's own words from an error body (`{ error, message, issues }`), else the start of the raw text. */
function erpMessage(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; issues?: unknown };
    if (typeof body.message === 'string') return body.message;
    if (Array.isArray(body.issues)) {
      const issues = body.issues as { path?: unknown[]; message?: unknown }[];
      return `${String(body.error ?? 'invalid request')}: ${issues.map((i) => `${(i.path ?? []).join('.') || '(body)'}: ${String(i.message)}`).join('; ')}`;
    }
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: fall through to the raw text
  }
  return text.slice(0, 200) || '(empty body)';
}
