import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * ERP webhooks are signed with an HMAC-SHA256 of the exact raw body, so the receiver must verify
 * the bytes it received before parsing them (re-serialised JSON would not match).
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
