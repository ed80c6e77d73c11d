import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { EventEntity } from '../persistence/entities';

@Injectable()
export class EventsRepository {
  constructor(private readonly dataSource: DataSource) {}

  count(type: string, teamId?: string): Promise<number> {
    return this.dataSource.getRepository(EventEntity).countBy(teamId ? { type, teamId } : { type });
  }
}
