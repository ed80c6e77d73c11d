import { ErrorCode } from '@overskill/contracts';
import { AppWriteLock } from '@overskill/persistence';
import Redis from 'ioredis';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// A writer is frozen (SIGSTOP) while it holds an app's write lock, for longer than its lease.
// A second writer takes the lock and writes; then the first wakes up. Its next write must be
// refused, and the workspace must hold only the second writer's change. The first writer is a
// real process running the built lock and workspace writer, as tool-runner does.
const WRITER_SCRIPT = `
const [root, redisUrl, workspaces, appId] = process.argv.slice(1);
const Redis = require(root + '/node_modules/ioredis');
const { AppWriteLock } = require(root + '/dist/libs/persistence/src/app-write-lock.js');
const { WorkspaceWriter } = require(root + '/dist/services/tool-runner/src/workspace/workspace.js');
const { WorkspaceFilesRepository } = require(root + '/dist/services/tool-runner/src/workspace/workspace-files.repository.js');
const redis = new Redis(redisUrl);
const say = (line) => process.stdout.write(line + '\\n');
new AppWriteLock(redis)
  .withLock(appId, async (lease) => {
    const writer = new WorkspaceWriter(new WorkspaceFilesRepository(), workspaces, appId, 1e6, lease);
    for (let i = 0; ; i++) {
      await writer.write('state.txt', Buffer.from('A' + i));
      say('wrote ' + i);
      await new Promise((r) => setTimeout(r, 250));
    }
  }, { leaseMs: 600 })
  .catch((err) => say('refused ' + err.code))
  .finally(() => redis.disconnect());
`;

describe('app write lock: a holder paused past its lease', () => {
  const stack = integrationStack();
  const redis = new Redis(stack.redisUrl);
  const appId = randomUUID();
  let workspaces: string;
  let writer: ChildProcess | undefined;

  beforeAll(() => {
    workspaces = join(scratchDir(stack.dataDir, 'fencing'), 'workspaces');
    mkdirSync(join(workspaces, appId), { recursive: true });
  });

  afterAll(() => {
    if (writer?.exitCode === null) writer.kill('SIGKILL');
    redis.disconnect();
  });

  it('refuses the paused holder’s next write, and the workspace keeps the new holder’s change', async () => {
    const lines: string[] = [];
    const child = spawn(process.execPath, ['-e', WRITER_SCRIPT, REPO_ROOT, stack.redisUrl, workspaces, appId], { stdio: ['ignore', 'pipe', 'inherit'] });
    writer = child;
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const seen = (what: string, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`writer did not say "${what}" within ${timeoutMs} ms: ${lines.join(' | ')}`)), timeoutMs);
        const check = () => (lines.includes(what) ? (clearTimeout(timer), resolve()) : undefined);
        child.stdout!.on('data', (chunk: Buffer) => {
          lines.push(...chunk.toString().split('\n').filter(Boolean));
          check();
        });
        child.once('exit', () => (lines.includes(what) ? resolve() : reject(new Error(`writer exited without "${what}": ${lines.join(' | ')}`))));
        check();
      });

    // Frozen right after a write, in its sleep: well away from a check-then-write.
    await seen('wrote 1');
    child.kill('SIGSTOP');
    const linesWhenFrozen = lines.length;

    // The lease runs out; a second writer takes the lock and writes while the first sleeps on.
    const lock = new AppWriteLock(redis);
    await lock.withLock(
      appId,
      async (lease) => {
        await lease.assertHeld();
        writeFileSync(join(workspaces, appId, 'state.txt'), 'B');
        child.kill('SIGCONT');
        await seen(`refused ${ErrorCode.APP_LEASE_LOST}`);
        // Still the second writer's change, and the second writer still holds the lock.
        expect(readFileSync(join(workspaces, appId, 'state.txt'), 'utf8')).toBe('B');
        await expect(lease.assertHeld()).resolves.toBeUndefined();
      },
      { waitMs: 10_000, leaseMs: 5_000 },
    );

    expect(await exited).toBe(0);
    expect(lines.slice(linesWhenFrozen).filter((line) => line.startsWith('wrote'))).toEqual([]);
    expect(readFileSync(join(workspaces, appId, 'state.txt'), 'utf8')).toBe('B');
  });
});
