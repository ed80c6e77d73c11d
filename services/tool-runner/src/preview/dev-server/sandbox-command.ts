import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface SandboxSpec {
  bwrap: string;
  // The app's workspace: the only folder it may write (seen as /app).
  workspace: string;
  // An installed dependency set, seen read-only as /app/node_modules.
  nodeModules?: string;
  // The app's own folder for the dev server's scratch under node_modules (Vite's pre-bundled
  // dependencies), kept across restarts; a tmpfs when absent.
  scratch?: string;
  port: number;
  memoryBytes: number;
  cpuSeconds: number;
  // Further folders it may write, e.g. npm's cache while a dependency set is installed.
  writable?: Array<{ from: string; to: string }>;
  command: string[];
}

export const SANDBOX_APP_DIR = '/app';
// Folders every installed dependency set has (empty), each a private tmpfs in the sandbox.
export const NODE_MODULES_SCRATCH = ['.vite', '.vite-temp', '.cache'];
export const SANDBOX_HOST = '127.0.0.1';

// System folders the dev server may read; a symlinked one (/bin -> usr/bin) stays a symlink.
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib64', '/lib32', '/libx32'];
// Only what name lookup, TLS and a shell need of /etc: never the host's whole /etc.
const ETC_FILES = [
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/etc/passwd',
  '/etc/group',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/alternatives',
];

function systemBinds(): string[] {
  const args: string[] = [];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    const stat = lstatSync(dir);
    if (stat.isSymbolicLink()) args.push('--symlink', readlinkSync(dir), dir);
    else args.push('--ro-bind', dir, dir);
  }
  // A node installed outside /usr (nvm, /opt) is bound read-only where it lives.
  const nodePrefix = dirname(dirname(process.execPath));
  if (!SYSTEM_DIRS.some((dir) => nodePrefix === dir || nodePrefix.startsWith(`${dir}/`))) args.push('--ro-bind', nodePrefix, nodePrefix);
  for (const path of ETC_FILES) if (existsSync(path)) args.push('--ro-bind', path, path);
  return args;
}

// The environment the dev server gets: this and nothing else (--clearenv first).
export function sandboxEnv(port: number): Record<string, string> {
  return {
    PATH: `${SANDBOX_APP_DIR}/node_modules/.bin:/usr/local/bin:/usr/bin:/bin`,
    HOME: '/tmp',
    NODE_ENV: 'development',
    PORT: String(port),
    HOST: SANDBOX_HOST,
    // Not a terminal: no colour codes in the captured output.
    NO_COLOR: '1',
  };
}

// bwrap's argv for one dev server: its own pid/ipc/uts namespaces (the network is shared so the
// preview proxy reaches its loopback port), dies with tool-runner, reads system folders, writes
// only its own workspace, a fresh /tmp, CPU seconds and no core dumps (prlimit), at low priority.
export function sandboxArgv(spec: SandboxSpec): string[] {
  const argv = ['--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', 'preview'];
  argv.push(...systemBinds(), '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp');
  argv.push('--bind', spec.workspace, SANDBOX_APP_DIR);
  if (spec.nodeModules) {
    argv.push('--ro-bind', spec.nodeModules, `${SANDBOX_APP_DIR}/node_modules`);
    // Dev servers write scratch files under node_modules (Vite: .vite, .vite-temp): the app's own
    // folder for each, never the shared set.
    for (const dir of NODE_MODULES_SCRATCH) {
      if (spec.scratch) argv.push('--bind', join(spec.scratch, dir), `${SANDBOX_APP_DIR}/node_modules/${dir}`);
      else argv.push('--tmpfs', `${SANDBOX_APP_DIR}/node_modules/${dir}`);
    }
  }
  for (const bind of spec.writable ?? []) argv.push('--bind', bind.from, bind.to);
  argv.push('--chdir', SANDBOX_APP_DIR, '--clearenv');
  for (const [name, value] of Object.entries(sandboxEnv(spec.port))) argv.push('--setenv', name, value);
  // No address-space cap (RLIMIT_AS): a WebAssembly instance alone reserves more than 8 GB of it,
  // so Vite dies under any cap that means something. Resident memory is what the watchdog limits.
  argv.push('--', 'prlimit', `--cpu=${spec.cpuSeconds}`, '--core=0', '--');
  argv.push('nice', '-n', '10', ...spec.command);
  return argv;
}

// The dev script run as `npm run dev -- <args>` would run it, without npm in between.
export function devCommand(script: string, port: number): string[] {
  return ['/bin/sh', '-c', `${script} "$@"`, 'dev', ...devScriptArgs(script, port)];
}

// What `npm run dev` would append for the dev servers we know; anything else reads PORT/HOST.
export function devScriptArgs(script: string, port: number): string[] {
  if (/(^|[\s/])vite(\s|$)/.test(script)) return ['--port', String(port), '--strictPort', '--host', SANDBOX_HOST];
  return [];
}
