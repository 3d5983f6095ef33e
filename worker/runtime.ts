import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import type pino from 'pino';
import type { Env } from '../config/env';
import { temporalLogger } from '../telemetry/logging';

/**
 * The worker's Temporal runtime, installed once before any connection: the SDK's logs go to our pino logger (core's
 * own forwarded at WARN), and its runtime metrics (task slots, poll and schedule-to-start latencies, workflow and
 * activity failures, sticky cache size...) are served in Prometheus format on TEMPORAL_METRICS_PORT when it is set.
 */
export function installWorkerRuntime(env: Pick<Env, 'METRICS_HOST' | 'TEMPORAL_METRICS_PORT'>, logger: pino.Logger): { metricsUrl?: string } {
  const bindAddress = env.TEMPORAL_METRICS_PORT ? `${env.METRICS_HOST}:${env.TEMPORAL_METRICS_PORT}` : undefined;
  Runtime.install({
    logger: temporalLogger(logger),
    telemetryOptions: {
      logging: { forward: {}, filter: makeTelemetryFilterString({ core: 'WARN' }) },
      ...(bindAddress ? { metrics: { prometheus: { bindAddress, useSecondsForDurations: true } } } : {}),
    },
  });
  return bindAddress ? { metricsUrl: `http://${bindAddress}/metrics` } : {};
}
