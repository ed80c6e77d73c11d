import { Injectable } from '@nestjs/common';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { GitCli } from '../git/git-cli';

export type InterruptedKind = 'interrupted_merge' | 'interrupted_rebase' | 'interrupted_am' | 'interrupted_cherry_pick' | 'interrupted_revert';

// The files git leaves while an operation waits for the user, and the command that gives up on it.
const MARKERS: { kind: InterruptedKind; path: string; abort: string[] }[] = [
  { kind: 'interrupted_rebase', path: 'rebase-merge', abort: ['rebase', '--abort'] },
  { kind: 'interrupted_am', path: 'rebase-apply/applying', abort: ['am', '--abort'] },
  { kind: 'interrupted_rebase', path: 'rebase-apply', abort: ['rebase', '--abort'] },
  { kind: 'interrupted_merge', path: 'MERGE_HEAD', abort: ['merge', '--abort'] },
  { kind: 'interrupted_cherry_pick', path: 'CHERRY_PICK_HEAD', abort: ['cherry-pick', '--abort'] },
  { kind: 'interrupted_revert', path: 'REVERT_HEAD', abort: ['revert', '--abort'] },
];

export interface InterruptedOperation {
  kind: InterruptedKind;
  marker: string;
  abort: string[];
}

const exists = (path: string) =>
  stat(path).then(
    () => true,
    () => false,
  );

// What state a repository's .git is in, read from its files and git itself.
@Injectable()
export class RepoHealthRepository {
  constructor(private readonly git: GitCli) {}

  async isRepository(dir: string): Promise<boolean> {
    return stat(join(dir, '.git')).then(
      (s) => s.isDirectory(),
      () => false,
    );
  }

  // At most one: git refuses to start another operation while one is in progress.
  async interrupted(dir: string): Promise<InterruptedOperation | undefined> {
    for (const marker of MARKERS) {
      if (await exists(join(dir, '.git', marker.path))) return { kind: marker.kind, marker: marker.path, abort: marker.abort };
    }
    return undefined;
  }

  async abort(dir: string, op: InterruptedOperation): Promise<void> {
    await this.git.run(dir, op.abort);
  }

  // Refs git cannot read (garbage in the file) and refs naming an object the repository lacks.
  async brokenRefs(dir: string): Promise<{ ref: string; detail: string }[]> {
    const listed = await this.git.run(dir, ['for-each-ref', '--format=%(objectname) %(refname)']);
    const broken: { ref: string; detail: string }[] = [];
    for (const line of listed.stderr.split('\n')) {
      const ref = /ignoring broken ref (\S+)/.exec(line)?.[1];
      if (ref) broken.push({ ref, detail: 'the ref file does not hold an object id' });
    }
    // An app repository has a handful of refs: one cheap `cat-file -e` each.
    for (const line of listed.stdout.split('\n').filter(Boolean)) {
      const [sha = '', ref = ''] = line.split(' ');
      const found = await this.git.run(dir, ['cat-file', '-e', sha], { okExitCodes: [1, 128] });
      if (found.exitCode !== 0) broken.push({ ref, detail: `points to ${sha.slice(0, 12)}, which is not in the repository` });
    }
    return broken;
  }

  async appFolders(workspaces: string): Promise<{ name: string; path: string }[]> {
    const entries = await readdir(workspaces, { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory() && !e.name.startsWith('.')).map((e) => ({ name: e.name, path: join(workspaces, e.name) }));
  }
}
