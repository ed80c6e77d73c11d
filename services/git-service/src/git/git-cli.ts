import { Inject, Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GIT_SERVICE_ENV, type GitServiceEnv } from '../config';
import { redactSecrets } from './redact-secrets';

export interface GitRunOptions {
  // Added to the service's git environment (author identity, a temporary index, credentials).
  env?: Record<string, string>;
  // Values that must never leave this process: scrubbed from every error text.
  secrets?: string[];
  // Kill a command that shows no output for this long (network operations).
  timeoutMs?: number;
  // Exit codes that are answers rather than failures (`git diff --quiet` exits 1 on a difference).
  okExitCodes?: number[];
}

export interface GitResult {
  stdout: string;
  // Free of secrets, like every text this class hands out.
  stderr: string;
  exitCode: number;
}

// A git command that exited non-zero. The text is already free of secrets; it is for mapping to
// an error code and for the log, never for a caller.
export class GitCommandError extends Error {
  constructor(
    readonly exitCode: number,
    readonly stderr: string,
  ) {
    super(`git exited ${exitCode}: ${stderr.trim().slice(0, 2000)}`);
    this.name = 'GitCommandError';
  }
}

// Configuration every command starts from, in place of the machine's ~/.gitconfig and
// /etc/gitconfig: the fallback identity, no hooks, no credential helper (so a token can never
// be stored), gc in the foreground (a detached gc would outlive the app lock).
const GLOBAL_CONFIG = `[user]
\tname = overskill agent
\temail = agent@overskill.local
[core]
\thooksPath = /dev/null
\tquotePath = false
[gc]
\tautoDetach = false
[init]
\tdefaultBranch = main
[advice]
\tdetachedHead = false
[credential]
\thelper =
`;

// The only code that runs git; repositories call it, services never do. Plain child processes
// rather than simple-git: simple-git waits a fixed 50 ms after any command that prints nothing
// (`git add -A`, `update-ref`, `config`), which was three quarters of a commit's time
// (docs/git-service.md, "Measured").
@Injectable()
export class GitCli implements OnApplicationShutdown {
  private readonly baseEnv: Record<string, string>;
  private readonly configDir: string;

  constructor(@Inject(GIT_SERVICE_ENV) env: Pick<GitServiceEnv, 'GIT_REMOTE_ALLOW_HTTP'>) {
    const dir = mkdtempSync(join(tmpdir(), 'overskill-git-'));
    this.configDir = dir;
    const globalConfig = join(dir, 'gitconfig');
    writeFileSync(globalConfig, GLOBAL_CONFIG, { mode: 0o600 });
    chmodSync(dir, 0o700);
    this.baseEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: dir,
      LANG: 'C',
      LC_ALL: 'C',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: globalConfig,
      // Never wait for a password on a terminal nobody is watching.
      GIT_TERMINAL_PROMPT: '0',
      // Reads never take index.lock, so they can't collide with a write under the app lock.
      GIT_OPTIONAL_LOCKS: '0',
      // A path from a request is a path, never pathspec magic (`:(top)`, globs).
      GIT_LITERAL_PATHSPECS: '1',
      // No ext::, file:// or ssh transports: only what clone and push are meant to use.
      GIT_ALLOW_PROTOCOL: env.GIT_REMOTE_ALLOW_HTTP ? 'https:http' : 'https',
    };
  }

  onApplicationShutdown(): void {
    rmSync(this.configDir, { recursive: true, force: true });
  }

  async run(dir: string, args: string[], opts: GitRunOptions = {}): Promise<GitResult> {
    const result = await this.spawn(dir, args, opts);
    return { stdout: result.stdout.toString('utf8'), stderr: result.stderr, exitCode: result.exitCode };
  }

  // Raw bytes of a blob (`<sha>:<path>`), for binary files.
  async blob(dir: string, object: string): Promise<Buffer> {
    return (await this.spawn(dir, ['cat-file', 'blob', object], {})).stdout;
  }

  private spawn(dir: string, args: string[], opts: GitRunOptions): Promise<{ stdout: Buffer; stderr: string; exitCode: number }> {
    const ok = new Set([0, ...(opts.okExitCodes ?? [])]);
    const secrets = opts.secrets ?? [];
    return new Promise((resolve, reject) => {
      // Highest precedence: a repository's own config can't bring hooks back.
      const child = spawn('git', ['-c', 'core.hooksPath=/dev/null', ...args], {
        cwd: dir,
        env: { ...this.baseEnv, ...opts.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const stdout: Buffer[] = [];
      const stderr: Buffer[] = [];
      let stalled = false;
      let timer: NodeJS.Timeout | undefined;
      const progress = () => {
        if (!opts.timeoutMs) return;
        clearTimeout(timer);
        timer = setTimeout(() => {
          stalled = true;
          child.kill('SIGKILL');
        }, opts.timeoutMs);
      };
      progress();
      child.stdout.on('data', (chunk: Buffer) => {
        stdout.push(chunk);
        progress();
      });
      child.stderr.on('data', (chunk: Buffer) => {
        stderr.push(chunk);
        progress();
      });
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(new GitCommandError(-1, redactSecrets(err.message, secrets)));
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        const errText = redactSecrets(Buffer.concat(stderr).toString('utf8'), secrets);
        const exitCode = code ?? -1;
        if (stalled) return reject(new GitCommandError(exitCode, `no progress for ${opts.timeoutMs} ms; stopped. ${errText}`));
        const out = Buffer.concat(stdout);
        if (ok.has(exitCode)) return resolve({ stdout: out, stderr: errText, exitCode });
        reject(new GitCommandError(exitCode, [errText, redactSecrets(out.toString('utf8'), secrets)].filter(Boolean).join('\n')));
      });
    });
  }
}
