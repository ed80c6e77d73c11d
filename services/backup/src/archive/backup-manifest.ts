// What every archive carries as manifest.json, first in the tar: enough to check and restore it
// without the platform (sizes and sha256 for `sha256sum`, tool versions, where the database was).

export const MANIFEST_FORMAT = 1;
// `base` is a physical base backup (pg_basebackup) that, with the WAL archive, restores to any moment.
export const BACKUP_TYPES = ['full', 'database', 'repos', 'config', 'redis', 'base'] as const;
export type BackupType = (typeof BACKUP_TYPES)[number];

export interface ManifestArtifact {
  // Path inside the archive, e.g. database/overskill.dump, repos/<appId>.bundle.
  path: string;
  kind: 'database' | 'repository' | 'redis' | 'config' | 'secrets' | 'base';
  sizeBytes: number;
  sha256: string;
}

export interface TableStat {
  table: string;
  rows: number;
  // Order-independent digest of every row's text, to compare a restore with the original.
  contentHash: string;
}

export interface DatabaseInfo {
  systemIdentifier: string;
  walLsn: string;
  snapshotAt: string;
  serverVersion: string;
  schemas: string[];
  // The newest migration of every schema: a restore refuses an archive newer than the platform.
  migrations: Record<string, string[]>;
  tables: TableStat[];
  // How contentHash was computed; absent in older manifests, which used md5.
  digest?: RowDigest;
}

// md5: sum of a 60-bit md5 prefix per row. hash64: sum of hashtextextended (PostgreSQL's own
// 64-bit hash, stable since 11), about half the CPU on large tables.
export type RowDigest = 'md5' | 'hash64';
export const ROW_DIGEST: RowDigest = 'hash64';

// Where a base backup starts and ends in the WAL: replay needs every segment from startWal on.
export interface BaseBackupInfo {
  systemIdentifier: string;
  serverVersion: string;
  timeline: number;
  startLsn: string;
  endLsn: string;
  // The first WAL segment replay needs, e.g. 000000010000000000000004.
  startWal: string;
  endWal: string;
  walSegmentBytes: number;
  // pg_basebackup had returned (so the backup is consistent) by this moment: the earliest --to.
  finishedAt: string;
}

export interface RepositoryInfo {
  appId: string;
  // refname → sha, HEAD included as a symbolic ref.
  refs: Record<string, string>;
  head: string;
  // .git/overskill/app.json, which is not in the bundle.
  marker: string | null;
  // A repository with no commit yet has no bundle.
  bundle: string | null;
}

export interface BackupManifest {
  format: number;
  id: string;
  type: BackupType;
  createdAt: string;
  encrypted: boolean;
  platformCommit: string;
  tools: Record<string, string>;
  artifacts: ManifestArtifact[];
  database?: DatabaseInfo;
  repositories?: RepositoryInfo[];
  redis?: { keys: number; namespaces: string[] };
  base?: BaseBackupInfo;
  config?: { files: string[]; secretsIncluded: boolean };
  // How long each part took to stage (database, repos, redis, checksums).
  timingsMs: Record<string, number>;
  // Things skipped with the reason (a repository whose fsck failed, …).
  warnings: string[];
}

export function includes(type: BackupType, part: 'database' | 'repos' | 'redis' | 'config'): boolean {
  return type === part || type === 'full';
}
