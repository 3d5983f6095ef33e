import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envSchema } from '../../config/env';

/**
 * Validates docker-compose.yml with the real `docker-compose` (Debian's 1.29; no Docker engine needed for
 * `config`). The resolved config that `docker-compose config` prints is turned into JSON by the Python that
 * runs docker-compose itself (1.29 is a Python program built on PyYAML), so no YAML package is added here.
 * Fails, never skips, when docker-compose is missing.
 */

const ROOT = path.resolve(__dirname, '../..');
const COMPOSE_FILE = path.join(ROOT, 'docker-compose.yml');
const INSTALL_HINT = 'run `WITH_COMPOSE_CHECK=1 scripts/setup` (installs Debian\'s docker-compose package)';

const EXPECTED_SERVICES = [
  'temporal-postgresql',
  'app-postgresql',
  'temporal',
  'temporal-ui',
  'temporal-setup',
  'mailpit',
  'erp-simulator',
  'migrate',
  'api',
  'worker',
  'prometheus',
  'grafana',
];
const SEARCH_ATTRIBUTES = ['CustomerId', 'CollectorId', 'DunningStage'];
// Every variable the app validates at start-up (config/env.ts); the stack must set each one explicitly.
const REQUIRED_APP_ENV = Object.keys(envSchema.shape).sort();

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: Record<string, string | null>;
  depends_on?: Record<string, { condition: string }> | string[];
  healthcheck?: { test: string[] | string };
  restart?: string;
  [key: string]: Json | unknown;
}
interface ComposeConfig {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
}

let workDir: string;
let emptyEnvFile: string;

