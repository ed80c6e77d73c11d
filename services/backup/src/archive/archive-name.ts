import type { BackupType } from './backup-manifest';

// overskill-20261204T020000Z-full-1a2b3c4d.tar.zst.age: sortable by time, the type in the name,
// the suffixes saying which standard tools open it; the id's first block keeps names unique.
export function archiveName(id: string, createdAt: Date, type: BackupType, encrypted: boolean): string {
  const stamp = createdAt
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `overskill-${stamp}-${type}-${id.slice(0, 8)}.tar.zst${encrypted ? '.age' : ''}`;
}

export const ARCHIVE_NAME = /^overskill-\d{8}T\d{6}Z-[a-z]+-[0-9a-f]{8}\.tar\.zst(\.age)?$/;
