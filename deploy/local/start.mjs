#!/usr/bin/env node
// `npm start`: the whole platform on this machine. Installs what is missing, builds, starts
// nats-server, PostgreSQL and Redis on loopback (data in .data/), migrates, starts the seven
// services, and stops everything in order on Ctrl-C. See docs/local-stack.md.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT, ensureNodeModules, ensureOsPackages } from './bootstrap.mjs';
import { StepFailedError, runCommand, step } from './script-steps.mjs';

const DATA_DIR = path.join(REPO_ROOT, '.data');
const LOG_DIR = path.join(DATA_DIR, 'logs');
const WORKSPACES_DIR = path.join(DATA_DIR, 'workspaces');
const BACKUP_DIR = path.join(DATA_DIR, 'backups');
const ADMIN_KEY_FILE = path.join(DATA_DIR, 'admin-key');
// The operator CLI's NATS identity for this stack (nats-server refuses clients without one).
const CLI_SEED_FILE = path.join(DATA_DIR, 'cli.nkey');
const DIST = path.join(REPO_ROOT, 'dist');
const STACK_MODULE = path.join(DIST, 'libs/testing/src/stack/index.js');
const ANTHROPIC_FAKE_MAIN = path.join(DIST, 'libs/testing/src/fakes/anthropic-fake.main.js');
const CLI_MAIN = path.join(DIST, 'tools/cli/src/main.js');
const LIB = (name) => path.join(DIST, `libs/${name}/src/index.js`);
// tool-runner's app preview listener: every app at http://<preview-id>.preview.localhost:<port>.
const PREVIEW_PORT_ENV = 'OVERSKILL_PREVIEW_PORT';

const READY_TIMEOUT_MS = 60_000;
const SERVICE_STOP_TIMEOUT_MS = 10_000;
const FAKE_STOP_TIMEOUT_MS = 5_000;
const CLI_TIMEOUT_MS = 30_000;
const LOG_TAIL_LINES = 30;

// From docs/conventions.md: port and what each service is given.
const SERVICES = [
  { name: 'gateway', defaultPort: 3000, database: true, redis: true },
  { name: 'orchestrator', defaultPort: 3001, database: true, redis: true },
  { name: 'ai-router', defaultPort: 3002, redis: true, anthropic: true },
  { name: 'tool-runner', defaultPort: 3003, redis: true, workspaces: true },
  { name: 'git-service', defaultPort: 3004, redis: true, workspaces: true },
  { name: 'analytics', defaultPort: 3005, database: true },
  { name: 'backup', defaultPort: 3006, database: true, redis: true, workspaces: true, backups: true },
];
const MIGRATED_SERVICES = ['gateway', 'orchestrator', 'analytics', 'backup'];
// The gateway keeps the conventional PORT; the others get OVERSKILL_<NAME>_PORT.
const servicePortEnv = (name) => (name === 'gateway' ? 'PORT' : `OVERSKILL_${name.toUpperCase().replace(/-/g, '_')}_PORT`);
const INFRA_PORT_ENV = {
  nats: 'OVERSKILL_NATS_PORT',
  'nats-monitor': 'OVERSKILL_NATS_MONITOR_PORT',
  postgres: 'OVERSKILL_PG_PORT',
  redis: 'OVERSKILL_REDIS_PORT',
};

class StartError extends Error {}

const relative = (file) => path.relative(REPO_ROOT, file) || '.';

function portFromEnv(variable, fallback) {
  const raw = process.env[variable];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new StartError(`${variable} must be a port number from 1 to 65535, got "${raw}"`);
  return port;
}

