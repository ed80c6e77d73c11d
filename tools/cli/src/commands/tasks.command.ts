import { Rpc, taskView } from '@overskill/contracts';
import { defineCommand } from '../command';
import { taskLine } from './projects.command';

function taskAction(action: 'cancel' | 'retry', help: string) {
  // Strict flags: these change what runs, so a mistyped option is an error, never ignored.
  return defineCommand({
    words: ['tasks', action],
    help,
    options: { team: { type: 'string', required: true } },
    positionals: { min: 1, max: 1 },
    async run(ctx, values, [taskId = '']) {
      const req = { teamId: values.team, taskId };
      const t = action === 'cancel' ? await ctx.rpc.send(Rpc.taskCancel, req) : await ctx.rpc.send(Rpc.taskRetry, req);
      if (values.json) return JSON.stringify(taskView(t));
      const cancelled = t.status === 'running' ? 'cancel requested; the run stops at its next step' : `task is ${t.status}`;
      const what = action === 'cancel' ? cancelled : 'queued again on its branch';
      return `${taskLine(t)}\n${what}`;
    },
  });
}

// `tasks cancel|retry <taskId> --team <id> [--json]`
export const tasksCancel = taskAction(
  'cancel',
  `  tasks cancel <taskId> --team <id>       Cancel a queued or running task (its run stops)
               [--json]`,
);
export const tasksRetry = taskAction(
  'retry',
  `  tasks retry <taskId> --team <id>        Queue a failed or cancelled task again, on the same branch
              [--json]`,
);
