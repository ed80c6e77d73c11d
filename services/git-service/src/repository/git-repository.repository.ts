import { Inject, Injectable } from '@nestjs/common';
import { mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { simpleGit, type SimpleGit } from 'simple-git';
import { GIT_SERVICE_ENV, type GitServiceEnv } from '../config';

export interface CommitAuthor {
  name: string;
  email: string;
}

// The only code that touches repositories on the workspace volume.
@Injectable()
export class GitRepositoryRepository {
  constructor(@Inject(GIT_SERVICE_ENV) private readonly env: GitServiceEnv) {}

  pathFor(appId: string): string {
    return join(this.env.WORKSPACES_DIR, appId);
  }

  async exists(appId: string): Promise<boolean> {
    try {
      return (await stat(join(this.pathFor(appId), '.git'))).isDirectory();
    } catch {
      return false;
    }
  }

  async init(appId: string, files: Record<string, string>, author: CommitAuthor): Promise<string> {
    const dir = this.pathFor(appId);
    await mkdir(dir, { recursive: true });
    for (const [path, content] of Object.entries(files)) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    }
    const git = this.git(dir);
    await git.init(['--initial-branch=main']);
    await git.addConfig('user.name', author.name).addConfig('user.email', author.email);
    await git.add(['-A']);
    await git.commit('Initial commit', undefined, { '--author': `${author.name} <${author.email}>` });
    return (await git.revparse(['HEAD'])).trim();
  }

  // Stages everything and commits; returns undefined when the tree is clean.
  async commitAll(appId: string, message: string, author: CommitAuthor): Promise<{ sha: string; filesChanged: number } | undefined> {
    const git = this.git(this.pathFor(appId));
    await git.add(['-A']);
    const status = await git.status();
    if (status.staged.length === 0 && status.files.length === 0) return undefined;
    const result = await git.commit(message, undefined, { '--author': `${author.name} <${author.email}>` });
    const sha = (await git.revparse(['HEAD'])).trim();
    return { sha, filesChanged: result.summary.changes };
  }

  async head(appId: string): Promise<string> {
    return (await this.git(this.pathFor(appId)).revparse(['HEAD'])).trim();
  }

  async log(appId: string, limit: number) {
    const log = await this.git(this.pathFor(appId)).log({ maxCount: limit, format: { sha: '%H', message: '%s', authorName: '%an', authorEmail: '%ae', committedAt: '%cI' } } as never);
    return log.all as unknown as Array<{ sha: string; message: string; authorName: string; authorEmail: string; committedAt: string }>;
  }

  private git(dir: string): SimpleGit {
    return simpleGit({ baseDir: dir, maxConcurrentProcesses: 4 });
  }
}
