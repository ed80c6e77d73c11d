#!/usr/bin/env node
// Mints the platform's NATS identities and writes nats-server's authorization block from the
// bus role table (libs/contracts/src/bus-roles.ts). Build first (node deploy/local/build.mjs).
//
//   node deploy/nats/identities.mjs [--dir secrets/nats]        mint missing seeds, write authorization.conf
//   node deploy/nats/identities.mjs --rotate <role> [--dir …]   new seed for <role>; its old key stays accepted
//   node deploy/nats/identities.mjs --retire <role> [--dir …]   stop accepting <role>'s previous key
//
// <dir>/<role>.nkey holds a role's seed (mode 0600, for that service only: a compose secret or
// a Kubernetes Secret). <dir>/authorization.conf holds public keys only, for nats-server.
// After each run, reload nats-server (nats-server --signal reload, or SIGHUP): clients stay connected.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

class UsageError extends Error {}

function parseArgs(argv) {
  const options = { dir: path.join(REPO_ROOT, 'secrets', 'nats'), rotate: undefined, retire: undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--dir' || flag === '--rotate' || flag === '--retire') {
      if (!value || value.startsWith('--')) throw new UsageError(`${flag} needs a value`);
      options[flag.slice(2)] = flag === '--dir' ? path.resolve(value) : value;
      i++;
    } else {
      throw new UsageError(`unknown argument ${flag}`);
    }
  }
  return options;
}

function loadLibraries() {
  const contracts = path.join(REPO_ROOT, 'dist/libs/contracts/src/index.js');
  if (!fs.existsSync(contracts)) throw new UsageError(`${path.relative(REPO_ROOT, contracts)} is missing: run node deploy/local/build.mjs first`);
  return { ...require(contracts), nkeys: require('nats').nkeys };
}

function publicKeyOf(nkeys, seedFile) {
  const seed = fs.readFileSync(seedFile, 'utf8').trim();
  try {
    return nkeys.fromSeed(new TextEncoder().encode(seed)).getPublicKey();
  } catch (error) {
    throw new UsageError(`${seedFile} does not hold an NKEY user seed (${error.message})`);
  }
}

function mintSeed(nkeys, seedFile) {
  fs.writeFileSync(seedFile, `${new TextDecoder().decode(nkeys.createUser().getSeed())}\n`, { mode: 0o600 });
}

function main() {
  const options = parseArgs(process.argv.slice(2));
  const { BUS_ROLES, busRoleUser, renderNatsAuthorization, nkeys } = loadLibraries();
  for (const role of [options.rotate, options.retire].filter(Boolean)) {
    if (!BUS_ROLES.includes(role)) throw new UsageError(`unknown role ${role}; the roles are ${BUS_ROLES.join(', ')}`);
  }
  fs.mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const seedFile = (role) => path.join(options.dir, `${role}.nkey`);
  const previousFile = (role) => path.join(options.dir, `${role}.previous.pub`);

  if (options.rotate) {
    // The old public key stays accepted until --retire: replicas still on the old seed keep working.
    if (fs.existsSync(seedFile(options.rotate))) fs.writeFileSync(previousFile(options.rotate), `${publicKeyOf(nkeys, seedFile(options.rotate))}\n`);
    mintSeed(nkeys, seedFile(options.rotate));
    console.log(`${options.rotate}: new seed in ${seedFile(options.rotate)}; the previous key is accepted until --retire ${options.rotate}`);
  }
  if (options.retire) {
    fs.rmSync(previousFile(options.retire), { force: true });
    console.log(`${options.retire}: previous key no longer accepted`);
  }

  const users = [];
  for (const role of BUS_ROLES) {
    if (!fs.existsSync(seedFile(role))) {
      mintSeed(nkeys, seedFile(role));
      console.log(`${role}: minted ${seedFile(role)}`);
    }
    users.push(busRoleUser(role, publicKeyOf(nkeys, seedFile(role))));
    if (fs.existsSync(previousFile(role)))
      users.push({ ...busRoleUser(role, fs.readFileSync(previousFile(role), 'utf8').trim()), name: `${role} (previous key)` });
  }
  const out = path.join(options.dir, 'authorization.conf');
  fs.writeFileSync(out, renderNatsAuthorization(users));
  console.log(`wrote ${out} (${users.length} keys); reload nats-server to apply it`);
}

try {
  main();
} catch (error) {
  console.error(error instanceof UsageError ? `identities: ${error.message}` : error);
  process.exit(error instanceof UsageError ? 2 : 1);
}
