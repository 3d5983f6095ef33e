import { z } from 'zod';
import { ErpAdapter, ErpInvoiceNotFoundError, ErpUnavailableError, erpInvoiceBalanceSchema } from './adapter';

export interface HttpErpOptions {
  baseUrl: string;
  apiKey: string;
  /** Covers the whole exchange, body included, so a stalled ERP cannot hold an activity slot. */
  timeoutMs?: number;
}

/**
 * The ERP over its REST API. Failures are sorted once, here: transient ones (network, timeout,
 * 429, 5xx) become ErpUnavailableError for Temporal to retry; the rest are permanent.
 */
export function createHttpErp({ baseUrl, apiKey, timeoutMs = 10_000 }: HttpErpOptions): ErpAdapter {
  const root = baseUrl.replace(/\/+$/, '');

  return {
    async getInvoiceBalance(invoiceNumber) {
      const url = `${root}/invoices/${encodeURIComponent(invoiceNumber)}`;
      let status: number;
      let text: string;
      try {
        const response = await fetch(url, {
          headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' },
          signal: AbortSignal.timeout(timeoutMs),
        });
        status = response.status;
        text = await response.text();
      } catch (err) {
        // fetch hides the socket error ("fetch failed") in its cause; name the real one.
        const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
        throw new ErpUnavailableError(`ERP unreachable at ${url}: ${reason}`, { cause: err });
      }

      if (status === 404) throw new ErpInvoiceNotFoundError(`Invoice ${invoiceNumber} does not exist in the ERP`);
      if (status === 401 || status === 403) {
        throw new Error(`ERP rejected our credentials (HTTP ${status}): check ERP_API_KEY`);
      }
      if (status === 429 || status >= 500) throw new ErpUnavailableError(`ERP answered HTTP ${status} for ${url}`);
      if (status !== 200) throw new Error(`ERP answered HTTP ${status} for ${url}: ${text.slice(0, 200)}`);

      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        throw new Error(`ERP returned a body that is not JSON for invoice ${invoiceNumber}: ${text.slice(0, 200)}`);
      }
      const parsed = erpInvoiceBalanceSchema.safeParse(json);
      if (!parsed.success) {
        throw new Error(`ERP returned a malformed balance for invoice ${invoiceNumber}:\n${z.prettifyError(parsed.error)}`);
      }
      return parsed.data;
    },
  };
}
