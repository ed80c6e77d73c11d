import type { CliCommand } from '../command';
import { dbMaintenanceCommand } from './db-maintenance.command';
import { gitResetCommand } from './git-reset.command';
import { securityAuditCommand } from './security-audit.command';

// Every command in the registry form; main.ts dispatches these before the older handlers.
export const COMMANDS: CliCommand[] = [securityAuditCommand, gitResetCommand, dbMaintenanceCommand];
