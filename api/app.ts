import Fastify, { type FastifyServerOptions } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { registerErrorHandler } from './errors';
import { createInvoiceService, type InvoiceServiceDeps } from './invoice-service';
import { invoiceRoutes } from './routes/invoices';
import { erpWebhookRoutes } from './routes/erp-webhooks';

export interface AppDeps extends InvoiceServiceDeps {
  webhookSecret: string;
  logger?: FastifyServerOptions['logger'];
}

/** The HTTP API as a factory: the server file listens, tests call inject() on the same app. */
export async function buildApp(deps: AppDeps) {
  const app = Fastify({ logger: deps.logger ?? false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);

  await app.register(swagger, {
    openapi: { info: { title: 'Dunning Orchestrator API', version: '0.1.0', description: 'Enroll overdue invoices, report payments, read dunning state.' } },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  const invoices = createInvoiceService(deps);
  app.get('/health', { schema: { response: { 200: z.object({ ok: z.boolean() }) } } }, async () => {
    await deps.sql`select 1`;
    return { ok: true };
  });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  await app.register(invoiceRoutes, { invoices });
  await app.register(erpWebhookRoutes, { invoices, secret: deps.webhookSecret });
  return app;
}
