import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

// One row per platform fact; event_id makes a redelivered event a no-op.
@Entity({ name: 'events' })
@Index(['type', 'occurredAt'])
export class EventEntity {
  @PrimaryColumn('uuid', { name: 'event_id' }) eventId: string;
  @Column('varchar', { length: 100 }) type: string;
  @Column('timestamptz', { name: 'occurred_at' }) occurredAt: Date;
  @Column('uuid', { name: 'team_id', nullable: true }) teamId: string | null;
  @Column('uuid', { name: 'app_id', nullable: true }) appId: string | null;
  @Column('uuid', { name: 'run_id', nullable: true }) runId: string | null;
  @Column('jsonb', { default: {} }) attributes: Record<string, unknown>;
}
