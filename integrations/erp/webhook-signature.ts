import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Webhooks are signed with an HMAC-SHA256 of the exact raw bytes, so the receiver must verify the bytes it
 * received before parsing them (re-serialised JSON would not match). The ERP's sign a timestamp with the body
 * (signTimestampedWebhook, below); our outbound webhooks sign the body alone.
 */
export const ERP_SIGNATURE_HEADER = 'x-erp-signature';

/** The header value for a body: `sha256=<hex>`. */
export function signWebhookBody(secret: string, rawBody: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(rawBody).digest('hex')}`;
}

/** Timing-safe, so response times do not leak how much of a forged signature was right. */
export function verifyWebhookSignature(
  secret: string,
  rawBody: string | Buffer,
  header: string | string[] | undefined,
): boolean {
  if (typeof header !== 'string') return false;
  const expected = Buffer.from(signWebhookBody(secret, rawBody));
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * ERP webhooks sign a timestamp with the body, so that a captured delivery cannot be replayed later: the
 * header `x-erp-timestamp` carries the Unix time in seconds at which the ERP signed this attempt (each retry
 * is signed afresh), and `x-erp-signature` is `sha256=<hex>` of the HMAC-SHA256 of `<timestamp>.<raw body>`.
 * The receiver refuses a timestamp more than WEBHOOK_TOLERANCE_SECONDS from its own clock.
 */
export const ERP_TIMESTAMP_HEADER = 'x-erp-timestamp';
export const WEBHOOK_TOLERANCE_SECONDS = 300;

const signedPayload = (timestamp: number | string, rawBody: string | Buffer) => Buffer.concat([Buffer.from(`${timestamp}.`), Buffer.from(rawBody)]);

/** The signature header of a body signed at `timestamp` (Unix seconds). */
export function signTimestampedWebhook(secret: string, timestamp: number, rawBody: string | Buffer): string {
  return signWebhookBody(secret, signedPayload(timestamp, rawBody));
}

/** The headers an ERP sends with a body it signs now. */
export function timestampedWebhookHeaders(secret: string, rawBody: string | Buffer, now: Date = new Date()): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  return { [ERP_TIMESTAMP_HEADER]: String(timestamp), [ERP_SIGNATURE_HEADER]: signTimestampedWebhook(secret, timestamp, rawBody) };
}

/**
 * `ok`; `bad_signature` when the timestamp is missing or malformed or the signature does not cover exactly
 * these bytes at this timestamp; `expired` when it does but the timestamp lies outside the window (a replay,
 * or a clock far off).
 */
export function verifyTimestampedWebhook(
  secret: string,
  rawBody: string | Buffer,
  headers: { signature: string | string[] | undefined; timestamp: string | string[] | undefined },
  nowMs: number = Date.now(),
  toleranceSeconds: number = WEBHOOK_TOLERANCE_SECONDS,
): 'ok' | 'bad_signature' | 'expired' {
  const { signature, timestamp } = headers;
  if (typeof timestamp !== 'string' || !/^\d{1,12}$/.test(timestamp)) return 'bad_signature';
  if (!verifyWebhookSignature(secret, signedPayload(timestamp, rawBody), signature)) return 'bad_signature';
  return Math.abs(nowMs / 1000 - Number(timestamp)) <= toleranceSeconds ? 'ok' : 'expired';
}
