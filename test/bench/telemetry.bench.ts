import http from 'node:http';
import os from 'node:os';
import type { AppEnv } from '../../dev/app-processes';
import { freePort } from '../../dev/process';
import { check, fmt, onTeardown, table, type Bench } from './harness';
import { startBenchStack, type BenchStack } from './floor/stack';
import { K, SPACING_S, floorRun, median, projectRun, spread, type RunFigures } from './dev-server.bench';

/**
 * Issue 15: what metrics and tracing cost in the throughput benchmark. `npm run bench -- telemetry`.
 *
 * The dev-server bench's stack and its project run (test/bench/dev-server.bench.ts: N invoices × 4 steps through the
 * HTTP API, real PostgreSQL, SMTP peer and ERP simulator, the Temporal dev server), in turn:
 *  - off: API and worker as they start by default: no OTEL_* variables (no tracer provider), no worker metrics
 *    endpoints, nothing scraping the API's /metrics (prom-client still counts in memory: that cannot be turned off);
 *  - on: the worker's product and SDK metrics endpoints served (WORKER_METRICS_PORT, TEMPORAL_METRICS_PORT), the three
 *    endpoints and the API's /metrics scraped every SCRAPE_S seconds (Prometheus's default is 15 s: this is 3× harsher),
 *    and tracing on with the OTLP/HTTP exporter sending every span to a local collector stand-in (an HTTP server here
 *    that reads and counts them).
 * The API and worker are restarted for each mode, each restart followed by a warm-up run that is not counted. The floor
 * (a bare Temporal workflow doing the same timers, ERP GET and SMTP send) runs beside them, in the same run, to show
 * how much the machine itself wandered. Fails when a mode misbehaves (the project run's own checks: every step, exactly
 * N×3 mails), when tracing exported no span of the SMTP send, or when a scrape failed.
 */
const N = Number(process.env.BENCH_N ?? 200);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCRAPE_S = Number(process.env.BENCH_SCRAPE_SECONDS ?? 5);
const SAMPLER = process.env.BENCH_TRACES_SAMPLER;
const TRACES = process.env.BENCH_TRACES !== 'off';
/** Every mail's smtp.send span is checked only when every trace is kept. */
const ALL_TRACES = TRACES && (SAMPLER === undefined || SAMPLER === 'always_on' || SAMPLER === 'parentbased_always_on');
const WARM_UP = 20;

/** A stand-in for an OpenTelemetry collector: accepts OTLP/HTTP JSON trace exports and counts spans by name. */
async function startOtlpSink() {
  const spans = new Map<string, number>();
  let requests = 0;
  let bytes = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests++;
      const body = Buffer.concat(chunks);
      bytes += body.length;
      try {
        const parsed = JSON.parse(body.toString()) as { resourceSpans?: { scopeSpans?: { spans?: { name: string }[] }[] }[] };
        for (const rs of parsed.resourceSpans ?? []) for (const ss of rs.scopeSpans ?? []) for (const s of ss.spans ?? []) spans.set(s.name, (spans.get(s.name) ?? 0) + 1);
      } catch {
        spans.set('(not JSON)', (spans.get('(not JSON)') ?? 0) + 1);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  onTeardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    url: `http://127.0.0.1:${port}/v1/traces`,
    take() {
      const out = { spans: new Map(spans), requests, bytes };
      spans.clear();
      requests = 0;
      bytes = 0;
      return out;
    },
  };
}

/** Scrapes each URL every `seconds` until stopped: how long each scrape took, and the last body of each. */
function startScraper(urls: string[], seconds: number) {
  const took: number[] = [];
  const failures: string[] = [];
  const last = new Map<string, string>();
  const scrapeAll = () =>
    Promise.all(
      urls.map(async (url) => {
        const t0 = performance.now();
        try {
          const res = await fetch(url);
          const body = await res.text();
          if (!res.ok) failures.push(`${url}: ${res.status}`);
          else last.set(url, body);
        } catch (err) {
          failures.push(`${url}: ${(err as Error).message}`);
        }
        took.push(performance.now() - t0);
      }),
    );
  let inFlight = scrapeAll();
  const timer = setInterval(() => void (inFlight = inFlight.then(scrapeAll)), seconds * 1000);
  return {
    async stop() {
      clearInterval(timer);
      await inFlight;
      await scrapeAll(); // a last one, after the run: the counters' final values
      return { took, failures, last };
    },
  };
}

