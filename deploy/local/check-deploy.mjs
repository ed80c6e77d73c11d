#!/usr/bin/env node
// Validates the production deployment and operations artifacts (`npm test` runs it):
// Prometheus config, alert rules and their unit tests (promtool), Alertmanager config,
// docker-compose.prod.yml (docker-compose config), Kubernetes manifests, Grafana
// provisioning and dashboards, the Dockerfile and its entrypoint, nginx and Redis
// configuration, and the operations docs. Every metric a dashboard or rule queries must
// be in docs/conventions.md or in the exporter allowlist below; every alert needs a
// runbook section. Exits 1 naming each failure. promtool and docker-compose are
// required: a missing tool is a failure, never a skip.
//
//   node deploy/local/check-deploy.mjs
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const rel = (...p) => path.join(ROOT, ...p);

const PATHS = {
  conventions: rel('docs/conventions.md'),
  runbook: rel('docs/operations/runbook.md'),
  operationsDocs: ['runbook.md', 'deployment.md', 'backup-and-recovery.md', 'maintenance.md'].map((f) => rel('docs/operations', f)),
  prometheusConfig: rel('deploy/prometheus/prometheus.yml'),
  rulesDir: rel('deploy/prometheus/rules'),
  testsDir: rel('deploy/prometheus/tests'),
  alertmanagerConfig: rel('deploy/alertmanager/alertmanager.yml'),
  alertmanagerEntrypoint: rel('deploy/alertmanager/entrypoint.sh'),
  grafanaDatasources: rel('deploy/grafana/provisioning/datasources'),
  grafanaProviders: rel('deploy/grafana/provisioning/dashboards'),
  grafanaDashboards: rel('deploy/grafana/dashboards'),
  compose: rel('docker-compose.prod.yml'),
  envExample: rel('deploy/env.production.example'),
  k8s: rel('deploy/k8s'),
  dockerfile: rel('deploy/Dockerfile'),
  entrypoint: rel('deploy/docker/entrypoint.sh'),
  healthcheck: rel('deploy/docker/healthcheck.mjs'),
  nginx: rel('deploy/nginx/nginx.conf'),
  redis: rel('deploy/redis/redis.conf'),
};

// Alerts the operations guides require; deleting one is a failure.
const REQUIRED_ALERTS = [
  'HostCpuUsageCritical',
  'HostCpuUsageHigh',
  'HostMemoryUsageCritical',
  'HostMemoryUsageHigh',
  'HostDiskUsageCritical',
  'HostDiskUsageHigh',
  'ServiceDown',
  'ServiceMissing',
  'PostgresConnectionDown',
  'RedisConnectionDown',
  'NatsConnectionDown',
  'HttpErrorRateCritical',
  'HttpErrorRateHigh',
  'HttpLatencyP95High',
  'HttpLatencyP95Critical',
  'AiCacheHitRateLow',
  'GithubRateLimitLow',
  'TaskQueueBacklogHigh',
  'RunQueuePendingHigh',
  'FullBackupStale',
  'DatabaseBackupStale',
  'BackupNeverSucceeded',
  'RestoreDrillStale',
  'RestoreDrillNeverPassed',
  'RestoreDrillFailed',
];

const REQUIRED_DASHBOARDS = ['System Overview', 'Application Metrics', 'Database Performance', 'Security'];

// Secrets docker-compose.prod.yml must require with ${VAR:?message}.
const REQUIRED_SECRETS = [
  'ANTHROPIC_API_KEY',
  'POSTGRES_PASSWORD',
  'REDIS_PASSWORD',
  'GITHUB_TOKEN',
  'GITHUB_WEBHOOK_SECRET',
  'BACKUP_AGE_RECIPIENTS',
  'GRAFANA_ADMIN_PASSWORD',
  'ALERTMANAGER_WEBHOOK_URL',
];

// Metric names that are not in docs/conventions.md but are standard: Prometheus itself,
// prom-client's default metrics, node-exporter, postgres-exporter and redis-exporter.
const STANDARD_METRICS = new Set([
  // Prometheus
  'up',
  'ALERTS',
  'ALERTS_FOR_STATE',
  'scrape_duration_seconds',
  'scrape_samples_scraped',
  // prom-client collectDefaultMetrics()
  'process_cpu_user_seconds_total',
  'process_cpu_system_seconds_total',
  'process_cpu_seconds_total',
  'process_start_time_seconds',
  'process_resident_memory_bytes',
  'process_virtual_memory_bytes',
  'process_heap_bytes',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_seconds',
  'nodejs_eventloop_lag_min_seconds',
  'nodejs_eventloop_lag_max_seconds',
  'nodejs_eventloop_lag_mean_seconds',
  'nodejs_eventloop_lag_stddev_seconds',
  'nodejs_eventloop_lag_p50_seconds',
  'nodejs_eventloop_lag_p90_seconds',
  'nodejs_eventloop_lag_p99_seconds',
  'nodejs_active_resources',
  'nodejs_active_resources_total',
  'nodejs_active_handles',
  'nodejs_active_handles_total',
  'nodejs_active_requests',
  'nodejs_active_requests_total',
  'nodejs_heap_size_total_bytes',
  'nodejs_heap_size_used_bytes',
  'nodejs_external_memory_bytes',
  'nodejs_heap_space_size_total_bytes',
  'nodejs_heap_space_size_used_bytes',
  'nodejs_heap_space_size_available_bytes',
  'nodejs_version_info',
  'nodejs_gc_duration_seconds_bucket',
  'nodejs_gc_duration_seconds_sum',
  'nodejs_gc_duration_seconds_count',
  // node-exporter
  'node_cpu_seconds_total',
  'node_memory_MemAvailable_bytes',
  'node_memory_MemTotal_bytes',
  'node_filesystem_avail_bytes',
  'node_filesystem_size_bytes',
  'node_filesystem_free_bytes',
  'node_load1',
  'node_load5',
  'node_load15',
  'node_disk_read_bytes_total',
  'node_disk_written_bytes_total',
  'node_disk_io_time_seconds_total',
  'node_network_receive_bytes_total',
  'node_network_transmit_bytes_total',
  'node_network_receive_errs_total',
  'node_network_transmit_errs_total',
  'node_uname_info',
  'node_boot_time_seconds',
  'node_time_seconds',
  // postgres-exporter
  'pg_up',
  'pg_stat_activity_count',
  'pg_stat_activity_max_tx_duration',
  'pg_settings_max_connections',
  'pg_stat_database_blks_hit',
  'pg_stat_database_blks_read',
  'pg_stat_database_xact_commit',
  'pg_stat_database_xact_rollback',
  'pg_stat_database_tup_fetched',
  'pg_stat_database_tup_returned',
  'pg_stat_database_tup_inserted',
  'pg_stat_database_tup_updated',
  'pg_stat_database_tup_deleted',
  'pg_stat_database_deadlocks',
  'pg_stat_database_temp_files',
  'pg_stat_database_temp_bytes',
  'pg_database_size_bytes',
  'pg_locks_count',
  // redis-exporter
  'redis_up',
  'redis_memory_used_bytes',
  'redis_memory_max_bytes',
  'redis_keyspace_hits_total',
  'redis_keyspace_misses_total',
  'redis_rdb_last_save_timestamp_seconds',
  'redis_commands_processed_total',
  'redis_evicted_keys_total',
  'redis_expired_keys_total',
  'redis_connected_clients',
  'redis_db_keys',
]);
// Labels Prometheus adds to every scraped series.
const TARGET_LABELS = ['job', 'instance', 'service'];