function logTail(file, lines = LOG_TAIL_LINES) {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').filter(Boolean).slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

function printLogTail(name, file) {
  console.error(`---- last ${LOG_TAIL_LINES} lines of ${relative(file)} ----\n${logTail(file)}\n---- end of ${name} log ----`);
}

// ---------------------------------------------------------------------------------------------
// Children: each in its own process group, so Ctrl-C in the terminal reaches only this script,
// which then stops them in order. Tracked here so nothing outlives the script.

const children = new Set();
let stack;
let infraWatch;
let previewWatch;
let shuttingDown = false;

function isRunning(record) {
  return record.child.exitCode === null && record.child.signalCode === null;
}

function spawnLogged({ name, role, args, env, logFile, stdout = 'log' }) {
  const log = fs.openSync(logFile, 'a');
  fs.writeSync(log, `\n--- ${new Date().toISOString()} node ${args.map((arg) => relative(arg)).join(' ')}\n`);
  let child;
  try {
    child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, detached: true, stdio: ['ignore', stdout === 'pipe' ? 'pipe' : log, log] });
  } finally {
    fs.closeSync(log);
  }
  const record = { name, role, child, logFile };
  record.exited = new Promise((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }));
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  children.add(record);
  record.exited.then((outcome) => {
    children.delete(record);
    // Catches anything the child started and left behind in its group.
    killGroup(child.pid, 'SIGKILL');
    if (!shuttingDown && role !== 'task') onUnexpectedExit(record, outcome);
  });
  return record;
}

function killGroup(pid, signal) {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already empty.
  }
}

function onUnexpectedExit(record, outcome) {
  const how = outcome.error
    ? `could not start: ${outcome.error.message}`
    : outcome.signal
      ? `was killed by ${outcome.signal}`
      : `exited with code ${outcome.code}`;
  console.error(`\n✖ ${record.name} ${how}`);
  printLogTail(record.name, record.logFile);
  void shutdown(1);
}

async function stopChild(record, timeoutMs) {
  if (isRunning(record)) {
    try {
      process.kill(record.child.pid, 'SIGTERM');
    } catch {
      // Exited meanwhile.
    }
    const stopped = await Promise.race([record.exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), timeoutMs))]);
    if (!stopped) {
      console.log(`  ${record.name} did not stop within ${timeoutMs / 1000} s: SIGKILL`);
      killGroup(record.child.pid, 'SIGKILL');
    }
  }
  await record.exited;
}

// Prints an app's preview URL when its first run commits (the README walk-through opens it).
async function announcePreviews(infra) {
  const require = createRequire(import.meta.url);
  const { Events, Rpc, orchestratorV1 } = require(LIB('contracts'));
  const { NatsRpcClient, natsAuthOptions } = require(LIB('messaging'));
  const { createServiceMetrics } = require(LIB('observability'));
  const { fromBinary } = require('@bufbuild/protobuf');
  const { connect } = require('nats');
  // The local harness identity: it watches a durable fact and asks tool-runner, which no role does both of.
  const { TEST_HARNESS_IDENTITY } = require(STACK_MODULE);
  const credentials = { role: TEST_HARNESS_IDENTITY, nkeySeed: infra.natsSeeds[TEST_HARNESS_IDENTITY] };
  previewWatch = await connect({ servers: infra.natsUrl, name: 'npm-start-previews', ...natsAuthOptions(credentials) });
  const client = new NatsRpcClient(previewWatch, createServiceMetrics('npm-start'), 10_000);
  const shown = new Set();
  for await (const msg of previewWatch.subscribe(Events.runFinished.subject)) {
    const run = fromBinary(orchestratorV1.RunFinishedSchema, msg.data);
    if (!run.commitSha || shown.has(run.appId)) continue;
    shown.add(run.appId);
    client.send(Rpc.previewGet, { teamId: run.teamId, appId: run.appId }).then(
      (preview) => console.log(`\n  preview of app ${run.appId} (first version ${run.commitSha.slice(0, 12)}): ${preview.url}`),
      (error) => console.log(`\n  app ${run.appId} committed, but its preview URL could not be read: ${error.message}`),
    );
  }
}

async function shutdown(exitCode) {
  if (shuttingDown) return;
  shuttingDown = true;
  clearInterval(infraWatch);
  await previewWatch?.close().catch(() => undefined);
  if (children.size === 0 && !stack) process.exit(exitCode);
  console.log('\nstopping: services, then the fake Anthropic API, then infra ...');
  const byRole = (role) => [...children].filter((record) => record.role === role);
  await Promise.all([...byRole('service'), ...byRole('task')].map((record) => stopChild(record, SERVICE_STOP_TIMEOUT_MS)));
  await Promise.all(byRole('fake').map((record) => stopChild(record, FAKE_STOP_TIMEOUT_MS)));
  if (stack) {
    try {
      await stack.stop();
    } catch (error) {
      console.error(`error while stopping infra: ${error.message}`);
      exitCode = exitCode || 1;
    }
  }
  console.log(exitCode === 0 ? 'stopped; nothing left running' : 'stopped');
  process.exit(exitCode);
}

