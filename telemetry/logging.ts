import pino, { type LoggerOptions } from 'pino';
import type { Logger as TemporalLogger, LogLevel, LogMetadata } from '@temporalio/common';
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
