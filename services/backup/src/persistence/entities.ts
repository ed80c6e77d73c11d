import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'backups' })
export class BackupEntity {
  @PrimaryColumn('uuid') id: string;
  // full | database | workspaces | redis | configuration
  @Column('varchar', { length: 20 }) kind: string;
  // running | completed | failed | verified
  @Column('varchar', { length: 20 }) status: string;
  @Column('text', { default: '' }) path: string;
  @Column('bigint', { name: 'size_bytes', default: 0 }) sizeBytes: string;
  @Column('varchar', { length: 64, default: '' }) sha256: string;
  @Column('boolean', { default: false }) encrypted: boolean;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
  @Column('timestamptz', { name: 'finished_at', nullable: true }) finishedAt: Date | null;
}
