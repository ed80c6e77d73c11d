import { Injectable } from '@nestjs/common';
import { GitCli, GitCommandError, type GitResult } from '../git/git-cli';
import { basicAuthValue } from '../git/redact-secrets';

export interface RemoteAuth {
  // The URL prefix the header is scoped to (`https://github.com/`).
  origin: string;
  token: string;
}

export interface PushOutcome {
  exitCode: number;
  // `git push --porcelain` flag of the ref: ' ' fast-forward, '*' new, '=' up to date, '!' rejected.
  flag: string | undefined;
  stderr: string;
}

// The token reaches git as an http.extraHeader in GIT_CONFIG_* environment variables of this
// one command: not in argv (visible to every user in ps), not in the URL, never in a config
// file or a credential helper. Every error text has it scrubbed.
function authOptions(auth: RemoteAuth | undefined, timeoutMs: number) {
  if (!auth) return { timeoutMs };
  return {
    timeoutMs,
    secrets: [auth.token],
    env: {
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: `http.${auth.origin}.extraHeader`,
      GIT_CONFIG_VALUE_0: `Authorization: Basic ${basicAuthValue(auth.token)}`,
    },
  };
}

@Injectable()
export class GitRemoteRepository {
  constructor(private readonly git: GitCli) {}

  // Into `dir`, which must be empty. Failures come back as the exit code and redacted stderr.
  // --progress keeps output flowing, so only a stalled transfer hits the timeout.
  async clone(
    dir: string,
    url: string,
    branch: string | undefined,
    auth: RemoteAuth | undefined,
    timeoutMs: number,
  ): Promise<{ exitCode: number; stderr: string }> {
    const args = ['clone', '--progress', '--origin', 'origin', ...(branch ? ['--branch', branch] : []), '--', url, '.'];
    const result = await this.network(dir, args, auth, timeoutMs);
    return { exitCode: result.exitCode, stderr: result.stderr };
  }

  async originUrl(dir: string): Promise<string | undefined> {
    const result = await this.git.run(dir, ['config', '--get', 'remote.origin.url'], { okExitCodes: [1] });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  async addOrigin(dir: string, url: string): Promise<void> {
    await this.git.run(dir, ['remote', 'add', 'origin', url]);
  }

  // Never forced. `remote` is `origin` or a URL; pushing to origin also sets the upstream.
  async push(dir: string, remote: string, branch: string, auth: RemoteAuth | undefined, timeoutMs: number): Promise<PushOutcome> {
    const upstream = remote === 'origin' ? ['--set-upstream'] : [];
    const result = await this.network(
      dir,
      ['push', '--porcelain', '--progress', ...upstream, remote, `refs/heads/${branch}:refs/heads/${branch}`],
      auth,
      timeoutMs,
    );
    const line = result.stdout.split('\n').find((l) => l.includes(`refs/heads/${branch}:refs/heads/${branch}`));
    return { exitCode: result.exitCode, flag: line?.charAt(0), stderr: result.stderr };
  }

  // A network command's failure is an answer to map (auth, not found, unreachable, stalled).
  private async network(dir: string, args: string[], auth: RemoteAuth | undefined, timeoutMs: number): Promise<GitResult> {
    try {
      return await this.git.run(dir, args, { ...authOptions(auth, timeoutMs), okExitCodes: [1, 128] });
    } catch (err) {
      if (err instanceof GitCommandError) return { stdout: '', stderr: err.stderr, exitCode: err.exitCode === 0 ? -1 : err.exitCode };
      throw err;
    }
  }
}
