import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';
import type { BackupManifest } from '../archive/backup-manifest';

@Entity({ name: 'backups' })
export class BackupEntity {
  @PrimaryColumn('uuid') id: string;
  // full | database | repos | config | redis
  @Column('varchar', { length: 20 }) kind: string;
  // running | completed | failed (no archive to trust); a failed verify is in verify_error
  @Column('varchar', { length: 20 }) status: string;
  @Column('text', { default: '' }) path: string;
  @Column('text', { name: 'file_name', default: '' }) fileName: string;
  @Column('text', { name: 'copy_path', default: '' }) copyPath: string;
  @Column('bigint', { name: 'size_bytes', default: 0 }) sizeBytes: string;
  @Column('varchar', { length: 64, default: '' }) sha256: string;
  @Column('boolean', { default: false }) encrypted: boolean;
  @Column('text', { default: '' }) error: string;
  @Column('jsonb', { nullable: true }) manifest: BackupManifest | null;
  // manual | schedule | safety (taken before a restore over live data) | deploy
  @Column('varchar', { length: 20, default: 'manual' }) trigger: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
  // Renewed while a backup runs: a running row whose heartbeat stopped was interrupted.
  @Column('timestamptz', { name: 'heartbeat_at', nullable: true }) heartbeatAt: Date | null;
  // Bytes staged and written so far while running: what the CLI shows as progress.
  @Column('bigint', { name: 'progress_bytes', default: 0 }) progressBytes: string;
  @Column('timestamptz', { name: 'verified_at', nullable: true }) verifiedAt: Date | null;
  @Column('text', { name: 'verify_error', default: '' }) verifyError: string;
  @Column('timestamptz', { name: 'drilled_at', nullable: true }) drilledAt: Date | null;
  @Column('boolean', { name: 'drill_ok', nullable: true }) drillOk: boolean | null;
  @Column('integer', { name: 'drill_rto_ms', nullable: true }) drillRtoMs: number | null;
  @Column('text', { name: 'drill_detail', default: '' }) drillDetail: string;
  @Column('timestamptz', { name: 'deleted_at', nullable: true }) deletedAt: Date | null;
}
