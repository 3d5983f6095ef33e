import type { FastifyPluginAsync } from 'fastify';
import { paymentAppliedEventSchema } from '../../integrations/erp/payment-applied-event';
import { ERP_SIGNATURE_HEADER, verifyWebhookSignature } from '../../integrations/erp/webhook-signature';
import { validationIssues } from '../../config/validation-issues';
import { DomainError } from '../errors';
import type { InvoiceService } from '../invoice-service';

/**
 * Payment webhooks from the ERP. The signature covers the raw bytes, so this plugin keeps JSON
 * bodies as buffers and parses them itself, after the signature checks out.
 */
export const erpWebhookRoutes: FastifyPluginAsync<{ invoices: InvoiceService; secret: string }> = async (app, { invoices, secret }) => {
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.post('/webhooks/erp', { schema: { hide: true } }, async (request, reply) => {
    const raw = request.body as Buffer;
    if (!verifyWebhookSignature(secret, raw, request.headers[ERP_SIGNATURE_HEADER]))
      throw new DomainError('bad_signature', `missing or invalid ${ERP_SIGNATURE_HEADER} header`);
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
    return reply.code(202).send({ result: await invoices.applyErpPayment(parsed.data) });
  });
};