/** A clean environment: the checks must not depend on the caller's shell or a developer's .env file. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' };
  if (process.env.HOME) env.HOME = process.env.HOME;
  return { ...env, ...extra };
}

function composeBinary(): string {
  const which = spawnSync('sh', ['-c', 'command -v docker-compose'], { encoding: 'utf8' });
  const bin = which.stdout.trim();
  if (which.status !== 0 || !bin) {
    throw new Error(`docker-compose is not installed, so docker-compose.yml cannot be validated: ${INSTALL_HINT}`);
  }
  return bin;
}

function compose(
  args: string[],
  opts: { file?: string; env?: Record<string, string> } = {},
): SpawnSyncReturns<string> {
  const file = opts.file ?? COMPOSE_FILE;
  const result = spawnSync(composeBinary(), ['-f', file, '--env-file', emptyEnvFile, ...args], {
    cwd: path.dirname(file),
    env: cleanEnv(opts.env),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (result.error) throw result.error;
  return result;
}

function composeOk(args: string[], opts?: { file?: string; env?: Record<string, string> }): string {
  const result = compose(args, opts);
  if (result.status !== 0) {
    throw new Error(`docker-compose ${args.join(' ')} exited ${result.status}:\n${result.stderr}${result.stdout}`);
  }
  return result.stdout;
}

/** The interpreter that runs docker-compose (it necessarily has PyYAML), else python3. */
function pythonWithYaml(): string {
  const candidates: string[] = [];
  const firstLine = readFileSync(composeBinary()).subarray(0, 200).toString('utf8').split('\n')[0] ?? '';
  const shebang = /^#!\s*(\S+)(?:\s+(\S+))?/.exec(firstLine);
  if (shebang?.[1]) {
    const interpreter = shebang[1].endsWith('/env') && shebang[2] ? shebang[2] : shebang[1];
    if (/python/.test(interpreter)) candidates.push(interpreter);
  }
  candidates.push('python3');
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import yaml, json'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  throw new Error(`no Python with PyYAML found (tried ${candidates.join(', ')}) to read docker-compose's output: ${INSTALL_HINT}`);
}

/** The fully resolved config (anchors merged, variables substituted), as JSON. */
function resolvedConfig(env?: Record<string, string>): ComposeConfig {
  const yamlText = composeOk(['config'], { env });
  const toJson = spawnSync(
    pythonWithYaml(),
    ['-c', 'import sys, json, yaml; json.dump(yaml.safe_load(sys.stdin), sys.stdout)'],
    { input: yamlText, encoding: 'utf8' },
  );
  if (toJson.status !== 0) throw new Error(`could not read docker-compose config output: ${toJson.stderr}`);
  return JSON.parse(toJson.stdout) as ComposeConfig;
}

function service(config: ComposeConfig, name: string): Service {
  const svc = config.services[name];
  if (!svc) throw new Error(`service ${name} is missing from docker-compose.yml`);
  return svc;
}

function dependsOn(svc: Service): Record<string, string> {
  const deps = svc.depends_on ?? {};
  if (Array.isArray(deps)) return Object.fromEntries(deps.map((d) => [d, 'service_started']));
  return Object.fromEntries(Object.entries(deps).map(([name, dep]) => [name, dep.condition]));
}

function commandOf(svc: Service): string {
  const cmd = svc.command ?? [];
  return Array.isArray(cmd) ? cmd.join(' ') : cmd;
}

beforeAll(() => {
  workDir = mkdtempSync(path.join(tmpdir(), 'compose-test-'));
  emptyEnvFile = path.join(workDir, 'empty.env');
  writeFileSync(emptyEnvFile, '');
});

afterAll(() => {
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('docker-compose.yml', () => {
  it('is valid for docker-compose (config -q exits 0)', () => {
    const result = compose(['config', '-q']);
    expect(result.stderr + result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('has no obsolete top-level version key', () => {
    expect(readFileSync(COMPOSE_FILE, 'utf8')).not.toMatch(/^version\s*:/m);
  });

  it('defines every service of the stack, and named volumes for both databases', () => {
    const services = composeOk(['config', '--services']).trim().split('\n').sort();
    expect(services).toEqual([...EXPECTED_SERVICES].sort());
    const volumes = composeOk(['config', '--volumes']).trim().split('\n').sort();
    expect(volumes).toEqual(['app-postgresql-data', 'grafana-data', 'prometheus-data', 'temporal-postgresql-data']);
  });

  describe('resolved config', () => {
    let config: ComposeConfig;
    beforeAll(() => {
      config = resolvedConfig();
    });

    it.each(['api', 'worker'])('%s gets every variable the app validates, and they pass its schema', (name) => {
      const env = service(config, name).environment ?? {};
      const missing = REQUIRED_APP_ENV.filter((key) => env[key] === undefined || env[key] === null || env[key] === '');
      expect(missing, `${name} lacks ${missing.join(', ')}`).toEqual([]);
      const parsed = envSchema.safeParse(env);
      expect(parsed.success, parsed.success ? '' : JSON.stringify(parsed.error.issues)).toBe(true);
      // Inside containers, loopback defaults would be wrong: peers are reached by service name.
      expect(env.DATABASE_URL).toMatch(/@app-postgresql:5432\//);
      expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
      expect(env.TEMPORAL_NAMESPACE).toBe('default');
      expect(env.TEMPORAL_TASK_QUEUE).toBe('dunning');
      expect(env.SMTP_URL).toBe('smtp://mailpit:1025');
      expect(env.ERP_BASE_URL).toBe('http://erp-simulator:4010');
      expect(env.API_HOST).toBe('0.0.0.0');
      expect(env.CADENCE_FILE).toBe('config/cadences/standard.json');
    });

    it('api and worker share one env block and one image, and run the documented entry points', () => {
      const api = service(config, 'api');
      const worker = service(config, 'worker');
      expect(worker.environment).toEqual(api.environment);
      expect(commandOf(api)).toBe('node dist/api/server.js');
      expect(commandOf(worker)).toBe('node dist/worker/main.js');
      expect(commandOf(service(config, 'migrate'))).toBe('node dist/db/migrate.js');
      expect(commandOf(service(config, 'erp-simulator'))).toBe('node dist/dev/erp-simulator.js');
      for (const name of ['api', 'worker', 'migrate', 'erp-simulator']) {
        const svc = service(config, name);
        expect(svc.image, name).toBe(api.image);
        expect(svc.build, `${name} builds from the Dockerfile`).toMatchObject({ dockerfile: 'Dockerfile' });
      }
    });

    it('api and worker start only after migrations and search-attribute setup succeeded', () => {
      for (const name of ['api', 'worker']) {
        expect(dependsOn(service(config, name)), name).toMatchObject({
          'app-postgresql': 'service_healthy',
          migrate: 'service_completed_successfully',
          temporal: 'service_healthy',
          'temporal-setup': 'service_completed_successfully',
        });
      }
      expect(dependsOn(service(config, 'migrate'))).toMatchObject({ 'app-postgresql': 'service_healthy' });
      expect(dependsOn(service(config, 'temporal-setup'))).toMatchObject({ temporal: 'service_healthy' });
      expect(dependsOn(service(config, 'temporal'))).toMatchObject({ 'temporal-postgresql': 'service_healthy' });
      expect(service(config, 'migrate').restart).toBe('no');
      expect(service(config, 'temporal-setup').restart).toBe('no');
    });

    it('temporal-setup registers the workflow search attributes as Keyword', () => {
      const setup = service(config, 'temporal-setup');
      expect(setup.image).toMatch(/^temporalio\/admin-tools:/);
      const names = (setup.environment?.SEARCH_ATTRIBUTES ?? '').split(/\s+/).filter(Boolean);
      expect(names.sort()).toEqual([...SEARCH_ATTRIBUTES].sort());
      const script = commandOf(setup);
      expect(script).toContain('temporal operator search-attribute create');
      expect(script).toContain('--type Keyword');
      expect(script).toContain('--address');
    });

    it('the ERP simulator calls back into the api with the same shared secrets', () => {
      const erp = service(config, 'erp-simulator').environment ?? {};
      const api = service(config, 'api').environment ?? {};
      expect(erp.PORT).toBe('4010');
      expect(erp.HOST, 'the simulator defaults to 127.0.0.1, unreachable from other containers').toBe('0.0.0.0');
      expect(erp.ERP_WEBHOOK_URL).toBe('http://api:3000/webhooks/erp');
      expect(erp.ERP_API_KEY).toBe(api.ERP_API_KEY);
      expect(erp.ERP_WEBHOOK_SECRET).toBe(api.ERP_WEBHOOK_SECRET);
    });

    it('databases and temporal have healthchecks; images are pinned (no latest, no bare names)', () => {
      for (const name of ['temporal-postgresql', 'app-postgresql']) {
        const test = service(config, name).healthcheck?.test ?? [];
        expect((Array.isArray(test) ? test.join(' ') : test), name).toContain('pg_isready');
        expect(service(config, name).image).toMatch(/^postgres:16(\.|$|-)/);
      }
      expect(service(config, 'temporal').healthcheck, 'temporal healthcheck').toBeDefined();
      expect(service(config, 'temporal').environment).toMatchObject({ DB: 'postgres12', POSTGRES_SEEDS: 'temporal-postgresql' });
      expect(service(config, 'temporal-ui').environment).toMatchObject({ TEMPORAL_ADDRESS: 'temporal:7233' });
      for (const [name, svc] of Object.entries(config.services)) {
        if (svc.build) continue; // our own image
        expect(svc.image, `${name} image`).toMatch(/^[^\s:]+:[^\s:]+$/);
        expect(svc.image, `${name} image`).not.toMatch(/:latest$/);
      }
    });

    it('the worker serves its metrics on the ports Prometheus scrapes; traces stay off unless OTEL_* is set', () => {
      const env = service(config, 'worker').environment ?? {};
      expect(env).toMatchObject({ METRICS_HOST: '0.0.0.0', WORKER_METRICS_PORT: '9465', TEMPORAL_METRICS_PORT: '9464' });
      const prometheusConfig = readFileSync(path.join(ROOT, 'ops/prometheus/prometheus.yml'), 'utf8');
      for (const target of ['"api:3000"', 'port: 9465', 'port: 9464', '"temporal:8000"']) expect(prometheusConfig).toContain(target);
      expect(service(config, 'temporal').environment?.PROMETHEUS_ENDPOINT).toBe('0.0.0.0:8000');
      for (const name of ['api', 'worker']) {
        expect(service(config, name).environment?.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe('');
      }
      const traced = resolvedConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
      expect(service(traced, 'worker').environment?.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://collector:4318');
    });

    it('prometheus and grafana mount ops/ read-only, keep their data in volumes and bind to BIND_ADDRESS', () => {
      const prometheus = service(config, 'prometheus');
      const grafana = service(config, 'grafana');
      const volumes = (svc: Service) => JSON.stringify(svc.volumes ?? []);
      expect(volumes(prometheus)).toMatch(/ops\/prometheus.*\/etc\/prometheus.*ro/);
      expect(volumes(prometheus)).toContain('prometheus-data');
      expect(volumes(grafana)).toMatch(/ops\/grafana\/provisioning.*\/etc\/grafana\/provisioning.*ro/);
      expect(volumes(grafana)).toMatch(/ops\/grafana\/dashboards.*\/etc\/dunning\/dashboards.*ro/);
      expect(commandOf(prometheus)).toContain('--config.file=/etc/prometheus/prometheus.yml');
      expect(JSON.stringify(prometheus.ports)).toContain('127.0.0.1');
      expect(JSON.stringify(grafana.ports)).toContain('127.0.0.1');
      expect(grafana.environment).toMatchObject({ GF_SECURITY_ADMIN_PASSWORD: 'admin', GF_AUTH_ANONYMOUS_ORG_ROLE: 'Viewer' });
      const overridden = resolvedConfig({ GRAFANA_ADMIN_PASSWORD: 'a-real-password', GRAFANA_ANONYMOUS: 'false' });
      expect(service(overridden, 'grafana').environment).toMatchObject({ GF_SECURITY_ADMIN_PASSWORD: 'a-real-password', GF_AUTH_ANONYMOUS_ENABLED: 'false' });
    });

    it('secrets can be overridden from the environment / a .env file', () => {
      const overridden = resolvedConfig({
        ERP_API_KEY: 'override-key',
        ERP_WEBHOOK_SECRET: 'override-webhook-secret-0123456789',
        APP_DB_PASSWORD: 'overridepw',
      });
      for (const name of ['api', 'worker', 'erp-simulator']) {
        const env = service(overridden, name).environment ?? {};
        expect(env.ERP_API_KEY, name).toBe('override-key');
        expect(env.ERP_WEBHOOK_SECRET, name).toBe('override-webhook-secret-0123456789');
      }
      expect(service(overridden, 'api').environment?.DATABASE_URL).toContain(':overridepw@app-postgresql:5432/');
      expect(service(overridden, 'app-postgresql').environment?.POSTGRES_PASSWORD).toBe('overridepw');
    });
  });

  describe('the validator really validates', () => {
    function copyWith(edit: (text: string) => string): string {
      const dir = mkdtempSync(path.join(workDir, 'copy-'));
      const file = path.join(dir, 'docker-compose.yml');
      writeFileSync(file, edit(readFileSync(COMPOSE_FILE, 'utf8')));
      return file;
    }

    it('an unmodified copy in a temp dir passes (control)', () => {
      const result = compose(['config', '-q'], { file: copyWith((t) => t) });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
    });

    it('a copy whose api service has an unknown key fails config -q', () => {
      const file = copyWith((text) => {
        const edited = text.replace(/^ {2}api:\n/m, '  api:\n    bogus_option: true\n');
        expect(edited).not.toBe(text);
        return edited;
      });
      const result = compose(['config', '-q'], { file });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('bogus_option');
    });

    it('a copy with an invalid depends_on condition fails config -q', () => {
      const file = copyWith((text) => {
        const edited = text.replace('condition: service_completed_successfully', 'condition: service_finished');
        expect(edited).not.toBe(text);
        return edited;
      });
      const result = compose(['config', '-q'], { file });
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain('service_finished');
    });
  });
});
