import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logChildOutput } from './child-log';

describe('logChildOutput', () => {
  it('keeps what one stream writes after the other has closed', async () => {
    const logFile = join(mkdtempSync(join(tmpdir(), 'child-log-')), 'service.log');
    const child = spawn(process.execPath, ['-e', "process.stdout.end('first\\n'); setTimeout(() => process.stderr.write('after stdout closed\\n'), 100)"], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const errors: unknown[] = [];
    const caught = (err: unknown) => errors.push(err);
    process.on('uncaughtException', caught);
    try {
      logChildOutput(child, logFile);
      await new Promise((resolve) => child.once('close', resolve));
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('uncaughtException', caught);
    }
    expect(errors).toEqual([]);
    expect(readFileSync(logFile, 'utf8')).toBe('first\nafter stdout closed\n');
  });
});
