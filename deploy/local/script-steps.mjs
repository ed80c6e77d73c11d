// Shared by test.mjs, bench.mjs and start.mjs: numbered steps with a header and a duration,
// each a child process whose output streams through.
import { spawnSync } from 'node:child_process';
import { REPO_ROOT } from './bootstrap.mjs';

export class StepFailedError extends Error {}

function seconds(ms) {
  return `${(ms / 1000).toFixed(1)} s`;
}

/** Runs `work` under a "==> title" header and prints how long it took; a throw fails the step. */
export async function step(title, work) {
  console.log(`\n==> ${title}`);
  const started = Date.now();
  try {
    const result = await work();
    console.log(`<== ${title}: ok (${seconds(Date.now() - started)})`);
    return result;
  } catch (error) {
    console.log(`<== ${title}: FAILED (${seconds(Date.now() - started)})`);
    throw error instanceof StepFailedError ? error : new StepFailedError(`${title}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

/** Runs a command in the repo root with inherited stdio; throws StepFailedError on a non-zero exit. */
export function runCommand(command, args, options = {}) {
  const result = spawnSync(command, args, { cwd: REPO_ROOT, stdio: 'inherit', ...options });
  if (result.error) throw new StepFailedError(`could not run ${command}: ${result.error.message}`);
  if (result.status !== 0) {
    const how = result.signal ? `signal ${result.signal}` : `exit code ${result.status}`;
    throw new StepFailedError(`${[command, ...args].join(' ')} failed with ${how}`);
  }
}