function onSignal(signal) {
  if (shuttingDown) {
    // A second Ctrl-C: no more waiting. The exit hooks SIGKILL whatever is left.
    console.log(`\n${signal} again: killing everything now`);
    process.exit(130);
  }
  console.log(`\n${signal} received`);
  void shutdown(0);
}

// Last resort when this script dies of an error: no child survives it.
process.on('exit', () => {
  for (const record of children) killGroup(record.child.pid, 'SIGKILL');
});

// ---------------------------------------------------------------------------------------------

function httpStatus(url) {
  return new Promise((resolve) => {
    const request = http.get(url, { agent: false, timeout: 2_000 }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.once('timeout', () => request.destroy());
    request.once('error', () => resolve(undefined));
  });
}

// Resolves true once `url` answers 200; false if the child exits first (its exit handler reports it).
async function waitForHttp200(record, url, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isRunning(record) || shuttingDown) return false;
    if ((await httpStatus(url)) === 200) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (isRunning(record) && !shuttingDown) {
    console.error(`\n✖ ${record.name}: ${url} did not answer 200 within ${timeoutMs / 1000} s`);
    printLogTail(record.name, record.logFile);
    await shutdown(1);
  }
  return false;
}

// The WAL archive's second copy sits beside the archives' second copy (BACKUP_COPY_DIR/wal), when there is one.
const WAL_COPY_DIR = process.env.BACKUP_WAL_COPY_DIR || (process.env.BACKUP_COPY_DIR ? path.join(path.resolve(process.env.BACKUP_COPY_DIR), 'wal') : '');

