import { AppError } from '@overskill/contracts';
import { CliError, openCliContext, type CliContext } from './cli-context';
import { aiStatus, aiSwitchModel, aiUsage } from './commands/ai.command';
import { BACKUP_HELP, backupCommand, isBackupSubcommand } from './commands/backup.command';
import { gitCleanup } from './commands/git-cleanup.command';
import { keysCreate, keysList, keysRevoke, keysRotate } from './commands/keys.command';
import { githubRateLimit, projectsAdd, projectsList, projectsRemove, tasksList, tasksShow } from './commands/projects.command';
import { COMMANDS } from './commands';
import { status } from './commands/status.command';
import { findCommand, parseCommandArgs } from './command';
import { isTaskAction, taskAction } from './commands/tasks.command';
import { parseArgs } from './parse-args';

const HELP = `overskill — operator CLI

Usage: npx overskill <command> [options]

Commands:
  status [--json]                         Readiness of every service and its dependencies, with latency
  keys create --team <slug> --role <role> Create an API key (owner|admin|member|viewer); shown once
              [--name <text>] [--scopes a,b] [--expires <ISO-8601|30d>] [--user <email>] [--json]
  keys list --team <slug> [--all] [--json] The team's keys (never their secrets); --all includes revoked
  keys rotate <keyId> [--grace <seconds>] New secret now; the old key works for the grace period
              [--json]                    (default GATEWAY_KEY_ROTATION_GRACE_SECONDS)
  keys revoke <keyId> [--json]            Revoke at once on every gateway replica
  git cleanup [--dry-run] [--grace <dur>] Remove repositories whose app is gone and that were untouched for
              [--json]                    the grace period (7d, 12h, 30m; default GIT_ORPHAN_GRACE_SECONDS)
  ai status [--json]                      Active model alias, models and their circuit breakers, cache stats
  ai switch-model <alias> [--json]        Route primary to another alias (fallback, …; primary = back to normal)
  ai usage --team <id> [--day <date>]     A team's model calls, tokens and spend on a UTC day
           [--json]
${BACKUP_HELP}
${COMMANDS.map((c) => c.help).join('\n')}
  projects list --team <id> [--json]      The team's GitHub projects (never their credentials)
  projects add --team <id> --repo <o/n>   Add a project; the token is read from $GITHUB_TOKEN (or --token-env <VAR>),
               [--app-id <n> --installation-id <n> --private-key-file <pem>]  or a GitHub App installation;
               [--base <branch>] [--answer pull_request|comment|auto] [--concurrency <n>] [--json]
  projects remove <projectId> --team <id> Remove a project
  tasks list --team <id> [--project <id>] A project's tasks, or the team's queued and running tasks
             [--json]
  tasks show <taskId> --team <id>         One task
  tasks cancel <taskId> --team <id>       Cancel a queued or running task (its run stops)
               [--json]
  tasks retry <taskId> --team <id>        Queue a failed or cancelled task again, on the same branch
              [--json]
  github rate-limit --team <id>           GitHub's quota for a project's credentials (GET /rate_limit)
                    --project <id> [--json]

Options:
  --help, -h                              Show this help

Environment:
  NATS_URL                                Where the platform's NATS is (default nats://127.0.0.1:4222)
  NATS_NKEY_SEED_FILE, NATS_NKEY_SEED     The CLI's NATS identity (npm start writes .data/cli.nkey)
  NATS_TLS_CA_FILE, NATS_TLS_CERT_FILE, NATS_TLS_KEY_FILE   TLS to NATS, when the server requires it

More commands (cache, tools) arrive with their issues; see docs/cli.md.`;

type Command = (ctx: CliContext, target: string | undefined, flags: Record<string, string | true>) => Promise<string>;

// GitHub projects and their tasks.
const GITHUB_COMMANDS: Record<string, Command> = {
  'projects list': (ctx, _target, flags) => projectsList(ctx, flags),
  'projects add': (ctx, _target, flags) => projectsAdd(ctx, flags),
  'projects remove': projectsRemove,
  'tasks list': (ctx, _target, flags) => tasksList(ctx, flags),
  'tasks show': tasksShow,
  'github rate-limit': (ctx, _target, flags) => githubRateLimit(ctx, flags),
};

