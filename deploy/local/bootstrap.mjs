#!/usr/bin/env node
// Makes a bare Debian machine able to run `npm start` / `npm test`: the OS packages for the
// local stack and tools, then node_modules. Node builtins only: it runs before `npm install`.
//
//   node deploy/local/bootstrap.mjs [package ...]   (default: everything `npm test` needs)
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

// Debian puts some server binaries in sbin folders that a non-root PATH lacks.
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const POLICY_RC_D = '/usr/sbin/policy-rc.d';

// What each requested name means: how to tell it is there, and which apt packages bring it.
const OS_PACKAGES = {
  'nats-server': { present: () => hasCommand('nats-server'), apt: ['nats-server'] },
  // redis-tools brings redis-cli and redis-check-rdb, which the backup service verifies RDB files with.
  'redis-server': { present: () => hasCommand('redis-server') && hasCommand('redis-check-rdb'), apt: ['redis-server', 'redis-tools'] },
  postgresql: { present: hasPostgresServer, apt: ['postgresql'] },
  prometheus: { present: () => hasCommand('promtool'), apt: ['prometheus'] },
  'docker-compose': { present: () => hasCommand('docker-compose'), apt: ['docker-compose'] },
  ripgrep: { present: () => hasCommand('rg'), apt: ['ripgrep'] },
  git: { present: () => hasCommand('git'), apt: ['git'] },
  // The preview's headless check and the console's browser tests drive Debian's Chromium (playwright-core).
  chromium: { present: () => hasCommand('chromium'), apt: ['chromium'] },
  // Dev-server previews run each app's dev server in a bubblewrap sandbox.
  bubblewrap: { present: () => hasCommand('bwrap'), apt: ['bubblewrap'] },
  // The backup service: archives are age-encrypted and zstd-compressed.
  age: { present: () => hasCommand('age') && hasCommand('age-keygen'), apt: ['age'] },
  zstd: { present: () => hasCommand('zstd'), apt: ['zstd'] },
  // The NATS TLS test makes a throwaway CA and server certificate with it.
  openssl: { present: () => hasCommand('openssl'), apt: ['openssl'] },
};

export const ALL_OS_PACKAGES = Object.keys(OS_PACKAGES);

function isExecutable(file) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function hasCommand(command) {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  return dirs.some((dir) => isExecutable(path.join(dir, command)));
}

function hasPostgresServer() {
  const versionsDir = '/usr/lib/postgresql';
  if (!fs.existsSync(versionsDir)) return false;
  return fs.readdirSync(versionsDir).some((version) => isExecutable(path.join(versionsDir, version, 'bin', 'initdb')));
}

class BootstrapError extends Error {}

function aptCommandLine(aptPackages, sudo) {
  const prefix = sudo ? 'sudo ' : '';
  return `${prefix}apt-get update && ` + `${prefix}env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${aptPackages.join(' ')}`;
}

// How to run a command as root: directly, through passwordless sudo, or not at all.
function privilegeRunner() {
  if (process.getuid?.() === 0) return (command, args) => [command, args];
  if (hasCommand('sudo') && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) {
    return (command, args) => ['sudo', ['-n', command, ...args]];
  }
  return undefined;
}

function runStreaming(command, args, env = process.env) {
  const result = spawnSync(command, args, { stdio: 'inherit', env });
  if (result.error) throw new BootstrapError(`could not run ${command}: ${result.error.message}`);
  return result.status ?? 1;
}

// A package's maintainer scripts may try to start its service (postgresql creates and starts a
// cluster). With no init system that can fail and abort the install; policy-rc.d answering 101
// ("action forbidden") makes invoke-rc.d skip every start. The stack never uses those services.
function withServiceStartsDisabled(asRoot, install) {
  if (fs.existsSync(POLICY_RC_D)) return install();
  const [writeCommand, writeArgs] = asRoot('sh', ['-c', `printf '#!/bin/sh\\nexit 101\\n' > ${POLICY_RC_D} && chmod 755 ${POLICY_RC_D}`]);
  if (runStreaming(writeCommand, writeArgs) !== 0) throw new BootstrapError(`could not write ${POLICY_RC_D}`);
  try {
    return install();
  } finally {
    const [removeCommand, removeArgs] = asRoot('rm', ['-f', POLICY_RC_D]);
    runStreaming(removeCommand, removeArgs);
  }
}