// archive_command writes into BACKUP_DIR/wal (and the copy), encrypted when the backup service encrypts.
function walArchiving(stackLib) {
  const walDirs = [path.join(BACKUP_DIR, 'wal'), WAL_COPY_DIR].filter(Boolean);
  for (const dir of walDirs) stackLib.makeServerWritable(dir);
  const recipients = (process.env.BACKUP_AGE_RECIPIENTS ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const script = path.join(REPO_ROOT, 'deploy', 'scripts', 'wal-archive.sh');
  return { archive_mode: 'on', archive_timeout: '60', archive_command: [script, '%p', '%f', walDirs.join(','), ...recipients].join(' ') };
}

function serviceEnv(service, infra, anthropicEnv) {
  const env = { ...process.env };
  // Each service sees only what docs/conventions.md says it needs.
  for (const key of ['PORT', 'DATABASE_URL', 'REDIS_URL', 'WORKSPACES_DIR', 'BACKUP_DIR', 'ANTHROPIC_API_KEY', 'ANTHROPIC_BASE_URL', 'NATS_NKEY_SEED_FILE'])
    delete env[key];
  // Its own identity on the bus: nats-server lets it do what deploy/nats's role table says, no more.
  Object.assign(env, { PORT: String(service.port), HOST: '127.0.0.1', NATS_URL: infra.natsUrl, NATS_NKEY_SEED: infra.natsSeeds[service.name] });
  if (service.database) env.DATABASE_URL = infra.databaseUrl;
  if (service.redis) env.REDIS_URL = infra.redisUrl;
  if (service.workspaces) env.WORKSPACES_DIR = WORKSPACES_DIR;
  if (service.backups) env.BACKUP_DIR = BACKUP_DIR;
  if (service.backups && WAL_COPY_DIR) env.BACKUP_WAL_COPY_DIR = WAL_COPY_DIR;
  // The local PostgreSQL archives its WAL (walArchiving), so base backups can run nightly.
  if (service.backups) env.BACKUP_SCHEDULE_BASE ??= '30 1 * * *';
  // The hourly security audit also checks the local key files and scans the services' logs.
  if (service.backups) env.SECURITY_AUDIT_KEY_FILES ??= [ADMIN_KEY_FILE, CLI_SEED_FILE].join(',');
  if (service.backups) env.SECURITY_AUDIT_LOG_DIRS ??= LOG_DIR;
  if (service.anthropic) Object.assign(env, anthropicEnv);
  if (service.name === 'tool-runner') env.PREVIEW_PORT = String(portFromEnv(PREVIEW_PORT_ENV, 3080));
  return env;
}

function distEntry(service, file) {
  return path.join(DIST, 'services', service, 'src', file);
}

// The node flags of every service, as in its container (deploy/docker/node-flags: one per line).
function serviceNodeFlags() {
  const lines = fs.readFileSync(path.join(REPO_ROOT, 'deploy/docker/node-flags'), 'utf8').split('\n');
  return lines.map((line) => line.trim()).filter((line) => line && !line.startsWith('#'));
}

function describeOutcome(outcome) {
  if (outcome.error) return `could not start: ${outcome.error.message}`;
  return outcome.signal ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`;
}

async function runMigrations(infra) {
  for (const name of MIGRATED_SERVICES) {
    const migrate = distEntry(name, 'migrate.js');
    if (!fs.existsSync(migrate)) {
      console.log(`  warning: ${relative(migrate)} does not exist yet: ${name} migrations skipped`);
      continue;
    }
    const service = SERVICES.find((candidate) => candidate.name === name);
    const logFile = path.join(LOG_DIR, `${name}.log`);
    const record = spawnLogged({ name: `${name} migrate`, role: 'task', args: [migrate, 'up'], env: serviceEnv(service, infra, {}), logFile });
    const outcome = await record.exited;
    if (shuttingDown) return;
    if (outcome.code !== 0) {
      printLogTail(`${name} migrate`, logFile);
      throw new StartError(`${name} migrations failed (${describeOutcome(outcome)})`);
    }
    console.log(`  ${name}: migrated`);
  }
}

async function startAnthropicFake(freePort) {
  const port = await freePort();
  const logFile = path.join(LOG_DIR, 'anthropic-fake.log');
  const record = spawnLogged({ name: 'anthropic-fake', role: 'fake', args: [ANTHROPIC_FAKE_MAIN], env: { ...process.env, PORT: String(port) }, logFile });
  const url = `http://127.0.0.1:${port}`;
  if (!(await waitForHttp200(record, `${url}/health`, READY_TIMEOUT_MS))) throw new StartError('the fake Anthropic API did not start');
  return url;
}

async function ensureAdminKey(infra) {
  if (fs.existsSync(ADMIN_KEY_FILE)) return fs.readFileSync(ADMIN_KEY_FILE, 'utf8').trim();
  if (!fs.existsSync(CLI_MAIN)) {
    console.log(`  warning: ${relative(CLI_MAIN)} does not exist yet: no admin key created`);
    return undefined;
  }
  const logFile = path.join(LOG_DIR, 'cli.log');
  const args = [CLI_MAIN, 'keys', 'create', '--team', 'default', '--role', 'owner', '--name', 'bootstrap', '--json'];
  const record = spawnLogged({
    name: 'cli keys create',
    role: 'task',
    args,
    env: { ...process.env, NATS_URL: infra.natsUrl, NATS_NKEY_SEED_FILE: CLI_SEED_FILE },
    logFile,
    stdout: 'pipe',
  });
  let stdout = '';
  record.child.stdout.on('data', (chunk) => (stdout += chunk));
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup(record.child.pid, 'SIGKILL');
  }, CLI_TIMEOUT_MS);
  const outcome = await record.exited;
  clearTimeout(timer);
  if (shuttingDown) return undefined;
  fs.appendFileSync(logFile, stdout.replace(/"key"\s*:\s*"[^"]*"/g, '"key":"<redacted>"'));
  if (outcome.code !== 0) {
    printLogTail('cli', logFile);
    const why = timedOut ? `no answer within ${CLI_TIMEOUT_MS / 1000} s` : describeOutcome(outcome);
    throw new StartError(`creating the bootstrap admin key failed (${why})`);
  }
  // The CLI prints one JSON object; anything before it (a warning) is skipped.
  const created = stdout
    .split('\n')
    .reverse()
    .map((line) => {
      try {
        return JSON.parse(line);
      } catch {
        return undefined;
      }
    })
    .find((value) => value && typeof value.key === 'string');
  if (!created) throw new StartError(`the CLI did not print JSON with a "key" field (see ${relative(logFile)})`);
  fs.writeFileSync(ADMIN_KEY_FILE, `${created.key}\n`, { mode: 0o600 });
  return created.key;
}

