import { describe, expect, it } from 'vitest';
import { signWebhookBody, verifyWebhookSignature } from '../../integrations/erp/webhook-signature';

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
