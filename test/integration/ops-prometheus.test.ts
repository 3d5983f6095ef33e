import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { freePort } from '../../dev/process';
import { createAndEnroll, startStack, type Stack } from '../support/stack';
import {
  ROOT,
  TEMPORAL_SDK_COUNTERS_AND_GAUGES,
  TEMPORAL_SDK_HISTOGRAMS,
  knownSeriesNames,
  metricNamesIn,
  prometheusBinary,
  readYaml,
  startPrometheus,
  withGrafanaVariables,
} from '../support/prometheus';

/**
 * The operations files (ops/) validated in the test command: promtool checks the Prometheus config and the alert rules
 * and runs the rules' unit tests; the Grafana dashboard is checked against the structure Grafana needs; every metric name
 * the dashboard and the alerts read exists in the catalogue; and everything is LOADED into a real Prometheus (Debian's
 * binary) that scrapes a real API and worker: each dashboard and alert expression must be accepted against real data.
 * Fails, never skips, when Prometheus is not installed.
 */

const OPS = path.join(ROOT, 'ops');
const PROMETHEUS_CONFIG = path.join(OPS, 'prometheus/prometheus.yml');
const ALERTS = path.join(OPS, 'prometheus/alerts.yml');
const ALERT_TESTS = path.join(OPS, 'prometheus/alerts.test.yml');
const DASHBOARD = path.join(OPS, 'grafana/dashboards/dunning.json');
const DATASOURCES = path.join(OPS, 'grafana/provisioning/datasources/prometheus.yml');
const DASHBOARD_PROVIDERS = path.join(OPS, 'grafana/provisioning/dashboards/dunning.yml');
const OPERATIONS_DOC = path.join(ROOT, 'docs/operations.md');

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}
interface RulesFile {
  groups: { name: string; rules: AlertRule[] }[];
}
interface RuleTests {
  rule_files: string[];
  tests: { name: string; alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[];
}

function promtool(args: string[], cwd = ROOT) {
  const result = spawnSync(prometheusBinary('promtool'), args, { cwd, encoding: 'utf8', timeout: 60_000 });
  if (result.error) throw result.error;
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

const alertRules = (): AlertRule[] => readYaml<RulesFile>(ALERTS).groups.flatMap((g) => g.rules);

// ------------------------------------------------------------------ the dashboard's shape (what Grafana needs)
const PANEL_TYPES = ['row', 'timeseries', 'stat'] as const;
const datasourceRef = z.object({ type: z.literal('prometheus'), uid: z.string().min(1) });
const gridPos = z.object({ x: z.number().int().min(0).max(23), y: z.number().int().min(0), w: z.number().int().min(1).max(24), h: z.number().int().min(1) });
const target = z.object({ refId: z.string().regex(/^[A-Z]$/), expr: z.string().min(1), legendFormat: z.string().optional(), datasource: datasourceRef });
const panel = z.object({
  id: z.number().int().positive(),
  type: z.enum(PANEL_TYPES),
  title: z.string().min(1),
  gridPos,
  datasource: datasourceRef.optional(),
  targets: z.array(target).optional(),
});
const dashboardSchema = z.object({
  uid: z.string().regex(/^[A-Za-z0-9_-]{1,40}$/),
  title: z.string().min(1),
  // Grafana 11 writes 39 to 41; a dashboard newer than the pinned image is refused, an older one migrated.
  schemaVersion: z.number().int().min(36).max(41),
  time: z.object({ from: z.string(), to: z.string() }),
  templating: z.object({ list: z.array(z.unknown()) }),
  panels: z.array(panel).min(1),
});
type Dashboard = z.infer<typeof dashboardSchema>;
const readDashboard = (): Dashboard => dashboardSchema.parse(JSON.parse(readFileSync(DASHBOARD, 'utf8')));
const queryPanels = (d: Dashboard) => d.panels.filter((p) => p.type !== 'row');
const dashboardExprs = (d: Dashboard) => queryPanels(d).flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));

