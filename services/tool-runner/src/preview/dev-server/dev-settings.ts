export interface DevSettings {
  enabled: boolean;
  bwrap: string;
  workspacesDir: string;
  depsDir: string;
  registry: string;
  ports: { from: number; to: number };
  idleStopMs: number;
  readyTimeoutMs: number;
  viewWaitMs: number;
  installTimeoutMs: number;
  maxRestarts: number;
  limits: { memoryBytes: number; cpuSeconds: number };
}

export const DEV_SETTINGS = Symbol('DEV_SETTINGS');
