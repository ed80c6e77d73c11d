import type { CliCommand } from '../command';

// Every command in the registry form; main.ts dispatches these before the older handlers.
export const COMMANDS: CliCommand[] = [];
