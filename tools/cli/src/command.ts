import { parseArgs } from 'node:util';
import type { CliContext } from './cli-context';
import { CliError } from './cli-context';

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

export interface CommandResult {
  text: string;
  code?: number;
}

// One command of the CLI: its words, its help lines and its options, parsed strictly before run()
// is called, so an unknown flag or a value given to a boolean (`--dry-run=true`) is refused.
export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface CliCommand {
  words: string[];
  help: string;
  options: OptionSpec;
  // How many positionals after the command's words it takes (default 0).
  positionals?: { min: number; max: number };
  run(ctx: CliContext, values: OptionValues, positionals: string[]): Promise<CommandResult | string>;
}

const COMMON: OptionSpec = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } };

export function parseCommandArgs(command: CliCommand, argv: string[]): { values: OptionValues; positionals: string[] } {
  const name = command.words.join(' ');
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON, ...command.options }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new CliError(`${name}: ${(err as Error).message.replace(/\. To specify.*$/s, '')}; see \`npx overskill ${name} --help\``);
  }
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    throw new CliError(`${name}: takes ${want} argument${max === 1 ? '' : 's'} after the command, got ${parsed.positionals.length}; see \`npx overskill ${name} --help\``);
  }
  return { values: parsed.values, positionals: parsed.positionals };
}

// The longest run of leading words of argv that names a command, so `cache stats --json` finds `cache stats`.
export function findCommand(commands: CliCommand[], argv: string[]): { command: CliCommand; rest: string[] } | undefined {
  let best: { command: CliCommand; rest: string[] } | undefined;
  for (const command of commands) {
    const n = command.words.length;
    if (argv.length >= n && command.words.every((w, i) => argv[i] === w) && (!best || n > best.command.words.length)) {
      best = { command, rest: argv.slice(n) };
    }
  }
  return best;
}
