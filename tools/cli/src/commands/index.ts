import type { CliCommand } from '../command';
import { analyticsRebuildCommand } from './analytics-rebuild.command';
import { analyticsTestCommand } from './analytics-test.command';
import { costReportCommand } from './cost-report.command';
import { dbMaintenanceCommand } from './db-maintenance.command';
import { gitResetCommand } from './git-reset.command';
import { performanceReportCommand } from './performance-report.command';
import { securityAuditCommand } from './security-audit.command';

// Every command in the registry form; main.ts dispatches these before the older handlers.
export const COMMANDS: CliCommand[] = [
  analyticsTestCommand,
  analyticsRebuildCommand,
  performanceReportCommand,
  costReportCommand,
  securityAuditCommand,
  gitResetCommand,
  dbMaintenanceCommand,
];
