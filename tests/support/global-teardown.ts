import fs from 'node:fs';

export default async function globalTeardown(): Promise<void> {
  const handle = globalThis.__overskillIntegrationStack;
  if (!handle) return;
  globalThis.__overskillIntegrationStack = undefined;
  try {
    await handle.stack.stop();
  } finally {
    await fs.promises.rm(handle.dataDir, { recursive: true, force: true });
  }
}
