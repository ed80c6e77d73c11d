import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'teams' })
export class TeamEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('varchar', { length: 64, unique: true }) slug: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

@Entity({ name: 'users' })
export class UserEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'team_id' }) teamId: string;
  @Column('varchar', { length: 254 }) email: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

export type RoleName = 'owner' | 'admin' | 'member' | 'viewer';

@Entity({ name: 'api_keys' })
export class ApiKeyEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('uuid', { name: 'team_id' }) teamId: string;
  @Column('varchar', { length: 16, unique: true }) prefix: string;
  // sha256 of the whole key; the key itself is never stored.
  @Column('varchar', { name: 'key_hash', length: 64 }) keyHash: string;
  @Column('varchar', { length: 16 }) role: RoleName;
  @Column('varchar', { length: 100 }) name: string;
  // Empty = everything the role allows.
  @Column('text', { array: true, default: () => "'{}'" }) scopes: string[];
  @Column('uuid', { name: 'user_id', nullable: true }) userId: string | null;
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
  @Column('timestamptz', { name: 'rotated_at', nullable: true }) rotatedAt: Date | null;
  @Column('uuid', { name: 'replaced_by', nullable: true }) replacedBy: string | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

// Append-only (a trigger refuses UPDATE/DELETE/TRUNCATE); written and read with plain SQL.
@Entity({ name: 'audit_log' })
export class AuditLogEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt: Date;
  @Column('uuid', { name: 'team_id', nullable: true }) teamId: string | null;
  @Column('varchar', { length: 64 }) actor: string;
  @Column('varchar', { name: 'key_prefix', length: 16 }) keyPrefix: string;
  @Column('varchar', { length: 200 }) action: string;
  @Column('varchar', { length: 300 }) target: string;
  @Column('varchar', { length: 64 }) ip: string;
  @Column('varchar', { length: 64 }) result: string;
  @Column('integer') status: number;
  @Column('varchar', { name: 'correlation_id', length: 128 }) correlationId: string;
}

export const GATEWAY_ENTITIES = [TeamEntity, UserEntity, ApiKeyEntity, AuditLogEntity];
