import { HealthPing, SERVICE_NAMES, type ServiceName } from '@overskill/contracts';
import { NatsRpcClient, natsAuthOptions } from '@overskill/messaging';
import { createServiceMetrics } from '@overskill/observability';
import { launchPlatform, runAllMigrations, stackNatsCredentials, type RunningPlatform } from '@overskill/testing';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, type NatsConnection } from 'nats';
import { integrationStack, REPO_ROOT, scratchDir } from '../support/integration-env';

jest.setTimeout(120_000);

// What an image build does (entrypoint.sh warm), then what a new container's first start finds:
// every service's modules already compiled, taken from the cache the build wrote.
describe('the compile cache an image ships', () => {
  const stack = integrationStack();
  let platform: RunningPlatform | undefined;
  let nc: NatsConnection | undefined;

  afterAll(async () => {
    await nc?.close();
    await platform?.stop();
  });

  it('is filled by the warm-up without booting anything, and serves each service its first start', async () => {
    const dir = scratchDir(stack.dataDir, 'compile-cache');
    const cacheDir = join(dir, 'cache');
    const warm = spawnSync('sh', [join(REPO_ROOT, 'deploy/docker/entrypoint.sh'), 'warm'], {
      cwd: REPO_ROOT,
      // No NATS, database or Redis: the warm-up must not need them.
      env: { PATH: process.env.PATH, OVERSKILL_COMPILE_CACHE_DIR: cacheDir },
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect({ status: warm.status, stderr: warm.stderr }).toEqual({ status: 0, stderr: '' });
    expect(readdirSync(cacheDir).filter((f) => f.endsWith('.bin'))).toHaveLength(SERVICE_NAMES.length);

    const logDir = join(dir, 'logs');
    runAllMigrations(REPO_ROOT, stack.databaseUrl);
    platform = await launchPlatform({
      root: REPO_ROOT,
      ...stack,
      workspacesDir: join(dir, 'workspaces'),
      backupDir: join(dir, 'backups'),
      logDir,
      env: { LOG_LEVEL: 'info', OVERSKILL_COMPILE_CACHE_DIR: cacheDir },
    });
    nc = await connect({ servers: stack.natsUrl, ...natsAuthOptions(stackNatsCredentials(stack)) });
    const rpc = new NatsRpcClient(nc, createServiceMetrics('compile-cache-test'), 10_000);
    const readyLine = (service: ServiceName) =>
      readFileSync(join(logDir, `${service}.log`), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as { message?: string; compileCache?: { hits: number; misses: number; rejected: number } })
        .find((l) => l.message === `${service} ready`);
    for (const service of SERVICE_NAMES) {
      const cache = readyLine(service)?.compileCache;
      // Every module the warm-up loaded comes from the cache; what boot itself requires later
      // (4–11% of a service's modules) compiles, and this start adds it once loading is quiet.
      expect({ service, rejected: cache?.rejected }).toEqual({ service, rejected: 0 });
      expect(cache!.hits).toBeGreaterThan(1000);
      expect(cache!.misses).toBeLessThan(cache!.hits / 5);
      await expect(rpc.send(HealthPing[service], {})).resolves.toBeDefined();
    }
  });
});
