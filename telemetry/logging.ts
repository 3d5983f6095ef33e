import pino, { type LoggerOptions } from 'pino';
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
import type { ActivityInterceptorsFactory, WorkerOptions } from '@temporalio/worker';
import { traceFields } from './tracing';

/**
 * Structured logs (pino, issue 15): one JSON object per line, with the active trace's ids, and never a token, a
 * password or a message body. The API's fastify logger and the worker's Temporal runtime logger share these options.
 */

/** Paths pino replaces with "[redacted]" wherever they appear in a log object. */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-erp-signature"]',
  'headers.authorization',
  'authorization',
  'cookie',
  // Temporal's activity log attributes carry the task token, which completes the activity: not for logs.
  'taskToken',
  '*.taskToken',
  'token',
  'password',
  'secret',
  'body',
  'html',
  'text',
  '*.token',
  '*.password',
  '*.secret',
  '*.html',
  '*.text',
];

/** pino options for a process named `service` (api, worker) at `level`. */
export function loggerOptions(service: string, level: string): LoggerOptions {
  return {
    level,
    base: { service },
    // "level":"info", not pino's 30: log pipelines (Loki, Elasticsearch) read the name.
    formatters: { level: (label) => ({ level: label }) },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    mixin: () => traceFields(),
  };
}

export function createLogger(service: string, level: string, destination?: pino.DestinationStream): pino.Logger {
  return destination ? pino(loggerOptions(service, level), destination) : pino(loggerOptions(service, level));
}

const LEVELS: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = { TRACE: 'trace', DEBUG: 'debug', INFO: 'info', WARN: 'warn', ERROR: 'error' };

/**
 * The Temporal runtime's logger over pino: the SDK's own lines and the activity/workflow context loggers (whose meta
 * carries workflowId, runId, activityType...) become pino lines with those fields.
 */
export function temporalLogger(logger: pino.Logger): TemporalLogger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => logger[LEVELS[level] ?? 'info'](meta ?? {}, message);
  return {
    log,
    trace: (m, meta) => log('TRACE', m, meta),
    debug: (m, meta) => log('DEBUG', m, meta),
    info: (m, meta) => log('INFO', m, meta),
    warn: (m, meta) => log('WARN', m, meta),
    error: (m, meta) => log('ERROR', m, meta),
  };
}

/** The invoice number in an invoice workflow's id (domain/ids.ts invoiceWorkflowId: `invoice-dunning:<tenant>:<number>`). */
export function invoiceNumberOf(workflowId: string | undefined): string | undefined {
  const match = workflowId ? /^invoice-dunning:[a-z0-9][a-z0-9-]*:(.+)$/.exec(workflowId) : null;
  return match?.[1];
}

/** The invoice an activity works on: from its invoice workflow's id, else its request's `invoiceNumber`. */
function activityInvoiceNumber(workflowId: string | undefined, args: unknown[]): string | undefined {
  const fromId = invoiceNumberOf(workflowId);
  if (fromId) return fromId;
  const request = args[0] as { invoiceNumber?: unknown } | undefined;
  return typeof request?.invoiceNumber === 'string' ? request.invoiceNumber : undefined;
}

/**
 * Every activity's log lines (the SDK's and ours, through the activity context's logger) carry the invoice number next
 * to the workflowId, activityType and attempt the SDK adds; and each activity ends with one line: "activity completed"
 * (info) or "activity failed" (warn, with the error's type and message), with its duration. Nothing of its input or
 * result is logged.
 */
export const activityLogInterceptor: ActivityInterceptorsFactory = (ctx) => {
  let invoiceNumber: string | undefined;
  return {
    inbound: {
      async execute(input, next) {
        invoiceNumber = activityInvoiceNumber(ctx.info.workflowExecution?.workflowId, input.args);
        const began = performance.now();
        const durationMs = () => Math.round(performance.now() - began);
        try {
          const result = await next(input);
          ctx.log.info('activity completed', { durationMs: durationMs() });
          return result;
        } catch (err) {
          const error = err instanceof Error ? { type: err.name, message: err.message.slice(0, 500) } : { type: typeof err };
          ctx.log.warn('activity failed', { durationMs: durationMs(), error });
          throw err;
        }
      },
    },
    outbound: {
      getLogAttributes(attributes, next) {
        return next(invoiceNumber ? { ...attributes, invoiceNumber } : attributes);
      },
    },
  };
};

/** The worker's options with activityLogInterceptor added inside any others (tracing's: its lines then carry the span). */
export function withActivityLogging<T extends Pick<WorkerOptions, 'interceptors' | 'sinks'>>(options: T): T {
  return { ...options, interceptors: { ...options.interceptors, activity: [...(options.interceptors?.activity ?? []), activityLogInterceptor] } };
}
