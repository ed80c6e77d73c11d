import { Injectable } from '@nestjs/common';
import { GitCli } from '../git/git-cli';

export interface BranchRow {
  name: string;
  sha: string;
  current: boolean;
  subject: string;
  committedAt: string;
}

const BRANCH_FORMAT = '%(refname:strip=2)%1f%(objectname)%1f%(HEAD)%1f%(committerdate:iso-strict)%1f%(contents:subject)';

// Branches of one repository, written through update-ref with the expected old value, so a
// branch moved by anyone else meanwhile makes the write fail instead of clobbering it.
@Injectable()
export class GitBranchesRepository {
  constructor(private readonly git: GitCli) {}

  async list(dir: string): Promise<BranchRow[]> {
    const out = (await this.git.run(dir, ['for-each-ref', '--sort=refname', `--format=${BRANCH_FORMAT}`, 'refs/heads'])).stdout;
    return out
      .split('\n')
      .filter(Boolean)
      .map((line) => {
        const [name = '', sha = '', head = '', committedAt = '', ...subject] = line.split('\x1f');
        return { name, sha, current: head === '*', committedAt, subject: subject.join('\x1f') };
      });
  }

  async tip(dir: string, name: string): Promise<string | undefined> {
    const result = await this.git.run(dir, ['rev-parse', '--verify', '--quiet', `refs/heads/${name}`], { okExitCodes: [1] });
    return result.exitCode === 0 ? result.stdout.trim() : undefined;
  }

  async create(dir: string, name: string, sha: string, from: string): Promise<void> {
    // An empty old value: only if the branch does not exist yet.
    await this.git.run(dir, ['update-ref', '--create-reflog', '-m', `branch: Created from ${from}`, `refs/heads/${name}`, sha, '']);
  }

  async switchTo(dir: string, name: string): Promise<void> {
    await this.git.run(dir, ['switch', '-q', '--no-guess', name]);
  }

  // Branches and bookmarks other than `name` whose history holds the commit.
  async otherRefsContaining(dir: string, sha: string, name: string): Promise<string[]> {
    const out = (await this.git.run(dir, ['for-each-ref', '--contains', sha, '--format=%(refname)', 'refs/heads', 'refs/tags/bookmark'])).stdout;
    return out.split('\n').filter((ref) => ref && ref !== `refs/heads/${name}`);
  }

  async keep(dir: string, ref: string, sha: string): Promise<void> {
    await this.git.run(dir, ['update-ref', ref, sha, '']);
  }

  async delete(dir: string, name: string, sha: string): Promise<void> {
    await this.git.run(dir, ['update-ref', '-d', `refs/heads/${name}`, sha]);
  }
}
