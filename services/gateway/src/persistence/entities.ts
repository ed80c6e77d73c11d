import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'teams' })
export class TeamEntity {
  @PrimaryColumn('uuid') id: string;
  @Column('varchar', { length: 64, unique: true }) slug: string;
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
  @Column('timestamptz', { name: 'expires_at', nullable: true }) expiresAt: Date | null;
  @Column('timestamptz', { name: 'revoked_at', nullable: true }) revokedAt: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt: Date;
}

export const GATEWAY_ENTITIES = [TeamEntity, ApiKeyEntity];
