import { mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '..', '..');

// What global-setup started for this Jest run.
export function integrationStack(): { natsUrl: string; databaseUrl: string; redisUrl: string; dataDir: string } {
  const natsUrl = process.env.OVERSKILL_TEST_NATS_URL;
  const databaseUrl = process.env.OVERSKILL_TEST_DATABASE_URL;
  const redisUrl = process.env.OVERSKILL_TEST_REDIS_URL;
  const dataDir = process.env.OVERSKILL_TEST_DATA_DIR;
  if (!natsUrl || !databaseUrl || !redisUrl || !dataDir) throw new Error('the integration stack is not running (tests/support/global-setup.ts)');
  return { natsUrl, databaseUrl, redisUrl, dataDir };
}

export function scratchDir(dataDir: string, name: string): string {
  return mkdtempSync(join(dataDir, `${name}-`));
}

// Response bodies in tests are asserted field by field, so `any` is the honest type here.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function jsonBody(res: Response): Promise<any> {
  return res.json();
}
