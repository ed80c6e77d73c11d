import { parseArgs } from 'node:util';
import type { CliContext } from './cli-context';
import { CliError } from './cli-context';

// `required` is checked after parsing (parseArgs has no notion of it) and never passed to parseArgs.
export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean; required?: boolean }>;

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

const COMMON = { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const satisfies OptionSpec;

// The values parseArgs gives for a spec: strings for string options, booleans for switches.
export type ValuesOf<O extends OptionSpec> = {
  [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean | undefined : O[K]['required'] extends true ? string : string | undefined;
} & { json?: boolean; help?: boolean };

// A command whose run() sees its options typed from the spec; the registry stores it as a CliCommand.
export function defineCommand<const O extends OptionSpec>(command: {
  words: string[];
  help: string;
  options: O;
  positionals?: { min: number; max: number };
  run(ctx: CliContext, values: ValuesOf<O>, positionals: string[]): Promise<CommandResult | string>;
}): CliCommand {
  return { ...command, run: (ctx, values, positionals) => command.run(ctx, values as ValuesOf<O>, positionals) };
}

export function parseCommandArgs(command: CliCommand, argv: string[]): { values: OptionValues; positionals: string[] } {
  const name = command.words.join(' ');
  const see = `see \`npx overskill ${name} --help\``;
  const spec: OptionSpec = { ...COMMON, ...command.options };
  const options = Object.fromEntries(Object.entries(spec).map(([k, { required: _required, ...o }]) => [k, o]));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, strict: true, allowPositionals: true });
  } catch (err) {
    const message = (err as Error).message.replace(/\. To specify.*$/s, '');
    const unknown = /^Unknown option '--([^']+)'/.exec(message)?.[1];
    const near = unknown ? Object.keys(spec).find((k) => editDistance(k, unknown) <= 2) : undefined;
    throw new CliError(`${name}: ${message}${near ? ` (did you mean --${near}?)` : ''}; ${see}`);
  }
  if (parsed.values.help) return { values: parsed.values, positionals: parsed.positionals };
  const missing = Object.entries(command.options)
    .filter(([k, o]) => o.required && parsed.values[k] === undefined)
    .map(([k]) => `--${k}`);
  if (missing.length > 0) throw new CliError(`${name}: missing required option${missing.length > 1 ? 's' : ''} ${missing.join(', ')}; ${see}`);
  const empty = Object.entries(parsed.values as OptionValues).find(([k, v]) => command.options[k]?.type === 'string' && v === '');
  if (empty) throw new CliError(`${name}: --${empty[0]} needs a value; ${see}`);
  const { min, max } = command.positionals ?? { min: 0, max: 0 };
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    const want = min === max ? `${min}` : `${min} to ${max}`;
    const got = parsed.positionals.length > max ? ` (unexpected "${parsed.positionals.slice(max).join(' ')}")` : '';
    throw new CliError(`${name}: takes ${want} argument${max === 1 ? '' : 's'} after the command, got ${parsed.positionals.length}${got}; ${see}`);
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

// The commands under a group word (`keys`), for `overskill keys` and `overskill keys --help`.
export function commandsUnder(commands: CliCommand[], words: string[]): CliCommand[] {
  return commands.filter((c) => c.words.length > words.length && words.every((w, i) => c.words[i] === w));
}

// Levenshtein distance, to suggest the option a typo meant (`--dryrun` → `--dry-run`).
function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next.push(Math.min((row[j] ?? 0) + 1, (next[j - 1] ?? 0) + 1, (row[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1)));
    row = next;
  }
  return row[b.length] ?? 0;
}
