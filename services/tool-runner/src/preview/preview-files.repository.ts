import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode } from '@overskill/contracts';
import { TOOL_RUNNER_ENV, type ToolRunnerEnv } from '../config';
import { GitServiceRepository } from '../delegation/git-service.repository';
import { resolveWorkspacePath } from '../workspace/resolve-workspace-path';
import { WorkspaceFilesRepository } from '../workspace/workspace-files.repository';
import type { PreviewOwner } from './preview-store.repository';

export type PreviewFile = { kind: 'file'; content: Buffer } | { kind: 'missing' } | { kind: 'not-a-file' };

// Outside the workspace or inside .git: answered like a file that is not there.
const MISSING = new Set<string>([
  ErrorCode.TOOL_FILE_NOT_FOUND,
  ErrorCode.GIT_PATH_NOT_FOUND,
  ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE,
  ErrorCode.TOOL_PATH_PROTECTED,
  ErrorCode.GIT_PATH_OUTSIDE_REPO,
]);
const NOT_A_FILE = new Set<string>([ErrorCode.TOOL_PATH_NOT_REGULAR_FILE, ErrorCode.TOOL_PATH_SYMLINK, ErrorCode.TOOL_PATH_HARD_LINK]);

// A version's files: the latest straight from the workspace (through the same descriptor-checked
// reads as the file tools, so no link leads outside it), any other version from git-service.
@Injectable()
export class PreviewFilesRepository {
  constructor(
    private readonly files: WorkspaceFilesRepository,
    private readonly git: GitServiceRepository,
    @Inject(TOOL_RUNNER_ENV) private readonly env: Pick<ToolRunnerEnv, 'WORKSPACES_DIR' | 'TOOL_MAX_FILE_SIZE_BYTES'>,
  ) {}

  // The commit the workspace is at: the version its latest files (and a dev server) show.
  async head(owner: PreviewOwner): Promise<string> {
    return (await this.git.head(owner)).headSha;
  }

  // A file written into the workspace (its latest files), refused outside it or inside .git.
  async write(owner: PreviewOwner, path: string, content: Buffer): Promise<void> {
    const target = resolveWorkspacePath(this.env.WORKSPACES_DIR, owner.appId, path);
    await this.files.writeAtomic(target.root, target.relative, content);
  }

  async read(owner: PreviewOwner, path: string, sha?: string): Promise<PreviewFile> {
    try {
      if (sha) return { kind: 'file', content: Buffer.from((await this.git.showFile(owner, sha, path)).content) };
      const target = resolveWorkspacePath(this.env.WORKSPACES_DIR, owner.appId, path);
      return { kind: 'file', content: await this.files.read(target.root, target.relative, this.env.TOOL_MAX_FILE_SIZE_BYTES) };
    } catch (err) {
      if (err instanceof AppError && MISSING.has(err.code)) return { kind: 'missing' };
      if (err instanceof AppError && NOT_A_FILE.has(err.code)) return { kind: 'not-a-file' };
      if (err instanceof AppError && err.code === ErrorCode.GIT_REVISION_NOT_FOUND)
        throw new AppError(ErrorCode.PREVIEW_NOT_FOUND, `This app has no version ${sha ?? ''}`);
      // The app was deleted (its workspace is gone): its preview with it.
      if (err instanceof AppError && (err.code === ErrorCode.APP_NOT_FOUND || err.code === ErrorCode.GIT_REPO_NOT_FOUND))
        throw new AppError(ErrorCode.PREVIEW_NOT_FOUND, 'This app no longer exists');
      if (err instanceof AppError && err.code === ErrorCode.TOOL_PATH_INVALID) throw new AppError(ErrorCode.PREVIEW_PATH_INVALID, err.message);
      throw err;
    }
  }
}
