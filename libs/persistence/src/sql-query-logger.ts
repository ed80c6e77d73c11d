import { sqlLogging } from '@overskill/observability';
import type { Logger, QueryRunner } from 'typeorm';

// TypeORM hands every statement here; nothing is written unless SQL logging is switched on.
export class SqlQueryLogger implements Logger {
  constructor(private readonly schema: string) {}

  logQuery(query: string, parameters?: unknown[], _runner?: QueryRunner): void {
    sqlLogging.statement(this.schema, query, parameters);
  }

  logQueryError(error: string | Error, query: string, parameters?: unknown[], _runner?: QueryRunner): void {
    sqlLogging.statement(this.schema, query, parameters, { error: error instanceof Error ? error.message : error });
  }

  logQuerySlow(time: number, query: string, parameters?: unknown[], _runner?: QueryRunner): void {
    sqlLogging.statement(this.schema, query, parameters, { duration: time, slow: true });
  }

  logSchemaBuild(): void {
    // Schema changes go through migrations, which log their own progress.
  }

  logMigration(): void {
    // As above.
  }

  log(): void {
    // TypeORM's own notices are not statements.
  }
}
