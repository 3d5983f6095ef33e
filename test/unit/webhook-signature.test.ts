import { describe, expect, it } from 'vitest';
import {
  ERP_SIGNATURE_HEADER,
  ERP_TIMESTAMP_HEADER,
  signTimestampedWebhook,
  signWebhookBody,
  timestampedWebhookHeaders,
  verifyTimestampedWebhook,
  verifyWebhookSignature,
} from '../../integrations/erp/webhook-signature';

describe('ERP webhook signature', () => {
  it('is the hex HMAC-SHA256 of the raw body (RFC 4231 test case 2)', () => {
    expect(signWebhookBody('Jefe', 'what do ya want for nothing?')).toBe(
      'sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
    );
  });

  const secret = 'dev-erp-webhook-secret';
  const body = '{"eventId":"e1","type":"payment.applied","payment":{"amountMinor":125000}}';
  const header = signWebhookBody(secret, body);

  it('accepts the signature of the exact body, as a string or as received bytes', () => {
    expect(verifyWebhookSignature(secret, body, header)).toBe(true);
    expect(verifyWebhookSignature(secret, Buffer.from(body), header)).toBe(true);
  });

  it('rejects a tampered body, another secret, and a body that was re-serialised', () => {
    expect(verifyWebhookSignature(secret, body.replace('125000', '925000'), header)).toBe(false);
    expect(verifyWebhookSignature('another-secret-of-16+', body, header)).toBe(false);
    expect(verifyWebhookSignature(secret, JSON.stringify(JSON.parse(body), null, 2), header)).toBe(false);
  });

  it('rejects missing, repeated, truncated and unprefixed headers without throwing', () => {
    expect(verifyWebhookSignature(secret, body, undefined)).toBe(false);
    expect(verifyWebhookSignature(secret, body, [header, header])).toBe(false);
    expect(verifyWebhookSignature(secret, body, header.slice(0, -1))).toBe(false);
    expect(verifyWebhookSignature(secret, body, header.slice('sha256='.length))).toBe(false);
  });
});

describe('ERP webhook signature with a timestamp (issue 10 #13)', () => {
  const secret = 'dev-erp-webhook-secret';
  const body = '{"eventId":"e1","type":"payment.applied","payment":{"amountMinor":125000}}';
  const now = Date.parse('2026-11-30T10:00:00Z');
  const headersAt = (ms: number) => {
    const h = timestampedWebhookHeaders(secret, body, new Date(ms));
    return { signature: h[ERP_SIGNATURE_HEADER], timestamp: h[ERP_TIMESTAMP_HEADER] };
  };

  it('signs "<timestamp>.<body>" with the Unix time in seconds', () => {
    const h = headersAt(now);
    expect(h.timestamp).toBe(String(now / 1000));
    expect(h.signature).toBe(signWebhookBody(secret, `${now / 1000}.${body}`));
    expect(signTimestampedWebhook(secret, now / 1000, body)).toBe(h.signature);
  });

  it('accepts a delivery signed within 5 minutes either way of our clock', () => {
    for (const offset of [0, 299_000, -299_000]) expect(verifyTimestampedWebhook(secret, body, headersAt(now + offset), now), String(offset)).toBe('ok');
    expect(verifyTimestampedWebhook(secret, Buffer.from(body), headersAt(now), now)).toBe('ok');
  });

  it('calls a validly signed delivery outside the window expired: a replay of an old one, or a clock far ahead', () => {
    expect(verifyTimestampedWebhook(secret, body, headersAt(now - 301_000), now)).toBe('expired');
    expect(verifyTimestampedWebhook(secret, body, headersAt(now - 86_400_000), now)).toBe('expired');
    expect(verifyTimestampedWebhook(secret, body, headersAt(now + 301_000), now)).toBe('expired');
  });

  it('refuses a timestamp moved to now (the signature covers it), a missing or malformed one, and the body-only signature', () => {
    const old = headersAt(now - 3_600_000);
    expect(verifyTimestampedWebhook(secret, body, { ...old, timestamp: String(now / 1000) }, now)).toBe('bad_signature');
    expect(verifyTimestampedWebhook(secret, body, { signature: old.signature, timestamp: undefined }, now)).toBe('bad_signature');
    expect(verifyTimestampedWebhook(secret, body, { signature: old.signature, timestamp: '1.5e9' }, now)).toBe('bad_signature');
    expect(verifyTimestampedWebhook(secret, body, { signature: signWebhookBody(secret, body), timestamp: String(now / 1000) }, now)).toBe('bad_signature');
    expect(verifyTimestampedWebhook(secret, body.replace('125000', '925000'), headersAt(now), now)).toBe('bad_signature');
  });
});