// ---------------------------------------------------------------------------- helpers

class CheckFailure extends Error {}

/** Collects problems inside one check; the check fails if any were recorded. */
class Problems {
  list = [];
  add(msg) {
    this.list.push(msg);
  }
  expect(cond, msg) {
    if (!cond) this.add(msg);
    return !!cond;
  }
}

const read = (file) => fs.readFileSync(file, 'utf8');
const exists = (file) => fs.existsSync(file);
const short = (file) => path.relative(ROOT, file);
const listFiles = (dir, re) =>
  exists(dir)
    ? fs
        .readdirSync(dir)
        .filter((f) => re.test(f))
        .sort()
        .map((f) => path.join(dir, f))
    : [];

function walk(dir, re) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p, re));
    else if (re.test(entry.name)) out.push(p);
  }
  return out.sort();
}

function run(cmd, args, opts = {}) {
  const res = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  if (res.error) return { code: -1, stdout: '', stderr: String(res.error.message) };
  return { code: res.status ?? -1, stdout: res.stdout ?? '', stderr: res.stderr ?? '' };
}

function runAsync(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, ...opts });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', (err) => resolve({ code: -1, stdout, stderr: String(err.message) }));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

const indent = (text, n = 6) =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => ' '.repeat(n) + l)
    .join('\n');
const tail = (text, lines = 40) => text.trimEnd().split('\n').slice(-lines).join('\n');

function requireTool(p, name, versionArgs, installHint) {
  const res = run(name, versionArgs);
  p.expect(res.code === 0, `${name} is required but not runnable (${res.stderr.trim() || 'not found'}); ${installHint}`);
}

// ---------------------------------------------------------------------------- YAML

const yamlLoader = (() => {
  try {
    const yaml = createRequire(path.join(ROOT, 'package.json'))('js-yaml');
    const schema = yaml.DEFAULT_SAFE_SCHEMA ?? yaml.DEFAULT_SCHEMA;
    return { name: 'js-yaml', loadAll: (text) => yaml.loadAll(text, null, { schema }) };
  } catch {
    /* fall through */
  }
  const probe = run('python3', ['-c', 'import yaml']);
  if (probe.code === 0) {
    return {
      name: 'python3 PyYAML',
      loadAll(text) {
        const res = run('python3', ['-c', 'import sys, json, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin)), default=str))'], { input: text });
        if (res.code !== 0) throw new Error(tail(res.stderr, 5));
        return JSON.parse(res.stdout);
      },
    };
  }
  return null;
})();

function loadYamlAll(file) {
  if (!yamlLoader) throw new CheckFailure('no YAML parser: need js-yaml in node_modules or python3 with PyYAML');
  try {
    return yamlLoader.loadAll(read(file)).filter((d) => d !== null && d !== undefined);
  } catch (err) {
    throw new CheckFailure(`${short(file)}: invalid YAML: ${err.message.split('\n')[0]}`);
  }
}

function loadYaml(file) {
  const docs = loadYamlAll(file);
  if (docs.length !== 1) throw new CheckFailure(`${short(file)}: expected one YAML document, found ${docs.length}`);
  return docs[0];
}

// ---------------------------------------------------------------------------- conventions

function tableRows(markdown, heading) {
  const start = markdown.indexOf(heading);
  if (start < 0) throw new CheckFailure(`docs/conventions.md has no "${heading}" section`);
  const rest = markdown.slice(start + heading.length);
  const end = rest.search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return section
    .split('\n')
    .filter((l) => l.trim().startsWith('|') && !/^\|\s*-/.test(l.trim()))
    .slice(1)
    .map((l) =>
      l
        .trim()
        .replace(/^\||\|$/g, '')
        .split('|')
        .map((c) => c.trim()),
    );
}

/** Services (port, schema, needs) and metrics (type, labels) from docs/conventions.md. */
function loadConventions() {
  const md = read(PATHS.conventions);
  const services = new Map();
  for (const [name, port, schema, needs] of tableRows(md, '## Services, ports, ownership')) {
    const portNum = Number((port.match(/\d+/) ?? [])[0]);
    services.set(name, {
      name,
      port: portNum,
      ownsSchema: !/^[—-]$/.test(schema),
      needsPostgres: /postgres/i.test(needs),
      needsRedis: /redis/i.test(needs),
      needsWorkspaces: /WORKSPACES_DIR/.test(needs),
      needsBackupDir: /BACKUP_DIR/.test(needs),
    });
  }
  if (services.size !== 7) throw new CheckFailure(`docs/conventions.md: expected 7 services in the ports table, found ${services.size}`);

  const metrics = new Map();
  for (const [nameCol, typeCol = '', labelCol = ''] of tableRows(md, '## Metric names')) {
    const names = [...nameCol.matchAll(/`([a-zA-Z_:][a-zA-Z0-9_:]*)`/g)].map((m) => m[1]);
    const types = typeCol.split('/').map((t) => t.trim());
    const labels = /^[—-]?$/.test(labelCol)
      ? []
      : labelCol
          .split(',')
          .map((l) => l.trim().split(/\s/)[0])
          .filter(Boolean);
    const known = typeCol !== '';
    names.forEach((name, i) => {
      const type = (types.length === names.length ? types[i] : typeCol) || '';
      metrics.set(name, { name, histogram: /histogram/.test(type), labels: known ? labels : null });
    });
  }
  if (metrics.size < 10) throw new CheckFailure(`docs/conventions.md: metric table not found or too short (${metrics.size} names)`);
  return { services, metrics };
}

/** Map an exposed series name to its conventions entry (histograms expose _bucket/_sum/_count). */
function conventionsMetric(conv, name) {
  if (conv.metrics.has(name)) return { entry: conv.metrics.get(name), bucket: false };
  const m = name.match(/^(.*)_(bucket|sum|count)$/);
  if (m && conv.metrics.get(m[1])?.histogram) return { entry: conv.metrics.get(m[1]), bucket: m[2] === 'bucket' };
  return null;
}

// ---------------------------------------------------------------------------- PromQL

const PROMQL_KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'offset',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'inf',
  'nan',
  'start',
  'end',
  'atan2',
]);

const maskStrings = (s) => s.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""');
const stripGrafanaVars = (s) => s.replace(/\$\{[^}]*\}|\$\w+/g, '1m');