/** GitHub's anchor for a Markdown heading. */
const slug = (heading: string) => heading.trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-');

let workDir: string;
beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'ops-test-'));
});
afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('promtool', () => {
  it('checks the Prometheus config (and the rule files it names)', () => {
    const { status, output } = promtool(['check', 'config', PROMETHEUS_CONFIG]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS: 1 rule files found');
  });

  it('checks the alert rules', () => {
    const { status, output } = promtool(['check', 'rules', ALERTS]);
    expect(status, output).toBe(0);
    expect(output).toContain(`SUCCESS: ${alertRules().length} rules found`);
  });

  it('runs the alert rules unit tests (alerts.test.yml)', () => {
    const { status, output } = promtool(['test', 'rules', ALERT_TESTS]);
    expect(status, output).toBe(0);
    expect(output).toContain('SUCCESS');
  });

  it('every alert has a case where it fires and one where it stays quiet', () => {
    const tests = readYaml<RuleTests>(ALERT_TESTS);
    expect(tests.rule_files).toEqual(['alerts.yml']);
    const cases = tests.tests.flatMap((t) => t.alert_rule_test);
    for (const { alert } of alertRules()) {
      const mine = cases.filter((c) => c.alertname === alert);
      expect(mine.some((c) => c.exp_alerts.length > 0), `${alert} has no firing case`).toBe(true);
      expect(mine.some((c) => c.exp_alerts.length === 0), `${alert} has no quiet case`).toBe(true);
    }
  });

  describe('the checks really check', () => {
    function brokenCopy(edit: (text: string) => string): string {
      const dir = mkdtempSync(path.join(workDir, 'rules-'));
      const text = readFileSync(ALERTS, 'utf8');
      const edited = edit(text);
      expect(edited, 'the edit changed nothing').not.toBe(text);
      writeFileSync(path.join(dir, 'alerts.yml'), edited);
      copyFileSync(ALERT_TESTS, path.join(dir, 'alerts.test.yml'));
      return dir;
    }

    it('a copy with a PromQL syntax error fails check rules', () => {
      const dir = brokenCopy((t) => t.replace('max(dunning_oldest_overdue_step_seconds) > 3600', 'max(dunning_oldest_overdue_step_seconds > 3600'));
      const { status, output } = promtool(['check', 'rules', path.join(dir, 'alerts.yml')], dir);
      expect(status).not.toBe(0);
      expect(output).toMatch(/parse error|unclosed|unexpected/i);
    });

    it('a copy whose no-reminder alert forgets absent series (no `or vector(0)`) fails the unit tests', () => {
      const dir = brokenCopy((t) => t.replace('(sum(increase(dunning_messages_total{outcome="sent"}[3h])) or vector(0)) == 0', 'sum(increase(dunning_messages_total{outcome="sent"}[3h])) == 0'));
      const { status, output } = promtool(['test', 'rules', path.join(dir, 'alerts.test.yml')], dir);
      expect(status).not.toBe(0);
      expect(output).toContain('DunningNoRemindersSent');
    });

    it('a copy whose workflow-failure alert misses the first failure of a process fails the unit tests', () => {
      const dir = brokenCopy((t) => t.replace(/\s+or\s+sum by \(workflow_type\) \(temporal_workflow_failed unless temporal_workflow_failed offset 15m\) > 0/, ''));
      const { status, output } = promtool(['test', 'rules', path.join(dir, 'alerts.test.yml')], dir);
      expect(status).not.toBe(0);
      expect(output).toContain('DunningWorkflowFailed');
    });
  });
});

describe('alert rules', () => {
  it('each has a severity, a summary, a description and a runbook section that exists in docs/operations.md', () => {
    const doc = readFileSync(OPERATIONS_DOC, 'utf8');
    const anchors = new Set([...doc.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => slug(m[1] ?? '')));
    const rules = alertRules();
    expect(rules.length).toBeGreaterThanOrEqual(12);
    expect(new Set(rules.map((r) => r.alert)).size, 'alert names are unique').toBe(rules.length);
    for (const rule of rules) {
      expect(['critical', 'warning'], `${rule.alert} severity`).toContain(rule.labels?.severity);
      expect(rule.annotations?.summary, `${rule.alert} summary`).toBeTruthy();
      expect(rule.annotations?.description, `${rule.alert} description`).toBeTruthy();
      const runbook = /^docs\/operations\.md#([\w-]+)$/.exec(rule.annotations?.runbook ?? '');
      expect(runbook, `${rule.alert} runbook annotation`).not.toBeNull();
      expect(anchors.has(runbook?.[1] ?? ''), `docs/operations.md has no section #${runbook?.[1]} (${rule.alert})`).toBe(true);
    }
  });

  it('the alerts the issue asks for are all there', () => {
    const names = alertRules().map((r) => r.alert);
    for (const name of [
      'DunningNoRemindersSent', 'DunningStepsOverdue', 'DunningUncertainSend', 'DunningInvoicesNeedAttention', 'DunningErpErrorRate',
      'DunningWorkerScheduleToStartHigh', 'DunningWorkflowFailed', 'DunningDisputesOverdue', 'DunningApprovalsEscalated',
      'DunningErpSyncLagging', 'DunningErpSyncFailing', 'DunningApi5xxRate', 'DunningTargetDown', 'DunningSmtpErrors',
    ]) expect(names).toContain(name);
  });

  it('the README names each alert', () => {
    const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
    for (const { alert } of alertRules()) expect(readme, alert).toContain(alert);
  });
});

describe('Grafana dashboard and provisioning', () => {
  it('has the structure Grafana needs: uid, title, schemaVersion, unique panel ids, a 24-column grid without overlaps', () => {
    const dashboard = readDashboard();
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size, 'panel ids are unique').toBe(ids.length);
    for (const p of dashboard.panels) expect(p.gridPos.x + p.gridPos.w, `${p.title} fits in 24 columns`).toBeLessThanOrEqual(24);
    const overlaps: string[] = [];
    dashboard.panels.forEach((a, i) =>
      dashboard.panels.slice(i + 1).forEach((b) => {
        const ga = a.gridPos;
        const gb = b.gridPos;
        if (ga.x < gb.x + gb.w && gb.x < ga.x + ga.w && ga.y < gb.y + gb.h && gb.y < ga.y + ga.h) overlaps.push(`${a.title} / ${b.title}`);
      }),
    );
    expect(overlaps).toEqual([]);
    for (const p of queryPanels(dashboard)) expect(p.targets?.length ?? 0, `${p.title} has queries`).toBeGreaterThan(0);
  });

  it('every panel and query names the provisioned datasource by its uid; the provider reads the mounted dashboards', () => {
    const datasources = readYaml<{ datasources: { uid: string; type: string; url: string; isDefault?: boolean }[] }>(DATASOURCES).datasources;
    expect(datasources).toHaveLength(1);
    const [prometheus] = datasources;
    expect(prometheus).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    for (const p of queryPanels(readDashboard())) {
      expect(p.datasource?.uid, p.title).toBe(prometheus?.uid);
      for (const t of p.targets ?? []) expect(t.datasource.uid, `${p.title} ${t.refId}`).toBe(prometheus?.uid);
    }
    const providers = readYaml<{ providers: { type: string; options: { path: string } }[] }>(DASHBOARD_PROVIDERS).providers;
    expect(providers.map((p) => p.options.path)).toEqual(['/etc/dunning/dashboards']);
    expect(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8')).toContain('./ops/grafana/dashboards:/etc/dunning/dashboards:ro');
  });

  it('has the rows the issue asks for: throughput, stage mix, failures, latencies, backlog, API', () => {
    const dashboard = readDashboard();
    const rows = dashboard.panels.filter((p) => p.type === 'row').map((p) => p.title.toLowerCase());
    for (const word of ['throughput', 'stage mix', 'failures', 'latencies', 'backlog', 'api']) expect(rows.some((r) => r.includes(word)), word).toBe(true);
    const exprs = dashboardExprs(dashboard).map((e) => e.expr).join('\n');
    for (const name of ['dunning_messages_total', 'dunning_invoices', 'temporal_workflow_failed', 'dunning_erp_errors_total', 'dunning_smtp_errors_total',
      'dunning_http_request_duration_seconds_bucket', 'temporal_workflow_task_schedule_to_start_latency_bucket', 'dunning_steps_overdue',
      'dunning_invoices_needing_attention', 'dunning_disputes_overdue', 'dunning_approvals_pending', 'dunning_erp_sync_lag_seconds', 'dunning_http_requests_total']) {
      expect(exprs, name).toContain(name);
    }
  });
});

describe('metric names', () => {
  it('the name extractor finds metric names and nothing else (control)', () => {
    expect(metricNamesIn('histogram_quantile(0.95, sum by (le, route) (rate(foo_bucket{route=~"/a|b"}[$__rate_interval]))) / on() group_left bar_total offset 5m or vector(0) > bool 1e3')
      .sort()).toEqual(['bar_total', 'foo_bucket']);
    expect(metricNamesIn('max(dunning_steps_overdue) > 0 and (sum(increase(dunning_messages_total{outcome="sent"}[3h])) or vector(0)) == 0').sort())
      .toEqual(['dunning_messages_total', 'dunning_steps_overdue']);
  });

  it('every metric the dashboard and the alert rules read is in the catalogue (telemetry/metrics.ts), the SDK\'s names, or up', async () => {
    const known = await knownSeriesNames();
    expect(known.has('dunning_nope_total')).toBe(false);
    const unknown: string[] = [];
    for (const { panel: title, expr } of dashboardExprs(readDashboard())) {
      for (const name of metricNamesIn(expr)) if (!known.has(name)) unknown.push(`dashboard "${title}": ${name}`);
    }
    for (const rule of alertRules()) {
      for (const name of metricNamesIn(rule.expr)) if (!known.has(name)) unknown.push(`alert ${rule.alert}: ${name}`);
    }
    expect(unknown).toEqual([]);
  });
});

describe('loaded into a real Prometheus scraping a real API and worker', () => {
  let stack: Stack;
  let prom: Awaited<ReturnType<typeof startPrometheus>>;
  const ports = { worker: 0, sdk: 0 };

  beforeAll(async () => {
    ports.worker = await freePort();
    ports.sdk = await freePort();
    stack = await startStack({ cadenceFile: 'cadence-fast.json', env: { WORKER_METRICS_PORT: String(ports.worker), TEMPORAL_METRICS_PORT: String(ports.sdk) } });
    // Some work to measure: a reminder sent (messages, steps, SMTP, ERP, SDK task latencies) and API requests.
    const enrolled = await createAndEnroll(stack, { number: 'OPS-1', customerId: 'CUST-OPS', amountMinor: 10_000, dueDate: '2026-10-01' }, 'ap@ops.example');
    expect(enrolled.status).toBe(201);
    await stack.mail.waitFor((m) => m.headers['x-invoice-number'] === 'OPS-1', 30_000);
    expect((await stack.api('GET', '/invoices/OPS-1')).status).toBe(200);
    expect((await stack.api('GET', '/invoices/NOPE-404')).status).toBe(404);

    // The shipped config, its targets pointed at this stack, every second.
    const shipped = readYaml<{ scrape_configs: { job_name: string; metrics_path?: string }[] }>(PROMETHEUS_CONFIG);
    const targets: Record<string, string> = {
      'dunning-api': `127.0.0.1:${stack.env.API_PORT}`,
      'dunning-worker': `127.0.0.1:${ports.worker}`,
      'temporal-sdk': `127.0.0.1:${ports.sdk}`,
    };
    const scrapeConfigs = shipped.scrape_configs
      .filter((c) => targets[c.job_name])
      .map((c) => ({ job_name: c.job_name, metrics_path: c.metrics_path ?? '/metrics', static_configs: [{ targets: [targets[c.job_name]] }] }));
    expect(scrapeConfigs.map((c) => c.job_name).sort()).toEqual(Object.keys(targets).sort());
    prom = await startPrometheus({
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      rule_files: [ALERTS],
      scrape_configs: scrapeConfigs,
    });
    // Two scrapes of every target, each up.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const res = await prom.query('min by (job) (min_over_time(up[1m])) and on (job) (min by (job) (count_over_time(up[1m])) >= 2)');
      const up = Object.fromEntries((res.data?.result ?? []).map((r) => [r.metric.job, r.value[1]]));
      if (Object.keys(targets).every((job) => up[job] === '1')) break;
      if (Date.now() > deadline) {
        const targetsNow = await prom.get('/api/v1/targets');
        throw new Error(`targets not scraped twice and up within 30 s: ${JSON.stringify(up)}\n${JSON.stringify(targetsNow.data?.activeTargets?.map((t: any) => [t.labels.job, t.health, t.lastError]))}\n${prom.logs()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }, 180_000);

  afterAll(async () => {
    await prom?.stop();
    await stack?.stop();
  });

  it('every dashboard expression is valid PromQL against the real series', async () => {
    expect((await prom.query('sum(rate(dunning_http_requests_total[1m])')).status, 'control: a broken expression is refused').toBe('error');
    const failures: string[] = [];
    for (const { panel: title, expr } of dashboardExprs(readDashboard())) {
      const res = await prom.query(withGrafanaVariables(expr));
      if (res.status !== 'success') failures.push(`${title}: ${res.errorType} ${res.error} :: ${expr}`);
      else if (process.env.OPS_VERBOSE) console.log(`[ops] ${res.data?.result.length ?? 0} series :: ${title} :: ${expr}`);
    }
    expect(failures).toEqual([]);
  });

  it('every alert expression is valid PromQL against the real series, and the failure alerts are quiet on a healthy stack', async () => {
    const failures: string[] = [];
    for (const rule of alertRules()) {
      const res = await prom.query(rule.expr);
      if (res.status !== 'success') failures.push(`${rule.alert}: ${res.errorType} ${res.error}`);
    }
    expect(failures).toEqual([]);
    for (const alert of ['DunningTargetDown', 'DunningWorkflowFailed', 'DunningUncertainSend', 'DunningApi5xxRate', 'DunningDependencyDown']) {
      const rule = alertRules().find((r) => r.alert === alert);
      expect((await prom.query(rule?.expr ?? '')).data?.result, `${alert} on a healthy stack`).toEqual([]);
    }
  });

  it('the server loaded every alert rule and evaluates each without error', async () => {
    const expected = alertRules().map((r) => r.alert).sort();
    const deadline = Date.now() + 15_000;
    for (;;) {
      const rules = (await prom.get('/api/v1/rules')).data.groups.flatMap((g: any) => g.rules) as { name: string; health: string; lastError?: string }[];
      const names = rules.map((r) => r.name).sort();
      const unhealthy = rules.filter((r) => r.health !== 'ok');
      if (names.length === expected.length && unhealthy.length === 0) {
        expect(names).toEqual(expected);
        break;
      }
      if (Date.now() > deadline) {
        expect(names).toEqual(expected);
        expect(unhealthy.map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([]);
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  });

  it('the panels fed by what this run did show data (a failure, dispute or sync panel may rightly be empty)', async () => {
    const dashboard = readDashboard();
    const empty: string[] = [];
    for (const title of [
      'Messages by outcome (per minute)', 'Steps run by action (per minute)', 'Reminders sent, last 24 h', 'Invoices by stage', 'Uncertain messages',
      'HTTP latency by route (p50, p95)', 'Worker schedule-to-start (p95)', 'ERP call latency by operation (p95)', 'SMTP send latency (p50, p95)',
      'Steps overdue', 'Invoices needing attention', 'Approvals escalated', 'API requests by route and status (per second)', 'API 5xx ratio',
      'Targets up', 'Dependencies (API readiness checks)', 'Worker task slots available', 'Pollers and sticky cache', 'Process memory (RSS)',
    ]) {
      const found = dashboard.panels.find((p) => p.title === title);
      expect(found, title).toBeDefined();
      for (const t of found?.targets ?? []) {
        const res = await prom.query(withGrafanaVariables(t.expr));
        if ((res.data?.result.length ?? 0) === 0) empty.push(`${title} ${t.refId}: ${t.expr}`);
      }
    }
    expect(empty).toEqual([]);
  });

  it('the main panels show data: stage mix, HTTP request rate by route, reminders sent, schedule-to-start, task slots', async () => {
    const series = async (expr: string) => (await prom.query(withGrafanaVariables(expr))).data?.result ?? [];
    const stages = await series('max by (stage) (dunning_invoices)');
    expect(stages.length, 'dunning_invoices by stage').toBeGreaterThan(0);
    expect(stages.reduce((sum, r) => sum + Number(r.value[1]), 0), 'the enrolled invoice is counted').toBeGreaterThanOrEqual(1);
    // Requests while Prometheus scrapes: the panel's rate by route pattern (never the raw URL) becomes positive.
    for (let i = 0; i < 5; i += 1) expect((await stack.api('GET', '/invoices/OPS-1')).status).toBe(200);
    await expect
      .poll(async () => {
        const http = await series('sum by (route, status_code) (rate(dunning_http_requests_total[$__rate_interval]))');
        return http.filter((r) => r.metric.route === '/invoices/:invoiceNumber' && r.metric.status_code === '200' && Number(r.value[1]) > 0).length;
      }, { timeout: 15_000, interval: 500 })
      .toBe(1);
    expect((await series('sum by (outcome) (dunning_messages_total)')).map((r) => r.metric.outcome)).toContain('sent');
    expect((await series('sum by (le) (temporal_workflow_task_schedule_to_start_latency_bucket)')).length).toBeGreaterThan(0);
    expect((await series('sum by (worker_type) (temporal_worker_task_slots_available)')).length).toBeGreaterThan(0);
  });

  it("the SDK's served metric names are all in the list the catalogue check uses", async () => {
    const body = await (await fetch(`http://127.0.0.1:${ports.sdk}/metrics`)).text();
    const served = new Set([...body.matchAll(/^# TYPE (\S+) (\w+)/gm)].map((m) => m[1] ?? ''));
    expect(served.size).toBeGreaterThan(10);
    const listed = new Set([...TEMPORAL_SDK_COUNTERS_AND_GAUGES, ...TEMPORAL_SDK_HISTOGRAMS]);
    expect([...served].filter((name) => !listed.has(name))).toEqual([]);
  });

  // Last: it kills the worker.
  it('with the worker killed, the target-down expression names both worker jobs and not the API', async () => {
    const rule = alertRules().find((r) => r.alert === 'DunningTargetDown');
    expect((await prom.query(rule?.expr ?? '')).data?.result).toEqual([]);
    await stack.killWorker();
    await expect
      .poll(async () => ((await prom.query(rule?.expr ?? '')).data?.result ?? []).map((r) => r.metric.job).sort(), { timeout: 15_000, interval: 500 })
      .toEqual(['dunning-worker', 'temporal-sdk']);
  });
});
