import { Inject, Injectable } from '@nestjs/common';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BACKUP_ENV, type BackupEnv } from '../config';
import { runTool } from '../tools/run-tool';

// git-service builds repositories in folders with this prefix; a restore uses the same, so an
// interrupted restore leaves nothing git-service would take for an app.
const TEMP_PREFIX = '.overskill-tmp-';
const GIT_ENV = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', LC_ALL: 'C' };

export interface RepoRefs {
  refs: Record<string, string>;
  head: string;
}

function git(args: string[], cwd?: string) {
  return runTool('git', args, { cwd, env: GIT_ENV, label: `git ${args[0]}` });
}

// App repositories on the workspace volume through git itself: fsck, bundle, verify, and a
// restore that builds beside the live folder and swaps it in with one rename.
@Injectable()
export class RepositoryBundleRepository {
  constructor(@Inject(BACKUP_ENV) private readonly env: BackupEnv) {}

  async listApps(): Promise<string[]> {
    const names = await readdir(this.env.WORKSPACES_DIR).catch(() => [] as string[]);
    const apps: string[] = [];
    for (const name of names.sort()) {
      if (name.startsWith('.')) continue;
      if (
        await stat(join(this.env.WORKSPACES_DIR, name, '.git')).then(
          (s) => s.isDirectory(),
          () => false,
        )
      )
        apps.push(name);
    }
    return apps;
  }

  repoDir(appId: string): string {
    return join(this.env.WORKSPACES_DIR, appId);
  }

  async fsck(dir: string): Promise<void> {
    await git(['fsck', '--no-progress', '--no-dangling'], dir);
  }

  async refs(dir: string): Promise<RepoRefs> {
    const { stdout } = await git(['for-each-ref', '--format=%(objectname) %(refname)'], dir);
    const refs: Record<string, string> = {};
    for (const line of stdout.split('\n').filter(Boolean)) {
      const [sha, name] = line.split(' ');
      refs[name] = sha;
    }
    // .git/HEAD read directly (one git process less per repository): "ref: <name>", or a sha when detached.
    const headFile = await readFile(join(dir, '.git', 'HEAD'), 'utf8').catch(() => '');
    const head = /^ref: (\S+)/.exec(headFile)?.[1] ?? '';
    return { refs, head };
  }

  async readMarker(dir: string): Promise<string | null> {
    return readFile(join(dir, '.git', 'overskill', 'app.json'), 'utf8').catch(() => null);
  }

  async bundle(dir: string, file: string): Promise<void> {
    await git(['bundle', 'create', '--quiet', file, '--all'], dir);
  }

  async verifyBundle(file: string): Promise<void> {
    // `git bundle verify` needs a repository to run in; an empty one checks a complete bundle.
    const scratch = `${file}.verify-repo`;
    await git(['init', '-q', '--bare', scratch]);
    try {
      await git(['bundle', 'verify', '--quiet', file], scratch);
    } finally {
      await rm(scratch, { recursive: true, force: true });
    }
  }

  // A working repository from a bundle, every ref at the bundled sha and HEAD as it was.
  async restoreTo(bundle: string | null, dir: string, head: string, marker: string | null): Promise<void> {
    await mkdir(dir, { recursive: true });
    await git(['init', '-q', dir]);
    if (bundle) {
      await git(['fetch', '-q', '--update-head-ok', bundle, 'refs/*:refs/*'], dir);
    }
    if (head) await git(['symbolic-ref', 'HEAD', head], dir);
    if (bundle) await git(['reset', '-q', '--hard'], dir).catch(() => undefined);
    if (marker) {
      await mkdir(join(dir, '.git', 'overskill'), { recursive: true });
      await writeFile(join(dir, '.git', 'overskill', 'app.json'), marker);
    }
  }

  // Restores one app's repository in place: built beside it, then swapped in; the old one removed.
  async replaceLive(appId: string, build: (dir: string) => Promise<void>): Promise<void> {
    const suffix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
    const fresh = join(this.env.WORKSPACES_DIR, `${TEMP_PREFIX}${appId}-restore-${suffix}`);
    const old = join(this.env.WORKSPACES_DIR, `${TEMP_PREFIX}${appId}-replaced-${suffix}`);
    try {
      await build(fresh);
    } catch (err) {
      await rm(fresh, { recursive: true, force: true });
      throw err;
    }
    const target = this.repoDir(appId);
    const hadOld = await rename(target, old).then(
      () => true,
      (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? false : Promise.reject(e)),
    );
    await rename(fresh, target);
    if (hadOld) await rm(old, { recursive: true, force: true });
  }
}
