import { ERP_EVENT_ID_HEADER } from '../integrations/erp/payment-applied-event';
import { timestampedWebhookHeaders } from '../integrations/erp/webhook-signature';

export interface WebhookDelivery {
  eventId: string;
  type: string;
  attempt: number;
  at: string;
  /** HTTP status of the receiver's answer; null when none came (network error, timeout). */
  status: number | null;
  /** null when the attempt succeeded. */
  error: string | null;
}

const MAX_ATTEMPTS = 5;
const FIRST_RETRY_MS = 250;
const ATTEMPT_TIMEOUT_MS = 5_000;

/**
 * At-least-once delivery, as real ERPs do it: a failed attempt (non-2xx or no answer) is retried with
 * exponential backoff (0.25 s, 1 s, 4 s, 16 s) in the background, so receivers must dedupe by event id.
 */
export function createWebhookSender({ url, secret, now }: { url: string; secret: string; now: () => Date }) {
  const deliveries: WebhookDelivery[] = [];
  const retries = new Set<NodeJS.Timeout>();
  const closing = new AbortController();

  // Never rejects: every outcome is recorded as a delivery.
  async function attempt(event: { eventId: string; type: string }, body: string, n: number): Promise<void> {
    let status: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          // Each attempt is signed afresh with its own time: the receiver refuses old timestamps (replays).
          ...timestampedWebhookHeaders(secret, body, now()),
          [ERP_EVENT_ID_HEADER]: event.eventId,
        },
        body,
        signal: AbortSignal.any([closing.signal, AbortSignal.timeout(ATTEMPT_TIMEOUT_MS)]),
      });
      status = response.status;
      await response.body?.cancel(); // release the connection; the answer's content does not matter
      if (!response.ok) error = `HTTP ${status}`;
    } catch (err) {
      error = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    }
    deliveries.push({ eventId: event.eventId, type: event.type, attempt: n, at: now().toISOString(), status, error });
    if (error === null || n === MAX_ATTEMPTS || closing.signal.aborted) return;
    const timer = setTimeout(() => {
      retries.delete(timer);
      void attempt(event, body, n + 1);
    }, FIRST_RETRY_MS * 4 ** (n - 1));
    retries.add(timer);
  }

  return {
    deliveries: deliveries as readonly WebhookDelivery[],
    /** Returns at once; delivery happens in the background. */
    send(event: { eventId: string; type: string }): void {
      void attempt(event, JSON.stringify(event), 1);
    },
    close(): void {
      closing.abort();
      for (const timer of retries) clearTimeout(timer);
      retries.clear();
    },
  };
}
