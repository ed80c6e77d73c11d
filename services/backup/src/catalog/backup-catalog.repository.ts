import { Injectable } from '@nestjs/common';
import { DataSource } from 'typeorm';
import { BackupEntity } from '../persistence/entities';

@Injectable()
export class BackupCatalogRepository {
  constructor(private readonly dataSource: DataSource) {}

  latest(limit: number): Promise<BackupEntity[]> {
    return this.dataSource.getRepository(BackupEntity).find({ order: { createdAt: 'DESC' }, take: limit });
  }
}
