import type { ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';

// A child's stdout and stderr appended to one file. Neither stream may end the file, or the
// other's last lines are a write after end (an unhandled error that fails the suite); it ends once
// the child has closed both.
export function logChildOutput(child: ChildProcess, logFile: string): void {
  const log = createWriteStream(logFile, { flags: 'a' });
  child.stdout?.pipe(log, { end: false });
  child.stderr?.pipe(log, { end: false });
  child.once('close', () => log.end());
}
