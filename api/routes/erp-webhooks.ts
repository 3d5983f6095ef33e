import type { FastifyPluginAsync } from 'fastify';
import { paymentAppliedEventSchema } from '../../integrations/erp/payment-applied-event';
import { ERP_SIGNATURE_HEADER, ERP_TIMESTAMP_HEADER, WEBHOOK_TOLERANCE_SECONDS, verifyTimestampedWebhook } from '../../integrations/erp/webhook-signature';
import { validationIssues } from '../../config/validation-issues';
import { DomainError } from '../errors';
import type { InvoiceService } from '../invoice-service';
import type { UnappliedCashService } from '../unapplied-cash-service';

/**
 * Payment webhooks from the ERP. The signature covers the signed timestamp and the raw bytes, so this plugin
 * keeps JSON bodies as buffers and parses them itself, after the signature checks out; a timestamp outside
 * ±5 minutes of our clock is refused (401 signature_expired), so a captured delivery cannot be replayed later.
 * Answers 202 {result}: `applied`, `ignored` (not an invoice in dunning, but one of the ledger the sync
 * reconciles), `queued` (an invoice we know neither in dunning nor in the ledger: the payment joins the
 * unapplied-cash queue instead of being lost), or `stale` (an event older than the ERP's word the invoice
 * already follows: recorded, not applied; see db/erp-events.ts).
 */
export const erpWebhookRoutes: FastifyPluginAsync<{ invoices: InvoiceService; secret: string; cash?: Pick<UnappliedCashService, 'takeWebhookPayment'> }> = async (app, { invoices, secret, cash }) => {
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/webhooks/erp', { schema: { hide: true } }, async (request, reply) => {
    const raw = request.body as Buffer;
    const check = verifyTimestampedWebhook(secret, raw, { signature: request.headers[ERP_SIGNATURE_HEADER], timestamp: request.headers[ERP_TIMESTAMP_HEADER] });
    if (check === 'bad_signature')
      throw new DomainError('bad_signature', `missing or invalid ${ERP_SIGNATURE_HEADER} or ${ERP_TIMESTAMP_HEADER} header (the signature covers "<timestamp>.<body>")`);
    if (check === 'expired')
      throw new DomainError('signature_expired', `${ERP_TIMESTAMP_HEADER} is more than ${WEBHOOK_TOLERANCE_SECONDS} s away from our clock: a replayed or delayed delivery is refused`);
    let json: unknown;
    try {
      json = JSON.parse(raw.toString('utf8'));
    } catch {
      throw new DomainError('invalid_json', 'body is not JSON');
    }
    const parsed = paymentAppliedEventSchema.safeParse(json);
    if (!parsed.success)
      throw new DomainError('validation_failed', 'not a payment.applied event', {
        issues: validationIssues(parsed.error),
      });
    const result = await invoices.applyErpPayment(parsed.data);
    if (result === 'ignored' && cash) return reply.code(202).send({ result: await cash.takeWebhookPayment(parsed.data) });
    return reply.code(202).send({ result });
  });
};
