import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ToolRunnerEnv } from '../config';
import type { DevSettings } from './dev-server/dev-settings';

export interface PreviewSettings {
  // What users open (PREVIEW_BASE_URL); the app's origin is <preview-id>.<its host>.
  publicBase: URL;
  // Where this replica's listener answers, for its own headless checks.
  internalBase: URL;
  domain: string;
}

export const PREVIEW_SETTINGS = Symbol('PREVIEW_SETTINGS');

export function previewSettings(env: Pick<ToolRunnerEnv, 'PREVIEW_BASE_URL' | 'PREVIEW_PORT'>): PreviewSettings {
  const publicBase = new URL(env.PREVIEW_BASE_URL ?? `http://preview.localhost:${env.PREVIEW_PORT}`);
  const internalBase = new URL(`http://${publicBase.hostname}:${env.PREVIEW_PORT}`);
  return { publicBase, internalBase, domain: publicBase.hostname };
}

type DevEnv = Pick<
  ToolRunnerEnv,
  | 'PREVIEW_DEV_SERVER'
  | 'PREVIEW_BWRAP_PATH'
  | 'WORKSPACES_DIR'
  | 'PREVIEW_DEPS_DIR'
  | 'TOOL_NPM_REGISTRY_URL'
  | 'PREVIEW_DEV_PORTS'
  | 'PREVIEW_IDLE_STOP_MS'
  | 'PREVIEW_DEV_READY_TIMEOUT_MS'
  | 'PREVIEW_DEV_VIEW_WAIT_MS'
  | 'PREVIEW_DEV_MAX_RESTARTS'
  | 'PREVIEW_DEV_MEMORY_MB'
  | 'PREVIEW_DEV_CPU_SECONDS'
>;

export function devSettings(env: DevEnv): DevSettings {
  return {
    enabled: env.PREVIEW_DEV_SERVER,
    bwrap: env.PREVIEW_BWRAP_PATH,
    workspacesDir: env.WORKSPACES_DIR,
    depsDir: env.PREVIEW_DEPS_DIR ?? join(tmpdir(), 'overskill-preview-deps'),
    registry: env.TOOL_NPM_REGISTRY_URL,
    ports: env.PREVIEW_DEV_PORTS,
    idleStopMs: env.PREVIEW_IDLE_STOP_MS,
    readyTimeoutMs: env.PREVIEW_DEV_READY_TIMEOUT_MS,
    viewWaitMs: env.PREVIEW_DEV_VIEW_WAIT_MS,
    installTimeoutMs: 5 * 60_000,
    maxRestarts: env.PREVIEW_DEV_MAX_RESTARTS,
    limits: { memoryBytes: env.PREVIEW_DEV_MEMORY_MB * 1024 * 1024, cpuSeconds: env.PREVIEW_DEV_CPU_SECONDS },
  };
}
