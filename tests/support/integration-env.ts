import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { StackNatsSeeds } from '@overskill/testing';

export const REPO_ROOT = resolve(__dirname, '..', '..');

// What global-setup started for this Jest run.
export function integrationStack(): { natsUrl: string; natsSeeds: StackNatsSeeds; databaseUrl: string; redisUrl: string; dataDir: string } {
  const natsUrl = process.env.OVERSKILL_TEST_NATS_URL;
  const natsSeeds = process.env.OVERSKILL_TEST_NATS_SEEDS;
  const databaseUrl = process.env.OVERSKILL_TEST_DATABASE_URL;
  const redisUrl = process.env.OVERSKILL_TEST_REDIS_URL;
  const dataDir = process.env.OVERSKILL_TEST_DATA_DIR;
  if (!natsUrl || !natsSeeds || !databaseUrl || !redisUrl || !dataDir) throw new Error('the integration stack is not running (tests/support/global-setup.ts)');
  return { natsUrl, natsSeeds: JSON.parse(natsSeeds) as StackNatsSeeds, databaseUrl, redisUrl, dataDir };
}

export function scratchDir(dataDir: string, name: string): string {
  return mkdtempSync(join(dataDir, `${name}-`));
}

// Response bodies in tests are asserted field by field, so `any` is the honest type here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function jsonBody(res: Response): Promise<any> {
  return res.json();
}
