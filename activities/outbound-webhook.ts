import { ApplicationFailure } from '@temporalio/activity';
import { signWebhookBody } from '../integrations/erp/webhook-signature';
import type { WebhookEndpoints } from '../config/webhook-endpoints';


/**
 * Signed JSON events to other systems (CRM, chat, data warehouse), by endpoint name; the URLs and
 * secrets live in configuration (WEBHOOK_ENDPOINTS), never in cadences or workflow history.
 *
 * Delivery is at least once with a stable id: the event id is the activity's idempotency key
 * (workflow id + step id), sent both as `id` in the body and in the `Idempotency-Key` header, so a
 * Temporal retry after a lost answer resends the same id and the receiver drops the duplicate.
 * Receivers verify `x-dunning-signature: sha256=<hex HMAC-SHA256 of the raw body>` with the
 * endpoint's secret (verifyWebhookSignature in integrations/erp/webhook-signature.ts does exactly that).
 */
export const DUNNING_SIGNATURE_HEADER = 'x-dunning-signature';
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';

export interface OutboundWebhookDeps {
  endpoints: WebhookEndpoints;
  /** Covers the whole exchange, so a stalled receiver cannot hold an activity slot. */
  timeoutMs?: number;
  now?: () => Date;
}

export interface OutboundWebhookRequest {
  /** The event id: stable across retries, so receivers can dedupe. */
  idempotencyKey: string;
  tenantId: string;
  invoiceNumber: string;
  customerId: string;
  /** A name in WEBHOOK_ENDPOINTS. */
  endpoint: string;
  event: string;
  data: Record<string, unknown>;
}

/** What receivers get, as JSON. */
export interface OutboundWebhookBody {
  id: string;
  event: string;
  occurredAt: string;
  tenantId: string;
  invoiceNumber: string;
  customerId: string;
  data: Record<string, unknown>;
}

/** A receiver's Retry-After is honoured up to this long; Temporal's backoff applies otherwise. */
const MAX_RETRY_AFTER_MS = 10 * 60_000;

export function createOutboundWebhookActivities({ endpoints, timeoutMs = 10_000, now = () => new Date() }: OutboundWebhookDeps) {
  return {
    /**
     * 2xx: delivered. 5xx, 408, 429, no answer or timeout: thrown as retryable (Temporal retries with
     * the same id). Any other status (other 4xx, a redirect): the receiver refuses this request or the
     * URL is wrong, so the step fails without retry. Messages name the endpoint and origin, never the
     * full URL (it may carry a token).
     */
    async postWebhook(req: OutboundWebhookRequest): Promise<{ status: number }> {
      const target = Object.hasOwn(endpoints, req.endpoint) ? endpoints[req.endpoint] : undefined;
      if (!target) {
        const known = Object.keys(endpoints);
        throw ApplicationFailure.nonRetryable(
          `webhook endpoint "${req.endpoint}" is not configured in WEBHOOK_ENDPOINTS (${known.length ? `known: ${known.join(', ')}` : 'none configured'})`,
          'UnknownWebhookEndpoint',
        );
      }
      const body: OutboundWebhookBody = {
        id: req.idempotencyKey,
        event: req.event,
        occurredAt: now().toISOString(),
        tenantId: req.tenantId,
        invoiceNumber: req.invoiceNumber,
        customerId: req.customerId,
        data: req.data,
      };
      const raw = JSON.stringify(body);
      let origin: string;
      try {
        origin = new URL(target.url).origin;
      } catch {
        throw ApplicationFailure.nonRetryable(`webhook endpoint "${req.endpoint}" has an invalid URL`, 'InvalidWebhookEndpoint');
      }
      const where = `webhook endpoint "${req.endpoint}" (${origin})`;

      let response: Response;
      let answer = '';
      try {
        response = await fetch(target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            [IDEMPOTENCY_KEY_HEADER]: req.idempotencyKey,
            [DUNNING_SIGNATURE_HEADER]: signWebhookBody(target.secret, raw),
          },
          body: raw,
          redirect: 'manual', // a signed POST is not re-sent to wherever a redirect points
          signal: AbortSignal.timeout(timeoutMs),
        });
        // A refusal's reason goes into the failure message; a success's body does not matter.
        if (response.ok) await response.body?.cancel();
        else answer = (await response.text()).slice(0, 200).trim();
      } catch (err) {
        const reason =
          err instanceof Error && err.name === 'TimeoutError'
            ? `no answer within ${timeoutMs} ms`
            : err instanceof Error && err.cause instanceof Error
              ? err.cause.message // fetch hides the socket error ("fetch failed") in its cause
              : String(err);
        throw ApplicationFailure.retryable(`${where} unreachable: ${reason}`, 'WebhookDeliveryFailed');
      }

      const { status } = response;
      if (status >= 200 && status <= 299) return { status };
      if (status >= 500 || status === 429 || status === 408) {
        throw ApplicationFailure.create({
          message: `${where} answered HTTP ${status}${answer ? `: ${answer}` : ''}`,
          type: 'WebhookDeliveryFailed',
          nonRetryable: false,
          details: [{ status }],
          nextRetryDelay: retryAfterMs(response.headers.get('retry-after'), now()),
        });
      }
      throw ApplicationFailure.nonRetryable(`${where} refused the event with HTTP ${status}${answer ? `: ${answer}` : ''}`, 'WebhookRejected', { status });
    },
  };
}

/** Retry-After as seconds or an HTTP date; undefined (Temporal's own backoff) when absent or unusable. */
function retryAfterMs(header: string | null, at: Date): number | undefined {
  if (!header) return undefined;
  const ms = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - at.getTime();
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}
