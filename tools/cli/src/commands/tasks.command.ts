import { Rpc, taskView } from '@overskill/contracts';
import { parseArgs } from 'node:util';
import type { CliContext } from '../cli-context';
import { CliError } from '../cli-context';
import { taskLine } from './projects.command';

export const TASK_ACTIONS = ['cancel', 'retry'] as const;
export type TaskAction = (typeof TASK_ACTIONS)[number];

export function isTaskAction(sub: string | undefined): sub is TaskAction {
  return (TASK_ACTIONS as readonly string[]).includes(sub ?? '');
}

// Strict flags: these change what runs, so a mistyped option is an error, never ignored.
function parse(action: TaskAction, argv: string[]) {
  try {
    return parseArgs({ args: argv, options: { team: { type: 'string' }, json: { type: 'boolean' } }, strict: true, allowPositionals: true });
  } catch (err) {
    throw new CliError(`tasks ${action}: ${(err as Error).message.replace(/\. To specify.*$/s, '')}; see \`npx overskill --help\``);
  }
}

// `tasks cancel|retry <taskId> --team <id> [--json]`
export async function taskAction(ctx: CliContext, action: TaskAction, argv: string[]): Promise<string> {
  const { values, positionals } = parse(action, argv);
  const [taskId, ...extra] = positionals;
  if (!taskId || extra.length > 0) throw new CliError(`tasks ${action} needs exactly one task id`);
  if (!values.team) throw new CliError(`tasks ${action} needs --team <team id>`);
  const req = { teamId: values.team, taskId };
  const t = action === 'cancel' ? await ctx.rpc.send(Rpc.taskCancel, req) : await ctx.rpc.send(Rpc.taskRetry, req);
  if (values.json) return JSON.stringify(taskView(t));
  const what = action === 'cancel' ? (t.status === 'running' ? 'cancel requested; the run stops at its next step' : `task is ${t.status}`) : 'queued again on its branch';
  return `${taskLine(t)}\n${what}`;
}
