import { Injectable } from '@nestjs/common';
import { gitV1 } from '@overskill/contracts';
import type { z } from 'zod';
import type { Principal } from '../routing/access';
import type { FileReadQuery, FileTreeQuery, RestoreBody, VersionDiffQuery, VersionLogQuery } from '../routing/schemas';
import { AppsRepository } from './apps.repository';
import { WorkspaceRepository } from './workspace.repository';

const CHANGE_NAMES: Record<gitV1.FileChange, string> = {
  [gitV1.FileChange.UNSPECIFIED]: 'unknown',
  [gitV1.FileChange.ADDED]: 'added',
  [gitV1.FileChange.MODIFIED]: 'modified',
  [gitV1.FileChange.DELETED]: 'deleted',
  [gitV1.FileChange.RENAMED]: 'renamed',
  [gitV1.FileChange.COPIED]: 'copied',
  [gitV1.FileChange.TYPE_CHANGED]: 'type_changed',
  [gitV1.FileChange.UNTRACKED]: 'untracked',
  [gitV1.FileChange.CONFLICTED]: 'conflicted',
};

// Files and versions as the API shows them. git-service knows apps only by id, so the app is first
// looked up in the caller's team: another team's app is APP_NOT_FOUND before git is asked.
@Injectable()
export class WorkspaceApiService {
  constructor(
    private readonly apps: AppsRepository,
    private readonly workspace: WorkspaceRepository,
  ) {}

  private async ownApp(principal: Principal, appId: string): Promise<void> {
    await this.apps.get({ teamId: principal.teamId, appId });
  }

  // Files from git, folders derived from their paths: what a file browser needs in one answer.
  async fileTree(principal: Principal, appId: string, query: z.infer<typeof FileTreeQuery>) {
    await this.ownApp(principal, appId);
    const tree = await this.workspace.tree({ appId, revision: query.ref ?? '' });
    const folders = new Set<string>();
    for (const e of tree.entries) for (let i = e.path.indexOf('/'); i !== -1; i = e.path.indexOf('/', i + 1)) folders.add(e.path.slice(0, i));
    const entries = [
      ...[...folders].map((path) => ({ path, type: 'directory' as const, sizeBytes: null })),
      ...tree.entries.map((e) => ({ path: e.path, type: 'file' as const, sizeBytes: Number(e.sizeBytes) })),
    ].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return { appId, ref: tree.commitSha, entries, truncated: tree.truncated };
  }

  async readFile(principal: Principal, appId: string, query: z.infer<typeof FileReadQuery>) {
    await this.ownApp(principal, appId);
    const file = await this.workspace.file({ appId, revision: query.ref ?? '', path: query.path });
    return {
      path: file.path,
      ref: file.commitSha || null,
      encoding: file.binary ? ('base64' as const) : ('utf8' as const),
      content: file.binary ? Buffer.from(file.content).toString('base64') : Buffer.from(file.content).toString('utf8'),
      sizeBytes: Number(file.sizeBytes),
    };
  }

  async listVersions(principal: Principal, appId: string, query: z.infer<typeof VersionLogQuery>) {
    await this.ownApp(principal, appId);
    const log = await this.workspace.log({ appId, limit: query.limit, pageToken: query.cursor, path: query.path ?? '' });
    return {
      data: log.commits.map((c) => ({
        sha: c.sha,
        message: c.message,
        authorName: c.authorName,
        committedAt: c.committedAt,
        parentShas: c.parentShas,
        restoredFrom: c.restoredFrom || null,
      })),
      nextCursor: log.nextPageToken || null,
    };
  }

  async diffVersion(principal: Principal, appId: string, sha: string, query: z.infer<typeof VersionDiffQuery>) {
    await this.ownApp(principal, appId);
    const diff = await this.workspace.diff({
      appId,
      fromRevision: query.against ?? `${sha}~1`,
      toRevision: sha,
      path: query.path ?? '',
      includePatch: query.patch === 'true',
    });
    return {
      fromSha: diff.fromSha,
      toSha: diff.toSha,
      filesChanged: diff.filesChanged,
      additions: diff.additions,
      deletions: diff.deletions,
      files: diff.files.map((f) => ({
        path: f.path,
        oldPath: f.oldPath || null,
        change: CHANGE_NAMES[f.change] ?? 'unknown',
        additions: f.additions,
        deletions: f.deletions,
        binary: f.binary,
        patch: f.patch || null,
        patchTruncated: f.patchTruncated,
      })),
    };
  }

  async restoreVersion(principal: Principal, appId: string, sha: string, body: z.infer<typeof RestoreBody>) {
    await this.ownApp(principal, appId);
    const restored = await this.workspace.restore({
      appId,
      revision: sha,
      expectedHeadSha: body.expectedHeadSha ?? '',
      savePendingChanges: body.savePendingChanges,
      authorName: `overskill api key ${principal.keyPrefix}`,
      authorEmail: 'api@overskill.local',
    });
    return {
      sha: restored.sha,
      created: restored.created,
      restoredFrom: restored.restoredFrom,
      filesChanged: restored.filesChanged,
      savedPendingSha: restored.savedPendingSha || null,
    };
  }
}
