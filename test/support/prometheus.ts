import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createApiMetrics, createWorkerMetrics } from '../../telemetry/metrics';
import { freePort } from '../../dev/process';

/**
 * Helpers for the operations tests (test/integration/ops-prometheus.test.ts): Debian's Prometheus binaries, the metric
 * catalogue as Prometheus sees it, PromQL's metric names, and a real Prometheus server for a test.
 */

export const ROOT = path.resolve(__dirname, '../..');
export const INSTALL_HINT = "run `WITH_PROMETHEUS=1 scripts/setup` (installs Debian's prometheus package: prometheus and promtool)";

/** The path of a binary of Debian's prometheus package; throws (never skips) when it is missing. */
export function prometheusBinary(name: 'promtool' | 'prometheus'): string {
  const which = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
  const bin = which.stdout.trim();
  if (which.status !== 0 || !bin) throw new Error(`${name} is not installed: ${INSTALL_HINT}`);
  return bin;
}

/** A YAML file as JSON, through python3's PyYAML (docker-compose's own dependency, as in compose.test.ts): no npm YAML package. */
export function readYaml<T = unknown>(file: string): T {
  const result = spawnSync('python3', ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)', file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`could not read ${file} as YAML (python3 with PyYAML needed): ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/**
 * The Temporal SDK's runtime metrics as the worker's core serves them on TEMPORAL_METRICS_PORT with
 * useSecondsForDurations (worker/runtime.ts): names as served (counters without `_total`, durations in seconds without a
 * `_seconds` suffix). Read from a running worker's endpoint and the core bridge of @temporalio/core-bridge 1.x; the
 * failure counters appear only once something failed. The live test checks that what a worker serves is in this list.
 */
export const TEMPORAL_SDK_COUNTERS_AND_GAUGES = [
  'temporal_activity_execution_cancelled',
  'temporal_activity_execution_failed',
  'temporal_activity_poll_no_task',
  'temporal_activity_task_received',
  'temporal_local_activity_execution_cancelled',
  'temporal_local_activity_execution_failed',
  'temporal_local_activity_total',
  'temporal_long_request',
  'temporal_long_request_failure',
  'temporal_num_pollers',
  'temporal_request',
  'temporal_request_failure',
  'temporal_sticky_cache_hit',
  'temporal_sticky_cache_miss',
  'temporal_sticky_cache_size',
  'temporal_sticky_cache_total_forced_eviction',
  'temporal_worker_start',
  'temporal_worker_task_slots_available',
  'temporal_worker_task_slots_used',
  'temporal_workflow_canceled',
  'temporal_workflow_completed',
  'temporal_workflow_continue_as_new',
  'temporal_workflow_failed',
  'temporal_workflow_task_execution_failed',
  'temporal_workflow_task_queue_poll_empty',
  'temporal_workflow_task_queue_poll_succeed',
];
export const TEMPORAL_SDK_HISTOGRAMS = [
  'temporal_activity_execution_latency',
  'temporal_activity_schedule_to_start_latency',
  'temporal_activity_succeed_endtoend_latency',
  'temporal_local_activity_execution_latency',
  'temporal_local_activity_succeed_endtoend_latency',
  'temporal_long_request_latency',
  'temporal_request_latency',
  'temporal_workflow_endtoend_latency',
  'temporal_workflow_task_execution_latency',
  'temporal_workflow_task_replay_latency',
  'temporal_workflow_task_schedule_to_start_latency',
];

const histogramSeries = (name: string) => [`${name}_bucket`, `${name}_sum`, `${name}_count`];

/** Every series name Prometheus can hold from our targets: the API's and worker's registries, the SDK's, and `up`. */
export async function knownSeriesNames(): Promise<Set<string>> {
  const names = new Set<string>(['up', 'scrape_duration_seconds', 'scrape_samples_scraped']);
  for (const { registry } of [createApiMetrics(), createWorkerMetrics()]) {
    for (const metric of await registry.getMetricsAsJSON()) {
      const type = String(metric.type);
      if (type === 'histogram') histogramSeries(metric.name).forEach((n) => names.add(n));
      else if (type === 'summary') [metric.name, `${metric.name}_sum`, `${metric.name}_count`].forEach((n) => names.add(n));
      else names.add(metric.name);
    }
  }
  TEMPORAL_SDK_COUNTERS_AND_GAUGES.forEach((n) => names.add(n));
  TEMPORAL_SDK_HISTOGRAMS.flatMap(histogramSeries).forEach((n) => names.add(n));
  return names;
}

const PROMQL_KEYWORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'inf', 'nan', 'atan2']);

/**
 * The metric names a PromQL expression reads. Strings, label matchers, ranges and grouping clauses are removed first;
 * what is left are metric names, function names (followed by "("), keywords and numbers.
 */
export function metricNamesIn(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ')
    .replace(/\boffset\s+\S+/g, ' ');
  const names = new Set<string>();
  for (const match of stripped.matchAll(/(?<![\w.$])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const [, name, call] = match;
    if (call || !name || PROMQL_KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

/** Grafana's template variables replaced by concrete values, so that Prometheus can run a panel's query. */
export function withGrafanaVariables(expr: string, rateInterval = '1m'): string {
  return expr
    .replace(/\$__rate_interval|\$\{__rate_interval\}/g, rateInterval)
    .replace(/\$__interval|\$\{__interval\}/g, '15s')
    .replace(/\$__range|\$\{__range\}/g, '5m');
}

export interface QueryResult {
  status: string;
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: { metric: Record<string, string>; value: [number, string] }[] };
}

/** A real Prometheus server (Debian's binary) in a temp dir on a free port, with the given config (JSON is YAML). */
export async function startPrometheus(config: Record<string, unknown>): Promise<{
  url: string;
  query(expr: string): Promise<QueryResult>;
  get(pathAndQuery: string): Promise<any>;
  logs(): string;
  stop(): Promise<void>;
}> {
  const dir = mkdtempSync(path.join(tmpdir(), 'ops-prometheus-'));
  const configFile = path.join(dir, 'prometheus.yml');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let output = '';
  const child: ChildProcess = spawn(
    prometheusBinary('prometheus'),
    [`--config.file=${configFile}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) {
      await stop();
      throw new Error(`prometheus exited ${child.exitCode} at start:\n${output}`);
    }
    const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`prometheus not ready on ${url} after 30 s:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  const get = async (pathAndQuery: string) => (await fetch(`${url}${pathAndQuery}`)).json();
  return {
    url,
    get,
    query: async (expr: string) => {
      const res = await fetch(`${url}/api/v1/query`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ query: expr }) });
      return (await res.json()) as QueryResult;
    },
    logs: () => output,
    stop,
  };
}
