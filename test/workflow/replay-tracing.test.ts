import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Resource } from '@opentelemetry/resources';
import { makeWorkflowExporter } from '@temporalio/interceptors-opentelemetry';
import { workflowBundleOptions } from '../../worker/workflows-path';
import { WORKFLOW_TRACING_MODULE } from '../../telemetry/temporal-tracing';

/**
 * A worker started with OTEL_* bundles the OpenTelemetry workflow interceptors (telemetry/temporal-tracing.ts): every
 * committed history, all recorded by workers without them, must still replay against that bundle, or turning tracing
 * on would break the invoices already running. Replay exports no workflow span (the sink is not called in replay).
 */
const dir = path.resolve(__dirname, '..', 'histories');
const INDEX = 'workflow-ids.json';
const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== INDEX).sort();
const workflowIds: Record<string, string> = existsSync(path.join(dir, INDEX)) ? JSON.parse(readFileSync(path.join(dir, INDEX), 'utf8')) : {};
const load = (file: string) => JSON.parse(readFileSync(path.join(dir, file), 'utf8'));

const exported = new InMemorySpanExporter();
let code = '';
const replay = (history: unknown, workflowId: string) =>
  Worker.runReplayHistory(
    { workflowBundle: { code }, sinks: { exporter: makeWorkflowExporter(new SimpleSpanProcessor(exported), Resource.empty()) } },
    history,
    workflowId,
  );

describe('replay of recorded histories with the tracing interceptors bundled', () => {
  beforeAll(async () => {
    ({ code } = await bundleWorkflowCode({
      ...workflowBundleOptions,
      workflowInterceptorModules: [WORKFLOW_TRACING_MODULE],
      logger: { log() {}, info() {}, warn() {}, error: console.error, debug() {}, trace() {} } as never,
    }));
  }, 120_000);

  it('bundles the OpenTelemetry workflow interceptors', () => {
    expect(code).toContain('OpenTelemetryInboundInterceptor');
    expect(files.length).toBeGreaterThanOrEqual(2);
  });

  it.each(files)('%s replays without determinism errors', async (file) => {
    await expect(replay(load(file), workflowIds[file] ?? file)).resolves.toBeUndefined();
    expect(exported.getFinishedSpans()).toEqual([]);
  });

  it('detects a history that the code would not produce (the check really checks)', async () => {
    const history = load(files[0]!);
    const scheduled = history.events.find((e: any) => e.activityTaskScheduledEventAttributes);
    scheduled.activityTaskScheduledEventAttributes.activityType.name = 'someOtherActivity';
    await expect(replay(history, 'tampered')).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