/** Metric names and their label matchers used in a PromQL expression. */
function promqlSelectors(expr) {
  let s = maskStrings(stripGrafanaVars(expr));
  const matchers = [];
  for (const m of s.matchAll(/([A-Za-z_:][A-Za-z0-9_:]*)?\s*\{([^{}]*)\}/g)) {
    const keys = m[2]
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)
      .map((p) => p.split(/=~|!~|!=|=/)[0].trim());
    matchers.push({ name: m[1] ?? null, keys });
  }
  s = s
    .replace(/\{[^{}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set();
  for (const m of s.matchAll(/[A-Za-z_:][A-Za-z0-9_:]*/g)) {
    const id = m[0];
    const before = s[m.index - 1];
    if (before && /[0-9.]/.test(before)) continue; // 1e9, 5m
    if (
      s
        .slice(m.index + id.length)
        .trimStart()
        .startsWith('(')
    )
      continue; // function or aggregation
    if (PROMQL_KEYWORDS.has(id.toLowerCase())) continue;
    names.add(id);
  }
  for (const mt of matchers) if (mt.name && !PROMQL_KEYWORDS.has(mt.name)) names.add(mt.name);
  return { names: [...names], matchers: matchers.filter((mt) => mt.name) };
}

/** Record problems for metric names or labels the conventions do not define. */
function checkPromql(conv, expr, where, problems) {
  const { names, matchers } = promqlSelectors(expr);
  if (names.length === 0) problems.add(`${where}: no metric in "${expr}"`);
  for (const name of names) {
    if (!conventionsMetric(conv, name) && !STANDARD_METRICS.has(name)) {
      problems.add(`${where}: metric "${name}" is neither in docs/conventions.md nor in the standard allowlist`);
    }
  }
  for (const { name, keys } of matchers) {
    const found = conventionsMetric(conv, name);
    if (!found || !found.entry.labels) continue;
    const allowed = new Set([...found.entry.labels, ...TARGET_LABELS, ...(found.bucket ? ['le'] : [])]);
    for (const key of keys) {
      if (!allowed.has(key)) problems.add(`${where}: ${name} has no label "${key}" (docs/conventions.md lists ${found.entry.labels.join(', ') || 'none'})`);
    }
  }
}

// ---------------------------------------------------------------------------- markdown anchors

function markdownAnchors(file) {
  const anchors = new Set();
  const seen = new Map();
  let inFence = false;
  for (const line of read(file).split('\n')) {
    if (/^\s*```/.test(line)) inFence = !inFence;
    if (inFence) continue;
    const h = line.match(/^#{1,6}\s+(.+?)\s*#*\s*$/);
    if (h) {
      const base = h[1]
        .toLowerCase()
        .replace(/[`*_~]/g, '')
        .replace(/[^\p{L}\p{N}\s-]/gu, '')
        .trim()
        .replace(/\s/g, '-');
      const n = seen.get(base) ?? 0;
      anchors.add(n === 0 ? base : `${base}-${n}`);
      seen.set(base, n + 1);
    }
    for (const a of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(a[1]);
  }
  return anchors;
}

// ---------------------------------------------------------------------------- checks

const checks = [];
const check = (name, fn) => checks.push({ name, fn });

let conv;
check('docs/conventions.md tables parse', (p) => {
  conv = loadConventions();
  p.expect(conv.metrics.has('http_request_duration_seconds'), 'http_request_duration_seconds missing from the metric table');
});

check('tools: promtool and docker-compose are installed', (p) => {
  requireTool(p, 'promtool', ['--version'], 'install it: apt-get install -y prometheus');
  requireTool(p, 'docker-compose', ['version'], 'install it: apt-get install -y docker-compose');
});

check('operations docs exist', (p) => {
  for (const f of PATHS.operationsDocs) p.expect(exists(f) && read(f).trim().length > 200, `${short(f)} is missing or empty`);
});

check('promtool check config deploy/prometheus/prometheus.yml', (p) => {
  const rules = listFiles(PATHS.rulesDir, /\.ya?ml$/);
  const res = run('promtool', ['check', 'config', short(PATHS.prometheusConfig)]);
  const out = res.stdout + res.stderr;
  if (!p.expect(res.code === 0, `promtool check config failed:\n${indent(tail(out))}`)) return;
  const found = Number((out.match(/(\d+) rule files found/) ?? [])[1] ?? -1);
  p.expect(found === rules.length && rules.length > 0, `prometheus.yml loads ${found} rule files, deploy/prometheus/rules has ${rules.length}`);

  const cfg = loadYaml(PATHS.prometheusConfig);
  p.expect(cfg.global?.scrape_interval === '15s', 'global.scrape_interval must be 15s (operations guide)');
  p.expect(JSON.stringify(cfg.alerting ?? {}).includes('alertmanager:9093'), 'alerting must point at alertmanager:9093');
  const job = (cfg.scrape_configs ?? []).find((j) => j.job_name === 'overskill');
  if (!p.expect(job, 'no scrape job "overskill" for the services')) return;
  p.expect((job.metrics_path ?? '/metrics') === '/metrics', 'overskill job must scrape /metrics');
  p.expect((job.scrape_interval ?? cfg.global.scrape_interval) === '15s', 'overskill job must scrape every 15s');
  const targets = new Map();
  for (const sd of job.dns_sd_configs ?? []) for (const n of sd.names ?? []) targets.set(n, sd.port);
  for (const t of job.static_configs ?? []) for (const hp of t.targets ?? []) targets.set(hp.split(':')[0], Number(hp.split(':')[1]));
  for (const s of conv.services.values()) {
    p.expect(targets.get(s.name) === s.port, `overskill job: ${s.name} must be scraped on port ${s.port} (found ${targets.get(s.name) ?? 'none'})`);
  }
  p.expect(
    (job.relabel_configs ?? []).some((r) => r.target_label === 'service'),
    'overskill job must set the `service` label on its targets',
  );
  const jobs = (cfg.scrape_configs ?? []).map((j) => j.job_name);
  p.expect(jobs.includes('node-exporter'), 'no node-exporter scrape job');
});

check('promtool check rules deploy/prometheus/rules/*.yml', (p) => {
  const rules = listFiles(PATHS.rulesDir, /\.ya?ml$/);
  if (!p.expect(rules.length > 0, 'no rule files')) return;
  const res = run('promtool', ['check', 'rules', ...rules.map(short)]);
  p.expect(res.code === 0, `promtool check rules failed:\n${indent(tail(res.stdout + res.stderr))}`);
});

check('promtool test rules deploy/prometheus/tests/*.test.yml', (p) => {
  const tests = listFiles(PATHS.testsDir, /\.test\.ya?ml$/);
  if (!p.expect(tests.length > 0, 'no rule test files')) return;
  const res = run('promtool', ['test', 'rules', ...tests.map(short)]);
  p.expect(res.code === 0, `promtool test rules failed:\n${indent(tail(res.stdout + res.stderr, 80))}`);
});

/** Every alerting rule, with the file it came from. */
function loadAlerts() {
  const alerts = [];
  for (const file of listFiles(PATHS.rulesDir, /\.ya?ml$/)) {
    for (const group of loadYaml(file).groups ?? []) {
      for (const rule of group.rules ?? []) if (rule.alert) alerts.push({ ...rule, file });
    }
  }
  return alerts;
}

check('alert rules: severity, summary, description, runbook_url anchors, metric names', (p) => {
  const alerts = loadAlerts();
  const anchors = exists(PATHS.runbook) ? markdownAnchors(PATHS.runbook) : new Set();
  const names = new Set();
  for (const a of alerts) {
    const where = `${short(a.file)} ${a.alert}`;
    p.expect(!names.has(a.alert), `${where}: duplicate alert name`);
    names.add(a.alert);
    p.expect(['critical', 'warning'].includes(a.labels?.severity), `${where}: labels.severity must be critical or warning`);
    for (const k of ['summary', 'description', 'runbook_url']) p.expect(a.annotations?.[k], `${where}: annotation ${k} missing`);
    const url = a.annotations?.runbook_url ?? '';
    const m = url.match(/(?:^|\/)docs\/operations\/runbook\.md#([\w-]+)$/);
    if (p.expect(m, `${where}: runbook_url "${url}" must point to docs/operations/runbook.md#<anchor>`)) {
      p.expect(anchors.has(m[1]), `${where}: runbook anchor #${m[1]} not found in docs/operations/runbook.md`);
    }
    checkPromql(conv, String(a.expr), where, p);
  }
  for (const r of REQUIRED_ALERTS) p.expect(names.has(r), `required alert ${r} is missing`);
});

check('rule tests exercise every alert both firing and silent', (p) => {
  const alerts = loadAlerts();
  const rulesFiles = new Set(listFiles(PATHS.rulesDir, /\.ya?ml$/));
  const covered = new Set();
  const fires = new Set();
  const silent = new Set();
  for (const file of listFiles(PATHS.testsDir, /\.test\.ya?ml$/)) {
    const doc = loadYaml(file);
    for (const rf of doc.rule_files ?? []) {
      const abs = path.resolve(path.dirname(file), rf);
      p.expect(rulesFiles.has(abs), `${short(file)}: rule file ${rf} is not in deploy/prometheus/rules`);
      covered.add(abs);
    }
    for (const t of doc.tests ?? []) {
      for (const s of t.input_series ?? []) checkPromql(conv, s.series, `${short(file)} input series`, p);
      for (const at of t.alert_rule_test ?? []) {
        ((at.exp_alerts ?? []).length > 0 ? fires : silent).add(at.alertname);
      }
    }
  }
  for (const f of rulesFiles) p.expect(covered.has(f), `${short(f)} is not loaded by any rule test file`);
  for (const a of alerts) {
    p.expect(fires.has(a.alert), `${a.alert}: no test expects it to fire`);
    p.expect(silent.has(a.alert), `${a.alert}: no test expects it to stay silent`);
  }
});

check('alertmanager: routing, receivers, inhibition, webhook rendering', (p) => {
  const cfg = loadYaml(PATHS.alertmanagerConfig);
  const receivers = new Set((cfg.receivers ?? []).map((r) => r.name));
  const routes = [cfg.route, ...(cfg.route?.routes ?? [])].filter(Boolean);
  for (const r of routes) p.expect(receivers.has(r.receiver), `route receiver "${r.receiver}" is not defined`);
  for (const sev of ['critical', 'warning']) {
    p.expect(
      (cfg.route?.routes ?? []).some((r) => (r.matchers ?? []).some((m) => new RegExp(`^severity\\s*=\\s*"?${sev}"?$`).test(m))),
      `no route for severity=${sev}`,
    );
  }
  p.expect(
    (cfg.inhibit_rules ?? []).some(
      (r) =>
        JSON.stringify(r.source_matchers ?? r.source_match).includes('critical') && JSON.stringify(r.target_matchers ?? r.target_match).includes('warning'),
    ),
    'no inhibit rule from critical to warning',
  );
  p.expect(read(PATHS.alertmanagerConfig).includes('ALERTMANAGER_WEBHOOK_URL'), 'webhook placeholder for ALERTMANAGER_WEBHOOK_URL missing');

  // Render the config the way the container does, with a URL that needs escaping.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overskill-am-'));
  try {
    const url = 'https://hooks.example.test/alerts?token=a&b=c|d';
    const out = path.join(tmp, 'alertmanager.yml');
    const env = { PATH: process.env.PATH, ALERTMANAGER_CONFIG_IN: PATHS.alertmanagerConfig, ALERTMANAGER_CONFIG_OUT: out, ALERTMANAGER_BIN: 'true' };
    const ok = run('sh', [PATHS.alertmanagerEntrypoint], { env: { ...env, ALERTMANAGER_WEBHOOK_URL: url } });
    if (p.expect(ok.code === 0, `entrypoint.sh failed to render: ${ok.stderr.trim()}`)) {
      const rendered = read(out);
      p.expect(rendered.includes(url) && !rendered.includes('alertmanager-webhook.invalid'), 'rendered config does not carry the webhook URL');
      if (run('amtool', ['--version']).code === 0) {
        const chk = run('amtool', ['check-config', out]);
        p.expect(chk.code === 0, `amtool check-config (rendered) failed:\n${indent(tail(chk.stdout + chk.stderr))}`);
        for (const [sev, receiver] of [
          ['critical', 'overskill-critical'],
          ['warning', 'overskill-warning'],
        ]) {
          const rt = run('amtool', ['config', 'routes', 'test', `--config.file=${out}`, `severity=${sev}`, 'alertname=Test']);
          p.expect(rt.stdout.trim() === receiver, `severity=${sev} routes to "${rt.stdout.trim()}", expected ${receiver}`);
        }
      } else {
        console.log('      note: amtool not installed (prometheus-alertmanager); structural checks only');
      }
    }
    const missing = run('sh', [PATHS.alertmanagerEntrypoint], { env });
    p.expect(missing.code !== 0 && /ALERTMANAGER_WEBHOOK_URL/.test(missing.stderr), 'entrypoint.sh must refuse to start without ALERTMANAGER_WEBHOOK_URL');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

check('grafana: provisioning and dashboards (metric names from docs/conventions.md)', (p) => {
  const uids = new Set();
  for (const f of listFiles(PATHS.grafanaDatasources, /\.ya?ml$/)) for (const ds of loadYaml(f).datasources ?? []) uids.add(ds.uid);
  p.expect(uids.has('prometheus'), 'no Prometheus datasource with uid "prometheus"');
  p.expect(uids.has('jaeger'), 'no Jaeger datasource with uid "jaeger"');
  const providers = listFiles(PATHS.grafanaProviders, /\.ya?ml$/).flatMap((f) => loadYaml(f).providers ?? []);
  p.expect(
    providers.some((pr) => pr.type === 'file' && pr.options?.path),
    'no file dashboard provider',
  );

  const dashboards = listFiles(PATHS.grafanaDashboards, /\.json$/);
  const titles = [];
  const queries = [];
  const dashUids = new Set();
  for (const file of dashboards) {
    let d;
    try {
      d = JSON.parse(read(file));
    } catch (err) {
      p.add(`${short(file)}: invalid JSON: ${err.message}`);
      continue;
    }
    const where = short(file);
    titles.push(d.title ?? '');
    p.expect(d.uid && !dashUids.has(d.uid), `${where}: missing or duplicate uid`);
    dashUids.add(d.uid);
    const panels = (d.panels ?? []).flatMap((pn) => [pn, ...(pn.panels ?? [])]);
    const ids = new Set();
    for (const pn of panels) {
      p.expect(!ids.has(pn.id), `${where}: duplicate panel id ${pn.id}`);
      ids.add(pn.id);
      if (pn.type === 'row') continue;
      const pw = `${where} panel "${pn.title}"`;
      p.expect(pn.gridPos, `${pw}: no gridPos`);
      const targets = pn.targets ?? [];
      if (!p.expect(targets.length > 0, `${pw}: no queries`)) continue;
      for (const t of targets) {
        const ds = t.datasource?.uid ?? pn.datasource?.uid;
        p.expect(uids.has(ds), `${pw}: datasource uid "${ds}" is not provisioned`);
        if (p.expect(t.expr, `${pw}: query ${t.refId} has no expr`)) {
          checkPromql(conv, t.expr, pw, p);
          queries.push({ expr: t.expr, where: pw });
        }
      }
    }
    for (const v of d.templating?.list ?? []) {
      if (v.type !== 'query') continue;
      const q = typeof v.query === 'string' ? v.query : (v.query?.query ?? '');
      const m = q.match(/^label_values\((.*),\s*([A-Za-z_]\w*)\)$/) ?? q.match(/^query_result\((.*)\)$/);
      if (p.expect(m, `${where} variable ${v.name}: unsupported query "${q}"`)) {
        checkPromql(conv, m[1], `${where} variable ${v.name}`, p);
        queries.push({ expr: m[1], where: `${where} variable ${v.name}` });
      }
    }
  }
  for (const want of REQUIRED_DASHBOARDS)
    p.expect(
      titles.some((t) => t.includes(want)),
      `no dashboard titled "${want}"`,
    );
  checkPromqlSyntax(queries, p);
});

/** Parse dashboard queries with promtool by wrapping them as recording rules. */
function checkPromqlSyntax(queries, p) {
  if (queries.length === 0) return;
  const grafanaFree = (expr) => expr.replace(/\$\{?__\w+\}?/g, '5m').replace(/\$\{[^}]*\}|\$\w+/g, '.*');
  const rules = queries.map((q, i) => `      - record: check_deploy:query_${i}\n        expr: ${JSON.stringify(grafanaFree(q.expr))}`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overskill-promql-'));
  try {
    const file = path.join(tmp, 'dashboards.rules.yml');
    fs.writeFileSync(file, `groups:\n  - name: dashboards\n    rules:\n${rules.join('\n')}\n`);
    const res = run('promtool', ['check', 'rules', file]);
    if (res.code !== 0) {
      const out = res.stdout + res.stderr;
      const bad = [...out.matchAll(/query_(\d+)/g)].map((m) => queries[Number(m[1])]);
      p.add(`promtool cannot parse dashboard queries:\n${indent(tail(out, 10))}${bad.map((q) => `\n      in ${q.where}: ${q.expr}`).join('')}`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// docker-compose: the throwaway env is built from env.production.example, so every
// variable the compose file needs must be listed there.
function envExample() {
  const vars = new Map();
  for (const line of read(PATHS.envExample).split('\n')) {
    const m = line.match(/^([A-Z][A-Z0-9_]*)=(.*)$/);
    if (m) vars.set(m[1], m[2]);
  }
  return vars;
}

function throwawayEnv(vars, omit) {
  return (
    [...vars]
      .filter(([k]) => k !== omit)
      .map(([k, v]) => {
        if (v !== '') return `${k}=${v}`;
        return /URL$/.test(k) ? `${k}=https://check-deploy.invalid/${k}` : `${k}=check-deploy-${k.toLowerCase()}`;
      })
      .join('\n') + '\n'
  );
}

const composeEnv = (home) => ({ PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' });

check('docker-compose -f docker-compose.prod.yml config', async (p) => {
  const raw = read(PATHS.compose);
  const vars = envExample();
  const referenced = new Set([...raw.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1]));
  const required = new Set([...raw.matchAll(/\$\{([A-Z][A-Z0-9_]*):\?/g)].map((m) => m[1]));
  for (const v of referenced) p.expect(vars.has(v), `docker-compose.prod.yml uses \${${v}} but deploy/env.production.example does not list it`);
  for (const v of REQUIRED_SECRETS) {
    p.expect(required.has(v) && !new RegExp(`\\$\\{${v}:?-`).test(raw), `docker-compose.prod.yml must require ${v} with \${${v}:?message} everywhere`);
  }
  for (const v of required) p.expect(vars.get(v) === '', `deploy/env.production.example must leave the secret ${v} empty`);

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overskill-compose-'));
  try {
    const envFile = path.join(tmp, 'env');
    fs.writeFileSync(envFile, throwawayEnv(vars));
    const base = ['--env-file', envFile, '-f', short(PATHS.compose), '--project-directory', ROOT];
    const quiet = run('docker-compose', [...base, 'config', '-q'], { env: composeEnv(tmp) });
    if (!p.expect(quiet.code === 0, `docker-compose config -q failed:\n${indent(tail(quiet.stdout + quiet.stderr))}`)) return;
    const full = run('docker-compose', [...base, 'config'], { env: composeEnv(tmp) });
    if (!p.expect(full.code === 0, `docker-compose config failed:\n${indent(tail(full.stderr))}`)) return;
    const resolvedFile = path.join(tmp, 'resolved.yml');
    fs.writeFileSync(resolvedFile, full.stdout);
    checkComposeModel(loadYaml(resolvedFile), p);

    // Each required secret, when missing, must stop compose and be named.
    const results = await Promise.all(
      [...required].map(async (v) => {
        const f = path.join(tmp, `env-without-${v}`);
        fs.writeFileSync(f, throwawayEnv(vars, v));
        const res = await runAsync('docker-compose', ['--env-file', f, '-f', short(PATHS.compose), '--project-directory', ROOT, 'config', '-q'], {
          env: composeEnv(tmp),
        });
        return { v, res };
      }),
    );
    for (const { v, res } of results) {
      p.expect(res.code !== 0 && res.stderr.includes(v), `docker-compose config accepts a missing ${v}; it must fail naming it`);
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

const SECRETS = [
  'ANTHROPIC_API_KEY',
  'OPENROUTER_API_KEY',
  'OPENAI_API_KEY',
  'GITHUB_TOKEN',
  'GITHUB_WEBHOOK_SECRET',
  'DATABASE_URL',
  'BACKUP_AGE_IDENTITY',
  'POSTGRES_PASSWORD',
];

function volumeTargets(svc) {
  return (svc.volumes ?? []).map((v) => (typeof v === 'string' ? { source: v.split(':')[0], target: v.split(':')[1] } : v));
}

function checkComposeModel(model, p) {
  const services = model.services ?? {};
  for (const s of conv.services.values()) {
    const svc = services[s.name];
    const where = `compose ${s.name}`;
    if (!p.expect(svc, `${where}: service missing`)) continue;
    const env = svc.environment ?? {};
    p.expect(svc.build?.dockerfile === 'deploy/Dockerfile', `${where}: must build deploy/Dockerfile`);
    p.expect(svc.build?.args?.SERVICE === s.name, `${where}: build arg SERVICE must be ${s.name}`);
    p.expect(env.HOST === '0.0.0.0', `${where}: HOST must be 0.0.0.0`);
    p.expect(String(env.PORT) === String(s.port), `${where}: PORT must be ${s.port}`);
    p.expect(env.OTEL_EXPORTER_OTLP_ENDPOINT === 'http://jaeger:4318', `${where}: OTEL_EXPORTER_OTLP_ENDPOINT must be http://jaeger:4318`);
    p.expect(/^nats:\/\/nats:4222$/.test(env.NATS_URL ?? ''), `${where}: NATS_URL must be nats://nats:4222`);
    p.expect(Boolean(env.DATABASE_URL) === s.ownsSchema, `${where}: DATABASE_URL ${s.ownsSchema ? 'missing' : 'must not be set (no schema)'}`);
    p.expect(Boolean(env.REDIS_URL) === s.needsRedis, `${where}: REDIS_URL ${s.needsRedis ? 'missing' : 'must not be set'}`);
    const vols = volumeTargets(svc);
    if (s.needsWorkspaces) {
      p.expect(
        env.WORKSPACES_DIR && vols.some((v) => v.source === 'workspaces' && v.target === env.WORKSPACES_DIR),
        `${where}: must mount the workspaces volume at WORKSPACES_DIR`,
      );
    } else {
      p.expect(!vols.some((v) => v.source === 'workspaces'), `${where}: must not mount workspaces`);
    }
    if (s.needsBackupDir) {
      p.expect(
        env.BACKUP_DIR && vols.some((v) => v.source === 'backups' && v.target === env.BACKUP_DIR),
        `${where}: must mount the backups volume at BACKUP_DIR`,
      );
    }
    p.expect(svc.healthcheck?.test && !svc.healthcheck.disable, `${where}: healthcheck missing`);
    p.expect(['always', 'unless-stopped', 'on-failure'].includes(svc.restart), `${where}: restart policy missing`);
    p.expect(svc.deploy?.resources?.limits?.cpus && svc.deploy?.resources?.limits?.memory, `${where}: deploy.resources.limits cpus and memory required`);
    const dep = svc.depends_on ?? {};
    p.expect(dep.nats?.condition === 'service_healthy', `${where}: must wait for nats to be healthy`);
    if (s.ownsSchema) p.expect(dep.migrate?.condition === 'service_completed_successfully', `${where}: must start after migrate completes`);
  }
  const toolRunner = services['tool-runner']?.environment ?? {};
  for (const k of SECRETS) p.expect(!(k in toolRunner), `compose tool-runner: must not receive ${k} (it runs agent-chosen commands)`);

  const migrate = services.migrate;
  if (p.expect(migrate, 'compose: migrate service missing')) {
    const owners = [...conv.services.values()]
      .filter((s) => s.ownsSchema)
      .map((s) => s.name)
      .sort();
    p.expect(JSON.stringify(migrate.command) === JSON.stringify(['migrate', 'up']), 'compose migrate: command must be ["migrate", "up"]');
    p.expect(
      String(migrate.environment?.MIGRATE_SERVICES ?? '')
        .split(/\s+/)
        .sort()
        .join() === owners.join(),
      `compose migrate: MIGRATE_SERVICES must be ${owners.join(' ')}`,
    );
    p.expect(migrate.depends_on?.postgres?.condition === 'service_healthy', 'compose migrate: must wait for postgres to be healthy');
    p.expect(migrate.restart === 'no', 'compose migrate: restart must be "no"');
  }
  const img = (n) => services[n]?.image ?? '';
  p.expect(/^nats:2\.9/.test(img('nats')), 'compose nats: image nats:2.9');
  p.expect(
    ['-js', '-sd', '/data', '-m', '8222'].every((a) => (services.nats?.command ?? []).includes(a)),
    'compose nats: command must include -js -sd /data -m 8222',
  );
  // postgres:15 itself, or an image built from it (archive_command's tools added).
  const pgDockerfile = services.postgres?.build?.dockerfile;
  const pgBase = pgDockerfile ? (/^FROM\s+(\S+)/m.exec(read(path.join(ROOT, pgDockerfile)))?.[1] ?? '') : img('postgres');
  p.expect(/^postgres:15/.test(pgBase), 'compose postgres: image postgres:15 (or built FROM postgres:15)');
  const pgCommand = (services.postgres?.command ?? []).join(' ');
  p.expect(
    /archive_mode=on/.test(pgCommand) && /archive_command=\S*wal-archive\.sh/.test(pgCommand),
    'compose postgres: WAL archiving on through wal-archive.sh (point-in-time restore)',
  );
  p.expect(/^redis:7/.test(img('redis')), 'compose redis: image redis:7');
  p.expect(
    volumeTargets(services.redis ?? {}).some((v) => /deploy\/redis\/redis\.conf$/.test(v.source)),
    'compose redis: must mount deploy/redis/redis.conf',
  );
  p.expect(
    volumeTargets(services.nginx ?? {}).some((v) => /deploy\/nginx\/nginx\.conf$/.test(v.source)),
    'compose nginx: must mount deploy/nginx/nginx.conf',
  );
  p.expect(services.jaeger?.environment?.COLLECTOR_OTLP_ENABLED === 'true', 'compose jaeger: COLLECTOR_OTLP_ENABLED must be true');
  for (const n of ['prometheus', 'alertmanager', 'grafana', 'jaeger', 'node-exporter', 'nginx', 'postgres-exporter', 'redis-exporter']) {
    p.expect(services[n], `compose: ${n} service missing`);
  }
  for (const v of ['workspaces', 'backups']) p.expect(model.volumes && v in model.volumes, `compose: named volume ${v} missing`);
}

check('kubernetes manifests parse and are complete', (p) => {
  const files = walk(PATHS.k8s, /\.ya?ml$/);
  const docs = [];
  for (const f of files) {
    for (const d of loadYamlAll(f)) {
      const where = `${short(f)} ${d.kind ?? '?'}/${d.metadata?.name ?? '?'}`;
      p.expect(d.apiVersion && d.kind, `${where}: apiVersion and kind required`);
      if (d.kind !== 'Kustomization') p.expect(d.metadata?.name, `${where}: metadata.name required`);
      docs.push({ ...d, file: f });
    }
  }
  const find = (kind, name) => docs.find((d) => d.kind === kind && d.metadata?.name === name);

  const kustomization = docs.find((d) => d.kind === 'Kustomization' && path.dirname(d.file) === PATHS.k8s);
  if (p.expect(kustomization, 'deploy/k8s/kustomization.yaml missing')) {
    const listed = new Set(kustomization.resources ?? []);
    for (const r of listed) p.expect(exists(path.join(PATHS.k8s, r)), `kustomization lists missing file ${r}`);
    for (const f of listFiles(PATHS.k8s, /\.ya?ml$/)) {
      const b = path.basename(f);
      if (b === 'kustomization.yaml' || b === 'secret.example.yaml') continue;
      p.expect(listed.has(b), `deploy/k8s/${b} is not listed in kustomization.yaml`);
    }
    p.expect(!listed.has('secret.example.yaml'), 'the secret template must not be applied by kustomization.yaml');
  }

  const secret = docs.find((d) => d.kind === 'Secret');
  const secretKeys = new Set(Object.keys(secret?.stringData ?? secret?.data ?? {}));
  p.expect(secret, 'Secret template missing');
  const config = find('ConfigMap', 'overskill-config');
  p.expect(config?.data?.HOST === '0.0.0.0', 'ConfigMap overskill-config must set HOST=0.0.0.0');

  for (const s of conv.services.values()) {
    const dep = find('Deployment', s.name);
    const svc = find('Service', s.name);
    if (!p.expect(dep, `k8s: Deployment ${s.name} missing`) || !p.expect(svc, `k8s: Service ${s.name} missing`)) continue;
    const where = `k8s ${s.name}`;
    const tpl = dep.spec?.template ?? {};
    const c = (tpl.spec?.containers ?? [])[0] ?? {};
    const ann = tpl.metadata?.annotations ?? {};
    p.expect(
      ann['prometheus.io/scrape'] === 'true' && String(ann['prometheus.io/port']) === String(s.port),
      `${where}: prometheus.io/scrape and port ${s.port} annotations required`,
    );
    p.expect(c.readinessProbe?.httpGet?.path === '/health/ready', `${where}: readinessProbe must GET /health/ready`);
    p.expect(c.livenessProbe?.httpGet?.path === '/health/live', `${where}: livenessProbe must GET /health/live`);
    p.expect(c.resources?.requests && c.resources?.limits, `${where}: resources requests and limits required`);
    p.expect(
      (c.ports ?? []).some((pt) => pt.containerPort === s.port),
      `${where}: containerPort ${s.port} required`,
    );
    const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
    p.expect(env.SERVICE?.value === s.name, `${where}: env SERVICE=${s.name} required`);
    p.expect(String(env.PORT?.value) === String(s.port), `${where}: env PORT=${s.port} required`);
    p.expect(Boolean(env.DATABASE_URL) === s.ownsSchema, `${where}: DATABASE_URL ${s.ownsSchema ? 'missing' : 'must not be set'}`);
    p.expect(Boolean(env.REDIS_URL) === s.needsRedis, `${where}: REDIS_URL ${s.needsRedis ? 'missing' : 'must not be set'}`);
    for (const e of c.env ?? []) {
      const ref = e.valueFrom?.secretKeyRef;
      if (ref) p.expect(secretKeys.has(ref.key), `${where}: secret key ${ref.key} is not in the Secret template`);
    }
    const mounts = (c.volumeMounts ?? []).map((m) => m.mountPath);
    if (s.needsWorkspaces) p.expect(mounts.includes(config?.data?.WORKSPACES_DIR), `${where}: must mount workspaces at WORKSPACES_DIR`);
    if (s.needsBackupDir) p.expect(mounts.includes(config?.data?.BACKUP_DIR), `${where}: must mount backups at BACKUP_DIR`);
    const sel = svc.spec?.selector ?? {};
    p.expect(
      Object.entries(sel).every(([k, v]) => tpl.metadata?.labels?.[k] === v) && Object.keys(sel).length > 0,
      `${where}: Service selector does not match the pod labels`,
    );
  }
  const toolRunnerEnv = find('Deployment', 'tool-runner')?.spec?.template?.spec?.containers?.[0]?.env ?? [];
  p.expect(
    toolRunnerEnv.every((e) => !SECRETS.includes(e.name)),
    'k8s tool-runner: must not receive secrets',
  );

  for (const n of ['gateway', 'orchestrator']) {
    p.expect(
      docs.some((d) => d.kind === 'HorizontalPodAutoscaler' && d.spec?.scaleTargetRef?.name === n),
      `k8s: HPA for ${n} missing`,
    );
  }
  p.expect(
    docs.some((d) => d.kind === 'PodDisruptionBudget'),
    'k8s: PodDisruptionBudgets missing',
  );
  const pvcs = docs.filter((d) => d.kind === 'PersistentVolumeClaim');
  p.expect(
    pvcs.some((d) => /workspaces/.test(d.metadata.name) && (d.spec?.accessModes ?? []).includes('ReadWriteMany')),
    'k8s: ReadWriteMany PVC for workspaces missing',
  );
  p.expect(
    pvcs.some((d) => /backups/.test(d.metadata.name)),
    'k8s: PVC for backups missing',
  );
  const job = docs.find((d) => d.kind === 'Job');
  p.expect(
    job && JSON.stringify(job.spec?.template?.spec?.containers?.[0]?.args) === JSON.stringify(['migrate', 'up']),
    'k8s: migrate Job with args ["migrate", "up"] missing',
  );
  p.expect(
    docs.some((d) => d.kind === 'Namespace'),
    'k8s: Namespace missing',
  );
});

check('env.production.example lists every variable once', (p) => {
  const seen = new Set();
  for (const line of read(PATHS.envExample).split('\n')) {
    const m = line.match(/^([A-Z][A-Z0-9_]*)=/);
    if (!m) continue;
    p.expect(!seen.has(m[1]), `duplicate ${m[1]}`);
    seen.add(m[1]);
  }
  for (const v of ['ANTHROPIC_API_KEY', 'POSTGRES_PASSWORD', 'REDIS_PASSWORD', 'GITHUB_TOKEN', 'LOG_LEVEL']) p.expect(seen.has(v), `${v} missing`);
});

check('Dockerfile, entrypoint and healthcheck', (p) => {
  const df = read(PATHS.dockerfile);
  const stages = df.split(/^FROM\s/m).slice(1);
  const runtime = stages[stages.length - 1] ?? '';
  p.expect(/ARG NODE_IMAGE=node:20-bookworm-slim/.test(df) || /^FROM node:20-bookworm-slim/m.test(df), 'base image must be node:20-bookworm-slim');
  p.expect(stages.length >= 2, 'must be a multi-stage build');
  p.expect(/\bnpm ci\b/.test(df), 'must install with npm ci');
  p.expect(/node deploy\/local\/build\.mjs/.test(df), 'must build with node deploy/local/build.mjs');
  p.expect(/npm prune --omit=dev/.test(df), 'must prune dev dependencies');
  const user = [...runtime.matchAll(/^USER\s+(\S+)/gm)].pop()?.[1];
  p.expect(user && !/^(root|0)(:|$)/.test(user), 'runtime stage must run as a non-root USER');
  p.expect(/apt-get install[^\n]*\bgit\b/.test(runtime), 'runtime stage must install git');
  p.expect(/^ARG SERVICE/m.test(runtime) && /^ENV SERVICE=\$\{?SERVICE\}?/m.test(runtime), 'runtime stage must take ARG SERVICE into ENV SERVICE');
  p.expect(/^HEALTHCHECK[\s\S]*healthcheck\.mjs/m.test(runtime), 'HEALTHCHECK must run deploy/docker/healthcheck.mjs');
  const hc = read(PATHS.healthcheck);
  p.expect(hc.includes('/health/live'), 'healthcheck.mjs must probe /health/live');
  for (const s of conv.services.values()) {
    p.expect(new RegExp(`['"]?${s.name}['"]?:\\s*${s.port}\\b`).test(hc), `healthcheck.mjs: default port of ${s.name} must be ${s.port}`);
  }
  p.expect(run('node', ['--check', PATHS.healthcheck]).code === 0, 'healthcheck.mjs does not parse');
  p.expect(run('sh', ['-n', PATHS.entrypoint]).code === 0, 'entrypoint.sh has a syntax error');

  // Exercise the entrypoint against a fake dist/.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'overskill-entry-'));
  try {
    const log = path.join(tmp, 'calls.log');
    for (const svc of ['gateway', 'orchestrator']) {
      fs.mkdirSync(path.join(tmp, 'dist/services', svc, 'src'), { recursive: true });
      fs.writeFileSync(path.join(tmp, 'dist/services', svc, 'src/main.js'), `require('fs').appendFileSync(${JSON.stringify(log)}, 'main ${svc}\\n')`);
      fs.writeFileSync(
        path.join(tmp, 'dist/services', svc, 'src/migrate.js'),
        `require('fs').appendFileSync(${JSON.stringify(log)}, 'migrate ${svc} ' + process.argv[2] + '\\n')`,
      );
    }
    const env = { PATH: process.env.PATH };
    const go = (args, extra = {}) => run('sh', [PATHS.entrypoint, ...args], { cwd: tmp, env: { ...env, ...extra } });
    const calls = () => (exists(log) ? read(log) : '');
    p.expect(go([], { SERVICE: 'gateway' }).code === 0 && calls() === 'main gateway\n', 'entrypoint: serve must run dist/services/$SERVICE/src/main.js');
    p.expect(go([]).code !== 0, 'entrypoint: serve must fail without SERVICE');
    p.expect(go([], { SERVICE: 'nope' }).code !== 0, 'entrypoint: serve must fail for an unknown SERVICE');
    fs.rmSync(log, { force: true });
    p.expect(
      go(['migrate', 'up'], { MIGRATE_SERVICES: 'gateway orchestrator' }).code === 0 && calls() === 'migrate gateway up\nmigrate orchestrator up\n',
      'entrypoint: migrate up must run each listed migrate.js',
    );
    p.expect(go(['migrate', 'up'], { MIGRATE_SERVICES: 'gateway analytics' }).code !== 0, 'entrypoint: migrate must fail when a migrate.js is missing');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

check('nginx.conf: gateway upstream, keepalive, body limit, SSE without buffering', (p) => {
  const conf = read(PATHS.nginx).replace(/#[^\n]*/g, '');
  let depth = 0;
  for (const ch of conf) {
    if (ch === '{') depth++;
    if (ch === '}') depth--;
    p.expect(depth >= 0, 'unbalanced braces');
    if (depth < 0) break;
  }
  p.expect(depth === 0, 'unbalanced braces');
  const upstream = conf.match(/upstream\s+gateway\s*\{([^}]*)\}/);
  p.expect(
    upstream && /server\s+gateway:3000/.test(upstream[1]) && /\bkeepalive\s+\d+/.test(upstream[1]),
    'upstream gateway must target gateway:3000 with keepalive',
  );
  p.expect(
    /proxy_http_version\s+1\.1/.test(conf) && /proxy_set_header\s+Connection\s+""/.test(conf),
    'upstream keepalive needs proxy_http_version 1.1 and an empty Connection header',
  );
  p.expect(/client_max_body_size\s+\d+[km]?;/.test(conf), 'client_max_body_size missing');
  const sse = [...conf.matchAll(/location\s+~\s+(\S+)\s*\{([^}]*)\}/g)].find(([, re]) => {
    try {
      return new RegExp(re).test('/api/runs/7b1e0c2a/events') && !new RegExp(re).test('/api/runs/7b1e0c2a');
    } catch {
      return false;
    }
  });
  if (p.expect(sse, 'no location matching /api/runs/<id>/events')) {
    p.expect(/proxy_buffering\s+off/.test(sse[2]), 'SSE location must set proxy_buffering off');
    p.expect(/proxy_pass\s+http:\/\/gateway/.test(sse[2]), 'SSE location must proxy to the gateway');
  }
});

check('redis.conf: memory and persistence settings from the operations guide', (p) => {
  const lines = new Set(
    read(PATHS.redis)
      .split('\n')
      .map((l) => l.trim().replace(/\s+/g, ' '))
      .filter((l) => l && !l.startsWith('#')),
  );
  for (const want of ['maxmemory 2gb', 'maxmemory-policy allkeys-lru', 'save 900 1', 'save 300 10', 'save 60 10000']) {
    p.expect(lines.has(want), `missing "${want}"`);
  }
});

// ---------------------------------------------------------------------------- main

let failed = 0;
console.log(`check-deploy: ${checks.length} checks (YAML via ${yamlLoader?.name ?? 'nothing'})`);
for (const { name, fn } of checks) {
  const problems = new Problems();
  try {
    await fn(problems);
  } catch (err) {
    problems.add(err instanceof CheckFailure ? err.message : (err.stack ?? String(err)));
  }
  const list = problems.list.filter(Boolean);
  if (list.length === 0) {
    console.log(`  ok   ${name}`);
  } else {
    failed++;
    console.log(`  FAIL ${name}`);
    for (const msg of list) console.log(indent(`- ${msg}`));
  }
  if (name.startsWith('docs/conventions.md') && list.length > 0) {
    console.log('check-deploy: cannot continue without docs/conventions.md');
    process.exit(1);
  }
}
console.log(failed === 0 ? 'check-deploy: all checks passed' : `check-deploy: ${failed} of ${checks.length} checks failed`);
process.exit(failed === 0 ? 0 : 1);
