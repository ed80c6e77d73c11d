import { Rpc } from '@overskill/contracts';
import type { CliCommand } from '../command';
import { CliError } from '../cli-context';
import { formatBytes } from '../progress/units';
import { withProgress } from '../progress/backup-progress';

// VACUUM of a large table takes minutes.
const MAINTENANCE_TIMEOUT_MS = 4 * 3600_000;

// The seed's weekly `db:maintenance:vacuum` / `db:maintenance:analyze` over every service schema.
export const dbMaintenanceCommand: CliCommand = {
  words: ['db', 'maintenance'],
  help: `  db maintenance vacuum|analyze [--json]  VACUUM (ANALYZE) or ANALYZE every table of every service schema, with each
                                          table's size and dead rows before and after`,
  options: {},
  positionals: { min: 1, max: 1 },
  async run(ctx, values, [operation]) {
    if (operation !== 'vacuum' && operation !== 'analyze') throw new CliError(`db maintenance takes vacuum or analyze, not "${operation}"`);
    const json = values.json === true;
    const r = await withProgress(ctx, `db maintenance ${operation}`, json, (progressSubject) =>
      ctx.rpc.send(Rpc.databaseMaintain, { operation, progressSubject }, { timeoutMs: MAINTENANCE_TIMEOUT_MS }),
    );
    const tables = r.tables.map((t) => ({
      schema: t.schema,
      table: t.table,
      bytesBefore: Number(t.bytesBefore),
      bytesAfter: Number(t.bytesAfter),
      deadRowsBefore: Number(t.deadRowsBefore),
      deadRowsAfter: Number(t.deadRowsAfter),
      durationMs: Number(t.durationMs),
    }));
    if (json) {
      return JSON.stringify({
        operation: r.operation,
        schemas: r.schemas,
        bytesBefore: Number(r.bytesBefore),
        bytesAfter: Number(r.bytesAfter),
        durationMs: Number(r.durationMs),
        tables,
      });
    }
    const lines = [
      `db maintenance ${r.operation}: ${tables.length} tables in ${r.schemas.join(', ') || 'no schema'}, ${formatBytes(Number(r.bytesBefore))} → ${formatBytes(Number(r.bytesAfter))} in ${(Number(r.durationMs) / 1000).toFixed(1)} s`,
    ];
    for (const t of tables) {
      lines.push(
        `  ${`${t.schema}.${t.table}`.padEnd(40)} ${formatBytes(t.bytesBefore).padStart(9)} → ${formatBytes(t.bytesAfter).padStart(9)}   dead rows ${t.deadRowsBefore} → ${t.deadRowsAfter}`,
      );
    }
    return lines.join('\n');
  },
};