function watchInfra() {
  infraWatch = setInterval(() => {
    if (shuttingDown) return;
    const died = Object.entries(stack.pids()).find(([, pid]) => pid === undefined);
    if (!died) return;
    const [server] = died;
    console.error(`\n✖ ${server} stopped unexpectedly`);
    printLogTail(server, path.join(LOG_DIR, `${server}.log`));
    void shutdown(1);
  }, 1_000);
}

function printSummary({ infra, services, demoMode, adminKey }) {
  const gateway = services.find((service) => service.name === 'gateway');
  const gatewayUrl = `http://127.0.0.1:${gateway.port}`;
  const rows = services.map((service) => {
    const base = `http://127.0.0.1:${service.port}`;
    return `    ${service.name.padEnd(13)} ${`${base}/health/ready`.padEnd(36)} ${base}/metrics`;
  });
  console.log(`
==================================================================================
 overskill is running${demoMode ? '  (DEMO MODE: scripted fake Anthropic API)' : ''}

  console        ${gatewayUrl}/   open it and sign in with the admin key below
  gateway        ${gatewayUrl}   (summary ${gatewayUrl}/health, detail ${gatewayUrl}/health/detailed)
  services       health                               metrics
${rows.join('\n')}
  NATS           ${infra.natsUrl}   (monitor ${infra.natsMonitorUrl}; every client needs its NKEY identity)
  CLI identity   NATS_NKEY_SEED_FILE=${relative(CLI_SEED_FILE)} npx overskill status   (a fresh key each start)
  PostgreSQL     ${infra.databaseUrl}
  Redis          ${infra.redisUrl}
  previews       http://<preview-id>.preview.localhost:${portFromEnv(PREVIEW_PORT_ENV, 3080)}   (each app's URL is printed when its first run commits)
  admin key      ${adminKey ?? '(none: the CLI is not built yet)'}   (stored in ${relative(ADMIN_KEY_FILE)})
  logs           ${relative(LOG_DIR)}/
  data           ${relative(DATA_DIR)}/   (rm -rf .data to start over)

  try:  curl -H "Authorization: Bearer ${adminKey ?? '<admin key>'}" ${gatewayUrl}/api/apps

 Ctrl-C stops everything.
==================================================================================`);
}

