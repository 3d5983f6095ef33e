import { z } from 'zod';

/** Named outbound webhook endpoints (WEBHOOK_ENDPOINTS): URLs and secrets live in configuration, never in cadences or history. */

/** Same rule as a cadence's `webhook.endpoint` (domain/cadence.ts), so every name a cadence can use can be configured. */
const ENDPOINT_NAME = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const webhookEndpointSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' }),
  secret: z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).min(16, 'must be at least 16 characters'),
});

/** `{"crm": {"url": "https://…", "secret": "…"}}`: endpoint name to URL and HMAC secret. */
export const webhookEndpointsSchema = z.record(z.string(), webhookEndpointSchema).superRefine((endpoints, ctx) => {
  for (const name of Object.keys(endpoints)) {
    if (!ENDPOINT_NAME.test(name)) {
      ctx.addIssue({ code: 'custom', path: [name], message: 'endpoint name must be lower-case letters, digits, _ and -, at most 64' });
    }
  }
});

export type WebhookEndpoint = z.infer<typeof webhookEndpointSchema>;
export type WebhookEndpoints = z.infer<typeof webhookEndpointsSchema>;

/**
 * The environment variable: a JSON string, validated by webhookEndpointsSchema. Blank means none.
 * Every problem is reported on the variable itself, with the endpoint and field in the message (the
 * secret's value never appears), e.g. `WEBHOOK_ENDPOINTS: crm.secret: must be at least 16 characters`.
 */
export const webhookEndpointsEnvSchema = z.string().transform((text, ctx): WebhookEndpoints => {
  if (text.trim() === '') return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    ctx.addIssue({
      code: 'custom',
      message: `must be JSON like {"crm":{"url":"https://…","secret":"at least 16 characters"}} (${(err as Error).message})`,
    });
    return z.NEVER;
  }
  const parsed = webhookEndpointsSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  for (const issue of parsed.error.issues) {
    const where = issue.path.map(String).join('.');
    const message = issue.code === 'invalid_type' && issue.path.length === 0 ? 'must be a JSON object of endpoints by name' : issue.message;
    ctx.addIssue({ code: 'custom', message: where ? `${where}: ${message}` : message });
  }
  return z.NEVER;
});
