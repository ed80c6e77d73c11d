import { devCommand, sandboxArgv, sandboxEnv } from './sandbox-command';

const spec = {
  bwrap: '/usr/bin/bwrap',
  workspace: '/ws/app-1',
  port: 43001,
  memoryBytes: 512 * 1024 ** 2,
  cpuSeconds: 600,
  command: devCommand('vite', 43001),
};

function pairs(argv: string[], flag: string, arity: number): string[][] {
  const found: string[][] = [];
  argv.forEach((arg, i) => arg === flag && found.push(argv.slice(i + 1, i + 1 + arity)));
  return found;
}

describe('sandboxArgv', () => {
  it('binds only the workspace read-write, the dependency set read-only, and a private /tmp', () => {
    const argv = sandboxArgv({ ...spec, nodeModules: '/deps/sets/abc/node_modules' });
    expect(pairs(argv, '--bind', 2)).toEqual([['/ws/app-1', '/app']]);
    expect(pairs(argv, '--ro-bind', 2)).toContainEqual(['/deps/sets/abc/node_modules', '/app/node_modules']);
    expect(pairs(argv, '--tmpfs', 1)).toEqual([['/tmp'], ['/app/node_modules/.vite'], ['/app/node_modules/.vite-temp'], ['/app/node_modules/.cache']]);
    const kept = sandboxArgv({ ...spec, nodeModules: '/deps/sets/abc/node_modules', scratch: '/deps/scratch/app-1' });
    expect(pairs(kept, '--bind', 2)).toEqual([
      ['/ws/app-1', '/app'],
      ['/deps/scratch/app-1/.vite', '/app/node_modules/.vite'],
      ['/deps/scratch/app-1/.vite-temp', '/app/node_modules/.vite-temp'],
      ['/deps/scratch/app-1/.cache', '/app/node_modules/.cache'],
    ]);
    expect(argv).toEqual(expect.arrayContaining(['--die-with-parent', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--clearenv']));
    // Never the host's whole /etc, never the workspaces folder.
    expect(pairs(argv, '--ro-bind', 2).map(([from]) => from)).not.toContain('/etc');
    expect(pairs(argv, '--ro-bind', 2).some(([from]) => from?.startsWith('/ws'))).toBe(false);
  });

  it('sets the minimal environment and nothing of the platform, with the limits inside', () => {
    const original = { ...process.env };
    process.env['NATS_NKEY_SEED'] = 'SUASECRET';
    process.env['REDIS_URL'] = 'redis://secret';
    try {
      const argv = sandboxArgv(spec);
      const env = Object.fromEntries(pairs(argv, '--setenv', 2));
      expect(env).toEqual(sandboxEnv(43001));
      expect(Object.keys(env).sort()).toEqual(['HOME', 'HOST', 'NODE_ENV', 'NO_COLOR', 'PATH', 'PORT']);
      expect(argv.join(' ')).not.toMatch(/SUASECRET|redis:/);
      const command = argv.slice(argv.indexOf('--') + 1);
      expect(command.slice(0, 4)).toEqual(['prlimit', '--cpu=600', '--core=0', '--']);
      expect(command.slice(4)).toEqual(['nice', '-n', '10', '/bin/sh', '-c', 'vite "$@"', 'dev', '--port', '43001', '--strictPort', '--host', '127.0.0.1']);
    } finally {
      process.env = original;
    }
  });

  it('passes port arguments to Vite only; other dev servers read PORT and HOST', () => {
    expect(devCommand('node server.js', 43002)).toEqual(['/bin/sh', '-c', 'node server.js "$@"', 'dev']);
    expect(devCommand('next dev', 43002)).toEqual(['/bin/sh', '-c', 'next dev "$@"', 'dev']);
    expect(devCommand('./node_modules/.bin/vite --open', 43002)).toHaveLength(9);
    expect(devCommand('vite --mode dev', 43002).slice(4)).toEqual(['--port', '43002', '--strictPort', '--host', '127.0.0.1']);
  });
});
