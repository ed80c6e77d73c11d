import type { CliCommand } from '../command';
import { aiStatus, aiSwitchModel, aiTest, aiUsage } from './ai.command';
import { analyticsRebuildCommand } from './analytics-rebuild.command';
import { analyticsTestCommand } from './analytics-test.command';
import { BACKUP_COMMANDS } from './backup.command';
import { cacheCleanup, cacheStats } from './cache.command';
import { costReportCommand } from './cost-report.command';
import { dbMaintenanceCommand } from './db-maintenance.command';
import { gitCleanup } from './git-cleanup.command';
import { gitResetCommand } from './git-reset.command';
import { keysCreate, keysList, keysRevoke, keysRotate } from './keys.command';
import { performanceReportCommand } from './performance-report.command';
import { githubRateLimit, projectsAdd, projectsList, projectsRemove, tasksList, tasksShow } from './projects.command';
import { securityAuditCommand } from './security-audit.command';
import { sqlLoggingCommand } from './sql-logging.command';
import { status } from './status.command';
import { tasksCancel, tasksRetry } from './tasks.command';
import { toolsStats } from './tools-stats.command';

// Every command of the CLI, in the order `--help` lists them.
export const COMMANDS: CliCommand[] = [
  status,
  keysCreate,
  keysList,
  keysRotate,
  keysRevoke,
  gitCleanup,
  gitResetCommand,
  aiStatus,
  aiSwitchModel,
  aiUsage,
  aiTest,
  cacheStats,
  cacheCleanup,
  toolsStats,
  analyticsTestCommand,
  analyticsRebuildCommand,
  performanceReportCommand,
  costReportCommand,
  securityAuditCommand,
  dbMaintenanceCommand,
  sqlLoggingCommand,
  ...BACKUP_COMMANDS,
  projectsList,
  projectsAdd,
  projectsRemove,
  tasksList,
  tasksShow,
  tasksCancel,
  tasksRetry,
  githubRateLimit,
];
