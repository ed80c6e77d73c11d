// First: the compile cache, for every module after it.
import '@overskill/runtime/compile-cache';
import { AppError } from '@overskill/contracts';
import { CliError, openCliContext } from './cli-context';
import { commandsUnder, findCommand, parseCommandArgs, type CliCommand } from './command';
import { COMMANDS } from './commands';

const ENVIRONMENT = `Options:
  --help, -h                              Show this help (also after any command: \`overskill keys create --help\`)
  --json                                  Machine-readable output on stdout (progress stays on stderr)

Environment:
  NATS_URL                                Where the platform's NATS is (default nats://127.0.0.1:4222)
  NATS_NKEY_SEED_FILE, NATS_NKEY_SEED     The CLI's NATS identity (npm start writes .data/cli.nkey)
  NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE   TLS to NATS, when the server requires it

Exit codes: 0 done, 1 the platform answered with an error or could not be reached, 2 bad arguments or configuration.
See docs/cli.md.`;

function helpText(commands: CliCommand[]): string {
  return `overskill — operator CLI

Usage: npx overskill <command> [options]

Commands:
${commands.map((c) => c.help).join('\n')}

${ENVIRONMENT}`;
}

async function main(argv: string[]): Promise<number> {
  if (argv.length === 0 || argv[0] === 'help' || argv[0] === '--help' || argv[0] === '-h') {
    process.stdout.write(`${helpText(COMMANDS)}\n`);
    return argv.length === 0 ? 2 : 0;
  }
  const found = findCommand(COMMANDS, argv);
  if (!found) {
    // `overskill keys` or `overskill keys --help`: the group's commands.
    const words = argv.filter((a) => !a.startsWith('-'));
    const group = commandsUnder(COMMANDS, words.slice(0, 1));
    if (group.length > 0 && argv.slice(1).every((a) => a === '--help' || a === '-h') && argv.length > 1) {
      process.stdout.write(`${group.map((c) => c.help).join('\n')}\n`);
      return 0;
    }
    const hint = group.length > 0 ? `; "${words[0]}" takes ${group.map((c) => c.words.slice(1).join(' ')).join(', ')}` : '';
    throw new CliError(`unknown command "${words.join(' ')}"${hint}; see \`npx overskill --help\``);
  }
  const { values, positionals } = parseCommandArgs(found.command, found.rest);
  if (values.help) {
    process.stdout.write(`${found.command.help}\n`);
    return 0;
  }
  const ctx = await openCliContext(process.env.NATS_URL ?? 'nats://127.0.0.1:4222');
  try {
    const result = await found.command.run(ctx, values, positionals);
    const { text, code } = typeof result === 'string' ? { text: result, code: 0 } : result;
    process.stdout.write(`${text}\n`);
    return code ?? 0;
  } finally {
    await ctx.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const unexpected = `unexpected error: ${(err as Error)?.message ?? String(err)}`;
    const message = err instanceof CliError ? err.message : err instanceof AppError ? `${err.code}: ${err.message}` : unexpected;
    process.stderr.write(`overskill: ${message}\n`);
    process.exit(err instanceof CliError ? err.exitCode : 1);
  },
);