/** The value of a sample line `name{labels} value` in a Prometheus text body (labels given in full, in order). */
function sample(body: string | undefined, series: string): number | undefined {
  const line = body?.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

interface OnFigures {
  run: RunFigures;
  byName: Map<string, number>;
  spansPerStep: number;
  smtpSpans: number;
  exportedKiB: number;
  scrapeMs: number;
  scrapes: number;
}

export const bench: Bench = {
  timeoutMs: 20 * 60_000,
  async run() {
    check(Number.isInteger(N) && N > 0 && RUNS >= 1 && SCRAPE_S > 0, 'BENCH_N and BENCH_RUNS must be positive integers, BENCH_SCRAPE_SECONDS positive');
    const started = Date.now();
    const phase = (what: string) => console.log(`  ${((Date.now() - started) / 1000).toFixed(0).padStart(4)} s  ${what}`);
    const loadAtStart = os.loadavg()[0]!.toFixed(1);
    const stack: BenchStack = await startBenchStack({ steps: K, spacingSeconds: SPACING_S });
    const sink = await startOtlpSink();
    const [workerMetricsPort, sdkMetricsPort] = [await freePort(), await freePort()];
    const onEnv: AppEnv = {
      METRICS_HOST: '127.0.0.1',
      WORKER_METRICS_PORT: String(workerMetricsPort),
      TEMPORAL_METRICS_PORT: String(sdkMetricsPort),
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: sink.url,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      // BENCH_TRACES_SAMPLER=parentbased_traceidratio BENCH_TRACES_SAMPLER_ARG=0.1: the cost with a sampled share of
      // the traces; BENCH_TRACES=off: metrics alone (no tracer provider).
      ...(SAMPLER ? { OTEL_TRACES_SAMPLER: SAMPLER, OTEL_TRACES_SAMPLER_ARG: process.env.BENCH_TRACES_SAMPLER_ARG ?? '' } : {}),
    };
    if (!TRACES) for (const k of Object.keys(onEnv).filter((k) => k.startsWith('OTEL_'))) delete onEnv[k];
    const workerUrl = `http://127.0.0.1:${workerMetricsPort}/metrics`;
    try {
      phase('stack up');
      await floorRun(stack, 'WF-', WARM_UP);
      const off: RunFigures[] = [];
      const on: OnFigures[] = [];
      const floor: RunFigures[] = [];
      for (let r = 1; r <= RUNS; r++) {
        await stack.restartApp({});
        await projectRun(stack, `R${r}WOFF-`, WARM_UP);
        off.push(await projectRun(stack, `R${r}OFF-`, N));
        phase(`run ${r}: telemetry off ${fmt(off.at(-1)!.stepsPerSec)} steps/s`);

        await stack.restartApp(onEnv);
        await projectRun(stack, `R${r}WON-`, WARM_UP);
        sink.take();
        const scraper = startScraper([`${stack.apiUrl}/metrics`, workerUrl, `http://127.0.0.1:${sdkMetricsPort}/metrics`], SCRAPE_S);
        const run = await projectRun(stack, `R${r}ON-`, N);
        const scraped = await scraper.stop();
        await new Promise((resolve) => setTimeout(resolve, 6_000)); // the batch span processor's 5 s delay: the run's last spans
        const exported = sink.take();
        check(scraped.failures.length === 0, `scrapes failed: ${scraped.failures.slice(0, 3).join('; ')}`);
        // The worker counted every mail of the warm-up and of the run once (it was restarted before the warm-up).
        const sent = sample(scraped.last.get(workerUrl), 'dunning_messages_total{channel="email",outcome="sent"}');
        check(sent === (WARM_UP + N) * 3, `the worker's dunning_messages_total{outcome="sent"} is ${sent}, expected ${(WARM_UP + N) * 3}`);
        const smtpSpans = exported.spans.get('smtp.send') ?? 0;
        if (ALL_TRACES) check(smtpSpans >= N * 3, `${smtpSpans} smtp.send spans exported for ${N * 3} mails; spans seen: ${[...exported.spans.keys()].join(', ')}`);
        const total = [...exported.spans.values()].reduce((a, b) => a + b, 0);
        on.push({ run, byName: exported.spans, spansPerStep: total / (N * K), smtpSpans, exportedKiB: exported.bytes / 1024, scrapeMs: median(scraped.took), scrapes: scraped.took.length });
        phase(`run ${r}: telemetry on ${fmt(run.stepsPerSec)} steps/s, ${fmt(total)} spans exported, ${scraped.took.length} scrapes`);

        floor.push(await floorRun(stack, `R${r}F-`, N));
        phase(`run ${r}: floor ${fmt(floor.at(-1)!.stepsPerSec)} steps/s`);
      }
      await stack.restartApp({}); // as the stack started, for the teardown

      const onRuns = on.map((o) => o.run);
      const col = (xs: RunFigures[], f: (x: RunFigures) => number) => spread(xs.map(f));
      const ratio = (f: (x: RunFigures) => number) => spread(onRuns.map((o, i) => f(o) / f(off[i]!)));
      table(
        `telemetry: ${N} invoices × ${K} steps ${SPACING_S} s apart through the API, ${RUNS} runs each (median (min–max); ratio: on / off of the same run); ` +
          `scrapes every ${SCRAPE_S} s; load average ${loadAtStart} at the start, ${os.loadavg()[0]!.toFixed(1)} now, on ${os.cpus().length} cores`,
        [
          ['figure', 'off', 'on (metrics + traces)', 'ratio', 'floor (bare Temporal)'],
          ['steps/s', col(off, (x) => x.stepsPerSec), col(onRuns, (x) => x.stepsPerSec), ratio((x) => x.stepsPerSec), col(floor, (x) => x.stepsPerSec)],
          ['worker CPU per step', `${col(off, (x) => x.cpuPerStep.worker)} ms`, `${col(onRuns, (x) => x.cpuPerStep.worker)} ms`, ratio((x) => x.cpuPerStep.worker), `${col(floor, (x) => x.cpuPerStep.worker)} ms`],
          ['API CPU per step', `${col(off, (x) => x.cpuPerStep.api)} ms`, `${col(onRuns, (x) => x.cpuPerStep.api)} ms`, ratio((x) => x.cpuPerStep.api), ''],
          ['Temporal server CPU per step', `${col(off, (x) => x.cpuPerStep.temporal)} ms`, `${col(onRuns, (x) => x.cpuPerStep.temporal)} ms`, ratio((x) => x.cpuPerStep.temporal), `${col(floor, (x) => x.cpuPerStep.temporal)} ms`],
          ['PostgreSQL CPU per step', `${col(off, (x) => x.cpuPerStep.postgres)} ms`, `${col(onRuns, (x) => x.cpuPerStep.postgres)} ms`, ratio((x) => x.cpuPerStep.postgres), ''],
          ['spans exported per step', '', spread(on.map((o) => o.spansPerStep)), '', ''],
          ['OTLP bytes exported per run', '', `${spread(on.map((o) => o.exportedKiB))} KiB`, '', ''],
          ['scrape time (median of all endpoints)', '', `${spread(on.map((o) => o.scrapeMs))} ms`, '', ''],
        ],
      );
      const names = new Map<string, number>();
      for (const o of on) for (const [name, n] of o.byName) names.set(name, (names.get(name) ?? 0) + n / (N * K) / on.length);
      table('spans exported per step, by name (mean of the runs)', [['span', 'per step'], ...[...names].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([name, n]) => [name, fmt(n)])]);
      console.log(`\n  target: telemetry costs at most 10% of throughput (ratio of steps/s ≥ 0.9): ${median(onRuns.map((o, i) => o.stepsPerSec / off[i]!.stepsPerSec)) >= 0.9 ? 'met' : 'MISSED'}`);
      console.log(`  checked: every run's invoices ran ${K} steps with exactly N×3 mails; with telemetry on, the worker's sent counter equals the mails sent and every mail has its smtp.send span`);
    } catch (err) {
      console.error(`\nlast lines of the API and workers:\n${stack.tails().join('\n')}`);
      throw err;
    }
  },
};
