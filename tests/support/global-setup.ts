import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { GlobalConfig, ProjectConfig } from 'jest';
import type { RunningStack } from '@overskill/testing';
import { resolvePathAliasesLikeJest } from './resolve-path-aliases';

// Jest runs global setup and teardown in the same process: the handle crosses over on globalThis.
export interface IntegrationStackHandle {
  stack: RunningStack;
  dataDir: string;
}

declare global {
  var __overskillIntegrationStack: IntegrationStackHandle | undefined;
}

export default async function globalSetup(_globalConfig: GlobalConfig, projectConfig: ProjectConfig): Promise<void> {
  resolvePathAliasesLikeJest(projectConfig);
  const { startStack } = await import('@overskill/testing');
  const dataDir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'overskill-test-'));
  let stack: RunningStack;
  try {
    stack = await startStack({ dataDir });
  } catch (error) {
    await fs.promises.rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  globalThis.__overskillIntegrationStack = { stack, dataDir };
  // Test workers are forked after this and inherit the environment.
  process.env['OVERSKILL_TEST_NATS_URL'] = stack.natsUrl;
  // Seeds of every bus identity: services are launched with theirs, tests connect as one.
  process.env['OVERSKILL_TEST_NATS_SEEDS'] = JSON.stringify(stack.natsSeeds);
  process.env['OVERSKILL_TEST_DATABASE_URL'] = stack.databaseUrl;
  process.env['OVERSKILL_TEST_REDIS_URL'] = stack.redisUrl;
  process.env['OVERSKILL_TEST_DATA_DIR'] = dataDir;
  // nats-server's monitoring endpoint (/varz, /connz): benches read message counts from it.
  process.env['OVERSKILL_TEST_NATS_MONITOR_URL'] = stack.natsMonitorUrl;
}
