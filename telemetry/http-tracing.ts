import FastifyOtelInstrumentation from '@fastify/otel';

/**
 * The API's request spans (@fastify/otel), registered first in buildApp when tracing is on: one SERVER span per request
 * named "<METHOD> <route>" (http.request.method, http.route, url.path, http.response.status_code; ERROR status on a 5xx
 * or a thrown error), continuing an incoming W3C `traceparent`, its context active in the hooks and the handler, so that
 * the Temporal client's StartWorkflow / StartWorkflowUpdate / SignalWorkflow spans are its direct children. No span per
 * hook or handler: they would sit between the request and those spans and only repeat its timing.
 */
export function requestTracingPlugin() {
  const instrumentation = new FastifyOtelInstrumentation({
    instrumentHooks: false,
    instrumentHandler: false,
    requestHook: (span, request) => span.updateName(`${request.method} ${request.routeOptions.url ?? 'unmatched route'}`),
  });
  return instrumentation.plugin();
}
