import type { ToolRunnerEnv } from '../config';

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