/**
 * Installs, through apt, whichever of the named OS packages are missing
 * (names: nats-server, redis-server, postgresql, prometheus, docker-compose, ripgrep, git).
 * Throws a BootstrapError naming the exact command to run when it cannot install them itself.
 */
export function ensureOsPackages(names) {
  const unknown = names.filter((name) => !(name in OS_PACKAGES));
  if (unknown.length > 0) throw new BootstrapError(`unknown OS package name(s): ${unknown.join(', ')} (known: ${ALL_OS_PACKAGES.join(', ')})`);
  const missing = names.filter((name) => !OS_PACKAGES[name].present());
  if (missing.length === 0) return;

  const aptPackages = [...new Set(missing.flatMap((name) => OS_PACKAGES[name].apt))];
  console.log(`bootstrap: missing OS packages: ${aptPackages.join(', ')}`);
  if (!isExecutable('/usr/bin/apt-get')) {
    throw new BootstrapError(`apt-get is not available on this machine: install ${aptPackages.join(', ')} with your package manager, then run this again`);
  }
  const asRoot = privilegeRunner();
  if (!asRoot) {
    throw new BootstrapError(`installing OS packages needs root. Run this, then try again:\n  ${aptCommandLine(aptPackages, true)}`);
  }

  const [updateCommand, updateArgs] = asRoot('apt-get', ['update']);
  if (runStreaming(updateCommand, updateArgs) !== 0) {
    throw new BootstrapError(`apt-get update failed (see above). Fix it, or run by hand:\n  ${aptCommandLine(aptPackages, process.getuid?.() !== 0)}`);
  }
  const installStatus = withServiceStartsDisabled(asRoot, () => {
    const [command, args] = asRoot('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '--no-install-recommends', ...aptPackages]);
    return runStreaming(command, args);
  });
  if (installStatus !== 0) {
    throw new BootstrapError(
      `apt-get install failed with exit code ${installStatus} (see above). Fix it, or run by hand:\n  ${aptCommandLine(aptPackages, process.getuid?.() !== 0)}`,
    );
  }
  const stillMissing = missing.filter((name) => !OS_PACKAGES[name].present());
  if (stillMissing.length > 0) throw new BootstrapError(`installed, but still not found: ${stillMissing.join(', ')}`);
  console.log(`bootstrap: installed ${aptPackages.join(', ')}`);
}

function mtimeMs(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Installs node_modules from package-lock.json when missing or older than the lock.
 * `npm install`, not `npm ci`: npm 11.19 refuses `npm ci` on any lock whose packages have
 * platform-specific optional dependencies (swc, buf), even a lock it has just written itself.
 * `npm install` still installs the locked versions.
 */
export function ensureNodeModules() {
  if (!fs.existsSync(path.join(REPO_ROOT, 'package.json'))) throw new BootstrapError(`no package.json in ${REPO_ROOT}`);
  const installedLock = mtimeMs(path.join(REPO_ROOT, 'node_modules', '.package-lock.json'));
  const lock = mtimeMs(path.join(REPO_ROOT, 'package-lock.json'));
  if (installedLock !== undefined && lock !== undefined && lock <= installedLock) return;

  console.log(
    installedLock === undefined ? 'bootstrap: node_modules missing, running npm install' : 'bootstrap: package-lock.json changed, running npm install',
  );
  const result = spawnSync('npm', ['install', '--no-audit', '--no-fund'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (result.error) throw new BootstrapError(`could not run npm: ${result.error.message}`);
  if (result.status !== 0) throw new BootstrapError(`npm install failed with exit code ${result.status} (see above)`);
}

/** For scripts: prints a BootstrapError's message (no stack) and exits 1; rethrows anything else. */
export function exitOnBootstrapError(error) {
  if (!(error instanceof BootstrapError)) throw error;
  console.error(`\nbootstrap: ${error.message}`);
  process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const names = process.argv.slice(2);
    ensureOsPackages(names.length > 0 ? names : ALL_OS_PACKAGES);
    ensureNodeModules();
    console.log('bootstrap: OS packages and node_modules are in place');
  } catch (error) {
    exitOnBootstrapError(error);
  }
}