async function main(argv: string[]): Promise<number> {
  const found = findCommand(COMMANDS, argv);
  if (found) {
    const { values, positionals } = parseCommandArgs(found.command, found.rest);
    if (values.help) {
      process.stdout.write(`${found.command.help}\n`);
      return 0;
    }
    return withContext(process.env.NATS_URL ?? 'nats://127.0.0.1:4222', async (ctx) => {
      const result = await found.command.run(ctx, values, positionals);
      const { text, code } = typeof result === 'string' ? { text: result, code: 0 } : result;
      process.stdout.write(`${text}\n`);
      return code ?? 0;
    });
  }
  const { positional, flags } = parseArgs(argv);
  const [command, sub] = positional;
  if (!command || flags.help || command === 'help') {
    process.stdout.write(`${HELP}\n`);
    return command || flags.help ? 0 : 1;
  }
  const natsUrl = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
  // Backup commands parse their own flags strictly: a mistyped --forse must not restore live data.
  if (command === 'backup' && isBackupSubcommand(sub)) {
    const rest = argv.slice(argv.indexOf(sub) + 1);
    return withContext(natsUrl, async (ctx) => {
      const result = await backupCommand(ctx, sub, rest);
      process.stdout.write(`${result.text}\n`);
      return result.code;
    });
  }
  if (command === 'keys' && sub && ['create', 'list', 'rotate', 'revoke'].includes(sub)) {
    const target = positional[2];
    return withContext(natsUrl, async (ctx) => {
      const out =
        sub === 'create' ? await keysCreate(ctx, flags) : sub === 'list' ? await keysList(ctx, flags) : sub === 'rotate' ? await keysRotate(ctx, target, flags) : await keysRevoke(ctx, target, flags);
      process.stdout.write(`${out}\n`);
      return 0;
    });
  }
  if (command === 'git' && sub === 'cleanup') {
    return withContext(natsUrl, async (ctx) => {
      process.stdout.write(`${await gitCleanup(ctx, flags)}\n`);
      return 0;
    });
  }
  if (command === 'ai' && (sub === 'status' || sub === 'switch-model' || sub === 'usage')) {
    return withContext(natsUrl, async (ctx) => {
      const text = sub === 'status' ? await aiStatus(ctx, flags) : sub === 'usage' ? await aiUsage(ctx, flags) : await aiSwitchModel(ctx, positional[2], flags);
      process.stdout.write(`${text}\n`);
      return 0;
    });
  }
  if (command === 'tasks' && isTaskAction(sub)) {
    const rest = argv.slice(argv.indexOf(sub) + 1);
    return withContext(natsUrl, async (ctx) => {
      process.stdout.write(`${await taskAction(ctx, sub, rest)}\n`);
      return 0;
    });
  }
  const github = GITHUB_COMMANDS[`${command} ${sub ?? ''}`];
  if (github) {
    return withContext(natsUrl, async (ctx) => {
      process.stdout.write(`${await github(ctx, positional[2], flags)}\n`);
      return 0;
    });
  }
  if (command === 'status') {
    return withContext(natsUrl, async (ctx) => {
      const result = await status(ctx, flags);
      process.stdout.write(`${result.text}\n`);
      return result.ok ? 0 : 1;
    });
  }
  throw new CliError(`unknown command "${positional.join(' ')}"; see \`npx overskill --help\``);
}

async function withContext(natsUrl: string, fn: (ctx: Awaited<ReturnType<typeof openCliContext>>) => Promise<number>): Promise<number> {
  const ctx = await openCliContext(natsUrl);
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const message = err instanceof CliError ? err.message : err instanceof AppError ? `${err.code}: ${err.message}` : `unexpected error: ${(err as Error)?.message ?? String(err)}`;
    process.stderr.write(`overskill: ${message}\n`);
    process.exit(err instanceof CliError ? 2 : 1);
  },
);
