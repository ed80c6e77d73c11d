import { Inject, Injectable } from '@nestjs/common';
import { AppError, ErrorCode, type Rpc } from '@overskill/contracts';
import type { RpcReply } from '@overskill/messaging';
import { LOGGER } from '@overskill/observability';
import type { Logger } from 'pino';
import type { Progress } from '../progress/progress';
import { DatabaseMaintenanceRepository } from './database-maintenance.repository';

// The seed's weekly `db:maintenance:vacuum` and `db:maintenance:analyze`, table by table over
// every service schema, with each table's size and dead rows before and after.
@Injectable()
export class DatabaseMaintenanceService {
  constructor(
    private readonly db: DatabaseMaintenanceRepository,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async maintain(operation: string, progress: Progress): Promise<RpcReply<typeof Rpc.databaseMaintain>> {
    if (operation !== 'vacuum' && operation !== 'analyze')
      throw new AppError(ErrorCode.VALIDATION_FAILED, `operation must be vacuum or analyze, not "${operation.slice(0, 40)}"`);
    const started = Date.now();
    const schemas = await this.db.schemas();
    const before = await this.db.tables(schemas);
    const tables: {
      schema: string;
      table: string;
      bytesBefore: bigint;
      bytesAfter: bigint;
      deadRowsBefore: bigint;
      deadRowsAfter: bigint;
      durationMs: bigint;
    }[] = [];
    for (const [i, t] of before.entries()) {
      progress('tables', i, before.length, 'tables');
      const tableStarted = Date.now();
      await this.db.run(operation, t.schema, t.table);
      const after = await this.db.table(t.schema, t.table);
      tables.push({
        schema: t.schema,
        table: t.table,
        bytesBefore: BigInt(t.bytes),
        bytesAfter: BigInt(after.bytes),
        deadRowsBefore: BigInt(t.deadRows),
        deadRowsAfter: BigInt(after.deadRows),
        durationMs: BigInt(Date.now() - tableStarted),
      });
    }
    progress('tables', before.length, before.length, 'tables');
    const sum = (pick: (t: (typeof tables)[number]) => bigint) => tables.reduce((n, t) => n + pick(t), 0n);
    const durationMs = Date.now() - started;
    this.logger.info({ operation, tables: tables.length, schemas, duration: durationMs }, 'database maintenance finished');
    return { operation, tables, schemas, bytesBefore: sum((t) => t.bytesBefore), bytesAfter: sum((t) => t.bytesAfter), durationMs: BigInt(durationMs) };
  }
}
