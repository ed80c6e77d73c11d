import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeHeapSnapshot } from 'node:v8';
import type { Logger } from 'pino';

export interface HeapSnapshotOptions {
  service: string;
  dir: string;
  logger: Logger;
}

// The seed's `kill -USR2 <pid>`: a heap snapshot of a live process for a leak hunt, no restart.
// Writing blocks the process for about a second per 100 MB of heap; the log says how long.
export function writeHeapSnapshotOnSignal(opts: HeapSnapshotOptions, signal: NodeJS.Signals = 'SIGUSR2'): void {
  process.on(signal, () => {
    const started = performance.now();
    try {
      // Snapshots hold every secret the process has in memory: owner-only.
      mkdirSync(opts.dir, { recursive: true, mode: 0o700 });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const file = writeHeapSnapshot(join(opts.dir, `${opts.service}-${process.pid}-${stamp}.heapsnapshot`));
      opts.logger.info({ file, ms: Math.round(performance.now() - started) }, 'heap snapshot written');
    } catch (err) {
      opts.logger.error({ err, dir: opts.dir }, 'heap snapshot failed');
    }
  });
}
