import { z } from 'zod';
import { webhookEndpointsEnvSchema } from './webhook-endpoints';

/**
 * Every process reads its configuration from environment variables, validated once at start-up.
 * A bad or missing variable stops the process with one message that names each of them.
 */
const port = z.coerce.number().int().min(1).max(65535);
const url = (protocols: string[]) =>
  z.string().url().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return true; // not a URL at all: reported once, by the check above
      }
    },
    { message: `must use ${protocols.join(' or ')}` },
  );

/** The ERP connections there are (integrations/erp/select.ts builds each). */
export const ERP_KINDS = ['simulator', 'tryton', 'ledger'] as const;

export const envSchema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']),
  TEMPORAL_ADDRESS: z.string().regex(/^[^:\s]+:\d+$/, 'must be host:port').default('localhost:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('dunning'),
  TENANT_ID: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes').default('default'),
  SMTP_URL: url(['smtp:', 'smtps:']).default('smtp://localhost:1025'),
  MAIL_FROM: z.string().min(3).default('Accounts Receivable <ar@example.com>'),
  /**
   * Which ERP is the system of record: 'simulator' (the reference ERP over HTTP at ERP_BASE_URL, the default),
   * 'tryton' (a Tryton server's JSON-RPC at TRYTON_URL), 'ledger' (no ERP API: the imported ledger in PostgreSQL).
   */
  ERP_KIND: z.enum(ERP_KINDS).default('simulator'),
  ERP_BASE_URL: url(['http:', 'https:']).default('http://localhost:4010'),
  /** Tryton's server root; the adapter calls `${TRYTON_URL}/${TRYTON_DB}/rpc/` (JSON-RPC). */
  TRYTON_URL: url(['http:', 'https:']).default('http://localhost:8000'),
  TRYTON_DB: z.string().min(1).default('dunning'),
  TRYTON_USER: z.string().min(1).default('admin'),
  TRYTON_PASSWORD: z.string().min(1).default('admin'),
  /** The ERP connection's name: the sync's schedule and cursor are per tenant and connection. */
  ERP_CONNECTION: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'lower-case letters, digits and dashes').default('main'),
  /** 'off': the API neither creates nor updates the ERP sync's schedule (an existing one is left as it is). */
  ERP_SYNC: z.enum(['on', 'off']).default('on'),
  /** The sync's interval, above config/erp-sync.json's and below one set through PUT /erp-sync/interval. */
  ERP_SYNC_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(1440).optional(),
  ERP_API_KEY: z.string().min(1).default('dev-erp-key'),
  ERP_WEBHOOK_SECRET: z.string().min(16, 'must be at least 16 characters').default('dev-erp-webhook-secret'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(3000),
  /** The default cadence (for invoices no segment, override or selection rule claims). */
  CADENCE_FILE: z.string().min(1).default('config/cadences/standard.json'),
  /** Cadences seeded (as active version N) the first time a tenant starts; afterwards the API manages them. */
  CADENCE_DIR: z.string().min(1).default('config/cadences'),
  /** How long a customer's contact workflow waits for other invoices before sending one message. */
  CONSOLIDATION_GATHER_SECONDS: z.coerce.number().int().min(0).max(86_400).default(600),
  /** Named outbound webhook endpoints for cadence `webhook` steps: JSON {"crm": {"url": "https://…", "secret": "…"}}. */
  WEBHOOK_ENDPOINTS: z.string().default('').pipe(webhookEndpointsEnvSchema),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * The worker's metrics endpoints (issue 15; the API serves GET /metrics on API_PORT): the product's (prom-client) on
   * WORKER_METRICS_PORT, the Temporal SDK's runtime metrics on TEMPORAL_METRICS_PORT. Unset or 0: not served (two
   * workers on one machine would fight over a fixed default). METRICS_HOST is the address both bind.
   */
  METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  WORKER_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  TEMPORAL_METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /**
   * The web console under /app (issue 14). CONSOLE_SECRET keys the CSRF tokens (at least 32 characters; unset: a
   * random key per process, so open forms fail after a restart and replicas refuse each other's forms: set it
   * wherever more than one API process serves the console). Sessions end after CONSOLE_SESSION_IDLE_MINUTES without
   * a request and CONSOLE_SESSION_MAX_HOURS after the sign-in. CONSOLE_SECURE_COOKIES=true when served over HTTPS.
   * TEMPORAL_UI_URL (e.g. http://localhost:8233) gives each invoice a link to its workflow there.
   */
  CONSOLE_SECRET: z.string().min(32, 'at least 32 characters').optional(),
  CONSOLE_SESSION_IDLE_MINUTES: z.coerce.number().int().min(1).max(7 * 24 * 60).default(480),
  CONSOLE_SESSION_MAX_HOURS: z.coerce.number().int().min(1).max(24 * 30).default(12),
  CONSOLE_SECURE_COOKIES: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  TEMPORAL_UI_URL: url(['http:', 'https:']).optional(),
});

export type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws a ConfigError listing every bad or missing variable. */
export function parseEnv(source: NodeJS.ProcessEnv = process.env): Env {
  const result = envSchema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const missing = source[name] === undefined;
    return missing ? `${name} is required but not set` : `${name}: ${issue.message}`;
  });
  throw new ConfigError(problems);
}

/** For process entry points: exits with a clear message instead of a stack trace. */
export function loadEnvOrExit(source: NodeJS.ProcessEnv = process.env): Env {
  try {
    return parseEnv(source);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
}