async function main() {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, onSignal);

  await step('bootstrap: OS packages and node_modules', () => {
    ensureOsPackages(['nats-server', 'redis-server', 'postgresql', 'git', 'age', 'zstd', 'chromium', 'bubblewrap']);
    ensureNodeModules();
  });
  await step('build', () => runCommand(process.execPath, ['deploy/local/build.mjs']));

  const demoMode = !process.env.ANTHROPIC_API_KEY;
  const services = SERVICES.map((service) => ({ ...service, port: portFromEnv(servicePortEnv(service.name), service.defaultPort) }));
  const missing = services.map((service) => distEntry(service.name, 'main.js')).filter((file) => !fs.existsSync(file));
  if (demoMode && !fs.existsSync(ANTHROPIC_FAKE_MAIN)) missing.push(ANTHROPIC_FAKE_MAIN);
  if (missing.length > 0) {
    throw new StartError(
      `the build did not produce:\n  ${missing.map(relative).join('\n  ')}\n(is the source for each written yet? see \`node deploy/local/build.mjs\`)`,
    );
  }

  for (const dir of [DATA_DIR, LOG_DIR, WORKSPACES_DIR, BACKUP_DIR]) fs.mkdirSync(dir, { recursive: true });
  const stackLib = createRequire(import.meta.url)(STACK_MODULE);
  const checkPort = async (server, port, variable) => {
    try {
      await stackLib.assertPortFree(server, port);
    } catch (error) {
      if (error instanceof stackLib.PortInUseError) throw new StartError(`${error.message}: stop it, or pick another port with ${variable}=<port>`);
      throw error;
    }
  };

  const infra = await step('infra: nats-server, PostgreSQL, Redis', async () => {
    for (const service of services) await checkPort(service.name, service.port, servicePortEnv(service.name));
    await checkPort('the app preview', portFromEnv(PREVIEW_PORT_ENV, 3080), PREVIEW_PORT_ENV);
    try {
      stack = await stackLib.startStack({
        dataDir: DATA_DIR,
        logDir: LOG_DIR,
        ports: {
          nats: portFromEnv(INFRA_PORT_ENV.nats, 4222),
          postgres: portFromEnv(INFRA_PORT_ENV.postgres, 5432),
          redis: portFromEnv(INFRA_PORT_ENV.redis, 6379),
        },
        natsMonitorPort: portFromEnv(INFRA_PORT_ENV['nats-monitor'], 8222),
        isolateFromTerminalSignals: true,
        // WAL archived every minute at the latest, for point-in-time restore (docs/operations/backup-and-recovery.md).
        postgresSettings: walArchiving(stackLib),
      });
    } catch (error) {
      if (error instanceof stackLib.PortInUseError) {
        throw new StartError(`${error.message}: stop it, or pick another port with ${INFRA_PORT_ENV[error.server]}=<port>`);
      }
      throw error;
    }
    fs.writeFileSync(CLI_SEED_FILE, `${stack.natsSeeds.cli}\n`, { mode: 0o600 });
    console.log(`  NATS ${stack.natsUrl}, PostgreSQL ${stack.databaseUrl}, Redis ${stack.redisUrl}`);
    watchInfra();
    return stack;
  });

  await step('migrations', () => runMigrations(infra));

  let anthropicEnv = { ANTHROPIC_API_KEY: process.env.ANTHROPIC_API_KEY };
  if (process.env.ANTHROPIC_BASE_URL) anthropicEnv.ANTHROPIC_BASE_URL = process.env.ANTHROPIC_BASE_URL;
  if (demoMode) {
    const fakeUrl = await step('DEMO MODE: fake Anthropic API', () => startAnthropicFake(stackLib.freePort));
    anthropicEnv = { ANTHROPIC_API_KEY: 'demo-key', ANTHROPIC_BASE_URL: fakeUrl };
    console.log(`
  ************************************************************************
  *  DEMO MODE: ANTHROPIC_API_KEY is not set, so ai-router talks to a   *
  *  scripted fake Anthropic API on ${fakeUrl.padEnd(37)}*
  *  Set ANTHROPIC_API_KEY and restart to use Claude for real.           *
  ************************************************************************`);
  }

  await step('services', async () => {
    const records = services.map((service) =>
      spawnLogged({
        name: service.name,
        role: 'service',
        args: [...serviceNodeFlags(), distEntry(service.name, 'main.js')],
        env: serviceEnv(service, infra, anthropicEnv),
        logFile: path.join(LOG_DIR, `${service.name}.log`),
      }),
    );
    // Started together; each waited for on its own readiness probe.
    const ready = await Promise.all(
      records.map(async (record, index) => {
        const ok = await waitForHttp200(record, `http://127.0.0.1:${services[index].port}/health/ready`, READY_TIMEOUT_MS);
        if (ok) console.log(`  ${record.name} ready on :${services[index].port}`);
        return ok;
      }),
    );
    if (!ready.every(Boolean)) throw new StartError('not every service became ready');
  });

  const adminKey = await step('bootstrap admin key', () => ensureAdminKey(infra));
  printSummary({ infra, services, demoMode, adminKey });
  announcePreviews(infra).catch((error) => console.log(`  (preview URLs will not be printed: ${error.message})`));
}

main().catch(async (error) => {
  if (shuttingDown) return;
  if (error instanceof StepFailedError || error instanceof StartError) console.error(`\nnpm start: ${error.message}`);
  else console.error(error);
  await shutdown(1);
});
