import { AppError, ErrorCode } from '@overskill/contracts';
import type { AppLease, LeveledCache } from '@overskill/persistence';
import { posix } from 'node:path';
import { gitIgnores } from './git-ignore';
import type { EntryInfo } from './pinned-directory';
import { resolveWorkspacePath, type WorkspacePath } from './resolve-workspace-path';
import type { WorkspaceFilesRepository } from './workspace-files.repository';

// The cache and the calling team, whose id every tenant and file entry carries.
export interface TeamCache {
  cache: LeveledCache;
  teamId: string;
}

// One app's workspace as the tools see it: model-supplied paths in, every one resolved and
// refused here before the repository touches the disk. With a cache (and the caller's team),
// file contents come from the file level when a previous read left them there.
export class WorkspaceReader {
  constructor(
    protected readonly files: WorkspaceFilesRepository,
    readonly workspacesDir: string,
    readonly appId: string,
    protected readonly maxFileBytes: number,
    private readonly cached?: TeamCache,
  ) {}

  resolve(path: string, opts: { allowRoot?: boolean } = {}): WorkspacePath {
    return resolveWorkspacePath(this.workspacesDir, this.appId, path, opts);
  }

  async read(path: string): Promise<{ relative: string; content: Buffer }> {
    const target = this.resolve(path);
    const load = () => this.files.read(target.root, target.relative, this.maxFileBytes);
    if (!this.cached) return { relative: target.relative, content: await load() };
    const scope = { teamId: this.cached.teamId, appId: this.appId, path: target.relative };
    const stored = await this.cached.cache.file('file_contents', scope, async () => (await load()).toString('base64'));
    return { relative: target.relative, content: Buffer.from(stored, 'base64') };
  }

  // Text files only: a NUL byte means binary, which the text tools cannot edit.
  async readText(path: string): Promise<{ relative: string; text: string }> {
    const { relative, content } = await this.read(path);
    if (content.includes(0)) throw new AppError(ErrorCode.TOOL_PATH_NOT_REGULAR_FILE, `${relative} is a binary file (${content.length} bytes), not text`);
    return { relative, text: content.toString('utf8') };
  }

  async inspect(path: string): Promise<EntryInfo | undefined> {
    const target = this.resolve(path);
    return this.files.inspect(target.root, target.relative);
  }
}

// Handed out only inside the app's write lock; every change first confirms the lock is still held.
// It reads from disk, never the cache (an edit must start from what is there), and drops the cache
// entries of what it changed.
export class WorkspaceWriter extends WorkspaceReader {
  constructor(
    files: WorkspaceFilesRepository,
    workspacesDir: string,
    appId: string,
    maxFileBytes: number,
    private readonly lease: AppLease,
    private readonly teamCache?: TeamCache,
  ) {
    super(files, workspacesDir, appId, maxFileBytes);
  }

  async write(path: string, content: Buffer): Promise<{ relative: string; created: boolean }> {
    const target = this.resolve(path);
    if (content.length > this.maxFileBytes) {
      throw new AppError(ErrorCode.TOOL_FILE_TOO_LARGE, `${content.length} bytes is over the ${this.maxFileBytes}-byte file limit`);
    }
    await this.lease.assertHeld();
    const { created } = await this.files.writeAtomic(target.root, target.relative, content);
    await this.changed(target, created ? 'created' : 'edited');
    return { relative: target.relative, created };
  }

  async delete(path: string): Promise<string> {
    const target = this.resolve(path);
    await this.lease.assertHeld();
    await this.files.delete(target.root, target.relative);
    await this.changed(target, 'deleted');
    return target.relative;
  }

  // The file's own entries always go; the app's file tree (the paths the next commit would hold)
  // is edited when it gains or loses exactly this path, and dropped when only a new listing can
  // tell how it changed.
  private async changed(target: WorkspacePath, change: 'created' | 'edited' | 'deleted'): Promise<void> {
    if (!this.teamCache) return;
    const { cache, teamId } = this.teamCache;
    const tree = await this.treeChange(target, change, teamId);
    await cache.dropFiles(this.appId, [target.relative], { structure: tree === 'unknown' });
    if (tree === 'edit')
      await cache.editFileTree({ teamId, appId: this.appId }, change === 'created' ? { add: [target.relative] } : { remove: [target.relative] });
  }

  // 'unknown': a `.gitignore` changed (any path's standing may have), the rules could not be read,
  // or there is no team to name the entry. A deleted file leaves the listing whatever the rules; a
  // created one was not on disk, so it joins it unless git ignores it. (A file that is tracked and
  // ignored, deleted and created again before the turn's commit, is listed by git and not here
  // until the tree is next listed.)
  private async treeChange(target: WorkspacePath, change: 'created' | 'edited' | 'deleted', teamId: string): Promise<'edit' | 'same' | 'unknown'> {
    if (posix.basename(target.relative) === '.gitignore') return 'unknown';
    if (change === 'edited') return 'same';
    if (!teamId) return 'unknown';
    if (change === 'deleted') return 'edit';
    try {
      return gitIgnores(target.relative, await this.files.ignoreRules(target.root, target.relative)) ? 'same' : 'edit';
    } catch {
      return 'unknown';
    }
  }

  async rename(from: string, to: string, overwrite: boolean): Promise<{ from: string; to: string }> {
    const source = this.resolve(from);
    const target = this.resolve(to);
    await this.lease.assertHeld();
    await this.files.rename(source.root, source.relative, target.relative, { overwrite });
    // A folder may have moved with every file in it: the whole app's entries go.
    await this.teamCache?.cache.dropApp(this.appId);
    return { from: source.relative, to: target.relative };
  }
}
