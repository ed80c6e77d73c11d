import fs from 'node:fs';
import path from 'node:path';
import type { ServerBinaries } from './stack.types';

// Debian puts nats-server in /usr/sbin, which a non-root PATH often lacks.
const EXTRA_BIN_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const POSTGRES_VERSIONS_DIR = '/usr/lib/postgresql';

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function findOnPath(command: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(path.delimiter).filter(Boolean), ...EXTRA_BIN_DIRS];
  return dirs.map((dir) => path.join(dir, command)).find(isExecutable);
}

function missingBinary(what: string, aptPackage: string): Error {
  return new Error(
    `${what} not found: install it with \`apt-get install -y --no-install-recommends ${aptPackage}\` ` +
      `(or run \`node deploy/local/bootstrap.mjs\`, which does it for you)`,
  );
}

// The newest /usr/lib/postgresql/<major>/bin with both initdb and postgres; else initdb on PATH.
function findPostgresBin(): string | undefined {
  const majors = fs.existsSync(POSTGRES_VERSIONS_DIR)
    ? fs
        .readdirSync(POSTGRES_VERSIONS_DIR)
        .filter((entry) => /^\d+$/.test(entry))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const hasServerTools = (dir: string) => isExecutable(path.join(dir, 'initdb')) && isExecutable(path.join(dir, 'postgres'));
  const versioned = majors.map((major) => path.join(POSTGRES_VERSIONS_DIR, major, 'bin')).find(hasServerTools);
  if (versioned) return versioned;
  const initdb = findOnPath('initdb');
  return initdb && hasServerTools(path.dirname(initdb)) ? path.dirname(initdb) : undefined;
}

export function findServerBinaries(): ServerBinaries {
  const natsServer = findOnPath('nats-server');
  if (!natsServer) throw missingBinary('nats-server', 'nats-server');
  const redisServer = findOnPath('redis-server');
  if (!redisServer) throw missingBinary('redis-server', 'redis-server');
  const postgresBin = findPostgresBin();
  if (!postgresBin) throw missingBinary(`PostgreSQL server binaries (initdb, postgres under ${POSTGRES_VERSIONS_DIR}/<version>/bin)`, 'postgresql');
  return { natsServer, redisServer, postgresBin };
}
