import type { CliCommand } from '../command';
import { aiStatus, aiSwitchModel, aiTest, aiUsage } from './ai.command';
import { BACKUP_COMMANDS } from './backup.command';
import { cacheCleanup, cacheStats } from './cache.command';
import { gitCleanup } from './git-cleanup.command';
import { keysCreate, keysList, keysRevoke, keysRotate } from './keys.command';
import { githubRateLimit, projectsAdd, projectsList, projectsRemove, tasksList, tasksShow } from './projects.command';
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
  aiStatus,
  aiSwitchModel,
  aiUsage,
  aiTest,
  cacheStats,
  cacheCleanup,
  toolsStats,
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
